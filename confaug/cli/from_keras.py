"""``confaug from-keras``: ImageDataGenerator keyword arguments → a confaug config.

The text is parsed with :mod:`ast` (never evaluated): the keywords, a whole
``ImageDataGenerator(...)`` call, or a pasted ``datagen = ImageDataGenerator(...)`` line. Values
are numbers, strings, lists, tuples and ``True``/``False``/``None``, with constant arithmetic on
numbers folded (``rescale=1./255``) within fixed bounds.
"""

from __future__ import annotations

import argparse
import ast
import operator
from typing import Any

from confaug.cli.common import add_command, add_output_option, write_output
from confaug.cli.presets import schema_location
from confaug.errors import ConfigError, Problem

_WHERE = "<keywords>"
MAX_CHARS = 100_000


def _problem(
    message: str, node: ast.AST | None = None, field: str = "", *, shift: int = 0
) -> Problem:
    line = getattr(node, "lineno", None)
    column = getattr(node, "col_offset", None)
    line = None if line is None else max(line - shift, 1)
    return Problem(_WHERE, line, None if column is None else column + 1, field, message)


def _pasted_call(source: str) -> ast.Call | None:
    """The call in ``ImageDataGenerator(...)`` or ``datagen = ImageDataGenerator(...)``."""
    try:
        tree = ast.parse(source, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(tree.body) != 1:
        return None
    statement = tree.body[0]
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        return statement.value
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and isinstance(statement.value, ast.Call):
        func = statement.value.func  # a line pasted from a script; not keyword=call(...)
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        return statement.value if name == "ImageDataGenerator" else None
    return None


_ARITHMETIC: dict[type[ast.operator], Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_LARGEST = 1e300  # arithmetic stays far inside float range, so nothing overflows or hangs


def literal_value(node: ast.AST) -> Any:
    """A keyword's value: a Python literal, with constant arithmetic folded (``1./255``).

    Numbers, strings, True/False/None, lists and tuples of them; ``+ - * / // % **`` between
    numbers, with every operand and result bounded by 1e300 (and integer powers by 64), so a
    pasted ``10**10**10`` is refused instead of computed. Nothing is evaluated as Python.
    """
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, type(None))):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return _bounded(node.value)
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal_value(item) for item in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        operand = _number(literal_value(node.operand))
        return operand if isinstance(node.op, ast.UAdd) else -operand
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _number(literal_value(node.left)), _number(literal_value(node.right))
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise ValueError("a power this large is not a config value")
        try:
            return _bounded(_ARITHMETIC[type(node.op)](left, right))
        except (ZeroDivisionError, OverflowError) as err:
            raise ValueError(f"the arithmetic fails ({err})") from None
    raise ValueError("write a number, a string, a list, True/False/None, or arithmetic on numbers")


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("arithmetic works on numbers only")
    return value


def _bounded(value: Any) -> float | int:
    if isinstance(value, complex) or not abs(value) <= _LARGEST:
        raise ValueError(f"numbers are limited to ±{_LARGEST:g}")
    return value


def parse_keywords(text: str) -> tuple[dict[str, Any], list[str]]:
    """``"rotation_range=15, zoom_range=[0.9, 1.25]"`` (or a whole ``ImageDataGenerator(...)``
    call) as ``({keyword: value}, [names of function references])``.

    A bare name given for ``preprocessing_function`` is kept as that name (a function the
    program must register); any other non-literal value is a ``ConfigError``.
    """
    source = text.strip()
    if len(source) > MAX_CHARS:
        raise ConfigError([_problem(f"more than {MAX_CHARS:,} characters of keywords")])
    pasted = _pasted_call(source)
    wrapped = f"f(\n{source}\n)"
    if pasted is not None:
        call, shift, parsed = pasted, 0, source
    else:
        shift, parsed = 1, wrapped
        try:
            call = ast.parse(wrapped, mode="eval").body  # type: ignore[assignment]
        except SyntaxError as err:
            line = max((err.lineno or 2) - 1, 1)
            problem = Problem(_WHERE, line, err.offset, "", f"not keyword arguments: {err.msg}")
            raise ConfigError([problem]) from None
        except (ValueError, RecursionError, MemoryError) as err:
            raise ConfigError([_problem(f"not keyword arguments: {err}")]) from None
    assert isinstance(call, ast.Call)
    problems = [
        _problem("positional arguments are not accepted; write keyword=value", arg, shift=shift)
        for arg in call.args
    ]
    values: dict[str, Any] = {}
    functions: list[str] = []
    for keyword in call.keywords:
        if keyword.arg is None:
            problems.append(
                _problem(
                    "**kwargs cannot be read; write each keyword=value", keyword.value, shift=shift
                )
            )
            continue
        if keyword.arg in values:
            problems.append(_problem("given twice", keyword, keyword.arg, shift=shift))
            continue
        node = keyword.value
        if keyword.arg == "preprocessing_function" and isinstance(node, (ast.Name, ast.Attribute)):
            name = node.id if isinstance(node, ast.Name) else node.attr
            values[keyword.arg] = name
            functions.append(name)
            continue
        try:
            values[keyword.arg] = literal_value(node)
        except RecursionError:  # a chain of ~1,000 operators nests deeper than Python's stack
            message = "arithmetic nested too deeply: write the value as one number"
            problems.append(_problem(message, node, keyword.arg, shift=shift))
        except ValueError as err:
            segment = ast.get_source_segment(parsed, node) or ast.dump(node)
            message = f"value {segment!r} is not a Python literal: {err}"
            problems.append(_problem(message, node, keyword.arg, shift=shift))
    if problems:
        raise ConfigError(problems)
    return values, functions


def convert(text: str, *, modeline: bool | str = False) -> str:
    """The YAML config equivalent to the keyword arguments in ``text``."""
    from confaug import register, unregister
    from confaug.api import spec_from_keras, spec_to_yaml
    from confaug.registry import lookup

    values, functions = parse_keywords(text)
    placeholders = [name for name in functions if name.isidentifier() and lookup(name) is None]
    for name in placeholders:  # only so that validation accepts the name; never called

        def _placeholder(x: Any) -> Any:
            return x

        register(name, _placeholder)
    try:
        yaml_text = spec_to_yaml(spec_from_keras(**values), modeline=modeline)
    finally:
        for name in placeholders:
            unregister(name)
    notes = [
        f"# preprocessing_function '{name}': call confaug.register('{name}', {name}) in Python "
        "before loading this config"
        for name in functions
    ]
    return "\n".join(notes) + ("\n" if notes else "") + yaml_text


def join_arguments(pieces: list[str]) -> str:
    """Shell arguments as one keyword text: a comma between pieces unless one is there."""
    text = ""
    for piece in (p.strip() for p in pieces):
        if text and not text.endswith((",", "(")) and piece and not piece.startswith((",", ")")):
            text += ","
        text += (" " if text else "") + piece
    return text


def run(args: argparse.Namespace) -> int:
    """Convert and print (or write) the config."""
    schema = args.schema if args.schema is not None else args.modeline
    text = convert(join_arguments(args.keywords), modeline=schema)
    write_output(text, args.output)
    return 0


def register(subparsers: Any) -> None:
    """Add the ``from-keras`` command."""
    parser = add_command(
        subparsers,
        "from-keras",
        help="turn ImageDataGenerator(...) keywords into a config",
        description="Convert the keyword arguments of a Keras ImageDataGenerator call into a "
        "confaug YAML config. Paste the keywords (or the whole call); values must be Python "
        "literals (numbers, strings, lists, True/False/None); arithmetic on numbers such as "
        "1./255 is folded. Nothing is evaluated.",
        example=(
            'confaug from-keras "rotation_range=15, zoom_range=[0.9, 1.25], horizontal_flip=True"\n'
            "confaug from-keras "
            "\"ImageDataGenerator(rotation_range=15, fill_mode='reflect')\" -o aug.yaml"
        ),
        run=run,
    )
    parser.add_argument(
        "keywords",
        nargs="+",
        metavar="KEYWORDS",
        help="keyword=value text; several arguments are joined with commas",
    )
    parser.add_argument(
        "--modeline",
        action="store_true",
        help="start the YAML with the editor schema line, pointing at confaug.schema.json next "
        "to the config (write it with 'confaug schema -o confaug.schema.json')",
    )
    parser.add_argument(
        "--schema",
        metavar="PATH",
        type=schema_location,
        help="like --modeline, pointing at PATH (relative to the config) or a URL",
    )
    add_output_option(parser)
