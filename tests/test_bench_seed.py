"""``benchmarks/bench_seed.py`` runs and prints its table, in both of its ways of timing.

No figure is checked (speed stays out of tests): only that every requested row is printed
as a ratio, so the benchmark the README quotes does not rot.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_seed.py"
QUICK = ["--sizes", "16", "--rounds", "2", "--rows", "wrap", "apply_batch", "--folder-files", "0"]
ROW = re.compile(r"^\| (pipe\.wrap|pipe\.apply_batch)[^|]*\|\s+[\d,]+ \|\s+[\d,]+ \|\s+[\d.]+x \|")


def _run(*extra: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(BENCH), *QUICK, *extra],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    "extra",
    [["--turns", "2", "--seconds", "0.01"], ["--separate", "0.05"]],
    ids=["alternating turns", "separate processes"],
)
def test_the_benchmark_prints_a_ratio_for_every_row_asked_for(extra: list[str]) -> None:
    lines = _run(*extra)
    rows = [line for line in lines if ROW.match(line)]
    assert len(rows) == 2, "\n".join(lines)
    header = lines[0]
    assert ("process of its own" in header) == ("--separate" in extra)
