"""albumentations' own serialized pipelines (``A.save`` / ``A.to_dict``) as confaug documents.

``{__version__, transform: {__class_fullname__: Compose, transforms: [...]}}`` becomes
``{version: 1, transforms: [{ClassName: {params}}], bbox_params: ..., ...}``, with every
position carried over so errors still point into the original file.

What ``A.load`` does that confaug follows: a Compose nested in the pipeline runs as a
``Sequential`` (the same single draw against its ``p``, the outer Compose's bounding-box and
keypoint handling), and the keys ``A.save`` writes from a transform's base classes that its
constructor does not take (``PadIfNeeded``'s ``padding``) are dropped with a warning, and so
is the ``always_apply: false`` of files written by albumentations 1.3 and early 1.4 (a
``true`` is refused: dropping it would change the step). With ``strict: true`` nothing is
dropped, as ``A.load`` then raises instead. Any other unknown key stays an error, and so does
a key beside ``transform``. A class is looked up by name only, among albumentations' own
(as ``A.load`` does, a dotted name must start with ``albumentations.``): nothing is imported.
"""

from __future__ import annotations

import inspect
import warnings
from functools import cache
from typing import Any

from confaug._albu import albumentations
from confaug.errors import ConfigError, Problem
from confaug.reading.document import Document, KeyPath, Mark, SourceMap, dotted, problem_at

_CLASS = "__class_fullname__"
_COMPOSE_KEYS = ("bbox_params", "keypoint_params", "additional_targets", "is_check_shapes")
_COMPOSE_DEFAULTS: dict[str, Any] = {
    "bbox_params": None,
    "keypoint_params": None,
    "additional_targets": {},
    "is_check_shapes": True,
    "p": 1.0,
    "strict": False,
    "mask_interpolation": None,
    "seed": None,
    "save_applied_params": False,
}


class DroppedKeysWarning(UserWarning):
    """Keys of an albumentations file dropped as ``A.load`` drops them (see the module)."""


#: The top-level keys of an ``A.save`` file.
_FILE_KEYS = ("__version__", "transform")
_INIT_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _init_names(init: Any) -> set[str]:
    try:
        parameters = inspect.signature(init).parameters.values()
    except (TypeError, ValueError):  # a builtin __init__ without a signature
        return set()
    return {p.name for p in parameters if p.kind in _INIT_KINDS}


@cache
def inherited_keys(cls: type) -> frozenset[str]:
    """Keys ``A.save`` may write for ``cls`` that its constructor does not take.

    albumentations serializes every ``__init__`` parameter of the class's whole MRO that the
    instance has as an attribute, so a subclass that narrows its base's parameters
    (SafeRotate of Affine) gets its base's keys written; ``A.load`` then drops them.
    """
    found: set[str] = set()
    for base in cls.__mro__[1:]:
        if base is not object and "__init__" in base.__dict__:
            found |= _init_names(base.__dict__["__init__"])
    own = _init_names(vars(cls).get("__init__") or cls.__init__)  # type: ignore[misc]
    return frozenset(found - own - {"self", "strict", "seed"})


@cache
def _dropped_by_class() -> dict[str, frozenset[str]]:
    """``inherited_keys`` of every transform class by its short name (none for composites:
    their constructors take no unknown key, and ``A.load`` fails on one)."""
    albumentations()
    from albumentations.core.serialization import SERIALIZABLE_REGISTRY
    from albumentations.core.transforms_interface import BasicTransform

    return {
        _short(full): inherited_keys(cls)
        for full, cls in SERIALIZABLE_REGISTRY.items()
        if isinstance(cls, type) and issubclass(cls, BasicTransform)
    }


def is_albumentations_file(data: Any) -> bool:
    """True for the mapping that ``A.to_dict`` produces (also when its ``transform`` is
    broken, if ``__version__`` says whose it is)."""
    if not isinstance(data, dict) or "version" in data or "transform" not in data:
        return False
    transform = data["transform"]
    return (isinstance(transform, dict) and _CLASS in transform) or "__version__" in data


def _short(name: Any) -> Any:
    if isinstance(name, str) and "." in name:
        return name.rsplit(".", 1)[-1]
    return name


def _class_name(name: Any) -> tuple[str | None, str | None]:
    """(the class name ``A.load`` looks up, None) or (None, why ``name`` names none).

    Only the name is read: ``os.system`` is an unknown name, never an import."""
    if not isinstance(name, str) or not _short(name):
        return None, f"{_CLASS} must be a transform class name"
    if "." in name and not name.startswith("albumentations."):
        return None, (
            f"{_CLASS} {name!r} names a class outside albumentations; an albumentations "
            "file names albumentations' own transforms (A.load refuses it too)"
        )
    return _short(name), None


#: albumentations 1.3 and early 1.4 wrote ``always_apply`` on every step; 2.x has none.
_ALWAYS_APPLY = "always_apply"


class _Converter:
    """Rewrites steps while carrying their positions; collects what cannot be converted."""

    def __init__(self, document: Document) -> None:
        self.file = document.file
        self.source = document.source_map
        #: Positions carried over one by one; ``moves`` re-roots whole subtrees at the end.
        self.target = SourceMap()
        self.moves: dict[KeyPath, KeyPath] = {}
        self.problems: list[Problem] = []
        #: The top-level Compose, whose options a nested one may repeat.
        self.root: dict[str, Any] = {}
        #: ``strict: true``: A.load raises on a key it would drop, so none is dropped.
        self.strict = False
        #: The keys dropped as A.load drops them, each step's as one warning.
        self.dropped: list[Problem] = []

    def problem(self, at: KeyPath, field: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(
            problem_at(self.source.locate(at), dotted(field), message, hint, file=self.file)
        )

    def step(self, raw: Any, old: KeyPath, new: KeyPath) -> Any:
        source, target = self.source, self.target
        if isinstance(raw, dict) and _CLASS not in raw:
            # Read as a confaug step it would be one named after its first key ("the
            # parameters of p must be a mapping"): say what an A.save step lacks instead.
            self.problem(
                old,
                new,
                f"a step of an albumentations file is a mapping with {_CLASS}, the "
                "transform's class, as A.save writes it (e.g. {"
                f"{_CLASS}: HorizontalFlip, p: 0.5}}); this one has none",
            )
            return {}
        if not isinstance(raw, dict):
            self.moves[old] = new
            return raw  # validation says what is wrong with it
        name, wrong = _class_name(raw[_CLASS])
        if name is None:
            self.problem((*old, _CLASS), new, wrong or "")
            return {}
        nested = name == "Compose"
        if nested:  # runs as a Sequential inside a Compose (see the module's docstring)
            name = "Sequential"
        drop = frozenset() if self.strict else _dropped_by_class().get(name, frozenset())
        dropped: list[str] = []
        old_flag: list[str] = []  # always_apply: false, written by albumentations 1.x
        params: dict[str, Any] = {}
        step_path = (*new, name)
        mark: Mark | None = source.values.get(old)
        if mark is not None:
            target.values[new] = mark
        name_mark = source.values.get((*old, _CLASS))
        if name_mark is not None:
            target.keys[step_path] = name_mark
            target.values[step_path] = name_mark
        for key, value in raw.items():
            if key == _CLASS:
                continue
            if key in drop:
                dropped.append(key)
                continue
            if key == _ALWAYS_APPLY and not self.strict and name in _dropped_by_class():
                if value is False or value is None:
                    old_flag.append(key)
                else:
                    self.problem(
                        (*old, key),
                        (*step_path, key),
                        f"always_apply: {'true' if value is True else repr(value)} is "
                        "albumentations 1.x's; 2.x has no such "
                        "parameter, so A.load drops it and the step runs with its p",
                        "to always apply the step, set p: 1 and remove always_apply",
                    )
                continue
            if nested and key in _COMPOSE_DEFAULTS and key != "p":
                self.nested_option(raw, key, (*old, key), (*step_path, key))
                continue
            if key == "transforms" and isinstance(value, list):
                params[key] = [
                    self.step(item, (*old, key, i), (*step_path, key, i))
                    for i, item in enumerate(value)
                ]
                for table_from, table_to in (
                    (source.keys, target.keys),
                    (source.values, target.values),
                ):
                    old_key, new_key = (*old, key), (*step_path, key)
                    if old_key in table_from:
                        table_to[new_key] = table_from[old_key]
            else:
                params[key] = value
                moved: KeyPath = (*old, key)  # mypy takes [(*old, key)] for 3.11 syntax
                self.moves[moved] = (*step_path, key)
        if "p" not in raw:
            # A.load's rule for a step without p (A.save always writes one): 0.5 whatever
            # the class's default, except a Compose named so, which keeps its 1.0 (A.load
            # compares the name as written: "albumentations.….Compose" gets 0.5).
            params["p"] = 1.0 if raw[_CLASS] == "Compose" else 0.5
        if dropped:
            them = "them" if len(dropped) > 1 else "it"
            why = (
                f"A.save writes {them} from {name}'s base class, and {name} does not take "
                f"{them} (A.load drops {them} too)"
            )
            self.drop(name_mark, step_path, dropped, why)
        if old_flag:
            why = "albumentations 1.x wrote it on every step; 2.x has none (A.load drops it too)"
            self.drop(name_mark, step_path, old_flag, why)
        return {name: params}

    def drop(self, mark: Mark | None, step: KeyPath, keys: list[str], why: str) -> None:
        listed = ", ".join(f"'{key}'" for key in keys)
        self.dropped.append(
            problem_at(mark, dotted(step), f"dropped {listed}: {why}", file=self.file)
        )

    def nested_option(self, raw: dict[str, Any], key: str, old: KeyPath, new: KeyPath) -> None:
        """A nested Compose's option: fine at its default or repeating the outer Compose's
        (``A.save`` writes the outer one's bounding-box and keypoint settings into it)."""
        value = raw[key]
        default = _COMPOSE_DEFAULTS[key]
        if _same(value, default) or (key in self.root and _same(value, self.root[key])):
            return
        self.problem(
            old,
            new,
            f"a nested Compose's '{key}' has no confaug equivalent (it runs as a Sequential "
            f"with the outer Compose's options); remove it or set it to {default!r}",
        )

    def compose_options(self, root: dict[str, Any], data: dict[str, Any]) -> None:
        for key, value in root.items():
            if key in (_CLASS, "transforms"):
                continue
            if key == "strict":  # confaug checks every step strictly; strict stops the drops
                if not isinstance(value, bool):
                    self.problem(("transform", key), (key,), "strict must be true or false")
                continue
            default = _COMPOSE_DEFAULTS.get(key, object())
            if _same(value, default):
                continue
            if key not in _COMPOSE_KEYS:
                message = f"the Compose option '{key}' has no confaug equivalent; remove it"
                if key in _COMPOSE_DEFAULTS:
                    message += f" (or set it to {default!r})"
                self.problem(("transform", key), (key,), message)
                continue
            data[key] = value
            self.moves[("transform", key)] = (key,)


def _same(value: Any, default: Any) -> bool:
    return bool(value == default) and isinstance(value, bool) == isinstance(default, bool)


def from_albumentations(document: Document) -> Document:
    """Convert an albumentations serialized pipeline into confaug's spec shape.

    Warns (``DroppedKeysWarning``) naming each key dropped as ``A.load`` drops it.
    """
    converter = _Converter(document)
    root = document.data.get("transform")
    if not isinstance(root, dict) or _CLASS not in root:
        got = "null" if root is None else type(root).__name__
        if isinstance(root, dict):
            got = f"a mapping without {_CLASS}"
        raise ConfigError(
            [
                *document.problems,
                problem_at(
                    document.source_map.locate(("transform",)),
                    "transform",
                    f"an albumentations file's transform is a mapping with {_CLASS} (what "
                    f"A.save writes), got {got}",
                    file=document.file,
                ),
            ]
        )
    converter.root = root
    converter.strict = root.get("strict") is True
    data: dict[str, Any] = {"version": 1}
    for key in document.data:
        if key not in _FILE_KEYS:
            # A.load ignores them silently; here they are most likely meant for confaug.
            converter.problems.append(
                problem_at(
                    document.source_map.locate((key,), prefer_key=True),
                    dotted((key,)),
                    "an albumentations file holds only __version__ and transform; this key "
                    "would be ignored",
                    "to set confaug's own keys, write a confaug config (version: 1) or "
                    "extend this file from one",
                    file=document.file,
                )
            )
    if _class_name(root.get(_CLASS))[0] == "Compose":
        steps = root.get("transforms", [])
        if not isinstance(steps, list):
            converter.problem(
                ("transform", "transforms"),
                ("transforms",),
                "a Compose's transforms must be a list",
            )
            steps = []
        data["transforms"] = [
            converter.step(step, ("transform", "transforms", i), ("transforms", i))
            for i, step in enumerate(steps)
        ]
        for path in (("transform",), ("transform", "transforms")):
            if path in document.source_map.values:
                converter.target.values[("transforms",)] = document.source_map.values[path]
        converter.compose_options(root, data)
    else:
        data["transforms"] = [converter.step(root, ("transform",), ("transforms", 0))]
    if converter.problems:  # with what reading the file found (a duplicate key, ...)
        raise ConfigError([*document.problems, *converter.problems])
    for dropped in converter.dropped:  # "file:line:column: field: dropped 'key': why"
        warnings.warn(str(dropped), DroppedKeysWarning, stacklevel=2)
    positions = converter.target
    positions.update(document.source_map.rerooted(converter.moves))
    return Document(
        data, positions, document.file, document.chain, problems=list(document.problems)
    )
