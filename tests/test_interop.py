"""albumentations' own serialized pipelines load as they are and run identically."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError
from confaug.compiler.pipeline import _seed_compose
from tests.helpers import images, only_problem, position

A = pytest.importorskip("albumentations")
cv2 = pytest.importorskip("cv2")


def reference_compose() -> Any:
    return A.Compose(
        [
            A.Affine(rotate=(-10, 10), scale=(0.9, 1.1), border_mode=cv2.BORDER_REFLECT, p=0.7),
            A.HorizontalFlip(p=0.5),
            A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=5)], p=0.5),
            A.SomeOf(
                [A.RandomBrightnessContrast(), A.GaussNoise(std_range=(0.1, 0.2)), A.ToGray()],
                n=2,
                p=0.9,
            ),
            A.Sequential([A.VerticalFlip(p=0.3), A.CoarseDropout(p=0.5)], p=0.8),
        ]
    )


def sample_images(count: int = 3) -> list[np.ndarray]:
    return list(images(count, (40, 48), seed=1))


@pytest.mark.parametrize("data_format", ["yaml", "json"])
def test_a_save_file_loads_and_matches_a_load(in_tmp: Path, data_format: str) -> None:
    path = in_tmp / f"albu.{data_format}"
    A.save(reference_compose(), str(path), data_format=data_format)
    pipe = confaug.load_pipeline(path)
    reference = A.load(str(path), data_format=data_format)
    assert [type(t).__name__ for t in pipe.compose.transforms] == [
        type(t).__name__ for t in reference.transforms
    ]
    differed = 0
    for seed in range(12):
        for image in sample_images():
            reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
            expected = reference(image=image)["image"]
            got = pipe(image=image, seed=seed)["image"]
            np.testing.assert_array_equal(got, expected)
            differed += not np.array_equal(got, image)
    assert differed > 20  # the pipeline really augments


def test_a_save_options_survive(in_tmp: Path) -> None:
    compose = A.Compose(
        [A.HorizontalFlip(p=1.0)],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        additional_targets={"depth": "mask"},
    )
    A.save(compose, "albu.yaml", data_format="yaml")
    pipe = confaug.load_pipeline("albu.yaml")
    assert pipe.spec.bbox_params is not None
    assert pipe.spec.bbox_params["format"] == "pascal_voc"
    assert dict(pipe.spec.additional_targets) == {"depth": "mask"}
    image = np.zeros((10, 20, 3), np.uint8)
    depth = np.zeros((10, 20), np.uint8)
    depth[:, :5] = 1
    out = pipe(image=image, depth=depth, bboxes=[[0, 0, 5, 5]], labels=[1])
    assert out["depth"][:, -5:].all() and not out["depth"][:, :-5].any()
    assert np.asarray(out["bboxes"][0]).tolist() == [15, 0, 20, 5]


def test_single_transform_file(in_tmp: Path) -> None:
    A.save(A.VerticalFlip(p=1.0), "one.json")
    pipe = confaug.load_pipeline("one.json")
    image = sample_images(1)[0]
    np.testing.assert_array_equal(pipe(image=image)["image"], image[::-1])


def test_problem_in_an_albumentations_file_points_into_it(in_tmp: Path) -> None:
    A.save(A.Compose([A.Blur(), A.HorizontalFlip(p=0.5)]), "albu.yaml", data_format="yaml")
    text = Path("albu.yaml").read_text()
    assert text.count("  - __class_fullname__: HorizontalFlip\n    p: 0.5\n") == 1
    text = text.replace(
        "  - __class_fullname__: HorizontalFlip\n    p: 0.5\n",
        "  - __class_fullname__: HorizontalFlip\n    p: 1.5\n",
    )
    Path("albu.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("albu.yaml")
    problem = only_problem(err)
    assert problem.file == "albu.yaml"
    assert problem.field == "transforms.1.HorizontalFlip.p"
    assert (problem.line, problem.column) == position(text, "1.5")


def test_unknown_class_in_an_albumentations_file(in_tmp: Path) -> None:
    A.save(A.Compose([A.Blur()]), "albu.json")
    text = Path("albu.json").read_text().replace('"Blur"', '"Blurr"')
    Path("albu.json").write_text(text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("albu.json")
    problem = only_problem(err)
    assert problem.hint == "did you mean 'Blur'?"
    assert (problem.line, problem.column) == position(text, '"Blurr"')


def test_compose_options_confaug_lacks_are_problems_not_crashes(in_tmp: Path) -> None:
    A.save(A.Compose([A.Blur()], p=0.5), "albu.yaml", data_format="yaml")
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("albu.yaml")
    problem = only_problem(err)
    assert problem.file == "albu.yaml" and problem.line is not None


FLIP_IMAGE = np.arange(16 * 16 * 3, dtype=np.uint8).reshape(16, 16, 3)


def flips(out: np.ndarray) -> tuple[bool, bool]:
    """Which of a horizontal and a vertical flip ``out`` shows of ``FLIP_IMAGE``."""
    for horizontal in (False, True):
        for vertical in (False, True):
            expected = FLIP_IMAGE[:: -1 if vertical else 1, :: -1 if horizontal else 1]
            if np.array_equal(out, expected):
                return horizontal, vertical
    raise AssertionError("not a flip of the image")


def test_albumentations_set_random_seed_correlates_steps_and_confaug_does_not() -> None:
    """Why confaug seeds with ``set_random_state`` rather than ``set_random_seed``.

    albumentations' ``set_random_seed(s)`` gives every step its own generator seeded with
    the same ``s``: two independent ``p=0.5`` flips then always fire together. confaug
    shares one generator among the steps (``_seed_compose``), so they are independent.
    """
    seeds = range(200)
    compose = A.Compose([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)])
    correlated = []
    for seed in seeds:
        compose.set_random_seed(seed)
        correlated.append(flips(compose(image=FLIP_IMAGE)["image"]))
    assert all(h == v for h, v in correlated)  # never one without the other
    assert 0 < sum(h for h, _ in correlated) < len(seeds)

    pipe = confaug.load_pipeline(
        {"version": 1, "transforms": [{"HorizontalFlip": {"p": 0.5}}, {"VerticalFlip": {"p": 0.5}}]}
    )
    independent = [flips(pipe(image=FLIP_IMAGE, seed=seed)["image"]) for seed in seeds]
    counts = {pair: independent.count(pair) for pair in set(independent)}
    assert len(counts) == 4  # all four outcomes occur, each about a quarter of the time
    assert all(count > len(seeds) / 4 * 0.5 for count in counts.values())

    _seed_compose(compose, 3)  # the same holds for a bare Compose seeded the confaug way
    shared = []
    for _ in range(100):
        shared.append(flips(compose(image=FLIP_IMAGE)["image"]))
    assert len(set(shared)) == 4


@pytest.mark.parametrize(
    ("transform", "needle", "words"),
    [
        ("{__class_fullname__: [1, 2]}", "[1, 2]", "class name"),
        ("{__class_fullname__: null}", "null", "class name"),
        ("{__class_fullname__: Compose, transforms: 3}", "3}", "must be a list"),
        (
            "{__class_fullname__: Compose, transforms: [{__class_fullname__: {a: 1}}]}",
            "{a: 1}",
            "class name",
        ),
        ("{__class_fullname__: Compose, transforms: [7]}", "7]", "transform name"),
        (
            "{__class_fullname__: Compose, transforms: [{__class_fullname__: OneOf}]}",
            "{__class_fullname__: OneOf",
            "'transforms' list",
        ),
        ("{__class_fullname__: Compose, seed: 5, transforms: []}", "5,", "no confaug equivalent"),
    ],
)
def test_malformed_albumentations_files(
    in_tmp: Path, transform: str, needle: str, words: str
) -> None:
    text = f"__version__: 2.0.8\ntransform: {transform}\n"
    Path("albu.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline("albu.yaml")
    problem = only_problem(err)
    assert problem.file == "albu.yaml"
    assert (problem.line, problem.column) == position(text, needle)
    assert words in problem.message
