"""What albumentations says of a transform's parameters: description, default, whether required.

Read at generation time from the installed albumentations, so the schema and the spec
reference document the version that runs: a parameter's text comes from the ``Args:``
section of the class's docstring (or of its ``__init__``, or of a base class that takes the
same parameter), else from its ``InitSchema`` field; its default from the constructor's
signature, written as a config writes it (lists for tuples, border and interpolation names
for OpenCV constants).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from confaug.spec.catalog import NAMED_BORDER_PARAMS, NAMED_INTERPOLATION_PARAMS, catalog
from confaug.spec.vocab import BORDER_MODES, INTERPOLATIONS

# A default that has no JSON spelling (a callable, an object): the schema leaves it out.
NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()

# The header of a Google-style docstring's ``Args:`` section; the next header ends it.
_ARGS_HEADER = re.compile(r"^(Args|Arguments|Parameters)\s*:\s*$")
# ``name (type): text``, ``name: text`` — a type may hold brackets, quotes and colons.
_ENTRY = re.compile(r"^(?P<names>[A-Za-z_][\w, ]*?)\s*(\((?P<type>.*)\))?\s*:(?P<text>(\s.*)?)$")
# Lines that keep a line of their own: bullets, and the "Default: ..." after a list.
_OWN_LINE = re.compile(r"^([-*•]\s|\d+[.)]\s|Default\b)")


@dataclass(frozen=True)
class ParamDoc:
    """One parameter of one transform, as the schema and the reference show it."""

    name: str
    description: str | None
    default: Any  # JSON-ready, or NO_DEFAULT
    required: bool


def parse_args_section(doc: str | None) -> dict[str, str]:
    """The entries of a docstring's ``Args:`` section, by parameter name.

    Continuation lines are joined into paragraphs; bullet lines keep their own line.
    """
    if not doc:
        return {}
    lines = inspect.cleandoc(doc).splitlines()
    start = next((i for i, line in enumerate(lines) if _ARGS_HEADER.match(line.strip())), None)
    if start is None:
        return {}
    header_indent = _indent(lines[start])
    entries: dict[str, list[str]] = {}
    entry_indent: int | None = None
    current: list[str] | None = None
    for line in lines[start + 1 :]:
        if not line.strip():
            if current is not None:
                current.append("")
            continue
        indent = _indent(line)
        if indent <= header_indent:
            break  # the next section (Targets:, Note:, ...)
        text = line.strip()
        match = _ENTRY.match(text)
        if match is None or (entry_indent is not None and indent != entry_indent):
            if current is not None:  # a wrapped line, a bullet, a deeper "Default: ..."
                current.append(text)
            continue
        entry_indent = indent
        current = [match["text"].strip()] if match["text"].strip() else []
        for name in match["names"].split(","):
            if name.strip():
                entries.setdefault(name.strip(), current)
    return {name: text for name, parts in entries.items() if (text := _join(parts))}


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _join(parts: list[str]) -> str:
    """Lines of one entry as paragraphs: wrapped lines joined, bullets and blank lines kept."""
    out: list[str] = []
    for part in parts:
        if not part:
            if out and out[-1] != "":
                out.append("")
        elif not out or out[-1] == "" or _OWN_LINE.match(part):
            out.append(part)
        else:
            out[-1] = f"{out[-1]} {part}"
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def json_default(name: str, value: Any) -> Any:
    """A signature default as a config writes it, or ``NO_DEFAULT`` when it has no spelling."""
    if name in NAMED_BORDER_PARAMS and _is_int(value):
        return _name_of(BORDER_MODES, value, prefer="replicate")
    if name in NAMED_INTERPOLATION_PARAMS and _is_int(value):
        return _name_of(INTERPOLATIONS, value)
    return _plain(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _name_of(names: dict[str, int], value: int, prefer: str | None = None) -> str | int:
    matches = [key for key, number in names.items() if number == int(value)]
    if prefer in matches:
        return prefer
    return matches[0] if matches else int(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else NO_DEFAULT
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return _plain(value.item())  # a NumPy scalar
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return NO_DEFAULT if any(item is NO_DEFAULT for item in items) else items
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        plain = {key: _plain(item) for key, item in value.items()}
        return NO_DEFAULT if any(item is NO_DEFAULT for item in plain.values()) else plain
    return NO_DEFAULT


def _described(cls: type) -> Iterable[dict[str, str]]:
    """Docstring entries of ``cls`` and of its bases, nearest first."""
    for klass in cls.__mro__:
        if klass is object:
            continue
        yield parse_args_section(klass.__dict__.get("__doc__"))
        init = klass.__dict__.get("__init__")
        if init is not None:
            yield parse_args_section(init.__doc__)


def _field_descriptions(cls: type) -> dict[str, str]:
    schema = getattr(cls, "InitSchema", None)
    fields = getattr(schema, "model_fields", {}) if schema is not None else {}
    return {name: field.description for name, field in fields.items() if field.description}


def class_param_docs(
    cls: type, params: Iterable[str], defaults: dict[str, Any]
) -> dict[str, ParamDoc]:
    """The documentation of ``params`` of any documented class (a transform, BboxParams)."""
    sources = [*_described(cls), _field_descriptions(cls)]
    constructor: Any = cls  # a class's __init__, not an instance's
    signature = inspect.signature(constructor.__init__)
    docs: dict[str, ParamDoc] = {}
    for name in params:
        text = next((found[name] for found in sources if name in found), None)
        parameter = signature.parameters.get(name)
        required = parameter is not None and parameter.default is inspect.Parameter.empty
        default = json_default(name, defaults[name]) if name in defaults else NO_DEFAULT
        docs[name] = ParamDoc(name, text, default, required)
    return docs


@cache
def param_docs(name: str) -> dict[str, ParamDoc]:
    """Every parameter of the catalog's transform ``name``, in the constructor's order."""
    info = catalog()[name]
    return class_param_docs(info.cls, info.params, info.defaults)


@cache
def transform_summary(name: str) -> str | None:
    """The first paragraph of a transform's docstring: what it does."""
    doc = inspect.getdoc(catalog()[name].cls)
    if not doc:
        return None
    paragraph = doc.split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines()) or None


__all__ = [
    "NO_DEFAULT",
    "ParamDoc",
    "class_param_docs",
    "json_default",
    "param_docs",
    "parse_args_section",
    "transform_summary",
]
