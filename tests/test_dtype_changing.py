"""Steps that set the output's dtype and range (Normalize, ToFloat, FromFloat) give
albumentations' own output — the values a plain ``A.Compose`` of the same steps gives for the
same seed on the same input — in ``pipe(...)``, ``apply_batch``, ``flow``, ``wrap``,
``as_torch`` and a row adapter; the configs that would mix two kinds of values are refused."""

from __future__ import annotations

import random
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import confaug
from confaug import ConfigError
from confaug.compiler.build import keras_step
from confaug.seeding import ITERABLE_STREAM, SAMPLE_STREAM, sample_seed
from tests.conftest import Run, WriteConfig
from tests.helpers import images, only_problem, position

A = pytest.importorskip("albumentations")

SIZE = (20, 24)
SEEDS = range(6)

#: name → (the config's transforms, the same steps built with albumentations, Keras keywords).
CASES: dict[str, tuple[list[Any], Callable[[], list[Any]], dict[str, Any]]] = {
    "normalize": (
        [
            {"HorizontalFlip": {"p": 0.5}},
            {"RandomBrightnessContrast": {"p": 0.5}},
            "Normalize",
            {"VerticalFlip": {"p": 0.5}},
        ],
        lambda: [
            A.HorizontalFlip(p=0.5),
            A.RandomBrightnessContrast(p=0.5),
            A.Normalize(),
            A.VerticalFlip(p=0.5),
        ],
        {},
    ),
    "keras warp, then normalize": (
        [{"Normalize": {"mean": 0.5, "std": 0.25}}],
        lambda: [A.Normalize(mean=0.5, std=0.25)],
        {"rotation_range": 20, "zoom_range": 0.1, "horizontal_flip": True},
    ),
    "normalize min_max": (
        [{"Normalize": {"normalization": "min_max"}}, {"HorizontalFlip": {"p": 0.5}}],
        lambda: [A.Normalize(normalization="min_max"), A.HorizontalFlip(p=0.5)],
        {},
    ),
    "normalize in a sequential": (
        [
            {
                "Sequential": {
                    "p": 1.0,
                    "transforms": [{"HorizontalFlip": {"p": 0.5}}, {"Normalize": {"std": 0.5}}],
                }
            },
            {"GaussNoise": {"std_range": [0.1, 0.2], "p": 0.5}},
        ],
        lambda: [
            A.Sequential([A.HorizontalFlip(p=0.5), A.Normalize(std=0.5)], p=1.0),
            A.GaussNoise(std_range=(0.1, 0.2), p=0.5),
        ],
        {},
    ),
    "to float": (
        ["ToFloat", {"GaussNoise": {"std_range": [0.05, 0.1], "p": 0.5}}],
        lambda: [A.ToFloat(), A.GaussNoise(std_range=(0.05, 0.1), p=0.5)],
        {},
    ),
    "to float, from float": (
        ["ToFloat", {"RandomBrightnessContrast": {"p": 1.0}}, {"FromFloat": {"dtype": "uint8"}}],
        lambda: [A.ToFloat(), A.RandomBrightnessContrast(p=1.0), A.FromFloat(dtype="uint8")],
        {},
    ),
}


def config(name: str, **extra: Any) -> dict[str, Any]:
    steps, _, keras = CASES[name]
    return {"version": 1, **keras, "transforms": steps, **extra}


def reference(name: str) -> Any:
    """The plain albumentations Compose of case ``name`` (the Keras warp first, as confaug)."""
    _, steps, keras = CASES[name]
    first = [] if not keras else [keras_step(confaug.load_spec({"version": 1, **keras}))]
    return A.Compose([*first, *steps()])


def expected(compose: Any, image: np.ndarray, seed: int) -> np.ndarray:
    """What ``compose`` gives for ``image`` seeded as confaug seeds a sample."""
    compose.set_random_state(np.random.default_rng(seed), random.Random(seed))
    out: np.ndarray = compose(image=image)["image"]
    # Normalize's min_max and per-image modes compute in float64; confaug gives those
    # values as float32, the dtype its standard mode (and every batch) has.
    return out.astype(np.float32) if out.dtype == np.float64 else out


def inputs(dtype: Any) -> np.ndarray:
    return images(4, SIZE, seed=2, dtype=dtype)


@pytest.fixture(autouse=True)
def _quiet() -> Any:
    # Normalize scaled for bytes warns on float images (tested below): not noise elsewhere.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


# ---- one sample and apply_batch ------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_one_sample_is_albumentations_output(name: str, dtype: Any) -> None:
    pipe, compose = confaug.load_pipeline(config(name)), reference(name)
    changed = 0
    for seed in SEEDS:
        for image in inputs(dtype):
            want = expected(compose, image, seed)
            got = pipe(image=image, seed=seed)["image"]
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            changed += not np.array_equal(got, pipe(image=image, seed=seed + 100)["image"])
    assert changed  # the seeds matter: the steps around the range step really run


def test_normalize_gives_floats_around_zero_not_bytes() -> None:
    """The reported symptom: 0–3 from uint8, zeros from floats."""
    pipe = confaug.load_pipeline(config("normalize"))
    out = pipe(image=inputs(np.uint8)[0], seed=0)["image"]
    assert out.dtype == np.float32 and out.min() < -1.5 and out.max() > 2.0
    floats = pipe(image=inputs(np.float32)[0], seed=0)["image"]
    assert floats.dtype == np.float32 and floats.max() < -1.5  # max_pixel_value 255 on [0, 1]


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_apply_batch_is_albumentations_output(dtype: Any) -> None:
    pipe, compose = (
        confaug.load_pipeline(config("keras warp, then normalize")),
        reference("keras warp, then normalize"),
    )
    x = inputs(dtype)
    assert not pipe.augments_batches  # the Keras batch path gives the input's dtype back
    assert pipe.output_set_by == "transforms.0.Normalize"
    assert confaug.load_pipeline({"version": 1, "rotation_range": 20}).output_set_by is None
    got = pipe.apply_batch(x, seed=5)
    assert got.dtype == np.float32
    for i, image in enumerate(x):
        np.testing.assert_array_equal(got[i], expected(compose, image, sample_seed(5, i)))
    assert pipe.apply_batch(x[:0]).dtype == np.float32


def test_channels_first_keeps_the_layout() -> None:
    pipe = confaug.load_pipeline(config("normalize", data_format="channels_first"))
    compose = reference("normalize")
    x = inputs(np.uint8)
    got = pipe.apply_batch(np.moveaxis(x, -1, 1), seed=1)
    assert got.shape == (4, 3, *SIZE) and got.dtype == np.float32
    for i, image in enumerate(x):
        want = expected(compose, image, sample_seed(1, i))
        np.testing.assert_array_equal(np.moveaxis(got[i], 0, -1), want)


def test_float_255_data_reaches_the_steps_in_0_1() -> None:
    """As the README says: float data of another range is worked on as float32 in [0, 1]."""
    pipe = confaug.load_pipeline(
        config("normalize", transforms=[{"Normalize": {"max_pixel_value": 1.0}}])
    )
    x255 = inputs(np.uint8).astype(np.float32)
    want = A.Compose([A.Normalize(max_pixel_value=1.0)])(image=x255[0] / np.float32(255))["image"]
    np.testing.assert_array_equal(pipe(image=x255[0])["image"], want)


def test_masks_keep_their_dtype() -> None:
    pipe = confaug.load_pipeline(config("normalize"))
    mask = (inputs(np.uint8)[0, ..., 0] > 128).astype(np.uint8)
    out = pipe(image=inputs(np.uint8)[0], mask=mask, seed=0)
    assert out["image"].dtype == np.float32 and out["mask"].dtype == np.uint8
    assert set(np.unique(out["mask"])) <= {0, 1}


def test_boxes_and_masks_travel_through_a_range_step_as_albumentations_moves_them() -> None:
    steps = [{"RandomCrop": {"height": 16, "width": 16}}, "Normalize", {"HorizontalFlip": {}}]
    bbox = {"format": "pascal_voc", "label_fields": ["labels"]}
    pipe = confaug.load_pipeline({"transforms": steps, "bbox_params": bbox})
    reference = A.Compose(
        [A.RandomCrop(16, 16), A.Normalize(), A.HorizontalFlip()],
        bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
    )
    image = inputs(np.uint8)[0]
    mask = (image[..., 0] > 128).astype(np.uint8)
    sample = {"image": image, "mask": mask, "bboxes": [[2, 3, 12, 14]], "labels": [7]}
    for seed in SEEDS:
        out = pipe(**sample, seed=seed)
        reference.set_random_state(np.random.default_rng(seed), random.Random(seed))
        want = reference(**sample)
        assert out["image"].dtype == np.float32 and out["mask"].dtype == np.uint8
        np.testing.assert_array_equal(out["image"], want["image"])
        np.testing.assert_array_equal(out["mask"], want["mask"])
        np.testing.assert_allclose(np.asarray(out["bboxes"]), np.asarray(want["bboxes"]))
        assert list(out["labels"]) == list(want["labels"])


@pytest.mark.parametrize(
    ("name", "kept"),
    [("normalize", {}), ("normalize in a sequential", {"std": 0.5})],
)
def test_without_augmentation_keeps_normalize_so_validation_has_the_training_scale(
    name: str, kept: dict[str, Any]
) -> None:
    """The README's recipe for validation data: the augmenting steps go, Normalize stays
    (also from inside a Sequential), so model.fit validates on the scale it trains on."""
    normalize = A.Normalize(**kept)
    plain = confaug.load_pipeline(config(name)).without_augmentation()
    assert plain.output_set_by == "transforms.0.Normalize"
    assert [type(t).__name__ for t in plain.compose.transforms] == ["Normalize"]
    for x in (inputs(np.uint8), inputs(np.uint8).astype(np.float32)):  # 0–255 both
        got = plain.apply_batch(x)
        assert got.dtype == np.float32
        for i, image in enumerate(x):
            np.testing.assert_array_equal(got[i], normalize(image=image)["image"])
        again = plain.flow(x, batch_size=4, shuffle=False)[0]
        np.testing.assert_array_equal(again, got)


def test_without_augmentation_keeps_to_float_and_from_float() -> None:
    plain = confaug.load_pipeline(config("to float, from float")).without_augmentation()
    assert [type(t).__name__ for t in plain.compose.transforms] == ["ToFloat", "FromFloat"]
    x = inputs(np.uint8)
    got = plain.apply_batch(x)
    want = A.Compose([A.ToFloat(), A.FromFloat(dtype="uint8")])
    np.testing.assert_array_equal(got, np.stack([want(image=image)["image"] for image in x]))
    assert plain.output_set_by == "transforms.1.FromFloat"
    keras = confaug.load_pipeline({"version": 1, "rotation_range": 20, "rescale": "1/255"})
    assert keras.without_augmentation().output_set_by is None  # nothing to keep


def test_ordinary_pipelines_still_keep_dtype_and_range() -> None:
    pipe = confaug.load_pipeline({"version": 1, "transforms": [{"HorizontalFlip": {"p": 1.0}}]})
    for dtype in (np.uint8, np.float32):
        x = inputs(dtype)
        out = pipe.apply_batch(x)
        assert out.dtype == x.dtype
        np.testing.assert_array_equal(out, x[:, :, ::-1])


# ---- generators and adapters ---------------------------------------------------------------
def flow_expected(name: str, x: np.ndarray, seed: int, epoch: int = 0) -> np.ndarray:
    compose = reference(name)
    keys = range(len(x))
    return np.stack(
        [
            expected(compose, x[i], sample_seed(seed, SAMPLE_STREAM, epoch, k))
            for i, k in enumerate(keys)
        ]
    )


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_flow_batches_are_albumentations_output(dtype: Any) -> None:
    name = "keras warp, then normalize"
    pipe, x = confaug.load_pipeline(config(name)), inputs(dtype)
    generator = pipe.flow(x, np.arange(4), batch_size=4, shuffle=False, seed=7)
    got, y = generator[0]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, flow_expected(name, x, 7))
    np.testing.assert_array_equal(y, np.arange(4))
    threads = pipe.flow(x, batch_size=2, shuffle=False, seed=7, workers=2)
    np.testing.assert_array_equal(np.concatenate([threads[0], threads[1]]), got)


def test_flow_of_from_float_gives_bytes_from_floats() -> None:
    name = "to float, from float"
    pipe, x = confaug.load_pipeline(config(name)), inputs(np.float32)
    got = pipe.flow(x, batch_size=4, shuffle=False, seed=3)[0]
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, flow_expected(name, x, 3))


def test_wrap_is_albumentations_output() -> None:
    name = "normalize"
    pipe, x = confaug.load_pipeline(config(name)), inputs(np.uint8)
    compose = reference(name)
    ((got, y),) = list(pipe.wrap([(x, np.arange(4))], seed=9))
    assert got.dtype == np.float32
    for i, image in enumerate(x):
        seed = sample_seed(9, ITERABLE_STREAM, 0, 0, i)
        np.testing.assert_array_equal(got[i], expected(compose, image, seed))
    np.testing.assert_array_equal(y, np.arange(4))


def test_as_torch_gives_the_normalized_floats_unscaled() -> None:
    torch = pytest.importorskip("torch")
    name = "normalize"
    pipe, x = confaug.load_pipeline(config(name)), inputs(np.uint8)
    dataset = pipe.flow(x, np.arange(4), batch_size=4, shuffle=False, seed=7).as_torch()
    batch, labels = dataset[0]
    assert batch.dtype == torch.float32 and tuple(batch.shape) == (4, 3, *SIZE)
    want = np.moveaxis(flow_expected(name, x, 7), -1, 1)  # no ÷255: the floats are Normalize's
    np.testing.assert_array_equal(batch.numpy(), want)
    assert labels.dtype == torch.int64


def test_a_grain_row_gets_the_generators_output() -> None:
    pytest.importorskip("grain")
    from confaug.integrations.grain import GrainAugment

    name = "normalize"
    pipe, x = confaug.load_pipeline(config(name)), inputs(np.uint8)
    augment = GrainAugment(pipe, seed=7, key_field="id")
    want = flow_expected(name, x, 7)
    for i, image in enumerate(x):
        row = augment.map({"image": image, "id": i})
        assert row["image"].dtype == np.float32
        np.testing.assert_array_equal(row["image"], want[i])


# ---- what is refused, what is warned -------------------------------------------------------
def placed(write: WriteConfig, text: str) -> Any:
    """The one problem that compiling the config ``text`` raises."""
    path = write("aug.yaml", text)
    with pytest.raises(ConfigError) as err:
        confaug.load_pipeline(path)
    return only_problem(err)


@pytest.mark.parametrize(
    ("text", "needle", "words", "fix"),
    [
        (
            "version: 1\ntransforms:\n  - HorizontalFlip\n  - Normalize: {p: 0.5}\n",
            "0.5",
            "transforms.1.Normalize has p: 0.5",
            "set transforms.1.Normalize.p to 1",
        ),
        (
            "version: 1\ntransforms:\n  - OneOf:\n      p: 1\n      transforms: [ToFloat, Blur]\n",
            "p: 1",
            "transforms.0.OneOf picks or mixes",
            "move ToFloat out of transforms.0.OneOf",
        ),
        (
            # OneOf's own p is 0.5: blamed for picking all the same, as p: 1 would not help.
            "version: 1\ntransforms:\n  - OneOf:\n      transforms: [Blur, ToFloat]\n",
            "transforms: [",
            "transforms.0.OneOf picks or mixes",
            "move ToFloat out of transforms.0.OneOf",
        ),
        (
            "version: 1\ntransforms:\n  - Sequential:\n      p: 0.5\n      transforms: [ToFloat]\n",
            "0.5",
            "transforms.0.Sequential has p: 0.5",
            "set transforms.0.Sequential.p to 1",
        ),
        (
            # albumentations' Sequential defaults to p 0.5 too.
            "version: 1\ntransforms:\n  - Sequential:\n      transforms: [Blur, Normalize]\n",
            "transforms: [",
            "transforms.0.Sequential has p: 0.5",
            "set transforms.0.Sequential.p to 1",
        ),
    ],
)
def test_a_range_step_that_may_not_run_is_refused_at_its_line(
    write: WriteConfig, text: str, needle: str, words: str, fix: str
) -> None:
    problem = placed(write, text)
    assert words in problem.message and "must run on every sample" in problem.message
    assert (problem.line, problem.column) == position(text, needle)
    assert problem.hint is not None and fix in problem.hint


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("rescale", "1/255"),
        ("featurewise_center", "true"),
        ("zca_whitening", "true"),
        ("dtype", "uint8"),
    ],
)
def test_keras_stage_that_would_spoil_normalize_is_refused(
    write: WriteConfig, key: str, value: str
) -> None:
    text = f"version: 1\n{key}: {value}\ntransforms:\n  - Normalize\n"
    problem = placed(write, text)
    assert problem.field == key and "transforms.0.Normalize" in problem.message
    assert problem.line == 2


def test_what_may_follow_a_range_step() -> None:
    """Samplewise statistics and a float dtype run on Normalize's output; rescale after
    FromFloat (bytes again) is Keras' own case."""
    pipe = confaug.load_pipeline(config("normalize", samplewise_center=True, dtype="float16"))
    out = pipe.apply_batch(inputs(np.uint8), seed=0)
    assert (
        out.dtype == np.float16 and np.abs(out.astype(np.float32).mean(axis=(1, 2, 3))).max() < 1e-2
    )
    keras = confaug.load_pipeline(config("to float, from float", rescale="1/255"))
    out = keras.apply_batch(inputs(np.uint8), seed=0)
    assert out.dtype == np.float32 and out.min() >= 0.0 and out.max() <= 1.0


def test_bytes_normalize_on_0_1_floats_warns_once() -> None:
    pipe = confaug.load_pipeline(config("normalize"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe(image=inputs(np.uint8)[0])
        pipe.apply_batch(inputs(np.uint8).astype(np.float32))
        assert not caught  # 0–255, bytes or floats: what max_pixel_value 255 is for
        pipe.apply_batch(inputs(np.float32))
        pipe(image=inputs(np.float32)[0])
    assert len(caught) == 1
    assert "transforms.2.Normalize" in str(caught[0].message)
    assert "run from 0 to 1:" in str(caught[0].message)
    assert "set max_pixel_value: 1 " in str(caught[0].message)
    quiet = confaug.load_pipeline(
        config("normalize", transforms=[{"Normalize": {"max_pixel_value": 1.0}}])
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet(image=inputs(np.float32)[0])
    assert not caught


def test_validate_says_ok(cli: Run, write: WriteConfig) -> None:
    path = write(
        "aug.yaml",
        "version: 1\nrotation_range: 10\ntransforms:\n  - Normalize\n  - HorizontalFlip\n",
    )
    code, out, _ = cli("validate", str(path))
    assert code == 0 and "ok" in out


def test_an_a_save_file_ending_in_normalize_gives_a_load_output(in_tmp: Path) -> None:
    compose = A.Compose(
        [A.HorizontalFlip(p=0.5), A.RandomBrightnessContrast(p=0.5), A.Normalize(p=1.0)]
    )
    A.save(compose, "albu.yaml", data_format="yaml")
    pipe, loaded = confaug.load_pipeline("albu.yaml"), A.load("albu.yaml", data_format="yaml")
    for seed in SEEDS:
        for image in inputs(np.uint8):
            np.testing.assert_array_equal(
                pipe(image=image, seed=seed)["image"], expected(loaded, image, seed)
            )


# ---- float data of 0–255 (and uint16): the Normalize sees the caller's values ---------------
def floats_255() -> np.ndarray:
    """What Keras' img_to_array and np.float32(PIL image) give: integer-valued 0–255 floats."""
    return inputs(np.uint8).astype(np.float32)


def test_normalize_of_float_0_255_data_is_albumentations_own() -> None:
    x = floats_255()
    normalize = A.Compose([A.Normalize()])
    want = np.stack([normalize(image=image)["image"] for image in x])
    assert want.min() < -1.5 and want.max() > 2.0  # normalized, not one value
    pipe = confaug.load_pipeline({"version": 1, "transforms": ["Normalize"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: this is what 255 is for
        for i, image in enumerate(x):
            np.testing.assert_array_equal(pipe(image=image)["image"], want[i])
        np.testing.assert_array_equal(pipe.apply_batch(x), want)
        flow = pipe.flow(x, batch_size=2, shuffle=False, workers=2)  # thread workers
        np.testing.assert_array_equal(np.concatenate([flow[0], flow[1]]), want)
        np.testing.assert_array_equal(pipe.apply_batch(x.astype(np.float64)), want)
    # pipe.compose is albumentations' own: called directly it normalizes raw values as is.
    np.testing.assert_array_equal(pipe.compose(image=x[0])["image"], want[0])


def test_steps_before_normalize_see_0_1_and_normalize_the_callers_values() -> None:
    """A flip moves values: the output is albumentations' on the raw floats, bit for bit.
    Brightness and contrast clip floats to [0, 1] in albumentations: they still see [0, 1]
    (on raw 0–255 floats albumentations would clip everything to 1)."""
    x = floats_255()
    flip = confaug.load_pipeline({"version": 1, "transforms": ["HorizontalFlip", "Normalize"]})
    want = A.Compose([A.HorizontalFlip(), A.Normalize()])
    for seed in SEEDS:
        for image in x:
            got = flip(image=image, seed=seed)["image"]
            np.testing.assert_array_equal(got, expected(want, image, seed))
    pipe = confaug.load_pipeline(config("normalize"))
    on_0_1 = A.Compose(
        [
            A.HorizontalFlip(p=0.5),
            A.RandomBrightnessContrast(p=0.5),
            A.Normalize(max_pixel_value=1.0),
            A.VerticalFlip(p=0.5),
        ]
    )
    brightened = 0
    for seed in SEEDS:
        for image in x:
            got = pipe(image=image, seed=seed)["image"]
            reference = expected(on_0_1, image / np.float32(255), seed)
            np.testing.assert_allclose(got, reference, rtol=1e-6, atol=2e-6)
            # and as the same bytes give (up to the bytes' own rounding in brightness)
            as_bytes = pipe(image=image.astype(np.uint8), seed=seed)["image"]
            np.testing.assert_allclose(got, as_bytes, atol=0.03)
            brightened += not np.allclose(got, flip(image=image, seed=seed)["image"])
    assert brightened


def test_the_callers_values_per_thread_and_per_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two threads on one pipeline: one pauses inside its Normalize while the other augments
    a sample of another range start to end; each Normalize still gets its own sample's
    values (the scale is the call's, not the pipeline's)."""
    from confaug.compiler.values import OnInputValues

    pipe = confaug.load_pipeline({"version": 1, "transforms": ["Normalize"]})
    normalize = A.Compose([A.Normalize()])
    samples = {"paused": floats_255()[0], "other": inputs(np.float32)[0]}  # 0–255 and [0, 1]
    paused, other_done = threading.Event(), threading.Event()
    original = OnInputValues.__call__

    def pausing(self: OnInputValues, img: np.ndarray, **params: Any) -> np.ndarray:
        if threading.current_thread().name == "paused":
            paused.set()
            assert other_done.wait(60)
        return original(self, img, **params)

    monkeypatch.setattr(OnInputValues, "__call__", pausing)
    results: dict[str, np.ndarray] = {}

    def run() -> None:
        name = threading.current_thread().name
        if name == "other":
            assert paused.wait(60)  # the other thread is inside its call
        results[name] = pipe(image=samples[name])["image"]
        if name == "other":
            other_done.set()

    threads = [threading.Thread(target=run, name=name) for name in ("paused", "other")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for name, image in samples.items():
        np.testing.assert_array_equal(results[name], normalize(image=image)["image"])
    # and on the owner's thread, both kinds in turn
    for image in samples.values():
        np.testing.assert_array_equal(pipe(image=image)["image"], normalize(image=image)["image"])


def test_a_pickled_or_copied_pipeline_keeps_it() -> None:
    import copy
    import pickle

    x = floats_255()
    pipe = confaug.load_pipeline({"version": 1, "transforms": ["Normalize"]})
    want = pipe.apply_batch(x)
    for again in (pickle.loads(pickle.dumps(pipe)), copy.deepcopy(pipe)):
        np.testing.assert_array_equal(again.apply_batch(x), want)
    compose = pickle.loads(pickle.dumps(pipe.compose))
    np.testing.assert_array_equal(compose(image=x[0])["image"], want[0])


def test_uint16_data_meets_normalize_as_albumentations_gives_it() -> None:
    x = (inputs(np.uint8).astype(np.uint16) * 257).astype(np.uint16)
    pipe = confaug.load_pipeline(
        {"version": 1, "transforms": [{"Normalize": {"max_pixel_value": 65535}}]}
    )
    reference = A.Normalize(max_pixel_value=65535)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = pipe.apply_batch(x)
    for i, image in enumerate(x):
        np.testing.assert_array_equal(got[i], reference(image=image)["image"])
    bytes_scaled = confaug.load_pipeline({"version": 1, "transforms": ["Normalize"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = bytes_scaled(image=x[0])["image"]
    np.testing.assert_array_equal(out, A.Normalize()(image=x[0])["image"])
    assert len(caught) == 1 and "max_pixel_value: 65535" in str(caught[0].message)


def test_to_float_and_from_float_of_float_0_255_data() -> None:
    """albumentations' ToFloat hands float images back as they are (its max_value is for
    integer dtypes); confaug's gives the [0, 1] form, as ToFloat gives for the same bytes, and
    FromFloat gives the bytes back."""
    x = floats_255()
    to_float = confaug.load_pipeline({"version": 1, "transforms": ["ToFloat"]})
    bytes_ = x.astype(np.uint8)
    want = np.stack([A.ToFloat()(image=image)["image"] for image in bytes_])
    np.testing.assert_array_equal(to_float.apply_batch(x), want)
    np.testing.assert_array_equal(to_float.flow(x, batch_size=4, shuffle=False)[0], want)
    round_trip = confaug.load_pipeline(
        {"version": 1, "transforms": ["ToFloat", {"FromFloat": {"dtype": "uint8"}}]}
    )
    for pipe in (round_trip, confaug.load_pipeline({"version": 1, "transforms": ["FromFloat"]})):
        out = pipe.apply_batch(x)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, bytes_)
        np.testing.assert_array_equal(pipe(image=x[0])["image"], bytes_[0])


def test_normalize_then_to_float_only_the_first_sees_the_callers_values() -> None:
    """Only the first range step meets the input; a Normalize after ToFloat gets ToFloat's
    [0, 1] output, whatever the input was (as for bytes in albumentations)."""
    steps = ["ToFloat", {"Normalize": {"max_pixel_value": 1.0}}]
    pipe = confaug.load_pipeline({"version": 1, "transforms": steps})
    reference = A.Compose([A.ToFloat(), A.Normalize(max_pixel_value=1.0)])
    x = floats_255()
    for i, image in enumerate(pipe.apply_batch(x)):
        np.testing.assert_array_equal(image, reference(image=x[i].astype(np.uint8))["image"])


def test_a_value_range_not_from_0_with_a_bytes_normalize_is_refused(write: WriteConfig) -> None:
    text = "version: 1\nvalue_range: [-1, 1]\ntransforms:\n  - Normalize\n"
    problem = placed(write, text)
    assert problem.field == "value_range" and problem.line == 2
    assert "max_pixel_value 255" in problem.message and "[-1, 1]" in problem.message
    assert problem.hint is not None and "max_pixel_value to 1" in problem.hint
    x = inputs(np.float32) * 2 - 1  # data in [-1, 1]
    for steps, reference, w in (
        ([{"Normalize": {"max_pixel_value": 1}}], A.Normalize(max_pixel_value=1), (x + 1) / 2),
        ([{"Normalize": {"normalization": "image"}}], A.Normalize(normalization="image"), x),
    ):
        pipe = confaug.load_pipeline({"version": 1, "value_range": [-1, 1], "transforms": steps})
        got = pipe.apply_batch(x)
        for i, image in enumerate(w.astype(np.float32)):
            np.testing.assert_allclose(got[i], reference(image=image)["image"], atol=1e-5)


def test_to_float_of_uint16_data_divides_the_callers_integers_by_max_value() -> None:
    """12-bit data in uint16 with ToFloat(max_value=4095): albumentations' [0, 1], not
    1/16 of it (steps see uint16 as x / 65535)."""
    x = (inputs(np.uint8).astype(np.uint16) * 16).astype(np.uint16)  # 0..4080
    for params in ({"max_value": 4095}, {}):
        steps = [{"HorizontalFlip": {"p": 1}}, {"ToFloat": params}]
        pipe = confaug.load_pipeline({"version": 1, "transforms": steps})
        reference = A.Compose([A.HorizontalFlip(p=1), A.ToFloat(**params)])
        want = np.stack([reference(image=image)["image"] for image in x])
        np.testing.assert_array_equal(pipe.apply_batch(x), want)
        np.testing.assert_array_equal(pipe(image=x[0])["image"], want[0])  # (flow: no uint16)
    assert want.max() < 0.07  # max_value 65535 by default: as albumentations gives it
