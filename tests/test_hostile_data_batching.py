"""Hostile data in batching and the pipeline (issue 16): DDP steps with skips, one value range
per source, which failures are the data's, sample names in errors and logs, private names
for the drop-in's functions."""

from __future__ import annotations

import gc
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug.batching import SampleError, flow
from confaug.errors import DataError
from tests.helpers import Identity, images, save_image, write_index_table

COMMON: dict[str, Any] = {"target_size": (8, 8), "shuffle": False, "epochs": 1}


# ---- 6: every rank takes len() steps per epoch, whatever it skips -------------------------------
@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(("count", "bad"), [(16, {0, 2, 4, 6}), (17, {1, 5, 9, 13, 16}), (10, {3})])
def test_sharded_ranks_take_the_same_steps_with_skips(
    tmp_path: Path, workers: int, drop_last: bool, count: int, bad: set[int]
) -> None:
    table = write_index_table(tmp_path, count, bad=bad)
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    epochs, per_rank = 3, []
    for rank in (0, 1):
        generator = pipe.flow_from_dataframe(
            str(table),
            directory=str(tmp_path),
            x_col="file",
            y_col="index",
            class_mode="raw",
            target_size=(6, 6),
            batch_size=2,
            shuffle=True,
            seed=5,
            epochs=epochs,
            rank=rank,
            world_size=2,
            drop_last=drop_last,
            workers=workers,
            on_error="skip",
        )
        batches = list(generator)
        steps = len(generator)
        assert len(batches) == epochs * steps, f"rank {rank}: {len(batches)} steps"
        sizes = [len(y) for _, y in batches[:steps]]
        planned = generator._batch_sizes()
        assert sizes == planned and [len(y) for _, y in batches] == planned * epochs
        per_rank.append(
            (
                steps,
                [[int(v) for _, y in batches[e::epochs] for v in y] for e in range(epochs)],
                batches,
                generator,
            )
        )
    assert per_rank[0][0] == per_rank[1][0]  # the same len(), so the same steps
    readable = set(range(count)) - bad
    for epoch in range(epochs):
        seen: list[int] = []
        for _, _, batches, generator in per_rank:
            steps = len(generator)
            for _, y in batches[epoch * steps : (epoch + 1) * steps]:
                seen.extend(int(v) for v in y)
        assert set(seen) <= readable
        if not drop_last:
            assert set(seen) == readable  # every readable sample at least once
        repeats = sum(Counter(seen).values()) - len(set(seen))
        assert repeats <= len(bad) + 1  # padding repeats at most what was skipped (+ even)


def test_a_rank_with_nothing_readable_raises_a_data_error(tmp_path: Path) -> None:
    table = write_index_table(tmp_path, 4, bad={0, 2})  # rank 0 of 2, unshuffled, gets 0 and 2
    pipe = confaug.load_pipeline({"version": 1})
    generator = pipe.flow_from_dataframe(
        str(table),
        directory=str(tmp_path),
        x_col="file",
        y_col="index",
        class_mode="raw",
        target_size=(6, 6),
        batch_size=1,
        shuffle=False,
        epochs=1,
        rank=0,
        world_size=2,
        on_error="skip",
    )
    with pytest.raises(DataError, match=r"rank 0: no sample of its shard of epoch 0"):
        list(generator)


def test_single_process_iteration_still_gives_each_sample_exactly_once(tmp_path: Path) -> None:
    table = write_index_table(tmp_path, 9, bad={2, 7})
    pipe = confaug.load_pipeline({"version": 1})
    generator = pipe.flow_from_dataframe(
        str(table),
        directory=str(tmp_path),
        x_col="file",
        y_col="index",
        class_mode="raw",
        target_size=(6, 6),
        batch_size=2,
        seed=1,
        epochs=1,
        on_error="skip",
    )
    seen = [int(v) for _, y in generator for v in y]
    assert Counter(seen) == Counter(set(range(9)) - {2, 7})


# ---- 7: one value range per source or batch -----------------------------------------------------
BRIGHTER = {"version": 1, "brightness_range": [2.0, 2.0]}


def _dark_and_bright() -> np.ndarray:
    x = np.full((4, 8, 8, 3), 200.0, np.float32)
    x[1] = 0.75  # a dark sample of a 0–255 dataset: 1.5 once brightened, not 1.0
    return x


@pytest.mark.parametrize("workers", [0, 2])
def test_flow_reads_float_samples_in_the_range_of_their_dataset(workers: int) -> None:
    pipe = confaug.load_pipeline(BRIGHTER)
    x = _dark_and_bright()
    expected = pipe.apply_batch(x, seed=0)[1]
    assert np.allclose(expected, 1.5, atol=0.01)
    batch = next(iter(pipe.flow(x, batch_size=4, shuffle=False, workers=workers)))
    assert np.allclose(batch[1], 1.5, atol=0.01)
    listed = next(iter(pipe.flow(list(x), batch_size=4, shuffle=False)))
    assert np.allclose(listed[1], 1.5, atol=0.01)


def test_the_range_of_a_source_travels_to_worker_processes() -> None:
    pipe = confaug.load_pipeline(BRIGHTER)
    generator = pipe.flow(_dark_and_bright(), batch_size=2, shuffle=False, epochs=1)
    in_processes = pipe.flow(
        _dark_and_bright(),
        batch_size=2,
        shuffle=False,
        epochs=1,
        workers=2,
        worker_mode="process",
    )
    source = in_processes.source
    assert not source.range_known  # nothing is looked at before a batch is asked for
    (first, _), (second, _) = list(generator), list(in_processes)
    # scanned once, in this process, as the loader was sent to the workers: exactly, or
    # (one pass) at the bits
    assert source._bounds_found or source._range is not None
    assert np.array_equal(first, second) and np.allclose(second[1], 1.5, atol=0.01)


def test_a_subset_is_read_in_the_range_of_the_whole_dataset() -> None:
    x = _dark_and_bright()[[1, 1, 0, 0]]  # the validation part (first half) is all dark
    pipe = confaug.load_pipeline({**BRIGHTER, "validation_split": 0.5})
    validation = pipe.flow(x, subset="validation", batch_size=2, shuffle=False)
    assert np.allclose(validation[0], 1.5, atol=0.01)


def test_wrap_and_the_sample_dataset_use_one_range_per_batch_and_source() -> None:
    pipe = confaug.load_pipeline(BRIGHTER)
    x = _dark_and_bright()
    (wrapped,) = list(pipe.wrap([x]))
    assert np.allclose(wrapped[1], 1.5, atol=0.01)
    pytest.importorskip("torch")
    samples = pipe.flow(x, batch_size=1, shuffle=False).as_torch(samples=True)
    assert np.allclose(samples[1].numpy(), 1.5, atol=0.01)


def test_data_in_no_known_range_is_refused_for_the_whole_source() -> None:
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    x = np.linspace(-1, 1, 2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    with pytest.raises(DataError, match=r"x: float values span \[-1, 1\]"):
        list(pipe.flow(x, batch_size=2, epochs=1, on_error="skip"))
    fixed = confaug.load_pipeline({"version": 1, "value_range": [-1, 1]})
    assert fixed.for_value_bounds(-1, 1) is fixed


# ---- 12: failures that come from one sample are skippable ---------------------------------------
def test_a_one_pixel_image_with_keep_aspect_ratio_is_read(tmp_path: Path) -> None:
    save_image(tmp_path / "c" / "dot.png", np.full((1, 1, 3), 7, np.uint8))
    save_image(tmp_path / "c" / "wide.png", np.full((1, 9, 3), 8, np.uint8))
    pipe = confaug.load_pipeline({"version": 1})
    for target in ((8, 16), (16, 8), (8, 8)):
        generator = pipe.flow_from_directory(
            tmp_path, keep_aspect_ratio=True, target_size=target, batch_size=2, shuffle=False
        )
        x, _ = generator[0]
        assert x.shape == (2, *target, 3) and sorted({int(x[0].max()), int(x[1].max())}) == [7, 8]


@pytest.mark.parametrize("workers", [0, 2])
def test_an_image_smaller_than_a_crop_is_a_skippable_data_error(workers: int) -> None:
    pipe = confaug.load_pipeline(
        {"version": 1, "transforms": [{"RandomCrop": {"height": 8, "width": 8}}]}
    )
    x = [images(1, 16, seed=i)[0] for i in range(3)] + [images(1, 4)[0]]
    with pytest.raises(DataError, match=r"x\[3\]: .*\(image \(4, 4, 3\).*CropSizeError"):
        list(pipe.flow(x, batch_size=4, shuffle=False, epochs=1, workers=workers))
    generator = pipe.flow(
        x, batch_size=4, shuffle=False, epochs=1, workers=workers, on_error="skip"
    )
    assert [len(batch) for batch in generator] == [3]
    assert [name for name, _ in generator.skipped] == ["x[3]"]


def _raising(error: Exception) -> Any:
    def preprocess(image: np.ndarray) -> np.ndarray:
        if image.mean() > 200:  # only the bright sample
            raise error
        return image

    return preprocess


def _with_function(registered: Any, name: str, function: Any) -> Any:
    registered(name, function)
    return confaug.load_pipeline({"version": 1, "preprocessing_function": name})


def _one_bright(count: int = 5, at: int = 3) -> np.ndarray:
    x = np.full((count, 6, 6, 3), 10, np.uint8)
    x[at] = 250
    return x


@pytest.mark.parametrize("workers", [0, 2])
def test_a_data_error_in_a_preprocessing_function_is_skippable(
    registered: Any, workers: int
) -> None:
    pipe = _with_function(registered, "refuse_bright", _raising(DataError("too bright")))
    with pytest.raises(DataError, match=r"x\[3\]: too bright"):
        list(pipe.flow(_one_bright(), batch_size=5, shuffle=False, epochs=1, workers=workers))
    generator = pipe.flow(
        _one_bright(), batch_size=5, shuffle=False, epochs=1, workers=workers, on_error="skip"
    )
    (batch,) = list(generator)
    assert len(batch) == 4 and generator.skipped == [("x[3]", "too bright")]
    assert len(pipe.flow(_one_bright(), batch_size=5, on_error="skip")[0]) == 4


def test_running_out_of_memory_on_one_file_is_skippable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confaug.sources import decode

    for index, pixels in enumerate(images(3, 8)):
        save_image(tmp_path / "c" / f"img{index}.png", pixels)
    load = decode._load

    def exhausted(opened: Any) -> Any:
        if "img1" in opened.name:
            raise MemoryError
        return load(opened)

    monkeypatch.setattr(decode, "_load", exhausted)
    pipe = confaug.load_pipeline({"version": 1})
    generator = pipe.flow_from_directory(tmp_path, on_error="skip", batch_size=3, **COMMON)
    assert [len(x) for x, _ in generator] == [2]
    ((name, reason),) = generator.skipped
    assert name.endswith("img1.png") and "MemoryError" in reason


def test_running_out_of_memory_in_the_pipeline_is_skippable() -> None:
    class Hungry(Identity):
        def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
            if data["image"][0, 0, 0] == 1:
                raise MemoryError
            return data

    generator = flow(
        Hungry(),
        np.arange(4, dtype=np.uint8).reshape(4, 1, 1, 1).repeat(2, axis=1).repeat(2, axis=2),
        batch_size=4,
        shuffle=False,
        on_error="skip",
        epochs=1,
    )
    assert [len(batch) for batch in generator] == [3]
    assert generator.skipped == [("x[1]", "not enough memory to augment it")]


# ---- 13: other errors in a preprocessing_function name the sample -------------------------------
@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_errors_in_a_preprocessing_function_name_the_sample(
    tmp_path: Path, registered: Any, workers: int, on_error: str
) -> None:
    pipe = _with_function(registered, "boom_when_bright", _raising(ValueError("boom")))
    options = {"batch_size": 5, "shuffle": False, "epochs": 1, "workers": workers}
    with pytest.raises(SampleError, match=r"x\[3\]: pipeline failed: ValueError: boom") as caught:
        list(pipe.flow(_one_bright(), on_error=on_error, **options))
    assert isinstance(caught.value.__cause__, ValueError)
    folder = tmp_path / "data" / "c"
    for index, pixels in enumerate(_one_bright()):
        save_image(folder / f"img{index}.png", pixels)
    with pytest.raises(SampleError, match=r"img3\.png: pipeline failed: ValueError: boom"):
        list(
            pipe.flow_from_directory(
                tmp_path / "data", target_size=(6, 6), on_error=on_error, **options
            )
        )
    with pytest.raises(SampleError, match=r"x\[3\]: pipeline failed"):
        pipe.flow(_one_bright(), batch_size=5, shuffle=False, on_error=on_error)[0]


def test_a_batch_only_failure_of_standardize_names_the_batch() -> None:
    class BatchOfFive(Identity):
        def standardize(self, batch: np.ndarray) -> np.ndarray:
            if len(batch) == 5:
                raise RuntimeError("only in fives")
            return batch

    with pytest.raises(SampleError, match=r"standardizing the batch of x\[0\] and 4 more"):
        list(flow(BatchOfFive(), _one_bright(), batch_size=5, shuffle=False, epochs=1))


# ---- 15: direct pipeline calls with inconsistent data -------------------------------------------
@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline({"version": 1, "horizontal_flip": True, "rotation_range": 10})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mask": np.zeros((5, 5), np.uint8)}, r"mask has shape \(5, 5\), the image \(8, 8, 3\)"),
        ({"mask": np.zeros(5, np.uint8)}, r"mask has shape \(5,\)"),
        ({"image": np.zeros((0, 8, 3), np.uint8)}, r"image: shape \(0, 8, 3\) has no pixels"),
        ({"image": np.zeros((8, 0, 3), np.uint8)}, r"has no pixels"),
    ],
)
def test_inconsistent_samples_name_the_key_and_shapes(
    pipe: confaug.Pipeline, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        pipe(**{"image": np.zeros((8, 8, 3), np.uint8), **data})


def test_an_extra_image_of_another_size_is_named(pipe: confaug.Pipeline) -> None:
    pair = confaug.load_pipeline(
        {"version": 1, "horizontal_flip": True, "additional_targets": {"other": "image"}}
    )
    with pytest.raises(DataError, match=r"other has shape \(4, 4, 3\), the image \(8, 8, 3\)"):
        pair(image=np.zeros((8, 8, 3), np.uint8), other=np.zeros((4, 4, 3), np.uint8))


def test_odd_batches_are_data_errors(pipe: confaug.Pipeline) -> None:
    with pytest.raises(DataError, match=r"x\[0\]: image: shape \(0, 8, 3\) has no pixels"):
        pipe.apply_batch(np.zeros((2, 0, 8, 3), np.uint8))
    ragged = [np.zeros((8, 8, 3), np.uint8), np.zeros((9, 8, 3), np.uint8)]
    with pytest.raises(DataError, match=r"x: the images differ in shape \(\(8, 8, 3\), \(9, 8"):
        pipe.apply_batch(ragged)
    with pytest.raises(DataError, match="differ in shape"):
        pipe.fit(ragged)


def test_a_nan_with_a_fixed_value_range_is_refused() -> None:
    fixed = confaug.load_pipeline({"version": 1, "value_range": [0, 255]})
    image = np.full((4, 4, 3), 10.0, np.float32)
    image[1, 1, 1] = np.nan
    with pytest.raises(DataError, match="NaN or infinity"):
        fixed(image=image)


# ---- 10: fit refuses non-finite data -------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("augment", [False, True])
def test_fit_refuses_non_finite_data_naming_the_samples(bad: float, augment: bool) -> None:
    pipe = confaug.load_pipeline({"version": 1, "featurewise_center": True})
    x = images(6, 4, dtype=np.float32)
    x[4, 1, 2, 0] = bad
    with pytest.raises(DataError, match=r"x\[4\]: NaN or infinite values"):
        pipe.fit(x, augment=augment)
    assert pipe.standardizer.stats is None  # nothing was fitted
    pipe.fit(np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0))
    assert np.isfinite(pipe.standardize(images(2, 4, dtype=np.float32))).all()


# ---- 16: names from the data never forge log lines or drive the terminal -------------------------
EVIL = "evil\n[ERROR] forged line\x1b[31m\u202e.png"


def test_hostile_file_names_are_escaped_in_logs_and_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data" / "c\x1b[2J"
    save_image(folder / "good.png", images(1, 8)[0])
    (folder / EVIL).write_bytes(b"not an image")
    pipe = confaug.load_pipeline({"version": 1})
    with pytest.raises(DataError) as caught:
        list(pipe.flow_from_directory(tmp_path / "data", **COMMON))
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message and "\u202e" not in message
    assert "evil\\n[ERROR] forged line\\x1b[31m\\u202e.png" in message
    generator = pipe.flow_from_directory(tmp_path / "data", on_error="skip", **COMMON)
    with caplog.at_level(logging.WARNING, logger="confaug"):
        assert sum(len(x) for x, _ in generator) == 1
    lines = [record.getMessage() for record in caplog.records]
    assert lines and all("\n" not in line and "\x1b" not in line for line in lines)
    ((path, reason),) = generator.skipped
    assert Path(path).name == EVIL  # the data keeps the real name
    assert "\n" not in reason and "\x1b" not in reason


def test_hostile_names_are_escaped_in_the_cli_and_in_tables(
    tmp_path: Path, cli: Any, caplog: pytest.LogCaptureFixture
) -> None:
    src = tmp_path / "src"
    save_image(src / "good.png", images(1, 8)[0])
    (src / EVIL).write_bytes(b"not an image")
    code, out, err = cli(
        "augment",
        str(src),
        str(tmp_path / "dst"),
        "--config",
        "preset:keras_seed",
        "--copies",
        "1",
        "-q",
    )
    assert code == 1
    assert "\x1b" not in out + err and "\u202e" not in out + err
    assert not [line for line in (out + err).splitlines() if line.startswith("[ERROR]")]
    table = tmp_path / "t.csv"
    table.write_text(f'file\n"{EVIL}"\n"missing\x1b[1m.png"\ngood.png\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="confaug"):
        generator = confaug.load_pipeline({"version": 1}).flow_from_dataframe(
            str(table), directory=str(src), x_col="file", class_mode=None, **COMMON
        )
    assert generator.filenames == [EVIL, "good.png"]  # the missing one dropped, with a warning
    assert all("\x1b" not in r.getMessage() and "\n" not in r.getMessage() for r in caplog.records)


# ---- 17: the drop-in's functions get private names, released with their owner --------------------
def test_function_objects_get_private_names_released_with_their_spec() -> None:
    from confaug import registry

    before = registry.owned_count()
    specs = [
        confaug.spec_from_keras(preprocessing_function=lambda x, k=k: x + k) for k in range(2000)
    ]
    names = {spec.preprocessing_function for spec in specs}
    assert len(names) == 2000 and registry.owned_count() == before + 2000
    assert all(str(name).startswith("preprocessing_function@") for name in names)
    assert not any("@" in name for name in registry.registered_names())
    pipeline = confaug.load_pipeline(specs[7])
    assert pipeline.standardize(np.zeros((1, 2, 2, 3), np.float32)).max() == 7
    del specs, pipeline
    gc.collect()
    assert registry.owned_count() == before
    assert all(registry.lookup(str(name)) is None for name in names)


def test_a_config_cannot_name_a_function_it_was_not_given() -> None:
    from confaug.keras import ImageDataGenerator

    generator = ImageDataGenerator(preprocessing_function=lambda x: x * 3)
    for guess in ("preprocessing_function", "preprocessing_function_2", "<lambda>"):
        with pytest.raises(confaug.ConfigError, match="no function is registered"):
            confaug.load_pipeline({"version": 1, "preprocessing_function": guess})
    assert generator.standardize(np.ones((1, 2, 2, 3), np.float32)).max() == 3


def test_many_drop_in_generators_leave_no_names_behind() -> None:
    from confaug import registry
    from confaug.keras import ImageDataGenerator

    before = registry.owned_count(), registry.registered_names()
    for k in range(300):
        ImageDataGenerator(preprocessing_function=lambda x, k=k: x + k)
    gc.collect()
    assert (registry.owned_count(), registry.registered_names()) == before
