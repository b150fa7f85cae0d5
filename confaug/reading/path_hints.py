"""Hints for a config path that names nothing, read from how it is written.

Shared by the paths callers pass (``reading.compose``) and the paths an ``extends`` names
(``reading.extends.missing_hint``): ``~`` and environment variables are not expanded, URLs
are not fetched, white space around a path is never stripped, and ``preset:NAME`` written
with another case, an ``s`` or spaces is the preset. Only the written text is looked at.
"""

from __future__ import annotations

import re

from confaug import resources

_PRESET_PREFIX = re.compile(r"\s*presets?\s*:\s*(.*?)\s*", re.I | re.S)
_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|%[A-Za-z_][A-Za-z0-9_]*%")
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_GIT = re.compile(r"[\w.-]+@[\w.-]+:")


def preset_spelling_hint(text: str) -> str | None:
    """A "did you mean 'preset:NAME'?" for ``preset:NAME`` written with another case, an
    ``s``, or white space (``Preset:detection``, ``presets:detection``, `` preset:x``)."""
    preset = _PRESET_PREFIX.fullmatch(text)
    if preset is not None:
        for name in (preset.group(1), preset.group(1).lower()):
            if resources.preset_path(name) is not None:
                if text[:7].lower() == "preset:" and text[7:] == name:  # as extends words it
                    return f"write the prefix in lower case: 'preset:{name}'"
                return f"did you mean 'preset:{name}'?"
    return None


def written_form_hint(text: str) -> str | None:
    """Why a config path ``text`` that names nothing was not found, when its form says so:
    white space around it, ``~`` or a variable (not expanded), a URL (not fetched). None
    when nothing does (then the reader's "did you mean" looks around)."""
    stripped = text.strip()
    if not stripped:
        return None
    if stripped != text:
        # Never stripped silently: a path's spaces are its own, as for a preset's name.
        if text[-1] in "\r\n":
            return f"the path ends with a line break (read whole from a file?): write {stripped!r}"
        return f"the path has white space around it: write {stripped!r}"
    if text.startswith("~"):
        return "'~' is not expanded: write the full path (os.path.expanduser in Python)"
    if _VARIABLE.search(text):
        return (
            "environment variables are not expanded in a config path: write the path itself "
            "(os.path.expandvars in Python)"
        )
    url = _URL.match(text)
    if url is not None and url.group(1).lower() == "file":
        return f"file:// URLs are not read: write the path itself, '{text[len('file://') :]}'"
    if url is not None or _GIT.match(text):
        return "URLs are not fetched: confaug reads local files only; download it first"
    return None
