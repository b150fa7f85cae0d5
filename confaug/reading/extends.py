"""Config files and their ``extends`` chains: reading one file safely, finding parents.

``extends`` names a parent config relative to the file (or ``preset:NAME``), or a list of
them; the parents are merged under the child (mappings key by key, the child wins; lists
replace whole), a list's entries in order, a later one winning over an earlier one, and a
file that several paths reach once (see ``Resolver`` for the whole order). A file's parents
must lie inside the entry file's directory tree, the shipped presets, or a root the caller
allows; a config given as data (a mapping) has no directory of its own, so its parents are
the shipped presets and files under the roots the caller allows. Cycles are reported with
their chain.

The work of one load is bounded as a whole, not only its depth: each file is read once
however often it is named, the files are merged once each (see ``Resolver``), and a load
follows at most ``MAX_EXTENDS_REFERENCES`` references to at most ``MAX_EXTENDS_FILES`` files
holding at most ``Limits.max_chain_nodes`` values in all.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confaug import resources
from confaug.errors import ConfigError, Problem, did_you_mean
from confaug.reading.albu_format import from_albumentations, is_albumentations_file
from confaug.reading.document import Document, KeyPath, Mark, SourceMap, problem_at
from confaug.reading.merge import merge_into
from confaug.reading.path_hints import preset_spelling_hint, written_form_hint
from confaug.reading.yaml_io import Limits, decode_text, override_form_hint, parse_yaml

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


def resolve_preset(
    name: str, *, at: Mark | None = None, field: str = "", file: str | None = None
) -> Path:
    """The shipped preset ``name``, or a ConfigError suggesting a close name.

    The problem is placed at ``at``, else in ``file``: the config naming the preset (None: a
    config given as data), or ``preset:NAME`` itself when it is the entry.
    """
    path = resources.preset_path(name)
    if path is None:
        # A name is never stripped, as a path's spaces are its own too: one with white space
        # or control characters ('detection\n' from a file read whole) is shown quoted, so
        # the reader sees them, and the hint says what to write.
        odd = name != name.strip() or not name.isprintable()
        shown = repr(name) if odd else f"'{name}'"
        if odd and resources.preset_path(name.strip()) is not None:
            hint: str | None = f"write 'preset:{name.strip()}', without the white space"
        else:
            hint = did_you_mean(name.strip(), resources.preset_names())
        problem = problem_at(at, field, f"no preset named {shown}", hint, file=file)
        raise ConfigError([problem])
    return path


#: How many names of a folder a "did you mean" for a missing file looks at, at most.
MAX_SIBLINGS = 1000
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


def missing_hint(written: str, path: Path) -> str | None:
    """A hint for a config ``written`` as a path that does not exist at ``path``, or None.

    In order: a ``preset:`` prefix written in another case, how the path is written
    (``path_hints.written_form_hint``: ``~``, a variable, a URL), a Windows backslash, a
    preset's name written with another prefix (``presets:``) or without one, and a close
    name next to ``path`` (``base.yml`` for
    ``base.yaml``). Only names are looked at, never a file's contents.
    """
    if written[:7].lower() == "preset:":
        name = written[7:]
        return f"write the prefix in lower case: 'preset:{name}'"
    written_form = written_form_hint(written)  # ~, $VAR, a URL, spaces around it
    if written_form is not None:
        return written_form
    if "\\" in written:
        fixed = re.sub(r"\\+", "/", written)
        return f"write paths with '/', on every system: '{fixed}'"
    return preset_spelling_hint(written) or _preset_hint(written) or _sibling_hint(written, path)


def _preset_hint(written: str) -> str | None:
    """A "did you mean 'preset:NAME'" for a preset's name written as a path."""
    bare = written.removeprefix("./")
    for suffix in _CONFIG_SUFFIXES:
        bare = bare.removesuffix(suffix)
    return f"did you mean 'preset:{bare}'?" if resources.preset_path(bare) is not None else None


def _sibling_hint(written: str, path: Path) -> str | None:
    """A "did you mean" among the config files next to ``path``, written as ``written`` is.

    Names are compared without their suffix (``base.yml`` is ``base.yaml``), and ``.yaml``
    comes first among files of one name; a shared ``.yaml`` alone makes no name close.
    """
    import difflib

    names: dict[str, list[str]] = {}  # lower-cased stem -> the files of that stem
    try:
        with os.scandir(path.parent) as entries:
            for count, entry in enumerate(entries):
                if count >= MAX_SIBLINGS:  # a huge folder: a hint is not worth a walk
                    break
                stem, suffix = os.path.splitext(entry.name)
                if suffix in _CONFIG_SUFFIXES:
                    names.setdefault(stem.lower(), []).append(entry.name)
    except (OSError, ValueError):  # no such folder, not readable, a NUL in the path
        return None
    close = difflib.get_close_matches(path.stem.lower(), list(names), n=1, cutoff=0.6)
    if not close:
        return None
    name = min(names[close[0]], key=lambda n: (_CONFIG_SUFFIXES.index(os.path.splitext(n)[1]), n))
    prefix = written[: len(written) - len(path.name)] if written.endswith(path.name) else ""
    return f"did you mean '{prefix}{name}'?"


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
        hint = missing_hint(shown, path)
        raise ConfigError.single("file not found", file=shown, hint=hint) from None
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
    return config_document(document, shown, "the file is empty")


def config_document(document: Document, name: str, empty: str) -> Document:
    """A parsed file's or text's ``document`` as a config: refused when it holds nothing
    (``empty`` says so: "---" or "~" alone) or is not a mapping, and an ``A.save`` one
    converted. The same checks for a file (:func:`read_file`) and for text
    (``compose.read_text``)."""
    if document.data is None:
        raise ConfigError.single(empty, file=name, line=1, column=1)
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        raise ConfigError.single(
            f"the top level of a config must be a mapping of keys, not {kind}",
            file=name,
            line=1,
            column=1,
            # 'rotation_range=20' alone is a string to YAML
            hint=override_form_hint(document.data) if isinstance(document.data, str) else None,
        )
    if is_albumentations_file(document.data):
        document = from_albumentations(document)  # keeps what reading found
    return document


@dataclass
class _File:
    """One file of a load: its own document (``extends`` taken out) and what it extends."""

    document: Document
    #: Every file under this one, in the order they are merged (see Resolver), each once.
    parents: tuple[Path, ...]
    #: How errors and ``confaug resolve`` name it; None for a config given as data.
    shown: str | None
    #: Files in its longest chain of parents, itself included.
    height: int


class Resolver:
    """Follows the ``extends`` chains of one load, reading and merging each file once.

    The order a file's parents are merged in is the one Python gives a class's bases (C3,
    its method resolution order read backwards, as the most specific file is merged last):

    - every file is merged after all the files it extends, and before those extending it;
    - the entries of an ``extends`` list are merged in order: a later one wins over an
      earlier one (a list naming a file twice counts its last mention);
    - a file that several paths reach (a base shared by two mixins) is merged once, at the
      earliest place those two rules allow. So what one sibling set over the shared base is
      never undone by the base coming back through another sibling that also extends it.

    Parents that no order can merge so (``extends: [mixin.yaml, base.yaml]`` where
    mixin.yaml extends base.yaml, or two parents whose chains order two files differently)
    are refused, naming the files, rather than merged in a surprising order.

    Whatever the fan-out (a file naming the same parent 300 times, diamonds four levels
    deep), a load reads each file once and merges each once, in place: its work grows with
    the bytes and values of the distinct files, which the limits bound, never with the
    number of paths through them.
    """

    def __init__(self, roots: list[Path], limits: Limits, *, from_data: bool = False) -> None:
        self.roots = roots
        self.limits = limits
        #: The entry is data from Python (a mapping): it has no directory tree of its own.
        self.from_data = from_data
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
        """``document`` (read from ``path``, or given as data) merged with its parents.

        Its ``chain`` lists the files from the most specific to the least, as they win: the
        entry, then its parents in the reverse of the order they are merged in.
        """
        stack = (path,) if path is not None else ()
        entry = self._resolve_own(document, base, stack, shown)
        own = (shown,) if shown is not None else ()
        chain = (*own, *(self._name(file) for file in reversed(entry.parents)))
        if not entry.parents:
            # A document resolved before (given back with overrides) keeps the chain it came
            # with: spec.validate tells an override's mark from its files' by it.
            document.chain = chain or document.chain
            return document
        data: dict[str, Any] = {}
        source_map = SourceMap()
        problems: list[Problem] = []
        for each in [*(self._files[file].document for file in entry.parents), document]:
            # What a layer writes without a mark of its own (a mapping from Python has none)
            # must not keep the marks of the files under it: a mapping's bad value was placed
            # at the parent's valid one, and its unknown key at 1:1 of a file without it.
            source_map.forget(*_unmarked_writes(data, each))
            merge_into(data, each.data)
            source_map.update(each.source_map)
            problems.extend(each.problems)  # every file's, even where a child replaced the value
        # Positions of values that a later file replaced went with them.
        positions = source_map.restricted_to(data)
        return Document(data, positions, document.file, chain, problems=problems)

    def _name(self, path: Path) -> str:
        shown = self._files[path].shown
        return shown if shown is not None else str(path)

    def _resolve_own(
        self, document: Document, base: Path, stack: tuple[Path, ...], shown: str | None
    ) -> _File:
        """The _File of a document just read; its parents are resolved (once) on the way."""
        data = document.data
        if not isinstance(data, dict) or "extends" not in data:
            return _File(document, (), shown, 1)
        targets, marks, at = self._parents(document)
        listed: dict[Path, Mark | None] = {}  # each parent at its last mention, in order
        height = 0
        try:
            for target, mark in zip(targets, marks, strict=True):
                path, parent = self._load_parent(target, base, stack, mark, document.file)
                listed.pop(path, None)
                listed[path] = mark
                height = max(height, parent.height)
            order = self._merge_order(listed, at, document.file)
        except ConfigError as err:  # with what reading this file found, not instead of it
            raise ConfigError([*document.problems, *err.problems]) from None
        return _File(document, order, shown, height + 1)

    def _merge_order(
        self, listed: dict[Path, Mark | None], at: Mark | None, file: str | None
    ) -> tuple[Path, ...]:
        """The files under a file listing ``listed`` (in order), in the order to merge them.

        Python's C3 merge (the MRO of a class whose bases are the list reversed), reversed:
        see the class docstring for the rules it keeps.
        """
        parents = list(listed)
        under = {path: set(self._files[path].parents) for path in parents}
        for index, later in enumerate(parents):  # the likely mistake, said in its own words
            for earlier in parents[:index]:
                if later in under[earlier]:
                    name, other = self._name(later), self._name(earlier)
                    message = (
                        f"'{name}' is listed after '{other}', which extends it: a file is "
                        "merged before the files that extend it, so it cannot win over them"
                    )
                    hint = f"leave it out, as '{other}' brings it, or list it before '{other}'"
                    raise ConfigError(
                        [problem_at(listed[later], "extends", message, hint, file=file)]
                    )
        # Most specific first, as Python's MRO: each parent's own order, then the list.
        sequences = [[p, *reversed(self._files[p].parents)] for p in reversed(parents)]
        merged, stuck = _c3_merge([*sequences, parents[::-1]])
        if stuck:
            names = ", ".join(f"'{self._name(p)}'" for p in stuck)
            raise ConfigError(
                [
                    problem_at(
                        at,
                        "extends",
                        f"these parents cannot be merged in one order: their extends chains "
                        f"order {names} differently (each file is merged after the files it "
                        "extends, and a list's entries in order)",
                        "make the parents' own extends lists agree on the order of those files",
                        file=file,
                    )
                ]
            )
        return tuple(reversed(merged))

    def _parents(self, document: Document) -> tuple[list[str], list[Mark | None], Mark | None]:
        """The ``extends`` entries of a document (taken out of it), their positions and that
        of ``extends`` itself. From Python, a path may be any os.PathLike (pathlib.Path)."""
        source_map = document.source_map
        parents = document.data.pop("extends")
        at = source_map.values.get(("extends",))
        marks: list[Mark | None] = [at]
        source_map.values.pop(("extends",), None)
        source_map.keys.pop(("extends",), None)
        if isinstance(parents, (str, os.PathLike)):
            parents = _path_text(parents)
            if parents is not None:
                return [parents], marks, at
        message = "must be a path (or preset:NAME), or a list of them"
        if isinstance(parents, list):
            texts = [_path_text(p) if isinstance(p, (str, os.PathLike)) else None for p in parents]
            if not parents:
                message = "lists no parent config; name one, or remove 'extends'"
            elif all(text is not None for text in texts):
                marks = [source_map.values.pop(("extends", i), at) for i in range(len(parents))]
                return [text for text in texts if text is not None], marks, at
        raise ConfigError([problem_at(at, "extends", message, file=document.file)])

    def _count_values(self, document: Document, at: Mark | None, file: str | None) -> None:
        self._values += len(document.source_map.values)
        limit = self.limits.max_chain_nodes
        if self._values > limit:
            message = f"the config and its extends parents hold more than {limit:,} values in all"
            raise ConfigError([problem_at(at, "extends", message, file=file)])

    def _outside_roots(self, target: str, path: Path, at: Mark | None, file: str | None) -> Problem:
        folder = display_path(path.parent)
        if self.from_data:
            # A mapping (a request body, a sweep's JSON) has no folder: the working directory
            # is not one by default, or `extends` would reach the whole disk from cwd '/'.
            return problem_at(
                at,
                "extends",
                f"'{target}' is outside the allowed roots: a config given as data has no "
                "directory of its own, so its extends may name the shipped presets and files "
                "under allowed_roots only",
                _preset_hint(target)
                or f"{_roots_hint(folder)}, or load the config from a file: its parents are "
                "then found next to it",
                file=file,
            )
        return problem_at(
            at,
            "extends",
            f"'{target}' is outside the allowed roots: the config's own directory tree and "
            "the shipped presets",
            _roots_hint(folder),
            file=file,
        )

    def _load_parent(
        self, target: str, base: Path, stack: tuple[Path, ...], at: Mark | None, file: str | None
    ) -> tuple[Path, _File]:
        def problem(message: str, hint: str | None = None) -> ConfigError:
            return ConfigError([problem_at(at, "extends", message, hint, file=file)])

        self._references += 1
        if self._references > MAX_EXTENDS_REFERENCES:
            raise problem(
                f"more than {MAX_EXTENDS_REFERENCES} extends references in one load (every "
                "file's parents, repeats included); a config needs a few"
            )
        if target.startswith("preset:"):
            # Placed at the child's extends (or in the child: a mapping has no positions),
            # never in a file named after the preset.
            path = resolve_preset(target.removeprefix("preset:"), at=at, field="extends", file=file)
        elif not target.strip():
            raise problem("is empty")
        else:
            path = base / target
        try:
            path = path.resolve()
            if not target.startswith("preset:") and not self.allowed(path):
                raise ConfigError([self._outside_roots(target, path, at, file)])
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
                hint = missing_hint(target, path) if kind == "not found" else None
                raise problem(f"'{target}' {kind} (looked for {display_path(path)})", hint)
        except ConfigError:
            raise
        except (OSError, ValueError, RuntimeError) as err:  # NUL, too long, a symlink loop
            raise problem(f"'{target}' cannot be used as a path: {err}") from None
        shown = display_path(path)
        document = read_file(path, shown, self.limits)
        self._count_values(document, at, file)
        resolved = self._resolve_own(document, path.parent, (*stack, path), shown)
        self._files[path] = resolved
        return path, resolved


def _unmarked_writes(into: Any, layer: Document) -> tuple[set[KeyPath], set[KeyPath]]:
    """The paths ``layer`` writes over ``into`` (the data merged so far) that it has no mark
    for: those whose value it replaces (the marks at and under them are no longer right), and
    the mappings it merges into (the marks at them). A file marks every value it holds, so
    for a file both are empty; for a mapping from Python, they are every path it writes.
    """
    marks = layer.source_map

    def marked(path: KeyPath) -> bool:
        return path in marks.values or path in marks.keys

    replaced: set[KeyPath] = set()
    merged: set[KeyPath] = set()
    todo: list[tuple[KeyPath, Any, Any]] = [((), into, layer.data)]
    while todo:
        path, old, new = todo.pop()
        if isinstance(old, dict) and isinstance(new, dict):  # merged key by key
            if not marked(path):
                merged.add(path)
            todo.extend(((*path, key), old.get(key), value) for key, value in new.items())
        elif not _all_marked(path, new, marked):  # replaced whole, the old marks with it
            replaced.add(path)
    return replaced, merged


def _all_marked(path: KeyPath, value: Any, marked: Any) -> bool:
    """Whether ``marked`` holds ``path`` and every path inside ``value``."""
    todo = [(path, value)]
    while todo:
        at, node = todo.pop()
        if not marked(at):
            return False
        if isinstance(node, dict):
            todo.extend(((*at, key), item) for key, item in node.items())
        elif isinstance(node, list):
            todo.extend(((*at, index), item) for index, item in enumerate(node))
    return True


def _path_text(value: str | os.PathLike[Any]) -> str | None:
    """A parent's path as text; None for a PathLike of bytes."""
    text = os.fspath(value)
    return text if isinstance(text, str) else None


def _c3_merge(sequences: list[list[Path]]) -> tuple[list[Path], list[Path]]:
    """Python's C3 merge of ``sequences`` (each most specific first): the merged list, and
    the heads left when no order exists (empty on success).

    A head is taken when no sequence holds it past its own head; how many do is counted as
    the heads advance, so a merge costs the sequences' length, not its square.
    """
    seqs = [seq for seq in sequences if seq]
    starts = [0] * len(seqs)
    in_tails: dict[Path, int] = {}
    for seq in seqs:
        for item in seq[1:]:
            in_tails[item] = in_tails.get(item, 0) + 1
    merged: list[Path] = []
    while True:
        heads = [seq[start] for seq, start in zip(seqs, starts, strict=True) if start < len(seq)]
        if not heads:
            return merged, []
        free = [head for head in heads if not in_tails.get(head)]
        if not free:
            return merged, list(dict.fromkeys(heads))
        head = free[0]
        merged.append(head)
        for index, seq in enumerate(seqs):
            if starts[index] < len(seq) and seq[starts[index]] == head:
                starts[index] += 1
                if starts[index] < len(seq):
                    in_tails[seq[starts[index]]] -= 1


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
