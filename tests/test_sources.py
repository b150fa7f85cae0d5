"""Sources: folders (Keras parity), tables, arrays, iterables, segmentation, targets."""

from __future__ import annotations

import csv
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from confaug.batching import PerSample, flow, flow_from_dataframe, flow_from_directory, wrap
from confaug.sources import DataError, DecodeOptions, DirectorySource, read_table
from tests.helpers import Identity, StandInPipeline, write_class_folders

DECODE = DecodeOptions(target_size=(8, 8))


def _png(path: Path, value: int = 0, size: tuple[int, int] = (8, 8)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(path)
    return path


def _keras_tree(root: Path) -> Path:
    """Classes with nested folders, mixed-case suffixes, non-images and an empty class."""
    for name in ("b_dogs", "a_cats", "c_birds"):
        for number in range(7 if name != "c_birds" else 3):
            _png(root / name / f"{number:02d}.png", number)
    _png(root / "a_cats" / "nested" / "deep.png")
    _png(root / "a_cats" / "Upper.PNG")
    (root / "a_cats" / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(root / "b_dogs" / "x.JPG")
    (root / "empty_class").mkdir()
    (root / "loose.png").write_bytes(_png(root / "tmp.png").read_bytes())
    (root / "tmp.png").unlink()
    return root


@pytest.fixture(scope="module")
def keras_idg() -> Any:
    pytest.importorskip("jax", reason="Keras' legacy iterators need a backend (jax installed)")
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    keras_image = pytest.importorskip(
        "keras.src.legacy.preprocessing.image", reason="keras is not installed"
    )
    return keras_image.ImageDataGenerator


@pytest.mark.keras
@pytest.mark.parametrize("subset", [None, "training", "validation"])
def test_directory_listing_matches_keras(
    tmp_path: Path, keras_idg: Any, subset: str | None
) -> None:
    root = _keras_tree(tmp_path)
    keras_iterator = keras_idg(validation_split=0.3).flow_from_directory(
        str(root), subset=subset, shuffle=False
    )
    ours = DirectorySource(root, decode=DECODE, subset=subset, validation_split=0.3)
    assert ours.class_indices == keras_iterator.class_indices
    assert ours.filenames == keras_iterator.filenames
    assert ours.classes.tolist() == list(keras_iterator.classes)
    assert ours.filepaths == keras_iterator.filepaths
    assert ours.num_classes == keras_iterator.num_classes


@pytest.mark.keras
def test_explicit_classes_match_keras(tmp_path: Path, keras_idg: Any) -> None:
    root = _keras_tree(tmp_path)
    keras_iterator = keras_idg().flow_from_directory(str(root), classes=["c_birds", "a_cats"])
    ours = DirectorySource(root, decode=DECODE, classes=["c_birds", "a_cats"])
    assert ours.class_indices == {"c_birds": 0, "a_cats": 1}
    assert ours.filenames == keras_iterator.filenames
    assert ours.classes.tolist() == list(keras_iterator.classes)


def test_webp_and_tiff_are_listed_case_insensitively(tmp_path: Path) -> None:
    _png(tmp_path / "c" / "a.png")
    Image.new("RGB", (8, 8)).save(tmp_path / "c" / "b.WEBP")
    Image.new("RGB", (8, 8)).save(tmp_path / "c" / "c.TIFF")
    source = DirectorySource(tmp_path, decode=DECODE)
    assert source.filenames == [os.path.join("c", n) for n in ("a.png", "b.WEBP", "c.TIFF")]


def test_empty_class_warns_and_a_folder_without_images_fails(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _png(tmp_path / "full" / "a.png")
    (tmp_path / "hollow").mkdir()
    with caplog.at_level(logging.WARNING, logger="confaug"):
        source = DirectorySource(tmp_path, decode=DECODE)
    assert source.class_indices == {"full": 0, "hollow": 1} and len(source) == 1
    assert any("hollow" in record.getMessage() for record in caplog.records)
    (tmp_path / "full" / "a.png").unlink()
    with pytest.raises(DataError, match="no images"):
        DirectorySource(tmp_path, decode=DECODE)
    with pytest.raises(DataError, match="no class subfolders"):
        DirectorySource(tmp_path / "hollow", decode=DECODE)
    with pytest.raises(DataError, match="no such directory"):
        DirectorySource(tmp_path / "missing", decode=DECODE)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_symlink_loops_do_not_hang_and_links_follow_the_option(tmp_path: Path) -> None:
    _png(tmp_path / "data" / "cls" / "a.png")
    _png(tmp_path / "elsewhere" / "b.png")
    os.symlink(tmp_path / "data" / "cls", tmp_path / "data" / "cls" / "loop")
    os.symlink(tmp_path / "elsewhere", tmp_path / "data" / "cls" / "linked")
    result: dict[str, Any] = {}

    def build() -> None:
        result["followed"] = DirectorySource(tmp_path / "data", decode=DECODE, follow_links=True)

    worker = threading.Thread(target=build, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "listing hung on a symlink loop"
    assert result["followed"].filenames == [
        os.path.join("cls", "a.png"),
        os.path.join("cls", "linked", "b.png"),
    ]
    plain = DirectorySource(tmp_path / "data", decode=DECODE)
    assert plain.filenames == [os.path.join("cls", "a.png")]


@pytest.mark.parametrize(
    ("class_mode", "check"),
    [
        ("categorical", lambda x, y: y.shape == (4, 2) and (y.sum(axis=1) == 1).all()),
        ("binary", lambda x, y: y.dtype == np.float32 and set(y.tolist()) <= {0.0, 1.0}),
        ("sparse", lambda x, y: y.shape == (4,) and set(y.tolist()) <= {0.0, 1.0}),
        ("input", lambda x, y: np.array_equal(x, y) and x is not y),
    ],
)
def test_class_modes(tmp_path: Path, class_mode: str, check: Any) -> None:
    write_class_folders(tmp_path, {"a": 2, "b": 2})
    generator = flow_from_directory(
        StandInPipeline(), tmp_path, target_size=(12, 12), class_mode=class_mode, batch_size=4
    )
    x, y = generator[0]
    assert x.shape == (4, 12, 12, 3) and check(x, y)


def test_class_mode_none_yields_x_alone_and_labels_follow_the_files(tmp_path: Path) -> None:
    write_class_folders(tmp_path, {"a": 2, "b": 3})
    alone = flow_from_directory(Identity(), tmp_path, target_size=(12, 12), class_mode=None)
    assert isinstance(alone[0], np.ndarray)
    sparse = flow_from_directory(
        Identity(), tmp_path, target_size=(12, 12), class_mode="sparse", shuffle=False
    )
    x, y = sparse[0]
    assert x[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4]  # pixels encode the file number
    assert y.tolist() == [0, 0, 1, 1, 1]


def test_directory_options_reach_the_decoder(tmp_path: Path) -> None:
    _png(tmp_path / "c" / "wide.png", 200, size=(10, 40))
    gray = flow_from_directory(
        Identity(),
        tmp_path,
        target_size=(5, 5),
        color_mode="grayscale",
        class_mode=None,
        keep_aspect_ratio=True,
        interpolation="bilinear",
    )[0]
    assert gray.shape == (1, 5, 5, 1) and (gray == 200).all()
    kept = flow_from_directory(Identity(), tmp_path, target_size=None, class_mode=None)[0]
    assert kept.shape == (1, 10, 40, 3)
    with pytest.raises(ValueError, match="interpolation"):
        flow_from_directory(Identity(), tmp_path, interpolation="sinc")


def test_channels_first_pipelines_get_chw_images_from_folders(tmp_path: Path) -> None:
    write_class_folders(tmp_path, {"a": 3})
    chw = StandInPipeline(data_format="channels_first")
    x, _ = flow_from_directory(chw, tmp_path, target_size=(12, 10), batch_size=3)[0]
    assert x.shape == (3, 3, 12, 10)


def test_array_subsets_take_the_first_fraction_as_validation() -> None:
    # Float targets (regression) carry the sample order; integer class labels would have to
    # share their classes across the split (see test_array_split_that_loses_a_class_is_an_error).
    x, y = np.zeros((10, 4, 4, 3), np.uint8), np.arange(10.0)
    options = {"validation_split": 0.3, "shuffle": False, "batch_size": 10}
    assert flow(Identity(), x, y, subset="validation", **options)[0][1].tolist() == [0, 1, 2]
    assert flow(Identity(), x, y, subset="training", **options)[0][1].tolist() == list(range(3, 10))
    with pytest.raises(ValueError, match="subset"):
        flow(Identity(), x, y, subset="test", **options)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _table_folder(tmp_path: Path) -> list[dict[str, Any]]:
    rows = []
    for number in range(6):
        name = f"img{number}.png"
        _png(tmp_path / "images" / name, number)
        rows.append(
            {
                "filename": name,
                "class": "cat" if number % 2 else "dog",
                "score": number / 10,
                "w": number + 1,
                "extra": number * 2,
            }
        )
    return rows


def test_csv_works_without_pandas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # importing pandas would now fail
    rows = _table_folder(tmp_path)
    rows.append({"filename": "missing.png", "class": "cat", "score": 0, "w": 1, "extra": 0})
    csv_path = _write_csv(tmp_path / "labels.csv", rows)
    generator = flow_from_dataframe(
        Identity(),
        csv_path,
        tmp_path / "images",
        weight_col="w",
        target_size=(8, 8),
        shuffle=False,
        batch_size=6,
    )
    assert generator.invalid_filenames == ["missing.png"]
    assert generator.class_indices == {"cat": 0, "dog": 1}
    x, y, w = generator[0]
    assert x[:, 0, 0, 0].tolist() == list(range(6))
    assert y.argmax(axis=1).tolist() == [1, 0, 1, 0, 1, 0]
    assert w.tolist() == [1, 2, 3, 4, 5, 6]


def test_raw_multi_output_and_subset_from_a_table(tmp_path: Path) -> None:
    csv_path = _write_csv(tmp_path / "labels.csv", _table_folder(tmp_path))
    raw = flow_from_dataframe(
        Identity(),
        csv_path,
        tmp_path / "images",
        y_col="score",
        class_mode="raw",
        target_size=(8, 8),
        shuffle=False,
        batch_size=6,
    )
    assert np.allclose(raw[0][1], [0, 0.1, 0.2, 0.3, 0.4, 0.5])
    multi = flow_from_dataframe(
        Identity(),
        csv_path,
        tmp_path / "images",
        y_col=["score", "extra"],
        class_mode="multi_output",
        target_size=(8, 8),
        shuffle=False,
        batch_size=6,
    )
    scores, extras = multi[0][1]
    assert extras.tolist() == [0, 2, 4, 6, 8, 10] and len(scores) == 6
    validation = flow_from_dataframe(
        Identity(),
        csv_path,
        tmp_path / "images",
        class_mode=None,
        subset="validation",
        validation_split=0.5,
        target_size=(8, 8),
        shuffle=False,
    )
    assert validation.filenames == ["img0.png", "img1.png", "img2.png"]


def test_table_errors_name_the_problem(tmp_path: Path) -> None:
    csv_path = _write_csv(tmp_path / "labels.csv", _table_folder(tmp_path))
    with pytest.raises(DataError, match="missing column"):
        flow_from_dataframe(Identity(), csv_path, tmp_path / "images", y_col="label")
    with pytest.raises(TypeError, match="multi_output"):
        flow_from_dataframe(Identity(), csv_path, class_mode="multi_output", y_col="score")
    with pytest.raises(ValueError, match="class_mode"):
        flow_from_dataframe(Identity(), csv_path, class_mode="categorial")
    with pytest.raises(DataError, match="nowhere: no such directory"):  # named at once
        flow_from_dataframe(Identity(), csv_path, tmp_path / "nowhere")


def test_pandas_dataframe_with_multi_label_rows(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is optional")
    rows = _table_folder(tmp_path)
    frame = pandas.DataFrame(rows)
    frame["class"] = [["cat"], ["cat", "dog"], ["dog"], ["cat"], ["dog"], ["cat", "dog"]]
    generator = flow_from_dataframe(
        Identity(), frame, tmp_path / "images", target_size=(8, 8), shuffle=False, batch_size=6
    )
    assert generator[0][1].sum(axis=1).tolist() == [1, 2, 1, 1, 1, 2]
    assert read_table(frame)["filename"][0] == "img0.png"


@pytest.mark.parametrize(
    ("x", "options", "message"),
    [
        (np.zeros((4, 8, 8)), {}, "rank 4"),
        (np.zeros((4, 8, 8, 5), np.uint8), {}, "5 channels"),
        (np.zeros((4, 8, 8, 3), np.int64), {}, "uint8 or float"),
        (np.zeros((4, 8, 8, 3), np.uint8), {"y": np.arange(3)}, "4 samples but y has 3"),
        (
            np.zeros((4, 8, 8, 3), np.uint8),
            {"sample_weight": np.ones(5), "y": np.arange(4)},
            "sample_weight has 5",
        ),
    ],
)
def test_array_problems_are_data_errors(x: np.ndarray, options: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        flow(Identity(), x, **options)


def test_nan_and_bad_samples_are_named_by_index() -> None:
    x = np.random.default_rng(0).random((6, 8, 8, 3), dtype=np.float32)
    x[4, 2, 2, 1] = np.nan
    generator = flow(Identity(), x, batch_size=3, shuffle=False)
    generator[0]
    with pytest.raises(DataError, match=r"x\[4\] contains NaN"):
        generator[1]
    ragged = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 2), np.uint8)]
    with pytest.raises(DataError, match=r"x\[1\] has 2 channels"):
        flow(Identity(), ragged, batch_size=2)[0]
    assert issubclass(DataError, ValueError)


def test_masks_get_the_same_transform_as_their_images() -> None:
    rng = np.random.default_rng(1)
    masks = np.zeros((6, 32, 32), np.uint8)
    for mask in masks:
        top, left = rng.integers(4, 16, 2)
        mask[top : top + 12, left : left + 8] = 1
    x = np.repeat(masks[..., None] * 255, 3, axis=-1)
    x_b, y_b = flow(StandInPipeline(), x, masks=masks, batch_size=6, seed=3)[0]
    assert y_b.shape == (6, 32, 32) and y_b.dtype == np.uint8
    agreement = ((x_b[..., 0] > 127) == (y_b == 1)).mean()
    assert agreement > 0.98
    assert not np.array_equal(y_b, masks)  # something moved


def test_paired_folders_match_by_name_and_resize_masks_nearest(tmp_path: Path) -> None:
    for number in range(3):
        image = np.zeros((20, 30, 3), np.uint8)
        image[:, : 10 * (number + 1)] = 255
        (tmp_path / "images").mkdir(exist_ok=True)
        (tmp_path / "masks").mkdir(exist_ok=True)
        Image.fromarray(image).save(tmp_path / "images" / f"s{number}.jpg", quality=95)
        Image.fromarray((image[..., 0] > 0).astype(np.uint8) * 3).save(
            tmp_path / "masks" / f"s{number}.png"
        )
    generator = flow_from_directory(
        Identity(),
        tmp_path / "images",
        mask_dir=tmp_path / "masks",
        target_size=(10, 15),
        shuffle=False,
        batch_size=3,
    )
    x, y = generator[0]
    assert x.shape == (3, 10, 15, 3) and y.shape == (3, 10, 15)
    assert set(np.unique(y)) == {0, 3}
    assert [(row > 0).sum() for row in y[:, 0]] == [5, 10, 15]
    (tmp_path / "masks" / "s1.png").unlink()
    with pytest.raises(DataError, match="no mask"):
        flow_from_directory(Identity(), tmp_path / "images", mask_dir=tmp_path / "masks")


def test_bboxes_pass_through_to_albumentations() -> None:
    import albumentations as A

    flip = StandInPipeline(
        transforms=[A.HorizontalFlip(p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["class_labels"]),
    )
    x = np.zeros((2, 20, 40, 3), np.uint8)
    targets = {
        "bboxes": [[[0, 0, 10, 10]], [[5, 5, 15, 10], [20, 0, 40, 20]]],
        "class_labels": [[1], [2, 3]],
    }
    _, y = flow(flip, x, targets=targets, batch_size=2, shuffle=False)[0]
    assert isinstance(y["bboxes"], PerSample) and len(y["bboxes"]) == 2
    assert np.allclose(y["bboxes"][0], [[30, 0, 40, 10]])
    assert list(y["class_labels"][1]) == [2, 3]


def _batches(dtype: Any, high: float, count: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [
        ((rng.random((4, 16, 16, 3)) * high).astype(dtype), np.eye(4, dtype=np.float32))
        for _ in range(count)
    ]


@pytest.mark.parametrize(("dtype", "high"), [(np.uint8, 255), (np.float32, 1.0), (np.float32, 255)])
def test_wrap_keeps_dtype_range_and_structure(dtype: Any, high: float) -> None:
    source = _batches(dtype, high)
    outputs = list(wrap(StandInPipeline(), source, seed=0))
    assert len(outputs) == 3
    for (x_in, y_in), (x_out, y_out) in zip(source, outputs, strict=True):
        assert x_out.dtype == x_in.dtype and x_out.shape == x_in.shape
        assert x_out.min() >= 0 and x_out.max() <= high and x_out.max() > high / 2
        assert not np.array_equal(x_in, x_out)
        assert y_out is y_in


def test_wrap_generators_are_one_pass_lists_give_new_passes() -> None:
    source = _batches(np.uint8, 255)
    stream = wrap(StandInPipeline(), (batch for batch in source), seed=1)
    assert len(list(stream)) == 3 and list(stream) == []
    again = wrap(StandInPipeline(), source, seed=1)
    first, second = list(again), list(again)
    assert len(second) == 3
    assert not np.array_equal(first[0][0], second[0][0])  # a new pass, new augmentation
    replay = list(wrap(StandInPipeline(), source, seed=1))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, replay, strict=True))


def test_wrap_handles_x_only_weights_and_masks() -> None:
    x = np.zeros((2, 16, 16, 3), np.uint8)
    x[:, 4:12, 2:6] = 255
    masks = (x[..., 0] > 0).astype(np.uint8)
    only = next(iter(wrap(StandInPipeline(), [x], seed=0)))
    assert isinstance(only, np.ndarray)
    triple = next(iter(wrap(StandInPipeline(), [(x, np.ones(2), np.ones(2))], seed=0)))
    assert len(triple) == 3
    x_out, m_out = next(iter(wrap(StandInPipeline(), [(x, masks)], seed=0, masks_in_y=True)))
    assert ((x_out[..., 0] > 127) == (m_out == 1)).mean() > 0.95
    with pytest.raises(DataError, match="batch 0"):
        next(iter(wrap(StandInPipeline(), [(x, np.ones(3))])))


def test_missing_folders_are_data_errors_naming_them(tmp_path: Path) -> None:
    _png(tmp_path / "data" / "cat" / "0.png")
    # A listed class without a folder is an empty class, as in Keras (stable class indices
    # on a test folder that lacks one); a missing top folder or mask folder is an error.
    source = DirectorySource(tmp_path / "data", decode=DECODE, classes=["cat", "dog"])
    assert source.class_indices == {"cat": 0, "dog": 1}
    with pytest.raises(DataError, match=r"nowhere: no such directory"):
        flow_from_directory(Identity(), tmp_path / "nowhere", mask_dir=tmp_path / "masks")
    with pytest.raises(DataError, match=r"masks: no such directory"):
        flow_from_directory(Identity(), tmp_path / "data", mask_dir=tmp_path / "masks")


def test_a_ragged_wrapped_batch_is_a_data_error_naming_the_batch() -> None:
    ragged = [np.zeros((4, 4, 3), np.uint8), np.zeros((5, 5, 3), np.uint8)]
    with pytest.raises(DataError, match=r"batch 0: x is not one array"):
        list(wrap(Identity(), [(ragged, np.zeros(2))]))


def test_a_non_numeric_weight_names_its_row(tmp_path: Path) -> None:
    rows = _table_folder(tmp_path)
    rows[3]["w"] = "heavy"
    csv_path = _write_csv(tmp_path / "labels.csv", rows)
    with pytest.raises(TypeError, match=r"'w' must be numeric; row 3 has 'heavy'"):
        flow_from_dataframe(Identity(), csv_path, tmp_path / "images", weight_col="w")
