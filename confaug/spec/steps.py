"""``transforms:`` steps: an albumentations transform by class name, or a composite."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from confaug.spec.catalog import COMPOSITES, catalog, unknown_transform
from confaug.spec.vocab import HintedError


class TransformStep(BaseModel):
    """One step: ``- Name`` or ``- Name: {param: value}``; composites hold ``transforms``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="albumentations transform class name")
    params: dict[str, Any] = Field(default_factory=dict)
    transforms: tuple[TransformStep, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml_shape(cls, value: Any) -> Any:
        if isinstance(value, TransformStep):
            return value
        if isinstance(value, str):
            if value in COMPOSITES:
                raise ValueError(
                    f"{value} needs a 'transforms' list, e.g. '{value}: {{transforms: [...]}}'"
                )
            return {"name": value}
        if (
            isinstance(value, dict)
            and set(value) >= {"name"}
            and set(value) <= {"name", "params", "transforms"}
        ):
            return value
        if not isinstance(value, dict) or len(value) != 1:
            raise _shape_error(value)
        ((name, params),) = value.items()
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise _params_error(name, params)
        written = "transforms" in params
        params = dict(params)
        children = params.pop("transforms", None) if name in COMPOSITES else None
        if name in COMPOSITES and not isinstance(children, list):
            # At the value that is not a list (or the parameters that lack one), which an
            # override may have set over a file's step.
            at = (name, "transforms") if written else (name,)
            raise StepShapeError(f"{name} needs a 'transforms' list", at=at)
        return {"name": name, "params": params, "transforms": children}

    @model_serializer(mode="plain")
    def _to_yaml_shape(self) -> Any:
        body: dict[str, Any] = dict(self.params)
        if self.transforms is not None:
            body["transforms"] = [step._to_yaml_shape() for step in self.transforms]
        return {self.name: body} if body else self.name


class StepShapeError(HintedError):
    """A step of the wrong shape. ``name`` and ``beside``, when set: the step's one transform
    name and the keys written beside it that are its parameters (``p`` one indent too
    shallow), for ``spec.validate`` to say how far to indent them; ``at``, when set, the
    path inside the step that ``spec.validate`` places the problem at."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        name: str = "",
        beside: tuple[str, ...] = (),
        example: str = "",
        at: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, hint)
        self.name = name
        self.beside = beside
        #: The step as it was meant, on one line: ``- HorizontalFlip: {p: 0.5}``.
        self.example = example
        #: Where in the step the problem is, when not the step as a whole: ``('Blur',)`` for
        #: parameters that are no mapping. ``--set transforms.0.Blur=3`` sets that value over
        #: a file's step, and the problem is the override's, not the file's.
        self.at = at


def _shape_error(value: Any) -> StepShapeError:
    """Why ``value`` (not a name, nor a mapping of one key) is no step, in the words of the
    slip that most likely made it."""
    generic = StepShapeError(
        "a step is a transform name, or a mapping with exactly one key, "
        "the transform name (e.g. '- GaussNoise: {p: 0.3}')"
    )
    if not isinstance(value, dict) or not value:
        return generic
    known = catalog()
    names = [key for key in value if isinstance(key, str) and key in known]
    if len(names) == len(value) > 1:
        # '- Blur' and '- MotionBlur' written without the second '- '
        return StepShapeError(
            f"{and_(names)} are in one step; a step has exactly one key, its transform name",
            "start each on a line of its own, with '- '",
        )
    if len(names) != 1 or not (value[names[0]] is None or isinstance(value[names[0]], dict)):
        return generic
    (name,) = names
    own = set(known[name].params) | ({"transforms"} if name in COMPOSITES else set())
    beside = tuple(key for key in value if key != name)
    if not all(isinstance(key, str) and key in own for key in beside):
        return generic
    # The keys of the YAML slip '- HorizontalFlip:' then 'p: 0.5' at the same indent: the step
    # reads {HorizontalFlip: null, p: 0.5}, its parameters beside the name, not under it.
    example = f"- {name}: {_flow({**(value[name] or {}), **{key: value[key] for key in beside}})}"
    return StepShapeError(
        f"{and_(list(beside))} {'sits' if len(beside) == 1 else 'sit'} beside {name}, not under it",
        f"indent {'it' if len(beside) == 1 else 'them'} under {name}, or write '{example}'",
        name=name,
        beside=beside,
        example=example,
    )


def _params_error(name: Any, params: Any) -> StepShapeError:
    """Why the one key ``name`` with ``params`` (not a mapping) is no step."""
    if not isinstance(name, str) or name not in catalog():
        if isinstance(name, str):
            # '- Blur {p: 0.5}' (no ':' after Blur) is the mapping {'Blur {p': '0.5}'}
            match = re.match(r"([A-Za-z_]\w*)[\s{\[]", name)
            if match and match.group(1) in catalog():
                written = match.group(1)
                rest = name[len(written) :].lstrip()
                # The line as written, with the ':': '- Blur: {p: 0.5}'
                example = (
                    f"{written}: {rest}: {params}"
                    if rest.startswith("{") and isinstance(params, (str, int, float))
                    else f"{written}: {{p: 0.5}}"
                )
                return StepShapeError(
                    f"'{name}' is not a transform name (missing ':' after {written}?)",
                    f"write '- {example}'",
                )
        message, hint = unknown_transform(str(name))
        return StepShapeError(message, hint)
    # Placed at the parameters (the name is fine): where an override wrote them over a file.
    if name in COMPOSITES:
        # '- OneOf:' with its children listed straight under it
        children = params if isinstance(params, list) else [params]
        return StepShapeError(
            f"the parameters of {name} must be a mapping, its transforms listed under "
            f"'transforms', e.g. '{name}: {{transforms: {_flow_list(children)}}}'",
            at=(name,),
        )
    return StepShapeError(
        f"the parameters of {name} must be a mapping, e.g. '{name}: {{p: 0.5}}'", at=(name,)
    )


def and_(words: list[str], last: str = "and") -> str:
    """``['a', 'b', 'c']`` → "a, b and c" (``last``: the word before the last, "or")."""
    return f" {last} ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def _flow(mapping: dict[Any, Any]) -> str:
    """A short YAML flow mapping of ``mapping`` for a hint (values past a few kept as ...)."""
    items = [f"{key}: {_scalar(value)}" for key, value in list(mapping.items())[:3]]
    return "{" + ", ".join(items + (["..."] if len(mapping) > 3 else [])) + "}"


def _flow_list(items: list[Any]) -> str:
    names = [_scalar(item) if not isinstance(item, dict) else _step_name(item) for item in items]
    return "[" + ", ".join(names[:3] + (["..."] if len(names) > 3 else [])) + "]"


def _step_name(step: dict[Any, Any]) -> str:
    return str(next(iter(step))) if len(step) == 1 else "..."


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and len(value) <= 30:
        return value
    if (
        isinstance(value, list)
        and len(value) <= 4
        and all(
            isinstance(item, (int, float, str)) and not isinstance(item, bool) for item in value
        )
    ):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    return "..."
