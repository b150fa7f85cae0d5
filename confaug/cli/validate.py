"""``confaug validate``: check configs, every problem as ``file:line:col: field: message``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from confaug.cli.common import (
    UsageError,
    add_command,
    add_config_options,
    load_checked,
    problem_lines,
)
from confaug.errors import ConfigError, Problem


def check(source: str, args: argparse.Namespace) -> list[Problem]:
    """The problems of one config (read, validated and compiled); empty when it is valid."""
    try:
        load_checked(source, args)
    except ConfigError as err:
        return err.problems or [Problem(source, None, None, "", str(err))]
    except UsageError:  # the command line's fault (exit 2), not the config's
        raise
    except Exception as err:  # a bug of confaug's: still one report (JSON for CI), not a trace
        message = f"confaug could not check this config ({type(err).__name__}: {err})"
        return [
            Problem(source, None, None, "", message, "this is a bug in confaug; please report it")
        ]
    return []


def run(args: argparse.Namespace) -> int:
    """Check each file; print problems (text or JSON); exit 1 when any file is invalid."""
    results = {source: check(source, args) for source in args.files}
    invalid = [source for source, problems in results.items() if problems]
    if args.format == "json":
        report = {
            "valid": not invalid,
            "files": [
                {"file": source, "valid": not problems, "problems": [p.to_dict() for p in problems]}
                for source, problems in results.items()
            ],
        }
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        for source, problems in results.items():
            for line in problem_lines(problems):
                print(line)
            if not problems and not args.quiet:
                print(f"{source}: ok")
        if len(results) > 1 and not args.quiet:
            print(f"{len(results) - len(invalid)} valid, {len(invalid)} invalid")
    return 1 if invalid else 0


def register(subparsers: Any) -> None:
    """Add the ``validate`` command."""
    parser = add_command(
        subparsers,
        "validate",
        help="check configs; print every problem with file:line:col",
        description="Read, validate and compile each config (its extends chain included) and "
        "print every problem as FILE:LINE:COL: FIELD: MESSAGE. Exit 0 when all are valid, 1 "
        "otherwise. --format json prints one report for CI pipelines and editors.",
        example="confaug validate aug.yaml configs/*.yaml\n"
        "confaug validate aug.yaml --set rotation_range=20 --format json",
        run=run,
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="config files (or preset:NAME)")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="output format (default text)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print problems only, no 'ok' lines"
    )
    add_config_options(parser)
