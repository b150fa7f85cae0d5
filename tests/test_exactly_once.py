"""Every epoch yields each readable sample exactly once, whatever the workers (issue 6)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import confaug
from tests.helpers import write_index_table

BAD = {3: b"", 7: b"not an image at all", 12: b"\xff\xd8\xff\xe0 truncated jpeg"}
COUNT = 17


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``img00.png``…: images whose pixels are their index, the BAD ones unreadable JPEGs."""
    folder = tmp_path_factory.mktemp("exactly_once")
    write_index_table(folder, COUNT, bad=BAD, size=(10, 12), bad_name="img{index:02d}.jpg")
    return folder


@pytest.mark.parametrize(
    ("workers", "mode"), [(0, "thread"), (2, "thread"), (4, "thread"), (2, "process")]
)
@pytest.mark.parametrize("with_bad_files", [False, True])
def test_each_remaining_sample_once_per_epoch(
    table: Path, workers: int, mode: str, with_bad_files: bool
) -> None:
    pipe = confaug.load_pipeline("preset:keras_seed")
    expected = [i for i in range(COUNT) if with_bad_files or i not in BAD]
    csv = table / ("table.csv" if with_bad_files else "good.csv")
    if not with_bad_files:
        lines = (table / "table.csv").read_text().splitlines()
        csv.write_text("\n".join([lines[0]] + [lines[1 + i] for i in expected]) + "\n")
    generator = pipe.flow_from_dataframe(
        str(csv),
        directory=str(table),
        x_col="file",
        y_col="index",
        class_mode="raw",
        target_size=(8, 8),
        batch_size=4,
        shuffle=True,
        seed=1,
        epochs=2,
        workers=workers,
        worker_mode=mode,
        on_error="skip",
        validate_filenames=False,
    )
    seen: list[list[int]] = [[], []]
    batches = list(generator)
    per_epoch = len(batches) // 2
    for number, (_, y) in enumerate(batches):
        seen[min(number // max(per_epoch, 1), 1)].extend(int(v) for v in y)
    readable = [i for i in expected if i not in BAD]
    for epoch in seen:
        assert Counter(epoch) == Counter(readable)
    skipped = {Path(path).name for path, _ in generator.skipped}
    assert skipped == ({f"img{i:02d}.jpg" for i in BAD} if with_bad_files else set())
