"""What every command shares: config options, loading a config, errors and exit codes."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confaug.errors import ConfigError, Problem, one_line, shown_problem_lines

if TYPE_CHECKING:
    from confaug.compiler.pipeline import Pipeline
    from confaug.reading.document import Document
    from confaug.spec.model import Spec

EXIT_INVALID = 1
EXIT_USAGE = 2

Runner = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A wrong combination of arguments (exit code 2), found after argparse ran."""


def mask_usage_error(err: ValueError, mask_dir_option: str) -> UsageError:
    """A ``ValueError`` of ``sources.directory.MaskNames`` (which names the Python keywords
    ``mask_pattern=``/``mask_dir``) as a ``UsageError`` naming this command's options."""
    text = str(err).replace("mask_pattern=", "--mask-pattern ")
    return UsageError(
        text.replace("mask_pattern", "--mask-pattern").replace("mask_dir", mask_dir_option)
    )


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and example epilogs."""


def add_command(
    subparsers: Any, name: str, *, help: str, description: str, example: str, run: Runner
) -> argparse.ArgumentParser:
    """A subcommand parser with a description, an example epilog and its runner."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog="example:\n" + "\n".join(f"  {line}" for line in example.strip().splitlines()),
        formatter_class=Formatter,
    )
    parser.set_defaults(run=run, command_name=name)
    return parser


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """``--set``, ``--allow-root``, ``--time-budget`` and ``--import``: options of each command
    that reads a config."""
    group = parser.add_argument_group("config options")
    group.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value after extends, as a dotted key and a YAML value "
        "(repeatable; a mapping merges into the mapping there, as in extends), e.g. "
        "--set rotation_range=20 --set transforms.0.GaussNoise.p=0.1",
    )
    group.add_argument(
        "--allow-root",
        dest="allowed_roots",
        action="append",
        default=[],
        metavar="DIR",
        help="also allow `extends` to reach files under DIR (repeatable); by default only the "
        "config's own directory tree and the shipped presets",
    )
    group.add_argument(
        "--time-budget",
        dest="time_budget",
        type=time_budget,
        default=None,
        metavar="SECONDS",
        help="accept a config estimated to take up to SECONDS for a 1024×1024 image (default "
        "2; at most 3600): for a costly config you trust. A config cannot raise it",
    )
    group.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a Python module first, e.g. one that calls confaug.register() for the "
        "config's preprocessing_function (repeatable)",
    )


def import_modules(names: list[str]) -> None:
    """Import the modules named by ``--import`` (the current directory is importable).

    Any failure is a ``UsageError`` (exit code 2, the command did not run): one line naming
    the module, the error and where in the user's code it was raised. A SyntaxError or an
    exception in the module that registers a ``preprocessing_function`` is common while it
    is written; a traceback through importlib, or validate's "bug in confaug" report about
    the config, pointed away from it. Names that cannot be modules (``""``, ``.rel``, a
    path, ``x.py``) are refused before anything is imported: ``x.py`` would first run
    ``x`` and only then fail."""
    if not names:
        return
    for name in names:
        _check_module_name(name)
    cwd = str(Path.cwd())
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except ImportError as err:
                if err.name is not None and (name == err.name or name.startswith(err.name + ".")):
                    raise UsageError(f"--import {name}: {err}") from None
                # An import inside the module failed: where it was written helps.
                raise UsageError(_import_failure(name, err)) from None
            except SystemExit as stop:  # sys.exit() at import would end confaug with its code
                raise UsageError(
                    f"--import {name}: the module called sys.exit({stop.code!r}) as it was imported"
                ) from None
            except Exception as err:  # the module's own error (SyntaxError, RuntimeError, ...)
                raise UsageError(_import_failure(name, err)) from None
    finally:
        if added:
            sys.path.remove(cwd)


def _check_module_name(name: str) -> None:
    """A ``UsageError`` for an ``--import`` that cannot name a module, with the name it
    likely meant."""
    if not name.strip():
        raise UsageError("--import needs a module name, e.g. --import my_functions")
    path = name.removesuffix(".py")
    if path != name or "/" in name or os.sep in name:
        # A file given for a module: the name it is imported by, from its folder.
        parts = [part for part in Path(path).parts if part not in (".", os.sep, "/")]
        outside = Path(path).is_absolute() or ".." in parts or not parts
        module = Path(path).name if outside else ".".join(parts)
        where = ", run from its folder (or with that folder on PYTHONPATH)" if outside else ""
        meant = f": --import {module}{where}" if module else ""
        raise UsageError(f"--import {name}: give a module name, not a file{meant}")
    if name.startswith("."):
        raise UsageError(
            f"--import {name}: relative module names cannot be imported; give the full name"
        )


def _import_failure(name: str, err: BaseException) -> str:
    """``--import NAME: FILE:LINE: Type: message`` for an exception raised while importing
    ``NAME``; FILE:LINE is the last line of the user's own code it came through (a
    SyntaxError's own place), not a line of importlib, the standard library, an installed
    package or confaug (``confaug.register`` refusing a name is the user's call's fault)."""
    place = ""
    if isinstance(err, SyntaxError) and err.filename:
        place = f"{_shown_path(err.filename)}:{err.lineno}: " if err.lineno else ""
        message = err.msg
    else:
        frames = [
            frame
            for frame in traceback.extract_tb(err.__traceback__)
            if not frame.filename.startswith("<")  # <frozen importlib._bootstrap>, <string>
        ]
        own = [frame for frame in frames if not _library_file(frame.filename)]
        if own or frames:
            frame = (own or frames)[-1]
            place = f"{_shown_path(frame.filename)}:{frame.lineno}: "
        message = str(err)
    return (
        f"--import {name}: {place}{type(err).__name__}: {one_line(message, join=True)} "
        f"(for the traceback: python -c 'import {name}')"
    )


def _library_file(filename: str) -> bool:
    """Whether ``filename`` is confaug's, the standard library's or an installed package's."""
    import sysconfig

    folders = {Path(__file__).resolve().parents[1]}  # the confaug package
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        folders.add(Path(sysconfig.get_paths()[key]).resolve())
    try:
        path = Path(filename).resolve()
    except (OSError, RuntimeError):
        return False
    return any(path.is_relative_to(folder) for folder in folders)


def _shown_path(filename: str) -> str:
    """``filename`` relative to the working directory when it lies below it."""
    try:
        return str(Path(filename).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return filename


#: ``-`` as a path: stdout for a command's text output (``-o -``, as ``-o`` left out). Not
#: stdin, and not a file named "-": a config, an image or a folder named ``-`` is refused
#: (:func:`refuse_dash`), instead of a file called "-" written or read in the working
#: directory. ``./-`` names such a file.
STDIO = "-"


def refuse_dash(value: str, what: str, *, instead: str) -> None:
    """A ``UsageError`` when ``value`` is ``-``, which ``what`` does not take (``instead``
    says what to give). argparse keeps ``./-`` as written, so a file named so is still
    reachable."""
    if value == STDIO:
        raise UsageError(f"{what} -: {instead} (./- names a file called '-')")


def read_document(source: str, args: argparse.Namespace) -> Document:
    """``source`` with its extends chain and ``--set`` overrides applied (not yet validated)."""
    from confaug.api import resolve
    from confaug.reading.albu_format import DroppedKeysWarning
    from confaug.reading.extends import roots_option

    # Every command's config goes through here: a "-" is refused once, for all of them.
    # (Reading a config from stdin needs the reading layer to take bytes with a name.)
    refuse_dash(
        source, "config", instead="configs are not read from stdin; give a file or preset:NAME"
    )
    import_modules(args.imports)
    # A parent outside the roots: the hint names this command's flag, not the Python keyword.
    token = roots_option.set("add --allow-root {shell} to permit it")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DroppedKeysWarning)
            document = resolve(
                source, overrides=args.overrides or None, allowed_roots=args.allowed_roots
            )
    finally:
        roots_option.reset(token)
    # A warning about the user's file is a line about that file, not Python's report of
    # where in confaug it was raised; other warnings go on as they came.
    for warning in caught:
        if issubclass(warning.category, DroppedKeysWarning):
            print(f"warning: {warning.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return document


def load_checked(source: str, args: argparse.Namespace) -> tuple[Document, Spec, Pipeline]:
    """Read, validate and compile ``source``; every problem located in its file."""
    from confaug.api import load_pipeline
    from confaug.spec.cost import DEFAULT_TIME_BUDGET, budget_option

    document = read_document(source, args)
    seconds = getattr(args, "time_budget", None) or DEFAULT_TIME_BUDGET
    # A config over the budget: the hint names this command's flag, not the Python keyword.
    token = budget_option.set("if you trust this config, add --time-budget {seconds}")
    try:  # the same checks and error places as in Python
        pipeline = load_pipeline(document, time_budget=seconds)
    finally:
        budget_option.reset(token)
    return document, pipeline.spec, pipeline


def load_pipeline(source: str, args: argparse.Namespace) -> Pipeline:
    """The compiled pipeline of ``source`` with the command's config options."""
    return load_checked(source, args)[2]


def add_output_option(container: Any) -> None:
    """``-o/--output PATH`` of a command that prints text (a parser or an argument group)."""
    container.add_argument("-o", "--output", metavar="PATH", help="write to PATH instead of stdout")


class NotAFolderError(UsageError, NotADirectoryError):
    """A folder to write in exists as a file: a usage error to the command line, and still
    an ``OSError`` to code that records failed writes one file at a time (``augment``)."""


def make_parent(path: Path) -> None:
    """Make the folders ``path`` is to be written in; a ``UsageError`` (exit code 2, as
    ``augment``'s DST) when one of them exists and is not a folder, instead of mkdir's
    "[Errno 17] File exists" naming the file in the way."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(
            (p for p in reversed(path.parents) if p.exists() and not p.is_dir()), path.parent
        )
        message = f"cannot write {path}: {blocker} exists and is not a folder"
        raise NotAFolderError(message) from None


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies below it, both resolved (links followed): the
    one overlap check of a command's outputs against its inputs."""
    return path.resolve().is_relative_to(folder.resolve())


def refuse_output_over_inputs(output: str, inputs: list[tuple[str, str]]) -> None:
    """A ``UsageError`` when the image ``-o output`` would be written over one of the files
    it is made from, or into a folder they are read from (``inputs``: option and path, e.g.
    ``("--image", "photos/")``), as ``augment`` refuses a DST inside SRC. A preview written
    over its ``--image`` file replaced the user's image, and one in its folder becomes an
    input of the next run."""
    target = Path(output)
    for option, given in inputs:
        path = Path(given)
        try:
            # Where the file lands: the output is replaced by a rename, so a link as its last
            # part is replaced itself, not the file it points to.
            written = target.parent.resolve() / target.name
            if path.is_dir():
                if written.is_relative_to(path.resolve()):
                    raise UsageError(
                        f"-o {output} is inside {option} {given}, which the images are read "
                        "from; write it outside that folder"
                    )
            elif written in (path.resolve(), path.parent.resolve() / path.name):
                raise UsageError(
                    f"-o {output} is {option} {given}: it would be written over; choose "
                    "another path"
                )
        except (OSError, ValueError, RuntimeError):  # an unusable path: the read or write says
            continue


def write_output(text: str, output: str | None) -> None:
    """Print ``text``, or write it to ``output`` (parent folders made) and say so. ``-o -``
    prints it too, as the usual convention has it (it wrote a file named "-")."""
    if not output or output == STDIO:
        print(text, end="")
        return
    path = Path(output)
    make_parent(path)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {output}")


def report_config_error(err: ConfigError, stream: Any = None) -> None:
    """One ``file:line:col: field: message`` line per problem, the first
    ``MAX_SHOWN_PROBLEMS`` of them (a file that is no config at all can have 60,000)."""
    stream = stream or sys.stderr
    for line in problem_lines(err.problems) or [str(err)]:
        print(line, file=stream)


def problem_lines(problems: list[Problem]) -> list[str]:
    """``problems`` as lines, at most ``MAX_SHOWN_PROBLEMS`` of them and then how many more
    there are (``confaug validate --format json`` lists every one)."""
    return shown_problem_lines(problems, "confaug validate --format json lists every one")


def _whole_number(text: str, low: int, high: int | None = None) -> int:
    """``text`` as an integer ≥ ``low`` (and ≤ ``high``), or the ``ArgumentTypeError``
    argparse reports (exit code 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if high is not None and not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {low}..{high:,}, got {value:,}")
    if value < low:
        raise argparse.ArgumentTypeError(f"must be ≥ {low}, got {value}")
    return value


def int_in(low: int, high: int) -> Callable[[str], int]:
    """argparse type: an integer in ``low..high``. A size or count option has an upper
    bound, so a typo (20000000 for 20) is a usage error at once, not gigabytes of memory and
    a dependency's traceback minutes later."""

    def parse(text: str) -> int:
        return _whole_number(text, low, high)

    parse.__name__ = f"int_{low}_{high}"  # argparse names the type in some messages
    return parse


#: Grid options of ``preview``, ``diff`` and ``demo``. The limits are far above any picture
#: a person looks at (the defaults are 16 versions of 128 px cells, 9 to a line); what they
#: stop is a typo that would allocate gigabytes. ``grid.check_grid`` bounds their product.
MAX_CELL_SIZE = 4096  # px: a 4096 px cell already fills a 4K screen; cells are scaled views
MAX_VERSIONS = 256  # augmented versions per image (-n, demo --rounds)
MAX_COLUMNS = 256  # cells on one line of the grid
MAX_GRID_IMAGES = 1024  # images in one grid (--max-images, demo --batch)

cell_size_px = int_in(1, MAX_CELL_SIZE)
versions_count = int_in(1, MAX_VERSIONS)
columns_count = int_in(1, MAX_COLUMNS)
images_count = int_in(1, MAX_GRID_IMAGES)


def time_budget(text: str) -> float:
    """argparse type: a time budget in seconds (``spec.cost.check_time_budget``)."""
    from confaug.spec.cost import MAX_TIME_BUDGET, check_time_budget

    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    try:
        return check_time_budget(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be more than 0 and at most {MAX_TIME_BUDGET:g} seconds, got {text}"
        ) from None


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    return _whole_number(text, 0)
