"""Grain transforms (``Map`` / ``RandomMap``) with the generator's per-sample determinism,
in Grain's ``MapDataset`` and its multiprocess ``DataLoader``."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from tests.helpers import images, run_python

grain = pytest.importorskip("grain", reason="pip install grain (the grain extra)")
from confaug.integrations.grain import GrainAugment, GrainRandomAugment  # noqa: E402

CONFIG: dict[str, Any] = {"version": 1, "rotation_range": 20, "horizontal_flip": True}
SIZE = (20, 24)


@pytest.fixture(scope="module")
def pipe() -> confaug.Pipeline:
    return confaug.load_pipeline(CONFIG)


@pytest.fixture(scope="module")
def pixels() -> np.ndarray:
    return images(6, SIZE, seed=5)


def records(pixels: np.ndarray) -> list[dict[str, Any]]:
    return [{"image": p, "id": i, "label": i % 2} for i, p in enumerate(pixels)]


def test_map_keyed_by_index_gives_the_generators_augmentation(
    pipe: confaug.Pipeline, pixels: np.ndarray
) -> None:
    augment = GrainAugment(pipe, seed=7, key_field="id")
    assert isinstance(augment, grain.transforms.Map)
    generator = pipe.flow(pixels, np.arange(6), batch_size=6, shuffle=False, seed=7)
    for epoch in (0, 1):
        augment.set_epoch(epoch)
        ds = grain.MapDataset.source(records(pixels)).map(augment)
        expected = generator[0][0]
        for index in range(6):
            element = ds[index]
            assert np.array_equal(element["image"], expected[index])
            assert element["label"] == index % 2  # other entries kept
        generator.on_epoch_end()
    bare = GrainAugment(pipe, seed=7)  # a bare image, keyed by its pixels
    assert np.array_equal(bare.map(pixels[0]), bare.map(pixels[0].copy()))


def test_random_map_is_new_each_epoch_and_reproducible(
    pipe: confaug.Pipeline, pixels: np.ndarray
) -> None:
    augment = GrainRandomAugment(pipe, seed=7, key_field="id")
    assert isinstance(augment, grain.transforms.RandomMap)

    def epochs(grain_seed: int) -> list[np.ndarray]:
        ds = grain.MapDataset.source(records(pixels)).repeat(2)
        ds = ds.random_map(augment, seed=grain_seed)
        return [ds[i]["image"] for i in range(12)]

    first = epochs(3)
    assert not np.array_equal(first[0], first[6])  # sample 0 in epoch 1 vs epoch 2
    assert all(np.array_equal(a, b) for a, b in zip(first, epochs(3), strict=True))
    assert not np.array_equal(first[0], epochs(4)[0])  # Grain's seed matters
    clone = pickle.loads(pickle.dumps(augment))  # for Grain's worker processes
    rng = np.random.default_rng(0)
    element = records(pixels)[0]
    assert np.array_equal(
        clone.random_map(element, np.random.default_rng(0))["image"],
        augment.random_map(element, rng)["image"],
    )


WORKERS = """
import json, sys
import numpy as np
from absl import flags
import grain
import confaug
from confaug.integrations.grain import GrainRandomAugment
from tests.helpers import images


def main():
    flags.FLAGS(sys.argv[:1])  # Grain's multiprocessing reads its flags
    config = json.loads(sys.argv[1])
    source = [{"image": p, "id": i} for i, p in enumerate(images(6, (20, 24), seed=5))]
    augment = GrainRandomAugment(confaug.load_pipeline(config), seed=7, key_field="id")
    digests = {}
    for workers in (0, 2):
        loader = grain.DataLoader(
            data_source=source,
            sampler=grain.samplers.IndexSampler(6, shuffle=True, seed=1, num_epochs=2),
            operations=[augment],
            worker_count=workers,
        )
        digests[workers] = [int(e["image"].astype(np.int64).sum() * 7 + e["id"])
                            for e in loader]
    print("RESULT " + json.dumps(digests))


if __name__ == "__main__":
    main()
"""


def test_grain_dataloader_workers_do_not_change_a_pixel(tmp_path: Path) -> None:
    script = tmp_path / "workers.py"
    script.write_text(WORKERS, encoding="utf-8")
    done = run_python(script, json.dumps(CONFIG), what="grain.DataLoader with 2 workers")
    assert done.returncode == 0, done.stdout[-4000:]
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
    digests = json.loads(line[len("RESULT ") :])
    assert len(digests["0"]) == 12
    assert digests["0"] == digests["2"]


def test_elements_missing_a_key_say_which() -> None:
    augment = GrainAugment({"version": 1}, seed=1, key_field="id")
    with pytest.raises(KeyError, match="'id'"):
        augment.map({"image": np.zeros((4, 4, 3), np.uint8)})
    with pytest.raises(TypeError, match="dict elements"):
        augment.map(np.zeros((4, 4, 3), np.uint8))


def test_a_missing_grain_names_the_extra() -> None:
    code = """
import sys; sys.modules["grain"] = None
import confaug.integrations.grain as adapter
try:
    adapter.GrainAugment
except ImportError as exc:
    print("ERROR", exc)
"""
    done = run_python(code, what="the Grain adapter without Grain")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("ERROR"))
    assert 'pip install "confaug[grain]"' in line, line


def test_an_element_that_is_not_an_image_is_a_data_error(pipe: confaug.Pipeline) -> None:
    """A tuple (image, label) was NumPy's "inhomogeneous shape" ValueError."""
    with pytest.raises(confaug.DataError, match="cannot read an image from a value of type tuple"):
        GrainAugment(pipe).map((np.zeros((8, 8, 3), np.uint8), 1))
