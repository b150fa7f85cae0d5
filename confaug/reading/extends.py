"""Config files and their ``extends`` chains: reading one file safely, finding parents.

``extends`` names a parent config relative to the file (or ``preset:NAME``); the parent is
merged under the child (mappings key by key, the child wins; lists replace whole). Parents
must lie inside the entry file's directory tree, the shipped presets, or a root the caller
allows; cycles are reported with their chain.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from confaug import resources
from confaug.errors import ConfigError, did_you_mean
from confaug.reading.albu_format import from_albumentations, is_albumentations_file
from confaug.reading.document import Document, Mark, problem_at
from confaug.reading.merge import merge_documents
from confaug.reading.yaml_io import Limits, decode_text, parse_yaml

MAX_EXTENDS_DEPTH = 16


def display_path(path: Path) -> str:
    """A path as errors show it: relative to the working directory when inside it."""
    cwd = Path.cwd().resolve()
    return str(path.relative_to(cwd)) if path.is_relative_to(cwd) else str(path)


def resolve_preset(name: str, *, at: Mark | None = None, field: str = "") -> Path:
    """The shipped preset ``name``, or a ConfigError (at ``at``) suggesting a close name."""
    path = resources.preset_path(name)
    if path is None:
        hint = did_you_mean(name, resources.preset_names())
        problem = problem_at(at, field, f"no preset named '{name}'", hint, file=f"preset:{name}")
        raise ConfigError([problem])
    return path


def _read_bytes(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file; never blocks on a FIFO or a device."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError if stat.S_ISDIR(os.fstat(fd).st_mode) else _NotRegular
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


class _NotRegular(OSError):
    pass


def read_file(path: Path, shown: str, limits: Limits) -> Document:
    """One config file parsed (albumentations files converted), or a located ConfigError."""
    try:
        raw = _read_bytes(path, limits.max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError.single("file not found", file=shown) from None
    except IsADirectoryError:
        raise ConfigError.single("is a directory, not a config file", file=shown) from None
    except _NotRegular:
        raise ConfigError.single(
            "is not a regular file (a pipe, a socket or a device)", file=shown
        ) from None
    except (OSError, ValueError) as err:  # ValueError: a NUL character in the path
        reason = getattr(err, "strerror", None) or str(err)
        raise ConfigError.single(f"cannot read: {reason}", file=shown) from None
    document = parse_yaml(decode_text(raw, shown, limits), shown, limits=limits)
    if document.data is None:  # "---" or "~" alone
        raise ConfigError.single("the file is empty", file=shown, line=1, column=1)
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        raise ConfigError.single(
            f"the top level of a config must be a mapping of keys, not {kind}",
            file=shown,
            line=1,
            column=1,
        )
    if is_albumentations_file(document.data):
        document = from_albumentations(document)
    return document


class Resolver:
    """Follows ``extends`` chains for one load."""

    def __init__(self, roots: list[Path], limits: Limits) -> None:
        self.roots = roots
        self.limits = limits

    def allowed(self, path: Path) -> bool:
        return any(path.is_relative_to(root) for root in self.roots)

    def load(self, path: Path, stack: tuple[Path, ...]) -> Document:
        document = read_file(path, display_path(path), self.limits)
        document.chain = (display_path(path),)
        return self.with_parents(document, path.parent, (*stack, path))

    def with_parents(self, document: Document, base: Path, stack: tuple[Path, ...]) -> Document:
        data = document.data
        if not isinstance(data, dict) or "extends" not in data:
            return document
        parents = data.pop("extends")
        parent_marks = [document.source_map.values.get(("extends",))]
        document.source_map.values.pop(("extends",), None)
        document.source_map.keys.pop(("extends",), None)
        if isinstance(parents, str):
            parents = [parents]
        elif isinstance(parents, list) and all(isinstance(p, str) for p in parents):
            parent_marks = [
                document.source_map.values.get(("extends", i)) for i in range(len(parents))
            ]
        else:
            message = "must be a path (or preset:NAME), or a list of them"
            raise ConfigError([problem_at(parent_marks[0], "extends", message, file=document.file)])
        merged: Document | None = None
        for target, at in zip(parents, parent_marks, strict=True):
            parent = self.load_parent(target, base, stack, at, document.file)
            merged = parent if merged is None else merge_documents(merged, parent)
        assert merged is not None
        result = merge_documents(merged, document)
        result.chain = document.chain + merged.chain
        return result

    def load_parent(
        self, target: str, base: Path, stack: tuple[Path, ...], at: Mark | None, file: str | None
    ) -> Document:
        def problem(message: str) -> ConfigError:
            return ConfigError([problem_at(at, "extends", message, file=file)])

        if target.startswith("preset:"):
            path = resolve_preset(target.removeprefix("preset:"), at=at, field="extends")
        elif not target.strip():
            raise problem("is empty")
        else:
            path = base / target
        try:
            path = path.resolve()
            if not target.startswith("preset:") and not self.allowed(path):
                raise problem(
                    f"'{target}' is outside the allowed roots (the config's own directory "
                    "tree and the shipped presets); pass allowed_roots to permit it"
                )
            if path in stack:
                chain = " → ".join(display_path(p) for p in (*stack, path))
                raise problem(f"extends cycle: {chain}")
            if len(stack) >= MAX_EXTENDS_DEPTH:
                raise problem(f"extends chain longer than {MAX_EXTENDS_DEPTH} files")
            if not path.is_file():
                raise problem(f"'{target}' not found (looked for {display_path(path)})")
        except ConfigError:
            raise
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise problem(f"'{target}' cannot be used as a path: {err}") from None
        return self.load(path, stack)
