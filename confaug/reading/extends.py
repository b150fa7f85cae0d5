"""Config files and their ``extends`` chains: reading one file safely, finding parents.

``extends`` names a parent config relative to the file (or ``preset:NAME``); the parent is
merged under the child (mappings key by key, the child wins; lists replace whole). Parents
must lie inside the entry file's directory tree, the shipped presets, or a root the caller
allows; cycles are reported with their chain.

The work of one load is bounded as a whole, not only its depth: each file is read once
however often it is named, the files are merged once each (see ``Resolver``), and a load
follows at most ``MAX_EXTENDS_REFERENCES`` references to at most ``MAX_EXTENDS_FILES`` files
holding at most ``Limits.max_chain_nodes`` values in all.
"""

from __future__ import annotations

import os
import shlex
import stat
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confaug import resources
from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.albu_format import from_albumentations, is_albumentations_file
from confaug.reading.document import Document, Mark, SourceMap, problem_at
from confaug.reading.merge import merge_into
from confaug.reading.yaml_io import Limits, decode_text, parse_yaml

#: How the caller permits another root, as the hint for a parent outside the roots says it
#: (``{folder}``: the parent's folder; ``{shell}``: the same, quoted for a shell). Python
#: callers pass ``allowed_roots=``; the CLI sets its own flag for the duration of a load
#: (``cli.common.read_document``).
roots_option: ContextVar[str] = ContextVar(
    "confaug_roots_option", default="pass allowed_roots=[{folder!r}] to permit it"
)

MAX_EXTENDS_DEPTH = 16  # files in one chain, the entry file included
MAX_EXTENDS_FILES = 64  # distinct files one load reads
MAX_EXTENDS_REFERENCES = 256  # `extends` entries one load follows, repeats included


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
    document = parse_yaml(decode_text(raw, shown, limits), shown, limits=limits, collect=True)
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
        document = from_albumentations(document)  # keeps what reading found
    return document


@dataclass
class _File:
    """One file of a load: its own document (``extends`` taken out) and what it extends."""

    document: Document
    #: The files to merge under this one, in order, each once (see Resolver).
    parents: tuple[Path, ...]
    #: The files of its chain as ``confaug resolve`` lists them: itself, then its parents'.
    chain: tuple[str, ...]
    #: Files in its longest chain of parents, itself included.
    height: int


class Resolver:
    """Follows the ``extends`` chains of one load, reading and merging each file once.

    Merging is associative, and merging a document again after itself changes nothing it
    set, so a file's result is its parents' files merged in order with only the *last*
    occurrence of each one kept, then the file itself. Whatever the fan-out (a file naming
    the same parent 300 times, diamonds four levels deep), a load reads each file once and
    merges each once, in place: its work grows with the bytes and values of the distinct
    files, which the limits bound, never with the number of paths through them.
    """

    def __init__(self, roots: list[Path], limits: Limits) -> None:
        self.roots = roots
        self.limits = limits
        self._files: dict[Path, _File] = {}
        self._references = 0
        self._values = 0

    def allowed(self, path: Path) -> bool:
        return any(path.is_relative_to(root) for root in self.roots)

    def load_entry(self, path: Path, shown: str) -> Document:
        """The entry file ``path`` (named ``shown`` in errors) merged with its parents."""
        document = read_file(path, shown, self.limits)
        self._count_values(document, None, shown)
        return self.resolve(document, path.parent, path, shown)

    def resolve(
        self, document: Document, base: Path, path: Path | None = None, shown: str | None = None
    ) -> Document:
        """``document`` (read from ``path``, or given as data) merged with its parents."""
        stack = (path,) if path is not None else ()
        own_chain = (shown,) if shown is not None else ()
        entry = self._resolve_own(document, base, stack, own_chain)
        if not entry.parents:
            document.chain = entry.chain
            return document
        data: dict[str, Any] = {}
        source_map = SourceMap()
        problems: list[Problem] = []
        for own in [*(self._files[file].document for file in entry.parents), document]:
            merge_into(data, own.data)
            source_map.update(own.source_map)
            problems.extend(own.problems)  # every file's, even where a child replaced the value
        # Positions of values that a later file replaced went with them.
        positions = source_map.restricted_to(data)
        return Document(data, positions, document.file, entry.chain, problems=problems)

    def _resolve_own(
        self, document: Document, base: Path, stack: tuple[Path, ...], chain: tuple[str, ...]
    ) -> _File:
        """The _File of a document just read; its parents are resolved (once) on the way."""
        data = document.data
        if not isinstance(data, dict) or "extends" not in data:
            return _File(document, (), chain, 1)
        targets, marks = self._parents(document)
        order: list[Path] = []
        height = 0
        for target, at in zip(targets, marks, strict=True):
            try:
                path, parent = self._load_parent(target, base, stack, at, document.file)
            except ConfigError as err:  # with what reading this file found, not instead of it
                raise ConfigError([*document.problems, *err.problems]) from None
            order.extend((*parent.parents, path))
            chain += parent.chain
            height = max(height, parent.height)
        # Only the last occurrence of a file counts: an earlier one is merged over again.
        last = {file: index for index, file in enumerate(order)}
        kept = tuple(file for index, file in enumerate(order) if last[file] == index)
        return _File(document, kept, tuple(dict.fromkeys(chain)), height + 1)

    def _parents(self, document: Document) -> tuple[list[str], list[Mark | None]]:
        """The ``extends`` entries of a document (taken out of it) and their positions."""
        source_map = document.source_map
        parents = document.data.pop("extends")
        at = source_map.values.get(("extends",))
        marks: list[Mark | None] = [at]
        source_map.values.pop(("extends",), None)
        source_map.keys.pop(("extends",), None)
        if isinstance(parents, str):
            return [parents], marks
        message = "must be a path (or preset:NAME), or a list of them"
        if isinstance(parents, list) and all(isinstance(p, str) for p in parents):
            if not parents:
                message = "lists no parent config; name one, or remove 'extends'"
            else:
                marks = [source_map.values.pop(("extends", i), at) for i in range(len(parents))]
                return parents, marks
        raise ConfigError([problem_at(at, "extends", message, file=document.file)])

    def _count_values(self, document: Document, at: Mark | None, file: str | None) -> None:
        self._values += len(document.source_map.values)
        limit = self.limits.max_chain_nodes
        if self._values > limit:
            message = f"the config and its extends parents hold more than {limit:,} values in all"
            raise ConfigError([problem_at(at, "extends", message, file=file)])

    def _load_parent(
        self, target: str, base: Path, stack: tuple[Path, ...], at: Mark | None, file: str | None
    ) -> tuple[Path, _File]:
        def problem(message: str) -> ConfigError:
            return ConfigError([problem_at(at, "extends", message, file=file)])

        self._references += 1
        if self._references > MAX_EXTENDS_REFERENCES:
            raise problem(
                f"more than {MAX_EXTENDS_REFERENCES} extends references in one load (every "
                "file's parents, repeats included); a config needs a few"
            )
        if target.startswith("preset:"):
            path = resolve_preset(target.removeprefix("preset:"), at=at, field="extends")
        elif not target.strip():
            raise problem("is empty")
        else:
            path = base / target
        try:
            path = path.resolve()
            if not target.startswith("preset:") and not self.allowed(path):
                raise ConfigError(
                    [
                        problem_at(
                            at,
                            "extends",
                            f"'{target}' is outside the allowed roots: the config's own "
                            "directory tree and the shipped presets",
                            _roots_hint(display_path(path.parent)),
                            file=file,
                        )
                    ]
                )
            if path in stack:
                chain = " → ".join(display_path(p) for p in (*stack, path))
                raise problem(f"extends cycle: {chain}")
            known = self._files.get(path)
            height = known.height if known is not None else 1
            if len(stack) + height > MAX_EXTENDS_DEPTH:
                raise problem(f"extends chain longer than {MAX_EXTENDS_DEPTH} files")
            if known is not None:
                return path, known
            if len(self._files) >= MAX_EXTENDS_FILES:
                raise problem(f"extends reaches more than {MAX_EXTENDS_FILES} files in one load")
            kind = _kind(path)
            if kind is not None:
                raise problem(f"'{target}' {kind} (looked for {display_path(path)})")
        except ConfigError:
            raise
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise problem(f"'{target}' cannot be used as a path: {err}") from None
        shown = display_path(path)
        document = read_file(path, shown, self.limits)
        self._count_values(document, at, file)
        resolved = self._resolve_own(document, path.parent, (*stack, path), (shown,))
        self._files[path] = resolved
        return path, resolved


def _roots_hint(folder: str) -> str:
    """How the caller would allow ``folder`` (see ``roots_option``)."""
    return roots_option.get().format(folder=folder, shell=shlex.quote(folder))


def _kind(path: Path) -> str | None:
    """Why ``path`` is not a config file ("not found", "is a directory", ...), or None.

    ``os.stat`` only looks: it never opens the path, so a FIFO cannot block here.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "not found"
    except NotADirectoryError:  # a file used as a folder on the way
        return "not found"
    if stat.S_ISDIR(mode):
        return "is a directory, not a config file"
    if not stat.S_ISREG(mode):
        return "is not a regular file (a pipe, a socket or a device)"
    return None
