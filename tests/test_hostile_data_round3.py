"""Hostile data, round 3 (issue 16's two gaps, and more cases of its categories).

- A progressive JPEG cut inside its very last scan, an end marker appended, is refused (every
  coefficient has a scan, so only the filler check at the scale that scan reaches sees it).
- Float rows of a Ray batch or of a row adapter's batch are read in one value range.
- Tables: an empty class field is a missing label; a vector label holding NaN names its row.
- A ``preprocessing_function`` failing in worker *processes* names the sample, and its
  ``DataError`` is skippable there too.
- The drop-in's ``workers`` keyword of the wrong type is a ``TypeError`` naming it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import confaug
from confaug.batching import SampleError
from confaug.integrations.rows import RowAugmenter, float_bounds
from confaug.sources.decode import DecodeOptions, decode_image
from confaug.sources.jpeg_header import read_jpeg_header, scans, scans_cover_every_coefficient
from tests.helpers import (
    assert_every_decode_refuses,
    first_pixels,
    images,
    skipped_names,
    write_indexed_files,
)


def _progressive(pixels: np.ndarray, **options: Any) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": 90, **options}
    Image.fromarray(pixels).save(buffer, "JPEG", progressive=True, **options)
    return buffer.getvalue()


def _photo(height: int = 96, width: int = 128) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width]
    smooth = np.stack([rows * 255 // height, cols * 255 // width, (rows + cols) % 256], -1)
    noise = np.random.default_rng(0).normal(0, 12, smooth.shape)
    return np.clip(smooth + noise, 0, 255).astype(np.uint8)


def _cut_in_last_scan(data: bytes, keep: float) -> bytes:
    """``data`` cut ``keep`` of the way into its last scan's entropy-coded data, its end
    marker appended again."""
    last = data.rfind(b"\xff\xda")
    start = last + 2 + int.from_bytes(data[last + 2 : last + 4], "big")
    end = data.rfind(b"\xff\xd9")
    return data[: start + int((end - start) * keep)] + b"\xff\xd9"


@pytest.mark.parametrize("keep", [0.02, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("gray", [False, True])
def test_a_progressive_jpeg_cut_in_its_last_scan_is_refused(
    tmp_path: Path, keep: float, gray: bool
) -> None:
    pixels = _photo()[..., 0] if gray else _photo()
    data = _cut_in_last_scan(_progressive(pixels), keep)
    header = read_jpeg_header(data)
    assert header is not None and header.progressive
    assert scans_cover_every_coefficient(data, header)  # what hid it: every band has a scan
    path = tmp_path / "cut.jpg"
    path.write_bytes(data)
    assert_every_decode_refuses(
        path, (12, 16), r"cut\.jpg: .*truncated JPEG.*last scan", stored="truncated JPEG"
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"optimize": True}, {"subsampling": 0}, {"subsampling": 2, "quality": 40}],
    ids=["plain", "optimized", "4:4:4", "4:2:0 low quality"],
)
@pytest.mark.parametrize("kind", ["photo", "flat grey", "gray photo", "tiny"])
def test_complete_progressive_jpegs_still_decode_as_before(
    tmp_path: Path, options: dict[str, Any], kind: str
) -> None:
    pixels = {
        "photo": _photo(),
        "flat grey": np.full((40, 48, 3), 128, np.uint8),
        "gray photo": _photo()[..., 0],
        "tiny": _photo(3, 5),
    }[kind]
    data = _progressive(pixels, **options)
    path = tmp_path / "whole.jpg"
    path.write_bytes(data)
    decoded = decode_image(path, DecodeOptions(target_size=None, decoder="pil"))
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(decoded, expected)
    header = read_jpeg_header(data)
    assert header is not None and len(scans(data, header) or ()) > 1


def test_a_cut_progressive_jpeg_is_skipped_in_a_folder_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "a"
    write_indexed_files(folder, 3, size=8)
    (folder / "cut.jpg").write_bytes(_cut_in_last_scan(_progressive(_photo()), 0.5))
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(
        tmp_path / "data", target_size=(8, 8), on_error="skip", epochs=1, shuffle=False
    )
    assert sorted(first_pixels(gen)) == [0, 1, 2]
    assert list(skipped_names(gen)) == ["cut.jpg"]
    assert "last scan" in skipped_names(gen)["cut.jpg"]


# ---- one value range per batch of rows --------------------------------------------------------
BRIGHTER = {"version": 1, "brightness_range": [2.0, 2.0]}


def test_float_bounds_skip_what_is_not_a_float_array() -> None:
    rows = [np.array([0.5, np.nan, 3.0]), b"bytes", np.zeros(2, np.uint8), np.array([np.inf])]
    assert float_bounds(rows) == (0.5, 3.0)
    assert float_bounds([np.zeros(3, np.uint8), "x"]) is None


def test_row_adapters_read_float_rows_in_one_range_per_batch() -> None:
    x = np.full((3, 8, 8, 3), 200.0, np.float32)
    x[1] = 0.75  # a dark row of a 0–255 dataset: brightened to 1.5, not clipped at 1
    augmenter = RowAugmenter(BRIGHTER, seed=1, standardize=False)
    (_, dark, _) = augmenter.augment(list(x), keys=[0, 1, 2])
    assert np.allclose(dark["image"], 1.5, atol=0.01)
    alone = augmenter.augment([x[1]], keys=[1])[0]["image"]  # a batch of one dark row
    assert np.allclose(alone, 1.0, atol=0.01)  # is [0, 1] data: the batch decides


# ---- tables ------------------------------------------------------------------------------------
COMMON: dict[str, Any] = {"target_size": (8, 8), "batch_size": 2, "shuffle": False, "epochs": 1}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_indexed_files(tmp_path / "img", 4, size=8)
    return tmp_path / "img"


@pytest.mark.parametrize("label", ["", "  "])
def test_an_empty_class_field_is_a_missing_label_row(
    tmp_path: Path, folder: Path, label: str
) -> None:
    table = tmp_path / "t.csv"
    table.write_text(f"filename,class\nimg00.png,{label}\nimg01.png,b\nimg02.png,a\n")
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_dataframe(str(table), directory=str(folder), on_error="skip", **COMMON)
    assert gen.class_indices == {"a": 0, "b": 1}  # no class named ''
    assert sorted(first_pixels(gen)) == [1, 2]
    assert skipped_names(gen) == {"img00.png": "row 0 (line 2): no label in column 'class'"}


def test_a_vector_label_holding_nan_names_its_row(folder: Path) -> None:
    frame = pd.DataFrame(
        {
            "filename": ["img00.png", "img01.png", "img02.png"],
            "y": [np.array([1.0, np.nan]), [2.0, 3.0], (np.inf, 1.0)],
        }
    )
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_dataframe(
        frame, directory=str(folder), y_col="y", class_mode="raw", on_error="skip", **COMMON
    )
    assert first_pixels(gen) == [1]
    reasons = skipped_names(gen)
    assert set(reasons) == {"img00.png", "img02.png"}
    assert all("labels must be finite numbers" in reason for reason in reasons.values())
    assert reasons["img00.png"].startswith("row 0: column 'y' holds array([ 1., nan])")


# ---- preprocessing_function failures in worker processes ---------------------------------------
def troubled(x: np.ndarray) -> np.ndarray:
    """A DataError on a grey sample (skippable), a ValueError on a white one (picklable:
    worker processes import it from here). It sees the caller's values, 0–255 here."""
    if x.max() > 200:
        raise ValueError("boom")
    if x.max() > 100:
        raise confaug.DataError("too grey for this function")
    return x


def test_a_failing_preprocessing_function_in_processes_names_the_sample(registered: Any) -> None:
    registered("round3_troubled", troubled)
    pipe = confaug.load_pipeline({"version": 1, "preprocessing_function": "round3_troubled"})
    x = np.zeros((5, 4, 4, 3), np.uint8)
    x[1], x[3] = 128, 255  # one sample a batch: x[1] is skipped, x[3] fails
    gen = pipe.flow(
        x, batch_size=1, shuffle=False, epochs=1, workers=2, worker_mode="process", on_error="skip"
    )
    batches = iter(gen)
    assert [int(next(batches)[0, 0, 0, 0]) for _ in range(2)] == [0, 0]  # x[0], x[2]
    with pytest.raises(SampleError, match=r"x\[3\]") as caught:
        next(batches)
    assert "boom" in str(caught.value)
    ((name, reason),) = gen.skipped
    assert name == "x[1]" and "too grey" in reason


# ---- the drop-in's PyDataset keywords -----------------------------------------------------------
@pytest.mark.parametrize("use_multiprocessing", [False, True])
@pytest.mark.parametrize("workers", ["2", None, 2.0, True])
def test_a_workers_keyword_of_the_wrong_type_names_it(
    workers: Any, use_multiprocessing: bool
) -> None:
    from confaug.keras import ImageDataGenerator

    x = images(4, 4)
    message = rf"^flow\(\) got workers={workers!r} \({type(workers).__name__}\); expected an int"
    with pytest.raises(TypeError, match=message):
        ImageDataGenerator().flow(x, workers=workers, use_multiprocessing=use_multiprocessing)
    with pytest.raises(ValueError, match=r"^flow\(\) got workers=-1; expected an int >= 0"):
        ImageDataGenerator().flow(x, workers=-1, use_multiprocessing=use_multiprocessing)
    gen = ImageDataGenerator().flow(x, workers=np.int64(2), use_multiprocessing=True)
    assert gen.workers == 2


def test_images_helper_is_what_these_tests_assume() -> None:
    assert images(1, 4).shape == (1, 4, 4, 3)
