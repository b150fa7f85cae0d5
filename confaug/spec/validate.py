"""From a read document to a valid Spec, or a ConfigError listing every problem with its place."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from confaug.errors import ConfigError, Problem, did_you_mean, hint_budget
from confaug.reading.document import Document, KeyPath, Mark, dotted, key_path, problem_at
from confaug.spec.catalog import (
    COMPOSITE_PARAMS,
    COMPOSITES,
    catalog,
    check_params,
    unknown_transform,
)
from confaug.spec.compose_options import compose_option_problems
from confaug.spec.cost import DEFAULT_TIME_BUDGET, MAX_STEPS, check_time_budget, estimate
from confaug.spec.model import Spec
from confaug.spec.steps import StepShapeError, TransformStep, and_
from confaug.spec.vocab import SCHEMA_KEY, HintedError, describe, key_hint, literal_hint


def _yaml_path(data: Any, loc: tuple[Any, ...]) -> KeyPath:
    """Pydantic's location → the path in the YAML (composite names put back in)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if (
            part == "transforms"
            and index > 0
            and isinstance(node, dict)
            and len(node) == 1
            and "transforms" not in node
        ):
            ((name, body),) = node.items()
            path.append(name)
            node = body
        path.append(part)
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            node = node[part]
        else:
            node = None
    return tuple(path)


class _Collector:
    def __init__(self, document: Document, *, with_reading: bool = False) -> None:
        self.document = document
        #: With ``with_reading``, the problems reading found come first (a YAML 1.1 boolean,
        #: a duplicate key, ...), so that one error lists a file's problems of every kind.
        self.problems: list[Problem] = list(document.problems) if with_reading else []
        # A value reading already refused (``yes``, a tag) is not refused a second time
        # for its type: the problem at the same field and place is the reading one.
        self._read = {(p.file, p.line, p.column, p.field) for p in self.problems}

    def add(
        self, path: KeyPath, message: str, hint: str | None = None, *, at_key: bool = False
    ) -> None:
        mark = self.document.source_map.locate(path, prefer_key=at_key)
        problem = problem_at(mark, dotted(path), message, hint, file=self.document.file)
        if (problem.file, problem.line, problem.column, problem.field) not in self._read:
            self.problems.append(problem)

    def written_at(self, outer: KeyPath, inner: KeyPath) -> KeyPath:
        """``inner`` (a value inside ``outer``) when another layer than ``outer``'s wrote it,
        else ``outer``: ``--set transforms.0.Blur=3`` over a file's ``- Blur: {p: 1}`` is the
        override's problem, while ``- Blur: 3`` in the file stays at the step."""

        def layer(path: KeyPath) -> tuple[str | None] | None:  # None: written without a mark
            mark = self.document.source_map.locate(path)
            return None if mark is None else (mark.file,)

        return outer if layer(outer) == layer(inner) else inner

    def add_between(self, paths: list[KeyPath], message: str, hint: str | None = None) -> None:
        """A problem between the values at ``paths`` (a check across fields, the first path
        the one to place it at when no layer is more specific).

        Placed at the value the most specific layer set (an override, then the entry, then
        its parents in the order they win), naming where each of the others was set when
        that is another file: a child's ``interpolation_order: 3`` over a parent's
        ``interpolation: nearest`` is the child's problem, not the reviewed parent's.
        """
        marks = [self.document.source_map.locate(path) for path in paths]
        ranks = [self._rank(mark) for mark in marks]
        best = min(range(len(paths)), key=ranks.__getitem__)  # the first of equals
        chosen = marks[best]
        elsewhere = [
            f"{dotted(path)} comes from {mark.file or '<config>'}:{mark.line}:{mark.column}"
            for index, (path, mark) in enumerate(zip(paths, marks, strict=True))
            if index != best and mark is not None and (chosen is None or mark.file != chosen.file)
        ]
        if elsewhere:
            message = f"{message} ({'; '.join(elsewhere)})"
        self.add(paths[best], message, hint)

    def _rank(self, mark: Mark | None) -> int:
        """How specific the layer that wrote at ``mark`` is: lower wins."""
        chain = self.document.chain  # the files, most specific first
        if mark is None:
            # A value without a mark: written by a mapping from Python, the entry (merged
            # over its parents, under the overrides); in a file entry, a default.
            return 1 if self.document.file is None else len(chain) + 2
        if mark.file in chain:
            return 2 + chain.index(mark.file)
        return 0  # not a file of the chain: an override, applied over them all


def _pydantic_problems(items: list[ErrorDetails], collector: _Collector) -> None:
    data = collector.document.data
    for item in items:
        loc = tuple(item["loc"])
        at_key = loc[-1:] == ("[key]",)  # a mapping key failed its own check
        path = _yaml_path(data, loc[:-1] if at_key else loc)
        kind = item["type"]
        message = item["msg"].removeprefix("Value error, ")
        error = (item.get("ctx") or {}).get("error")
        hint = error.hint if isinstance(error, HintedError) else None
        if isinstance(error, StepShapeError) and error.beside:
            _beside_problem(path, error, collector)
            continue
        if isinstance(error, StepShapeError) and error.at:
            path = collector.written_at(path, (*path, *error.at))
        if kind == "extra_forbidden":
            # ``extends`` is read (and removed) before validation, so it is no Spec field.
            if len(path) == 1:
                message, hint = _unknown_top_key(path[0], data.get(path[0]))
            else:
                message, hint = "unknown key", key_hint(path[-1], [])
            collector.add(path, message, hint, at_key=True)
            continue
        if kind == "literal_error":
            hint = literal_hint(item)
        if kind == "tuple_type" and path[-1:] == ("transforms",):
            # The model holds steps as a tuple; users write a YAML list.
            message = "must be a list of steps"
            hint = _STEPS_HINT
        if kind.endswith(("_type", "_parsing")) and "input" in item:
            # "Input should be a valid boolean" alone hides that "true" was quoted.
            message = f"{message}, got {describe(item['input'])}"
        if kind == "missing":
            message = f"required key '{path[-1]}' is missing"
            path = path[:-1]
        if not path and isinstance(data, dict):
            # A check across keys: at the key its message names that the most specific
            # layer set (the first it names, when one file set them all).
            named = [
                k for k in data if isinstance(k, str) and re.search(rf"\b{re.escape(k)}\b", message)
            ]
            if named:
                collector.add_between(
                    [(k,) for k in sorted(named, key=message.index)], message, hint
                )
                continue
        collector.add(path, message, hint, at_key=at_key)


def _unknown_top_key(key: Any, value: Any) -> tuple[str, str | None]:
    """The message and hint for an unknown top-level ``key`` holding ``value``."""
    if key == "":  # the field of the problem is then the root, which says nothing
        return "unknown key: an empty key ''", "name the key, or remove the line"
    if isinstance(key, str) and "." in key and key.split(".", 1)[0] in Spec.model_fields:
        # `--set` syntax pasted into a file: 'did you mean transforms?' said nothing of why.
        first, *rest = key_path(key)
        nested = _flow_example(value)
        for part in reversed(rest):  # transforms.2.Blur.p: 0.3 -> [..., {Blur: {p: 0.3}}]
            if isinstance(part, int):
                nested = f"[{'..., ' if part else ''}{nested}]"
            else:
                nested = f"{{{part}: {nested}}}"
        how = (
            f"a child's {first}: replaces its parent's list whole, so restate the list"
            if any(isinstance(part, int) for part in rest)
            else f"a child's {first}: is merged key by key over its parent's"
        )
        return (
            f"unknown key: dotted keys are the --set / overrides form "
            f"(--set '{key}={_flow_example(value)}'); a file nests them",
            f"write '{first}: {nested}'; {how}",
        )
    return "unknown key", key_hint(key, [*Spec.model_fields, "extends", SCHEMA_KEY])


def _flow_example(value: Any) -> str:
    """``value`` as a short YAML flow scalar for a hint, or ``...``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isprintable()):
        text = str(value)
        return text if len(text) <= 30 else "..."
    return "..."


def _beside_problem(path: KeyPath, error: StepShapeError, collector: _Collector) -> None:
    """A step's parameters written beside its transform name, not under it: placed at the
    first of them, with how many spaces to indent them when the file shows it.

    ``- HorizontalFlip:`` then ``p: 0.5`` at the same indent is a step of two keys,
    {HorizontalFlip: null, p: 0.5}; "a step is a mapping with exactly one key" did not say
    which key went wrong, or how to fix it.
    """
    keys = collector.document.source_map.keys
    name = keys.get((*path, error.name))
    marks = [mark for mark in (keys.get((*path, key)) for key in error.beside) if mark]
    message, hint = str(error), error.hint
    verb, them = ("sits", "it") if len(error.beside) == 1 else ("sit", "them")
    if name is not None and len(marks) == len(error.beside):
        if all(mark.line == name.line for mark in marks):  # a flow mapping: {Blur: , p: 1}
            message = (
                f"{and_(list(error.beside))} {verb} beside {error.name}, not in its parameters"
            )
            hint = f"write '{error.example}'"
        elif all(mark.line > name.line for mark in marks):
            # Block style: under the name means at its parameters' column (those already
            # under it), else two spaces in.
            step = _value_at(collector.document.data, path)
            body = step.get(error.name) if isinstance(step, dict) else None
            under = [keys.get((*path, error.name, key)) for key in body or ()]
            column = min((m.column for m in under if m is not None), default=name.column + 2)
            more = column - min(mark.column for mark in marks)
            if more > 0:
                where = [f"{k} (line {m.line})" for k, m in zip(error.beside, marks, strict=True)]
                message = (
                    f"{and_(where)} {verb} beside {error.name}, not under it: indent {them} "
                    f"{more} more space{'s' if more != 1 else ''}"
                )
                hint = f"or write it on one line: '{error.example}'"
    collector.add((*path, error.beside[0]), message, hint, at_key=True)


def _value_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        found = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        )
        if not found:
            return None
        data = data[part]
    return data


_STEPS_HINT = "one step per item, e.g. 'transforms: [HorizontalFlip, {Rotate: {limit: 10}}]'"


def _split_step(raw: Any, path: KeyPath) -> tuple[str, Any, KeyPath, KeyPath] | None:
    """A step's (name, params, path of its name, path of its params) in any shape, or None."""
    if isinstance(raw, str):
        return raw, {}, path, path
    if isinstance(raw, dict) and "name" in raw and set(raw) <= {"name", "params", "transforms"}:
        # The model's own shape, {name, params, transforms}, as TransformStep dumps it in Python.
        name = raw["name"]
        if not isinstance(name, str):
            return None
        params = raw.get("params") or {}
        if not isinstance(params, dict):
            return None
        if "transforms" in raw:
            params = {**params, "transforms": raw["transforms"]}
        return name, params, (*path, "name"), (*path, "params")
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, params),) = raw.items()
        return name, {} if params is None else params, (*path, name), (*path, name)
    return None


def _check_steps(steps: Any, base: KeyPath, collector: _Collector) -> None:
    if not isinstance(steps, list):
        return
    known = catalog()
    for index, raw in enumerate(steps):
        path = (*base, index)
        split = _split_step(raw, path)
        if split is None:
            continue  # reported by the model
        name, params, name_path, params_path = split
        if not isinstance(params, dict):
            continue  # reported by the model
        info = known.get(name)
        if info is None:
            message, hint = unknown_transform(name)
            collector.add(name_path, message, hint, at_key=True)
            continue
        params = dict(params)
        children = params.pop("transforms", None) if name in COMPOSITES else None
        problems = check_params(info, params, children)
        for sub, message, hint in problems:
            # Unknown parameters and problems of the step as a whole point at the name.
            at_key = not sub or message.startswith(("unknown parameter", "unknown key"))
            collector.add((*params_path, *sub), message, hint, at_key=at_key)
        if not problems and isinstance(children, list):
            for subs, message in _pick_problems(name, params, children):
                collector.add_between([(*params_path, *sub) for sub in subs], message)
        if isinstance(children, list):
            _check_steps(children, (*params_path, "transforms"), collector)


#: Composites that pick ``n`` of their children, each once unless ``replace`` (SomeOf and
#: RandomOrder): the composites whose parameters are those two.
_PICKING = frozenset(
    name for name, model in COMPOSITE_PARAMS.items() if {"n", "replace"} <= set(model.model_fields)
)


def _pick_problems(
    name: str, params: dict[str, Any], children: list[Any]
) -> list[tuple[list[KeyPath], str]]:
    """``n`` larger than the children a composite picks from without replacement.

    albumentations lowers such an ``n`` to the number of children with a warning that
    ``confaug validate`` never shows, so ``SomeOf: {n: 5}`` over two steps applies two: a
    config that says something other than what runs. (``params`` passed ``check_params``.)
    """
    if name not in _PICKING:
        return []
    n = params.get("n", 1)
    if params.get("replace", False) or n <= len(children):
        return []
    # Between n and the list (an override may have shortened a file's list); at the step
    # when n is the default.
    between: list[KeyPath] = [("n",), ("transforms",)] if "n" in params else [()]
    count = f"{len(children)} transform{'s' if len(children) != 1 else ''}"
    return [
        (
            between,
            f"n is {n} but {name} has {count}; without replace it picks each one at most once, "
            f"so it would apply {len(children)}: set replace: true or lower n",
        )
    ]


def locate(error: ConfigError, document: Document) -> ConfigError:
    """``error`` with each problem that lacks a place located in ``document`` by its field."""
    collector = _Collector(document)
    for problem in error.problems:
        if problem.line is not None:
            collector.problems.append(problem)
            continue
        path = key_path(problem.field) if problem.field else ()
        collector.add(path, problem.message, problem.hint)
    return ConfigError(collector.problems)


def validate_document(document: Document, *, time_budget: float = DEFAULT_TIME_BUDGET) -> Spec:
    """Validate a read document; raise ConfigError naming every problem.

    ``time_budget``: the seconds the pipeline may take for the 1024×1024 reference image
    (``spec.cost``), the caller's to raise. Did-you-mean hints are capped for the whole
    check (``errors.hint_budget``).
    """
    time_budget = check_time_budget(time_budget)  # the caller's mistake, before the config's
    with hint_budget():
        return _validate(document, time_budget)


def _validate(document: Document, time_budget: float) -> Spec:
    collector = _Collector(document, with_reading=True)
    data = document.data
    if not isinstance(data, dict):
        collector.add((), f"the top level of a config must be a mapping, not {type(data).__name__}")
        raise ConfigError(collector.problems)
    if SCHEMA_KEY in data:  # an editor's pointer to the JSON Schema, not part of the spec
        if not isinstance(data[SCHEMA_KEY], str):
            collector.add(
                (SCHEMA_KEY,),
                f"{SCHEMA_KEY} names the JSON Schema an editor checks the file with: a path "
                f"or URL as a string, not {type(data[SCHEMA_KEY]).__name__}",
            )
        data = {key: value for key, value in data.items() if key != SCHEMA_KEY}
    steps = _count_steps(data.get("transforms"))
    if steps > MAX_STEPS:  # checking each costs ~1 ms: refuse before checking any
        collector.add(
            ("transforms",),
            f"{steps:,} transforms (composites and their children counted); a config lists "
            f"at most {MAX_STEPS:,}",
        )
        raise ConfigError(collector.problems)
    spec: Spec | None = None
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        items = err.errors(include_url=False)
        _pydantic_problems(items, collector)
        _pydantic_problems(_cross_key_errors(items, data), collector)
    _check_steps(data.get("transforms"), ("transforms",), collector)
    for path, message, hint, at_key in compose_option_problems(data):
        collector.add(path, message, hint, at_key=at_key)
    function = data.get("preprocessing_function")
    if isinstance(function, str):
        from confaug.registry import lookup, registered_names

        if lookup(function) is None:
            collector.add(
                ("preprocessing_function",),
                f"no function is registered as '{function}'; "
                f"call confaug.register('{function}', fn) "
                "in Python before loading (configs cannot import code)",
                did_you_mean(function, registered_names()),
            )
    if collector.problems or spec is None:
        raise ConfigError(collector.problems)
    # What the valid spec would cost to run, for the reference image (spec.cost).
    cost = estimate(spec, time_budget)
    for path, message in cost.problems.items():
        collector.add(path, message, cost.hints.get(path))
    for path, message in _box_problems(spec.transforms, ("transforms",), spec):
        collector.add(path, message)
    if collector.problems:
        raise ConfigError(collector.problems)
    return spec


def _cross_key_errors(items: list[ErrorDetails], data: dict[str, Any]) -> list[ErrorDetails]:
    """The checks across keys (``Spec._consistent``), which Pydantic runs only once every
    key is valid: run again on just the keys they read, so they are reported with the rest."""
    failed = {item["loc"][0] for item in items if item["loc"]}
    if not failed or any(not item["loc"] for item in items):
        return []  # nothing failed, or a check across keys did and is reported
    if failed & Spec.CROSS_KEY_FIELDS:
        return []  # a key they read failed: its default would stand in for the user's value
    try:  # only those keys: the steps (up to MAX_STEPS) are not validated a second time
        Spec.model_validate({k: v for k, v in data.items() if k in Spec.CROSS_KEY_FIELDS})
    except ValidationError as again:
        return [item for item in again.errors(include_url=False) if not item["loc"]]
    return []


#: Steps that read every sample's boxes, which only bbox_params lets a pipeline take.
_NEEDS_BOXES = frozenset({"BBoxSafeRandomCrop", "RandomSizedBBoxSafeCrop"})


def _box_problems(
    steps: tuple[TransformStep, ...], base: KeyPath, spec: Spec
) -> list[tuple[KeyPath, str]]:
    """Steps that can never run: they need boxes, and the spec takes none."""
    if spec.bbox_params is not None:
        return []
    problems: list[tuple[KeyPath, str]] = []
    for index, step in enumerate(steps):
        path = (*base, index, step.name)
        if step.name in _NEEDS_BOXES:
            problems.append(
                (
                    path,
                    f"{step.name} crops around each sample's bounding boxes, and the config "
                    "takes none: add bbox_params (e.g. {format: pascal_voc}) and pass bboxes",
                )
            )
        if step.transforms:
            problems.extend(_box_problems(step.transforms, (*path, "transforms"), spec))
    return problems


def _count_steps(steps: Any) -> int:
    """Steps of a ``transforms`` list, those inside composites included (without recursing)."""
    count = 0
    todo = [steps]
    while todo:
        items = todo.pop()
        if not isinstance(items, list):
            continue
        count += len(items)
        for item in items:
            if isinstance(item, dict):
                todo.extend(
                    body.get("transforms") for body in item.values() if isinstance(body, dict)
                )
                todo.append(item.get("transforms"))
    return count
