"""Fill README.md's include blocks from docs/readme/*.md.

README.md holds blocks

    <!-- include: docs/readme/NAME.md -->
    ...generated...
    <!-- end include -->

whose bodies are copies of those files. The included files are themselves generated or
checked (spec reference, presets), so the README cannot go stale.

    python scripts/build_readme.py           # rewrite README.md
    python scripts/build_readme.py --check   # exit 1 when README.md is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(
    r"(<!-- include: (?P<path>[^ ]+) -->\n)(?P<body>.*?)(<!-- end include -->)", re.DOTALL
)


def build(text: str) -> str:
    """``text`` with every include block's body replaced by its file's content."""

    def fill(match: re.Match[str]) -> str:
        content = (ROOT / match["path"]).read_text(encoding="utf-8")
        if not content.endswith("\n"):
            content += "\n"
        return f"{match.group(1)}{content}{match.group(4)}"

    return BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    """Rewrite README.md, or with ``--check`` exit 1 when it is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when README.md is stale")
    args = parser.parse_args(argv)
    current = README.read_text(encoding="utf-8")
    wanted = build(current)
    if args.check:
        if wanted != current:
            print("README.md is stale: run `python scripts/build_readme.py`", file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
