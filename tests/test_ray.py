"""confaug on Ray Data: ``ray_augment`` classes for ``Dataset.map_batches``.

The first tests call the class directly on NumPy batches (no Ray needed); the last ones run a
real local Ray instance (``ray.init(num_cpus=2)``) over a folder of JPEGs.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

import confaug
from confaug.batching import SampleError
from confaug.integrations.ray import ERROR_COLUMN, RayAugmenter, ray_augment, row_key, row_seed
from tests import helpers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")

CONFIG: dict[str, Any] = {
    "version": 1,
    "rotation_range": 20,
    "horizontal_flip": True,
    "brightness_range": [0.6, 1.4],
    "transforms": [{"GaussNoise": {"std_range": [0.02, 0.1], "p": 0.5}}],
}
FLIPS: dict[str, Any] = {
    "version": 1,
    "transforms": [{"HorizontalFlip": {"p": 0.5}}, {"VerticalFlip": {"p": 0.5}}],
}


def images(count: int, size: tuple[int, int] = (24, 32), seed: int = 0) -> np.ndarray:
    return helpers.images(count, size, seed=seed)  # this module's default size


def batch_of(x: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
    names = names or [f"img/{i:03d}.jpg" for i in range(len(x))]
    return {"image": x, "path": np.asarray(names, dtype=object), "label": np.arange(len(x))}


# ---- the class on NumPy batches ----------------------------------------------------------
def test_row_key_is_stable_across_processes_and_hash_seeds() -> None:
    code = (
        "from confaug.integrations.ray import row_key; "
        "print(row_key('data/cat/001.jpg'), row_key(b'x'), row_key(7))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        outputs.add(done.stdout.strip())
    assert outputs == {f"{row_key('data/cat/001.jpg')} {row_key(b'x')} {row_key(7)}"}
    assert row_key("a") != row_key("b")
    assert row_key(np.str_("a")) == row_key("a")
    assert row_seed(1, 0, "a") != row_seed(2, 0, "a") != row_seed(1, 1, "a")


def test_a_row_gets_the_same_pixels_whatever_batch_it_is_in() -> None:
    augment = ray_augment(CONFIG, seed=11)()
    x = images(6)
    whole = augment(batch_of(x))
    names = [f"img/{i:03d}.jpg" for i in range(6)]
    order = [4, 1, 5]
    part = augment(batch_of(x[order], [names[i] for i in order]))
    assert np.array_equal(part["image"], whole["image"][order])
    again = ray_augment(CONFIG, seed=11)()(batch_of(x))
    assert np.array_equal(again["image"], whole["image"])
    other = ray_augment(CONFIG, seed=12)()(batch_of(x))
    assert not np.array_equal(other["image"], whole["image"])
    assert not np.array_equal(whole["image"], x)  # it did augment
    assert whole["image"].dtype == np.uint8 and whole["image"].shape == x.shape


BRIGHTER: dict[str, Any] = {"version": 1, "brightness_range": [2.0, 2.0]}


def _dark_and_bright() -> np.ndarray:
    x = np.full((4, 8, 8, 3), 200.0, np.float32)
    x[1] = 0.75  # a dark row of a 0–255 dataset: 1.5 once brightened, not clipped at 1.0
    return x


@pytest.mark.parametrize("stacked", [True, False])
def test_float_rows_are_read_in_one_range_per_batch(stacked: bool) -> None:
    x = _dark_and_bright()
    column: Any = x
    if not stacked:  # an object column of arrays, as rows of different sizes come
        column = np.empty(len(x), dtype=object)
        for index, row in enumerate(x):
            column[index] = row
    out = ray_augment(BRIGHTER, seed=1, standardize=False)()(batch_of(column))
    assert np.allclose(np.stack(list(out["image"]))[1], 1.5, atol=0.01)
    pipe = confaug.load_pipeline(BRIGHTER)
    assert np.allclose(pipe.apply_batch(x, seed=0)[1], 1.5, atol=0.01)  # as a batch is read


def test_a_batch_of_only_dark_rows_is_read_as_zero_one_unless_the_range_is_fixed() -> None:
    dark = np.full((2, 8, 8, 3), 0.75, np.float32)
    out = ray_augment(BRIGHTER, seed=1, standardize=False)()(batch_of(dark))
    assert np.allclose(out["image"], 1.0, atol=0.01)  # taken for [0, 1] data: clipped
    fixed = {**BRIGHTER, "value_range": [0, 255]}
    out = ray_augment(fixed, seed=1, standardize=False)()(batch_of(dark))
    assert np.allclose(out["image"], 1.5, atol=0.01)


def test_a_nan_row_does_not_decide_the_range_of_its_batch() -> None:
    x = _dark_and_bright()
    x[2, 0, 0, 0] = np.nan
    augment = ray_augment(BRIGHTER, seed=1, standardize=False, on_error="mark")()
    out = augment(batch_of(x))
    assert np.allclose(out["image"][1], 1.5, atol=0.01)


def test_other_columns_are_kept_and_epoch_changes_the_augmentation() -> None:
    x = images(5)
    first = ray_augment(CONFIG, seed=3)()(batch_of(x))
    later = ray_augment(CONFIG, seed=3, epoch=1)()(batch_of(x))
    assert list(first) == ["image", "path", "label"]
    assert np.array_equal(first["label"], np.arange(5))
    assert list(first["path"]) == list(batch_of(x)["path"])
    assert not np.array_equal(first["image"], later["image"])


def test_the_seed_defaults_to_the_spec_then_to_one_drawn_on_the_driver() -> None:
    assert ray_augment({**CONFIG, "seed": 42}).seed == 42
    drawn = ray_augment(CONFIG)
    assert drawn()(batch_of(images(2)))["image"].shape == (2, 24, 32, 3)
    assert drawn().seed == drawn.seed  # every worker of one class shares it
    with pytest.raises(ValueError, match="needs a seed"):
        RayAugmenter(CONFIG)


def test_a_mask_column_gets_the_same_transform() -> None:
    masks = (images(8, seed=5)[..., 0] > 127).astype(np.uint8)
    x = np.repeat(masks[..., None] * 255, 3, axis=-1)
    batch = {**batch_of(x), "mask": masks}
    out = ray_augment(FLIPS, seed=1, mask_column="mask")()(batch)
    assert out["mask"].shape == masks.shape
    assert np.array_equal(out["image"][..., 0], out["mask"] * 255)
    assert not np.array_equal(out["mask"], masks)  # some rows were flipped


def test_rows_of_different_sizes_come_back_as_an_object_column() -> None:
    x = np.empty(2, dtype=object)
    x[0], x[1] = images(1, (20, 20))[0], images(1, (30, 16))[0]
    out = ray_augment(FLIPS, seed=0)()({"image": x, "path": np.array(["a", "b"])})
    assert out["image"].dtype == object
    assert [image.shape for image in out["image"]] == [(20, 20, 3), (30, 16, 3)]


def test_key_column_none_keys_rows_by_their_pixels() -> None:
    x = images(4)
    augment = ray_augment(CONFIG, seed=2, key_column=None)()
    a = augment({"image": x})
    b = augment({"image": x[::-1].copy()})
    assert np.array_equal(a["image"], b["image"][::-1])


def test_missing_key_column_says_how_to_get_it() -> None:
    augment = ray_augment(CONFIG, seed=2)()
    with pytest.raises(KeyError, match="include_paths=True"):
        augment({"image": images(1)})


def test_bad_config_fails_on_the_driver_with_its_position() -> None:
    with pytest.raises(confaug.ConfigError, match="rotation_rnage"):
        ray_augment({"version": 1, "rotation_rnage": 3})
    with pytest.raises(ValueError, match="on_error"):
        ray_augment(CONFIG, on_error="ignore")  # type: ignore[arg-type]


def test_bad_decode_options_fail_on_the_driver_not_per_row() -> None:
    with pytest.raises(ValueError, match="color_mode"):
        ray_augment(CONFIG, color_mode="cmyk")
    with pytest.raises(ValueError, match="target_size"):
        RayAugmenter(CONFIG, seed=1, target_size=(0, 8))


def _bad_batch() -> dict[str, np.ndarray]:
    x = np.empty(3, dtype=object)
    x[0], x[1], x[2] = images(1)[0], np.zeros(5, np.uint8), images(1, seed=9)[0]
    return {"image": x, "path": np.array(["ok1.jpg", "broken.jpg", "ok2.jpg"]), "n": np.arange(3)}


def test_on_error_raise_names_the_row() -> None:
    with pytest.raises(confaug.DataError, match=r"path=broken\.jpg"):
        ray_augment(CONFIG, seed=1)()(_bad_batch())


def test_on_error_skip_drops_the_row_from_every_column_and_reports_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    augment = ray_augment(CONFIG, seed=1, on_error="skip")()
    with caplog.at_level("WARNING", logger="confaug"):
        out = augment(_bad_batch())
    assert list(out["path"]) == ["ok1.jpg", "ok2.jpg"]
    assert list(out["n"]) == [0, 2]
    assert out["image"].shape == (2, 24, 32, 3)
    assert [key for key, _ in augment.errors] == ["path=broken.jpg"]
    assert "broken.jpg" in caplog.text


def test_on_error_mark_keeps_every_row_with_an_error_column() -> None:
    out = ray_augment(CONFIG, seed=1, on_error="mark")()(_bad_batch())
    assert list(out["n"]) == [0, 1, 2]
    assert out[ERROR_COLUMN][0] == "" and out[ERROR_COLUMN][2] == ""
    assert "expected a 2-D or 3-D array" in out[ERROR_COLUMN][1]
    assert out["image"][1].size == 0
    assert out["image"][0].shape == (24, 32, 3)


def test_encoded_bytes_are_decoded_and_corrupt_files_follow_on_error() -> None:
    ok, encoded = cv2.imencode(".jpg", images(1)[0])
    assert ok
    data = np.empty(2, dtype=object)
    data[0], data[1] = encoded.tobytes(), b"\xff\xd8 not really a jpeg"
    batch = {"bytes": data, "path": np.array(["good.jpg", "bad.jpg"])}
    out = ray_augment(FLIPS, seed=0, image_column="bytes", on_error="skip", target_size=(12, 16))()(
        batch
    )
    assert out["bytes"].shape == (1, 12, 16, 3) and list(out["path"]) == ["good.jpg"]
    with pytest.raises(confaug.DataError, match=r"bad\.jpg"):
        ray_augment(FLIPS, seed=0, image_column="bytes")()(batch)


def _invert(image: np.ndarray) -> np.ndarray:
    return 255.0 - image


def test_a_pipeline_object_travels_with_its_registered_function(registered: Any) -> None:
    registered("invert_for_ray_test", _invert)
    pipe = confaug.load_pipeline({"version": 1, "preprocessing_function": "invert_for_ray_test"})
    cls = ray_augment(pipe, seed=0)
    confaug.unregister("invert_for_ray_test")  # a worker has no registry entry
    revived = pickle.loads(pickle.dumps(cls.options))  # what Ray ships to a worker
    out = RayAugmenter(revived.pop("pipeline"), **revived)(batch_of(images(2)))
    assert np.allclose(out["image"], 255.0 - images(2))


def _explode(image: np.ndarray) -> np.ndarray:
    raise RuntimeError("boom")


def test_a_failing_pipeline_is_never_skipped(registered: Any) -> None:
    registered("explode_for_ray_test", _explode)
    config = {"version": 1, "preprocessing_function": "explode_for_ray_test"}
    augment = ray_augment(config, seed=0, on_error="skip")()
    with pytest.raises(SampleError, match=r"path=img/000\.jpg: pipeline failed: RuntimeError"):
        augment(batch_of(images(2)))


def test_constructor_overrides_are_checked() -> None:
    cls = ray_augment(CONFIG, seed=1)
    assert cls(on_error="mark").on_error == "mark"
    assert cls().on_error == "raise"
    with pytest.raises(TypeError, match=r"'on_eror' \(did you mean 'on_error'\?\)"):
        cls(on_eror="skip")


def test_rejects_pandas_batches() -> None:
    with pytest.raises(TypeError, match='batch_format="numpy"'):
        ray_augment(CONFIG, seed=0)()([1, 2, 3])  # type: ignore[arg-type]


# ---- a real local Ray instance ---------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'ray[data]'")
    pytest.importorskip("ray.data", reason="Ray Data is not installed: pip install 'ray[data]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def jpeg_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ray_jpegs")
    return helpers.write_images(folder, images(24, (40, 48), seed=3), suffix=".jpg")


def _run(ray: Any, folder: Path, workers: int) -> dict[str, Any]:
    def call(self: RayAugmenter, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = RayAugmenter.__call__(self, batch)
        out["pid"] = np.full(len(out["path"]), os.getpid())  # which worker did the row
        time.sleep(0.2)  # so that one actor cannot finish everything before the other starts
        return out

    probe = type("Probe", (ray_augment(CONFIG, seed=5),), {"__call__": call})
    dataset = ray.data.read_images(str(folder), include_paths=True, override_num_blocks=6)
    out = dataset.map_batches(
        probe,
        batch_format="numpy",
        batch_size=2,
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=0.5,  # leave a CPU for the read tasks
    ).take_all()
    return {
        "images": {row["path"]: row["image"] for row in out},
        "pids": {int(row["pid"]) for row in out},
        "rows": len(out),
    }


def test_ray_results_do_not_depend_on_the_number_of_workers(
    ray_local: Any, jpeg_folder: Path
) -> None:
    one = _run(ray_local, jpeg_folder, 1)
    two = _run(ray_local, jpeg_folder, 2)
    assert one["rows"] == two["rows"] == 24
    assert len(one["pids"]) == 1, one["pids"]
    # Two actors usually share the work; on a loaded machine Ray may give one all the blocks,
    # which must not fail the test: the claim is that the pool size does not change results.
    assert 1 <= len(two["pids"]) <= 2, two["pids"]
    assert one["images"].keys() == two["images"].keys()
    for path, image in one["images"].items():
        assert np.array_equal(image, two["images"][path]), path
    # ... and they are what the pipeline gives that row's seed on the driver
    pipe = confaug.load_pipeline(CONFIG)
    path = sorted(one["images"])[0]
    decoded = ray_local.data.read_images(path).take(1)[0]["image"]
    expected = pipe(image=decoded, seed=row_seed(5, 0, path))["image"]
    assert np.array_equal(one["images"][path], expected)


def test_ray_bad_files_are_skipped_or_marked_never_lost(
    ray_local: Any, jpeg_folder: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in sorted(jpeg_folder.iterdir())[:6]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    files = ray_local.data.read_binary_files(str(folder), include_paths=True)
    common = {"image_column": "bytes", "seed": 1}

    augment = ray_augment(CONFIG, **common)  # type: ignore[arg-type]

    def run(on_error: str) -> list[dict[str, Any]]:
        return files.map_batches(
            augment,
            fn_constructor_kwargs={"on_error": on_error},  # overrides what ray_augment bound
            batch_format="numpy",
            compute=ray_local.data.ActorPoolStrategy(size=1),
            num_cpus=0.5,
        ).take_all()

    kept = run("skip")
    assert sorted(Path(row["path"]).name for row in kept) == sorted(
        p.name for p in folder.iterdir() if p.name != "broken.jpg"
    )
    marked = run("mark")
    assert len(marked) == 7
    bad = [row for row in marked if row[ERROR_COLUMN]]
    assert [Path(row["path"]).name for row in bad] == ["broken.jpg"]
    with pytest.raises(Exception, match=r"broken\.jpg"):
        run("raise")
