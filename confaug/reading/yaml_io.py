"""Safe YAML: plain data plus the position of every node, within fixed limits.

Only YAML 1.2 core scalars are recognised (``1e-3`` is a float, ``2024-01-01`` a string);
the YAML 1.1 booleans ``yes``/``no``/``on``/``off`` and integers with a leading zero
(``010``, octal 8 in YAML 1.1) are rejected rather than silently read one way. Tags,
duplicate keys, merge keys, redefined anchors, YAML 1.1's extra line breaks (NEL, U+2028,
U+2029), oversized files, deep nesting and alias bombs are errors. Nothing here can
construct a Python object.
"""

from __future__ import annotations

import codecs
import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

from confaug.errors import ConfigError, Problem
from confaug.reading.document import (
    Document,
    KeyPath,
    Mark,
    SourceMap,
    clipped,
    dotted,
    dotted_short,
    line_column,
    problem_at,
)


@dataclass(frozen=True)
class Limits:
    """Bounds that keep hostile files cheap to reject."""

    max_bytes: int = 1 << 20
    max_depth: int = 64
    max_nodes: int = 100_000
    #: Values of a config and all its ``extends`` parents together (each file counted once):
    #: building values is what reading costs (~75,000 a second on a loaded 2-core machine),
    #: so the chain as a whole is bounded, not only each file, and as one file is: about a
    #: second (200,000 took 2.6 s; real configs hold hundreds, 1,000 steps some 20,000).
    max_chain_nodes: int = 100_000


DEFAULT_LIMITS = Limits()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a load builds its data.

    Reading builds up to ``max_chain_nodes`` values plus YAML's nodes, events and marks,
    none of them in a cycle that must be freed early; the collector, run every few hundred
    allocations, rescanned that growing heap again and again: more than half of the time of a
    load of 64 parents of 3,000 values (4.5 s, 2.7 s with it paused).
    It is turned back on only by the load that turned it off (a nested or concurrent load
    leaves it to that one), and what is garbage then is collected as usual.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


#: Longer integers are refused: nothing in a config needs them, and Python's int() and str()
#: take quadratic time (and refuse 4,300 digits) on them.
MAX_INTEGER_DIGITS = 100

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_YAML11_BOOL = "tag:confaug,2025:yaml11-bool"


_Resolvers = dict[str | None, list[tuple[str, re.Pattern[str]]]]


class _CoreResolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core-schema resolution, plus a marker tag for YAML 1.1 booleans."""

    # A class-level table of its own, so the stock resolvers stay untouched (the stubs call it
    # an instance variable; PyYAML reads and writes it on the class).
    yaml_implicit_resolvers: ClassVar[_Resolvers] = {}  # type: ignore[misc]

    # libyaml's composer calls these once per node: PyYAML's own versions look up path
    # resolvers (none here) and join two lists per scalar, a tenth of a file's reading time.
    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                for tag, pattern in _BY_FIRST.get(value[:1], _WILDCARD):
                    if pattern.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass  # no path resolvers

    def ascend_resolver(self) -> None:
        pass


def _add(tag: str, pattern: str, first: str) -> None:
    _CoreResolver.add_implicit_resolver(tag, re.compile(pattern, re.X), list(first))


_add(_BOOL, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_add(_YAML11_BOOL, r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$", "yYnNoO")
_add(_NULL, r"^(?:~|null|Null|NULL|)$", "~nN\0")
_CoreResolver.add_implicit_resolver(_NULL, re.compile(r"^$"), None)
_add(_INT, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_add(
    _FLOAT,
    r"""^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$""",
    "-+0123456789.",
)


#: The resolvers a plain scalar's first character selects, the wildcard ones after them, as
#: ``BaseResolver.resolve`` orders them (every resolver is added above).
_WILDCARD: list[tuple[str, re.Pattern[str]]] = list(
    _CoreResolver.yaml_implicit_resolvers.get(None, [])
)
_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: [*resolvers, *_WILDCARD]
    for first, resolvers in _CoreResolver.yaml_implicit_resolvers.items()
    if first is not None
}


class _PyLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _CoreResolver,
):
    """A composer only: it builds nodes and never constructs objects."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _CoreResolver.__init__(self)


_Loader: type[Any] = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser  # only there when PyYAML was built with libyaml

    class _CLoader(CParser, _CoreResolver):
        """The same composer on libyaml: ~15x faster, so a 1 MiB file is cheap to reject."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CoreResolver.__init__(self)

    _Loader = _CLoader


class _QuotingResolver(yaml.resolver.Resolver):
    """For writing: a string is left unquoted only if YAML 1.2 (confaug) and YAML 1.1 (PyYAML's
    ``safe_load``, most other tools) both read it back as a string: ``'1e3'`` and ``'0o17'``
    are numbers to the first, ``'yes'`` and ``'2024-01-01'`` something else to the second."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            core = _core_scalar_tag(value)
            if core != _STR:
                return core
        return super().resolve(kind, value, implicit)


def _core_scalar_tag(value: str) -> str:
    """The tag confaug's reader gives a plain scalar (as PyYAML's resolver looks it up)."""
    table = _CoreResolver.yaml_implicit_resolvers
    for tag, pattern in [*table.get(value[:1], []), *table.get(None, [])]:
        if pattern.match(value):
            return tag
    return _STR


class _Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    _QuotingResolver,
):
    def represent_str(self, data: str) -> yaml.ScalarNode:
        # PyYAML writes NEL and the Unicode line separators raw inside single quotes, where a
        # reader folds them into spaces: such strings (and any unprintable one) are written
        # double-quoted, with escapes.
        if not data.isprintable() or any(c in data for c in "\x85\u2028\u2029"):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)

    def __init__(self, stream: Any, **options: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self, stream, allow_unicode=options.get("allow_unicode"), width=options.get("width")
        )
        yaml.serializer.Serializer.__init__(self)
        yaml.representer.SafeRepresenter.__init__(self, sort_keys=False)
        _QuotingResolver.__init__(self)


_Dumper.add_representer(str, _Dumper.represent_str)


def dump_yaml(data: Any) -> str:
    """Plain data as YAML text that reads back to the same data here and in YAML 1.1 tools."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _mark(file: str | None, mark: yaml.Mark | None) -> Mark:
    if mark is None:
        return Mark(file, 1, 1)
    return Mark(file, mark.line + 1, mark.column + 1)


def _problem(file: str | None, mark: yaml.Mark | None, field: str, message: str) -> Problem:
    return problem_at(_mark(file, mark), field, message)


def decode_text(raw: bytes, file: str | None, limits: Limits = DEFAULT_LIMITS) -> str:
    """Check size and encoding of a config file's bytes and return its text."""
    if len(raw) > limits.max_bytes:
        # Readers hand over at most the limit and one byte (a 3 GB file is not read whole), so
        # the length here says only that the file is larger, not how large it is.
        raise ConfigError.single(
            f"file is larger than {limits.max_bytes:,} bytes, the limit of a config",
            file=file,
            line=1,
            column=1,
        )
    for mark, encoding in _OTHER_BOMS:
        if raw.startswith(mark):
            # What Windows PowerShell 5's `>` and Notepad's "Unicode" write: decoded as
            # UTF-8 it fails at byte 0, "not UTF-8 text (byte 0xff at offset 0)", which names
            # neither the encoding nor the fix.
            shown = " ".join(f"{byte:02X}" for byte in mark)
            raise ConfigError.single(
                f"{encoding} text (byte-order mark {shown}), not UTF-8: save the file as UTF-8",
                file=file,
                line=1,
                column=1,
            )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line, column = line_column(raw, err.start)
        raise ConfigError.single(
            f"not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start})",
            file=file,
            line=line,
            column=column,
        ) from None
    if "\x00" in text:
        line, column = line_column(text, text.index("\x00"))
        message = "binary data (NUL byte) in a config"
        if _utf16_without_bom(raw):  # a whole file's encoding: placed at its start
            message = "UTF-16 text without a byte-order mark, not UTF-8: save the file as UTF-8"
            line, column = 1, 1
        raise ConfigError.single(message, file=file, line=line, column=column)
    if "\ufeff" in text:
        # utf-8-sig dropped the one a file may start with. Another is invisible in editors,
        # and the parser's words for it ("did not find expected key") point nowhere near it.
        line, column = line_column(text, text.index("\ufeff"))
        raise ConfigError.single(
            "a byte order mark (U+FEFF, invisible in most editors) inside the text; only the "
            "very start of a file may hold one: remove it",
            file=file,
            line=line,
            column=column,
        )
    found = _YAML11_BREAK.search(text)
    if found:
        # PyYAML and libyaml read these as line breaks (YAML 1.1); YAML 1.2, which confaug
        # reads and editors show, as ordinary characters. Read either way, a file would mean
        # something other than what its reviewer saw: a key after one inside a comment is
        # set, and every line number after it differs from the editor's. Teaching the parser
        # YAML 1.2 here is not possible, so they are refused, placed as an editor counts lines.
        char = found.group()
        line, column = line_column(text, found.start())
        name, escape = _YAML11_BREAKS[char]
        raise ConfigError.single(
            f"a {name} character (U+{ord(char):04X}): YAML 1.1 tools read it as a line "
            "break, YAML 1.2 (confaug, editors) as an ordinary character; remove it, or "
            f'write it as the escape "{escape}" in a double-quoted string',
            file=file,
            line=line,
            column=column,
        )
    return text


#: Byte-order marks of the encodings other than UTF-8 (UTF-32's first: UTF-32 LE's starts
#: with UTF-16 LE's).
_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _utf16_without_bom(raw: bytes) -> bool:
    """Whether ``raw`` starts as ASCII text in UTF-16 does, a NUL beside every character."""
    head = raw[:64]
    if len(head) < 4:
        return False
    low, high = head[0::2], head[1::2]
    return (not any(high) and all(low)) or (not any(low) and all(high))


#: The line breaks of YAML 1.1 that YAML 1.2 (§5.4) no longer counts as breaks, with the
#: name and the double-quoted escape of each.
_YAML11_BREAKS = {
    "\x85": ("next line (NEL)", "\\N"),
    "\u2028": ("line separator", "\\L"),
    "\u2029": ("paragraph separator", "\\P"),
}
_YAML11_BREAK = re.compile("[\x85\u2028\u2029]")


class _Where:
    """The path of the node a stream of parser events has reached (for error fields)."""

    def __init__(self) -> None:
        # One frame per open collection: [is_mapping, key or index, expecting a key].
        self.frames: list[list[Any]] = []

    def path(self) -> KeyPath:
        parts: list[str | int] = []
        for is_mapping, place, _ in self.frames:
            if place is None:
                break
            parts.append(place if not is_mapping else str(place))
        return tuple(parts)

    def node(self, event: yaml.Event) -> None:
        """A node starts (a scalar, an alias, or a collection's start)."""
        if not self.frames:
            return
        frame = self.frames[-1]
        if frame[0]:  # a mapping alternates key, value
            if frame[2]:
                frame[1] = event.value if isinstance(event, yaml.ScalarEvent) else None
            frame[2] = not frame[2]
        else:
            frame[1] = 0 if frame[1] is None else frame[1] + 1

    def open(self, mapping: bool) -> None:
        self.frames.append([mapping, None, True])

    def close(self) -> None:
        if self.frames:
            self.frames.pop()


def _check_events(
    text: str, file: str | None, limits: Limits, loader: type[Any] | None = None
) -> None:
    """Reject bad syntax, deep nesting, too many nodes and multiple documents before composing.

    Composing is recursive (in C with libyaml), so depth must be bounded first. Errors
    name the field the parser had reached.
    """
    loader = loader or _Loader
    depth = 0
    documents = 0
    events = 0
    anchors: dict[str, Any] = {}  # each anchor's mark
    # The anchor (or None) of each collection still open: an alias to one of them would make
    # the composed nodes a cycle, which every recursive walk after this one would follow
    # until Python's recursion limit.
    open_anchors: list[str | None] = []
    where = _Where()
    redefined: ConfigError | None = None

    def fail(mark: Any, message: str, *, short: bool = False) -> ConfigError:
        # ``mark`` is a PyYAML or a libyaml mark; ``short`` elides the middle of a deep path.
        field = (dotted_short if short else dotted)(where.path())
        return ConfigError([_problem(file, mark, field, message)])

    try:
        for event in yaml.parse(text, Loader=loader):
            events += 1
            if events > 2 * limits.max_nodes + 8:
                raise fail(event.start_mark, f"more than {limits.max_nodes:,} values in one config")
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent, yaml.CollectionStartEvent)):
                where.node(event)
                if isinstance(event, yaml.AliasEvent) and event.anchor not in anchors:
                    raise fail(
                        event.start_mark, f"invalid YAML: alias '*{event.anchor}' names no anchor"
                    )
                if isinstance(event, yaml.AliasEvent) and event.anchor in open_anchors:
                    raise fail(
                        event.start_mark,
                        f"alias '*{event.anchor}' refers to a node that contains it (a "
                        "recursive structure); configs hold plain data",
                    )
                anchor = getattr(event, "anchor", None)
                if anchor and not isinstance(event, yaml.AliasEvent):
                    first = anchors.get(anchor)
                    if first is not None and redefined is None:
                        # YAML 1.2 lets a later anchor replace an earlier one; PyYAML's
                        # composer refuses it, in words that came out garbled. Refused
                        # plainly once the events are read (a worse problem, an alias
                        # inside its own anchor, goes first): an alias meaning "the latest
                        # &x" is easy to misread.
                        redefined = fail(
                            event.start_mark,
                            f"anchor '&{clipped(anchor)}' is defined twice (first at line "
                            f"{first.line + 1}, column {first.column + 1}); give this one "
                            "another name",
                        )
                    anchors[anchor] = event.start_mark
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > limits.max_depth:
                    message = f"nesting deeper than {limits.max_depth} levels"
                    raise fail(event.start_mark, message, short=True)
                where.open(isinstance(event, yaml.MappingStartEvent))
                open_anchors.append(event.anchor)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
                where.close()
                if open_anchors:
                    open_anchors.pop()
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    message = "more than one YAML document; a config is a single document"
                    if _nothing_after(text, event.start_mark):
                        # A '---' at the end, as some generators write after each document.
                        message = (
                            "a '---' after the config starts a second, empty YAML document; "
                            "a config is a single document: remove the trailing ---"
                        )
                    raise fail(event.start_mark, message)
    except yaml.MarkedYAMLError as err:
        if loader is not _PyLoader and "nesting depth" in str(err.problem):
            # libyaml (PyYAML >= 6.0.4) scans far ahead and stops at its own, deeper limit;
            # the pure-Python parser streams, so our own limit is reached first, in place.
            _check_events(text, file, limits, _PyLoader)
        raise _syntax_error(err, text, file) from None
    if redefined is not None:
        raise redefined


def _nothing_after(text: str, mark: Any) -> bool:
    """Whether the document starting at ``mark`` (its ``---``) holds only blank lines,
    comments and document ends."""
    rest = text[mark.index :].removeprefix("---")
    return all(
        not line.strip() or line.strip().startswith("#") or line.strip() == "..."
        for line in rest.splitlines()
    )


def _syntax_error(err: yaml.MarkedYAMLError, text: str, file: str | None) -> ConfigError:
    """A YAML syntax error at its own line and column, with no field.

    The node the parser had reached is often not the one at fault (a tab on line 2 is met
    while reading line 1's value): naming a field would send the user to the wrong place.
    """
    mark = err.problem_mark or err.context_mark
    message = " ".join(filter(None, [err.context, err.problem])) or "invalid YAML"
    # An unclosed [ or " is found where the next line or the file ends: say where it was
    # opened, the place to fix.
    began = err.context_mark
    if (
        err.context
        and err.problem
        and began is not None
        and mark is not None
        and (began.line, began.column) != (mark.line, mark.column)
    ):
        what = err.context.removeprefix("while parsing ").removeprefix("while scanning ")
        message = (
            f"{err.problem}, in {what} that starts at line {began.line + 1}, "
            f"column {began.column + 1}"
        )
    if mark is not None and _char_at(text, mark) == "\t":
        # PyYAML's words ("while scanning a plain scalar") describe its state, not the fix.
        message = "a tab character; YAML indents with spaces, never tabs"
    elif mark is not None:
        slip = _assignment_line(text, mark.line, began.line if began is not None else None)
        if slip is not None:
            # ``rotation_range=20`` is a plain scalar that runs on into the next line, so the
            # parser fails there (or past the end): the slip is placed at its own line.
            line, column, hint = slip
            return ConfigError([Problem(file, line, column, "", f"invalid YAML: {hint}")])
    return ConfigError([_problem(file, mark, "", f"invalid YAML: {message}")])


#: ``name=value`` alone on a line: the form of an override (``--set``), pasted into a file.
#: The value runs greedily to the line's end (stripped after): a lazy one followed by
#: ``\s*`` backtracks over every run of spaces, quadratic in a hostile line.
_ASSIGNMENT = re.compile(r"(\s*)([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(\S.*)")


def override_form_hint(line: str) -> str | None:
    """What to write instead of ``line`` when it is an override's ``name=value``, or None."""
    found = _ASSIGNMENT.fullmatch(line)
    if found is None:
        return None
    name, value = found.group(2), found.group(3).rstrip()
    said = f"'{clipped(name)}={clipped(value)}' is an override's form (--set key=value)"
    if "." in name:
        return f"{said}; in a file, nest the dotted key as mappings ('{name.split('.')[0]}:' ...)"
    return f"{said}; in a file write '{clipped(name)}: {clipped(value)}'"


_LINE_BREAK = re.compile("\r\n|\r|\n")


def _assignment_line(text: str, at: int, began: int | None) -> tuple[int, int, str] | None:
    """The ``name=value`` line that a syntax error at line ``at`` (0-based) comes from, as
    (line, column, hint), or None.

    When the parser names where the construct it was reading began (a simple key: the
    line ``name=value`` itself), that line alone; else the plain scalar the error ended:
    the lines before ``at`` that hold no key (no ':') or comment (blank lines fold into a
    plain scalar), the first ``name=value`` among them.
    """
    lines = _LINE_BREAK.split(text)  # as the parser counts lines
    if began is not None:
        first = last = min(began, len(lines) - 1)  # a mark may lie past the last line
    else:
        first = last = min(at, len(lines) - 1)
        while first > 0:
            previous = lines[first - 1].strip()
            if previous.startswith("#") or ":" in previous:
                break
            first -= 1
    for index in range(first, last + 1):
        hint = override_form_hint(lines[index])
        if hint is not None:
            indent = len(lines[index]) - len(lines[index].lstrip())
            return index + 1, indent + 1, hint
    return None


def _check_expansion(root: yaml.Node, file: str | None, limits: Limits) -> None:
    """Reject alias bombs before expanding anything: sizes are counted on the node graph.

    An alias is the very node object of its anchor, so memoising on ``id`` counts each
    distinct node once while still giving the number of values the document expands to.
    """
    sizes: dict[int, int] = {}
    uses: dict[int, int] = {}
    order: list[tuple[KeyPath, yaml.Node]] = []

    def size(node: yaml.Node, path: KeyPath) -> int:
        uses[id(node)] = uses.get(id(node), 0) + 1
        known = sizes.get(id(node))
        if known is not None:
            return known
        order.append((path, node))
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item, (*path, i)) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(v, (*path, str(k.value))) for k, v in node.value)
        sizes[id(node)] = total
        return total

    total = size(root, ())
    if total <= limits.max_nodes:
        return
    # Blame the first anchored node whose repetitions alone pass the limit.
    for path, node in order:
        if uses[id(node)] > 1 and sizes[id(node)] * uses[id(node)] > limits.max_nodes:
            message = (
                f"repeated {uses[id(node)]} times through aliases, this value makes the config "
                f"expand to {total:,} values; configs are limited to {limits.max_nodes:,} "
                "(an alias bomb?)"
            )
            raise ConfigError([_problem(file, node.start_mark, dotted(path), message)])
    message = f"the config holds {total:,} values; configs are limited to {limits.max_nodes:,}"
    raise ConfigError([_problem(file, root.start_mark, "", message)])


class _Builder:
    """Turns composed nodes into plain values, recording positions and problems."""

    def __init__(self, file: str | None, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.nodes = 0
        self.source_map = SourceMap()
        self.problems: list[Problem] = []

    def add(self, mark: yaml.Mark | None, path: KeyPath, message: str) -> None:
        self.problems.append(_problem(self.file, mark, dotted(path), message))

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            raise ConfigError(
                [
                    _problem(
                        self.file,
                        node.start_mark,
                        dotted(path),
                        f"more than {self.limits.max_nodes:,} values after expanding "
                        "aliases (an alias bomb?)",
                    )
                ]
            )
        self.source_map.values[path] = _mark(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.add(node.start_mark, path, f"tag '{clipped(node.tag)}' is not allowed")
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)  # the composer makes no other kind
        return self._scalar(node, path)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        if node.tag != _MAP:
            self.add(node.start_mark, path, f"tag '{clipped(node.tag)}' is not allowed")
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MAP:
                self.add(key_node.start_mark, path, "mapping keys must be plain names")
                continue
            if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                self.add(
                    key_node.start_mark,
                    path,
                    "YAML merge keys ('<<') are not supported; use 'extends' to reuse a config",
                )
                continue
            if key_node.tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL, _YAML11_BOOL):
                self.add(key_node.start_mark, path, f"tag '{clipped(key_node.tag)}' is not allowed")
                continue
            key = str(key_node.value)
            key_path = (*path, key)
            if key in result:
                first = self.source_map.keys.get(key_path)
                where = f" (first at line {first.line})" if first else ""
                self.add(key_node.start_mark, key_path, f"duplicate key '{key}'{where}")
                continue
            self.source_map.keys[key_path] = _mark(self.file, key_node.start_mark)
            result[key] = self.build(value_node, key_path)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        value: str = node.value
        tag = node.tag
        if tag == _STR:
            return value
        if tag == _YAML11_BOOL:
            self.add(
                node.start_mark,
                path,
                f"'{value}' is a boolean in YAML 1.1 but a string in YAML 1.2; "
                f"write true/false for a switch, or quote it ('{value}') for a string",
            )
            return value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return value.lower() == "true"
        if tag == _INT:
            base = 16 if value.startswith("0x") else 8 if value.startswith("0o") else 10
            if len(value) > MAX_INTEGER_DIGITS:
                self.add(node.start_mark, path, f"integer of {len(value)} digits is too large")
                return 0
            if base == 10 and _LEADING_ZERO.match(value):
                self.add(node.start_mark, path, _leading_zero_message(value))
            return int(value[2:] if base != 10 else value, base)
        if tag == _FLOAT:
            lowered = value.lower()
            if lowered.endswith((".inf", ".nan")):
                return float(lowered.replace(".", ""))
            return float(value)
        self.add(
            node.start_mark, path, f"tag '{clipped(tag)}' is not allowed (configs hold plain data)"
        )
        return value


#: A decimal integer written with a leading zero (``010``, ``-007``; not ``0`` or ``0o10``).
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]+$")


def _leading_zero_message(value: str) -> str:
    """Why ``010`` is refused: YAML 1.1 (PyYAML's ``safe_load``, which Keras users know, and
    most older tools) reads a leading zero as octal, YAML 1.2 (confaug, editors) as decimal,
    so the same line means 8 to one reader and 10 to the other. Reported like a YAML 1.1
    boolean: the value is read as YAML 1.2 reads it, and the problem rides on the document."""
    decimal = int(value)
    sign, digits = ("-" if value.startswith("-") else ""), value.lstrip("+-")
    said = f"'{value}' has a leading zero:"
    if any(digit in "89" for digit in digits):
        return (
            f"{said} YAML 1.2 (confaug) reads it as {decimal}, YAML 1.1 tools (PyYAML) as the "
            f"string '{value}'; write {decimal} for the number, or quote it ('{value}') for a "
            "string"
        )
    octal = int(value, 8)
    if octal == decimal:  # 0 to 7 after the zeros: the same number, but not for long
        return (
            f"{said} YAML 1.1 tools (PyYAML) read such numbers as octal, YAML 1.2 (confaug) as "
            f"decimal (here both {decimal}); write {decimal}"
        )
    # YAML 1.2 writes octal as 0o10, and has no signed form of it: a negative is written out.
    as_octal = f"0o{digits.lstrip('0')} for octal" if not sign else f"{octal} for the octal number"
    return (
        f"{said} YAML 1.1 tools (PyYAML) read it as the octal number {octal}, YAML 1.2 "
        f"(confaug) as {decimal}; write {decimal}, or {as_octal}"
    )


def _char_at(text: str, mark: yaml.Mark) -> str:
    lines = text.split("\n")
    if 0 <= mark.line < len(lines) and 0 <= mark.column < len(lines[mark.line]):
        return lines[mark.line][mark.column]
    return ""


def parse_yaml(
    text: str | bytes,
    file: str | None = None,
    *,
    limits: Limits = DEFAULT_LIMITS,
    collect: bool = False,
) -> Document:
    """Parse one YAML document into plain data with positions, or raise ConfigError.

    Problems that leave the data readable (a YAML 1.1 boolean, a leading-zero integer, a
    duplicate key, a tag, a huge integer) are raised too, unless ``collect``: then they go
    to ``Document.problems``, for validation to report together with its own. Bad syntax
    and the limits always raise.
    """
    if isinstance(text, bytes):
        text = decode_text(text, file, limits)
    else:
        if len(text) > limits.max_bytes:  # each character is at least one byte
            raise ConfigError.single(
                f"config is larger than {limits.max_bytes:,} bytes", file=file, line=1, column=1
            )
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError as err:  # lone surrogates, only possible from Python strings
            line, column = line_column(text, err.start)
            raise ConfigError.single(
                "not valid Unicode text (a lone surrogate)", file=file, line=line, column=column
            ) from None
        text = decode_text(encoded, file, limits)
    try:
        _check_events(text, file, limits)
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise _syntax_error(err, text, file) from None
    except yaml.reader.ReaderError as err:
        offset = max(0, min(int(getattr(err, "position", 0) or 0), len(text)))
        line, column = line_column(text, offset)
        message = (
            f"character #x{err.character:04x} is not allowed in YAML text"
            if isinstance(err.character, int)
            else "a character that is not allowed in YAML text"
        )
        raise ConfigError.single(message, file=file, line=line, column=column) from None
    except yaml.YAMLError as err:
        raise ConfigError.single(f"invalid YAML: {err}", file=file, line=1, column=1) from None
    except RecursionError:
        raise ConfigError.single("nesting too deep", file=file, line=1, column=1) from None
    if root is None:
        raise ConfigError.single("the file is empty", file=file, line=1, column=1)
    _check_expansion(root, file, limits)
    builder = _Builder(file, limits)
    data = builder.build(root, ())
    if builder.problems and not collect:
        raise ConfigError(builder.problems)
    return Document(data, builder.source_map, file, problems=builder.problems)
