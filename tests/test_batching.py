"""BatchGenerator: length, order, epochs, seeds, sharding, outputs, skip policy.

``StandInPipeline`` (tests/helpers.py) implements the ``SamplePipeline`` protocol with a real
albumentations ``Compose``, so batching is tested apart from confaug's compiler.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from confaug.batching import BatchGenerator, SamplePipeline, flow, flow_from_directory
from confaug.sources import ArraySource, DataError
from tests.helpers import (
    Identity,
    StandInPipeline,
    batches_equal,
    images,
    marked_images,
    write_class_folders,
)


@pytest.fixture(scope="module")
def pipeline() -> StandInPipeline:
    return StandInPipeline()


def test_stand_in_satisfies_the_protocol(pipeline: StandInPipeline) -> None:
    assert isinstance(pipeline, SamplePipeline)


@pytest.mark.parametrize(
    ("count", "batch_size", "drop_last", "expected"),
    [(20, 8, False, 3), (20, 8, True, 2), (16, 8, False, 2), (16, 8, True, 2), (5, 8, False, 1)],
)
def test_len_is_ceil_or_floor(
    pipeline: StandInPipeline, count: int, batch_size: int, drop_last: bool, expected: int
) -> None:
    generator = flow(pipeline, images(count), batch_size=batch_size, drop_last=drop_last)
    assert len(generator) == expected
    sizes = [
        len(x)
        for x in flow(pipeline, images(count), batch_size=batch_size, drop_last=drop_last, epochs=1)
    ]
    assert len(sizes) == expected and sum(sizes) <= count


def test_drop_last_with_too_few_samples_is_an_error(pipeline: StandInPipeline) -> None:
    with pytest.raises(ValueError, match="no batches"):
        flow(pipeline, images(5), batch_size=8, drop_last=True)


def test_every_sample_exactly_once_per_epoch_in_a_new_order(pipeline: StandInPipeline) -> None:
    generator = flow(pipeline, images(23), np.arange(23), batch_size=5, seed=1, epochs=3)
    epochs = [[], [], []]
    for number, (_, y) in enumerate(generator):
        epochs[number // len(generator)].extend(y.tolist())
    for order in epochs:
        assert sorted(order) == list(range(23))
    assert epochs[0] != epochs[1] != epochs[2]
    assert generator.epoch == 3


def test_no_shuffle_keeps_source_order(pipeline: StandInPipeline) -> None:
    generator = flow(pipeline, images(10), np.arange(10), batch_size=4, shuffle=False, epochs=1)
    assert np.concatenate([y for _, y in generator]).tolist() == list(range(10))


def test_same_seed_same_batches_other_seed_other_batches(pipeline: StandInPipeline) -> None:
    run = lambda seed: list(flow(pipeline, images(), np.arange(20), seed=seed, epochs=1))  # noqa: E731
    assert batches_equal(run(5), run(5))
    assert not batches_equal(run(5), run(6))


def test_unseeded_generators_differ_but_each_is_self_consistent(pipeline: StandInPipeline) -> None:
    first, second = flow(pipeline, images()), flow(pipeline, images())
    assert first.seed != second.seed
    assert np.array_equal(first[0], first[0])


def test_getitem_matches_iteration_and_on_epoch_end_moves_on(pipeline: StandInPipeline) -> None:
    generator = flow(pipeline, images(), np.arange(20), batch_size=6, seed=2, epochs=2)
    iterated = list(generator)
    generator.epoch = 0
    indexed = [generator[i] for i in range(len(generator))]
    generator.on_epoch_end()
    indexed += [generator[i] for i in range(len(generator))]
    assert batches_equal(iterated, indexed)
    with pytest.raises(IndexError):
        generator[len(generator)]


def test_augmentation_depends_on_epoch_and_index_not_batch_position(
    pipeline: StandInPipeline,
) -> None:
    x = images(12)
    by_sample: dict[int, np.ndarray] = {}
    for batch_size in (3, 4):
        generator = flow(pipeline, x, np.arange(12), batch_size=batch_size, seed=9, epochs=1)
        for xb, yb in generator:
            for image, index in zip(xb, yb, strict=True):
                if int(index) in by_sample:
                    assert np.array_equal(by_sample[int(index)], image)
                by_sample[int(index)] = image
    assert len(by_sample) == 12


def test_next_is_endless_like_keras(pipeline: StandInPipeline) -> None:
    generator = flow(pipeline, images(10), np.arange(10), batch_size=4, seed=0)
    seen = [next(generator)[1] for _ in range(3 * len(generator))]
    assert sorted(np.concatenate(seen).tolist()) == sorted(list(range(10)) * 3)
    assert generator.epoch == 2  # advanced when an epoch's last batch was handed out
    generator.close()


@pytest.mark.parametrize("world_size", [2, 3])
def test_shards_are_disjoint_and_cover_each_epoch(
    pipeline: StandInPipeline, world_size: int
) -> None:
    seen: list[int] = []
    lengths = []
    for rank in range(world_size):
        generator = flow(
            pipeline,
            images(23),
            np.arange(23),
            batch_size=4,
            seed=3,
            epochs=1,
            rank=rank,
            world_size=world_size,
            even_shards=False,
        )
        lengths.append(len(generator))
        seen += np.concatenate([y for _, y in generator]).tolist()
    assert Counter(seen) == Counter(range(23))
    assert max(lengths) - min(lengths) <= 1


@pytest.mark.parametrize(
    ("count", "world_size", "drop_last"), [(9, 2, False), (12, 5, True), (23, 3, False)]
)
def test_even_shards_give_every_rank_the_same_length(
    pipeline: StandInPipeline, count: int, world_size: int, drop_last: bool
) -> None:
    """Distributed training hangs when ranks disagree on the number of steps."""
    seen: list[int] = []
    lengths = set()
    for rank in range(world_size):
        generator = flow(
            pipeline,
            images(count),
            np.arange(count),
            batch_size=2,
            seed=3,
            epochs=1,
            rank=rank,
            world_size=world_size,
            drop_last=drop_last,
        )
        lengths.add(len(generator))
        batches = [y for _, y in generator]
        assert len(batches) == len(generator)
        seen += np.concatenate(batches).tolist()
    assert len(lengths) == 1
    if not drop_last:  # every sample at least once, at most world_size - 1 repeated
        assert set(seen) == set(range(count))
        assert len(seen) - count < world_size


def test_sharding_with_shuffle_needs_an_explicit_seed(pipeline: StandInPipeline) -> None:
    with pytest.raises(ValueError, match="seed"):
        flow(pipeline, images(), rank=0, world_size=2)
    with pytest.raises(ValueError, match="rank"):
        flow(pipeline, images(), seed=1, rank=2, world_size=2)


def test_outputs_follow_keras_shapes(pipeline: StandInPipeline) -> None:
    x = images(8)
    alone = next(iter(flow(pipeline, x, batch_size=4)))
    assert isinstance(alone, np.ndarray) and alone.shape == (4, 16, 16, 3)
    x_b, y_b, w_b = next(iter(flow(pipeline, x, np.arange(8), np.ones(8) * 2, batch_size=4)))
    assert x_b.dtype == np.uint8 and y_b.shape == (4,) and (w_b == 2).all()


def test_standardize_runs_on_whole_batches() -> None:
    scaled = StandInPipeline(scale=1 / 255)
    x_b = next(iter(flow(scaled, images(8), batch_size=4)))
    assert x_b.dtype == np.float32 and x_b.min() >= 0 and x_b.max() <= 1


def test_channels_first_arrays(pipeline: StandInPipeline) -> None:
    first = StandInPipeline(data_format="channels_first")
    x = np.ascontiguousarray(images(6).transpose(0, 3, 1, 2))
    x_b = next(iter(flow(first, x, batch_size=6, seed=4)))
    assert x_b.shape == (6, 3, 16, 16)
    last = next(iter(flow(pipeline, images(6), batch_size=6, seed=4)))
    assert np.array_equal(x_b.transpose(0, 2, 3, 1), last)


def test_invalid_options_are_reported(pipeline: StandInPipeline) -> None:
    for bad in (
        {"batch_size": 0},
        {"epochs": 0},
        {"workers": -1},
        {"worker_mode": "fiber"},
        {"on_error": "ignore"},
        {"start_method": "teleport"},
        {"max_queue_size": 0},
        {"seed": -3},
    ):
        with pytest.raises(ValueError):
            flow(pipeline, images(), **bad)


def _folder_with_bad_files(root: Path) -> tuple[Path, list[str]]:
    write_class_folders(root, {"a": 7, "b": 6})
    bad = [root / "a" / "img001.png", root / "b" / "img010.png", root / "b" / "zz.jpg"]
    bad[0].write_bytes(b"")
    bad[1].write_bytes(b"not an image")
    bad[2].write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return root, [str(path) for path in bad]


def test_skip_reports_each_bad_file_once_and_refills_batches(
    tmp_path: Path, pipeline: StandInPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    root, bad = _folder_with_bad_files(tmp_path)
    generator = flow_from_directory(
        pipeline,
        root,
        target_size=(12, 12),
        class_mode="sparse",
        batch_size=4,
        seed=0,
        epochs=2,
        on_error="skip",
    )
    assert generator.samples == 14 and len(generator) == 4
    with caplog.at_level(logging.WARNING, logger="confaug"):
        batches = list(generator)
    assert sorted(path for path, _ in generator.skipped) == sorted(bad)
    assert all(reason for _, reason in generator.skipped)
    assert sum("skipping" in record.getMessage() for record in caplog.records) == 3
    per_epoch = [batches[:3], batches[3:]]  # 11 good samples: 4 + 4 + 3 in each epoch
    assert len(batches) == 6
    for epoch in per_epoch:
        assert [len(x) for x, _ in epoch] == [4, 4, 3]


def test_skip_keeps_each_good_sample_exactly_once(tmp_path: Path) -> None:
    root, _ = _folder_with_bad_files(tmp_path)
    identity = Identity()
    generator = flow_from_directory(
        identity,
        root,
        target_size=(12, 12),
        class_mode=None,
        batch_size=4,
        seed=0,
        epochs=1,
        on_error="skip",
    )
    red = sorted(int(x[0, 0, 0]) for batch in generator for x in batch)
    expected = [n for n in range(13) if n not in (1, 10)]
    assert red == expected


def test_getitem_with_skips_returns_a_shorter_batch(tmp_path: Path) -> None:
    root, _ = _folder_with_bad_files(tmp_path)
    generator = flow_from_directory(
        Identity(),
        root,
        target_size=(12, 12),
        class_mode=None,
        batch_size=14,
        shuffle=False,
        on_error="skip",
    )
    assert len(generator[0]) == 11 and len(generator.skipped) == 3


def test_raise_policy_names_the_bad_file(tmp_path: Path, pipeline: StandInPipeline) -> None:
    root, _ = _folder_with_bad_files(tmp_path)
    generator = flow_from_directory(
        pipeline, root, target_size=(12, 12), shuffle=False, batch_size=4, epochs=1
    )
    with pytest.raises(DataError, match=r"img001\.png"):
        list(generator)


def test_different_image_sizes_without_target_size_name_the_files(tmp_path: Path) -> None:
    write_class_folders(tmp_path, {"a": 2})
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / "a" / "wide.png")
    generator = flow_from_directory(
        Identity(), tmp_path, target_size=None, batch_size=3, shuffle=False
    )
    with pytest.raises(DataError, match=r"wide\.png") as caught:
        generator[0]
    assert "target_size" in str(caught.value)


def test_keras_attributes_are_reachable_on_the_generator(tmp_path: Path) -> None:
    write_class_folders(tmp_path, {"cat": 2, "dog": 3})
    generator = flow_from_directory(Identity(), tmp_path, target_size=(8, 8))
    assert generator.class_indices == {"cat": 0, "dog": 1}
    assert generator.classes.tolist() == [0, 0, 1, 1, 1]
    assert generator.filenames[0] == os.path.join("cat", "img000.png")
    with pytest.raises(AttributeError):
        generator.not_an_attribute  # noqa: B018


@pytest.mark.parametrize("framework", ["keras", "torch", "tf"])
def test_adapter_hooks_delegate_to_their_integration(
    pipeline: StandInPipeline, monkeypatch: pytest.MonkeyPatch, framework: str
) -> None:
    module = types.ModuleType(f"confaug.integrations.{framework}")
    calls: list[tuple[Any, dict[str, Any]]] = []
    setattr(module, f"to_{framework}", lambda generator, **kw: calls.append((generator, kw)))
    monkeypatch.setitem(sys.modules, f"confaug.integrations.{framework}", module)
    generator = flow(pipeline, images())
    getattr(generator, f"as_{framework}")(workers=2)
    assert calls == [(generator, {"workers": 2})]


def test_importing_batching_imports_no_framework() -> None:
    code = (
        "import sys, confaug.batching, confaug.sources; "
        "print(sorted(m for m in ('albumentations', 'torch', 'keras', 'tensorflow', "
        "'confaug.integrations.keras') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert result.stdout.strip() == "[]"


def test_a_custom_source_works_through_the_protocol(pipeline: StandInPipeline) -> None:
    source = ArraySource(images(6), np.arange(6))
    generator = BatchGenerator(source, pipeline, batch_size=3, shuffle=False, epochs=1)
    assert [y.tolist() for _, y in generator] == [[0, 1, 2], [3, 4, 5]]


def test_the_compiled_pipeline_works_through_flow_and_wrap() -> None:
    import confaug

    pipe = confaug.load_pipeline(
        {
            "version": 1,
            "rotation_range": 15,
            "horizontal_flip": True,
            "brightness_range": [0.5, 1.5],
            "fill_mode": "reflect",
        }
    )
    x = images(8, dtype=np.float32)
    first = list(flow(pipe, x, np.arange(8), batch_size=4, seed=1, epochs=1, workers=2))
    again = list(flow(pipe, x, np.arange(8), batch_size=4, seed=1, epochs=1))
    assert batches_equal(first, again)
    ((out, _),) = list(confaug.batching.wrap(pipe, [(x, np.arange(8))], seed=0))
    assert out.dtype == np.float32 and out.min() >= 0 and out.max() <= 1


class _RejectsOdd(Identity):
    """Raises the pipeline's own DataError (no sample name in it) for odd markers."""

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        if int(data["image"][0, 0, 0]) % 2:
            raise DataError("image: float image contains NaN or infinity")
        return data


def test_data_errors_from_the_pipeline_are_named_and_skippable() -> None:
    x = marked_images(6, size=4)
    with pytest.raises(DataError, match=r"^x\[1\]: image: float image"):
        flow(_RejectsOdd(), x, batch_size=6, shuffle=False)[0]
    generator = flow(_RejectsOdd(), x, batch_size=2, shuffle=False, epochs=1, on_error="skip")
    assert [b[:, 0, 0, 0].tolist() for b in generator] == [[0, 2], [4]]
    assert [name for name, _ in generator.skipped] == ["x[1]", "x[3]", "x[5]"]


def test_an_empty_subset_names_validation_split() -> None:
    import confaug

    pipe = confaug.load_pipeline({"version": 1})
    x = np.zeros((4, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=r"validation_split=0: set validation_split in the"):
        pipe.flow(x, subset="validation")
    with pytest.raises(ValueError, match=r"validation_split=0.1: use a larger"):
        pipe.flow(x, subset="validation", validation_split=0.1)
    assert len(pipe.flow(x, subset="validation", validation_split=0.5, batch_size=1)) == 2


def test_a_generator_says_what_it_streams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import confaug
    from tests.helpers import write_class_folders

    root = write_class_folders(tmp_path / "data", {"cats": 3, "dogs": 2})
    pipe = confaug.load_pipeline({"version": 1})
    gen = pipe.flow_from_directory(root, target_size=(8, 8), batch_size=2, seed=4, workers=2)
    assert capsys.readouterr().out == "Found 5 images belonging to 2 classes.\n"
    text = repr(gen)
    for part in ("5 samples from DirectorySource", "3 batches of 2", "seed 4", "2 thread workers"):
        assert part in text, text
    assert "as_keras()" in text and "as_torch()" in text
