"""The ``confaug`` command line: thin commands over the public API.

Exit codes: 0 success, 1 invalid input (a config or data problem), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys

from confaug.cli import (
    augment,
    demo,
    diff,
    from_keras,
    presets,
    preview,
    resolve,
    schema,
    validate,
)
from confaug.cli.common import EXIT_INVALID, EXIT_USAGE, Formatter, UsageError, report_config_error
from confaug.errors import ConfigError, DataError

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as shells report it
COMMANDS = (demo, validate, resolve, diff, preview, augment, schema, presets, from_keras)

EXAMPLES = """\
examples:
  confaug demo                                   # the seed's augmentation on built-in samples
  confaug validate aug.yaml                      # exit 0, or file:line:col problems and exit 1
  confaug resolve aug.yaml --set rotation_range=20
  confaug preview aug.yaml --image cat.jpg -o grid.png
  confaug diff main.yaml aug.yaml -o diff.png     # what a change does, side by side
  confaug augment data/ out/ --config aug.yaml --copies 5
  confaug presets                                # shipped presets, usable as preset:NAME

Each command has --help with an example. Exit codes: 0 ok, 1 invalid input, 2 usage error.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command."""
    from confaug._version import __version__

    parser = argparse.ArgumentParser(
        prog="confaug",
        description="Image augmentation as a reviewed, shareable YAML config, compiled into "
        "albumentations pipelines (a replacement for Keras' ImageDataGenerator).",
        epilog=EXAMPLES,
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action="version", version=f"confaug {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(commands)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (e.g. captured in tests)
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version and usage errors
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else EXIT_USAGE)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    name = f"confaug {args.command_name}"
    try:
        return int(args.run(args))
    except ConfigError as err:
        report_config_error(err)
        return EXIT_INVALID
    except UsageError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `confaug resolve x.yaml | head`: the reader left
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (DataError, OSError) as err:  # an unreadable image, an unwritable output
        print(f"{name}: error: {err}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130


__all__ = ["build_parser", "main"]
