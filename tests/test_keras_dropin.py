"""``confaug.keras.ImageDataGenerator`` against the real Keras legacy ImageDataGenerator."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "numpy")
legacy = pytest.importorskip(
    "keras.src.legacy.preprocessing.image",
    reason="Keras 3 (with jax or numpy as backend) is needed to compare with the real generator",
)

from confaug.keras import ImageDataGenerator  # noqa: E402
from tests.helpers import seed_keywords  # noqa: E402

pytestmark = [
    pytest.mark.keras,
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

SEED_KEYWORDS = seed_keywords()


def _smooth_image(seed: int, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (6, 6, 3)).astype(np.float32)
    import cv2

    return cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 255)


def test_same_parameters_give_the_same_image_as_keras() -> None:
    ours = ImageDataGenerator(**SEED_KEYWORDS)
    theirs = legacy.ImageDataGenerator(**SEED_KEYWORDS)
    for seed in range(5):
        image = _smooth_image(seed)
        params = theirs.get_random_transform(image.shape, seed=seed)
        params["brightness"] = None  # Keras quantizes brightness through 8-bit PIL
        expected = theirs.apply_transform(image, params)
        got = ours.apply_transform(image, params)
        assert got.shape == expected.shape and got.dtype == np.float32
        interior = (slice(4, -4), slice(4, -4))
        assert np.abs(got[interior] - expected[interior]).mean() < 0.05


def test_random_draws_have_keras_keys_and_are_seeded() -> None:
    ours = ImageDataGenerator(**SEED_KEYWORDS)
    theirs = legacy.ImageDataGenerator(**SEED_KEYWORDS)
    draw = ours.get_random_transform((48, 48, 3), seed=3)
    assert set(draw) == set(theirs.get_random_transform((48, 48, 3), seed=3))
    assert draw == ours.get_random_transform((48, 48, 3), seed=3)
    assert -15 <= draw["theta"] <= 15 and 0.9 <= draw["zx"] <= 1.25


def test_fit_and_standardize_match_keras() -> None:
    keywords = dict(featurewise_center=True, featurewise_std_normalization=True, rescale=1 / 255)
    ours = ImageDataGenerator(**keywords)
    theirs = legacy.ImageDataGenerator(**keywords)
    data = np.stack([_smooth_image(i, 16) for i in range(12)])
    ours.fit(data)
    theirs.fit(data)
    np.testing.assert_allclose(ours.mean.reshape(-1), theirs.mean.reshape(-1), rtol=1e-4)
    np.testing.assert_allclose(ours.std.reshape(-1), theirs.std.reshape(-1), rtol=1e-4)
    sample = data[:3].copy()
    np.testing.assert_allclose(
        ours.standardize(sample.copy()), theirs.standardize(sample.copy()), rtol=1e-4, atol=1e-4
    )


def test_to_yaml_exports_the_keywords() -> None:
    import yaml

    exported = yaml.safe_load(ImageDataGenerator(**SEED_KEYWORDS).to_yaml())
    for key, value in SEED_KEYWORDS.items():
        assert exported[key] == value


def test_invalid_keyword_value_is_a_config_error() -> None:
    import confaug

    with pytest.raises(confaug.ConfigError, match="zoom_range"):
        ImageDataGenerator(zoom_range=[1.5, 0.5])
    with pytest.raises(confaug.ConfigError, match="rotation_range"):
        ImageDataGenerator(rotaton_range=10)


def _seed_snippet_output(generator_class: type) -> tuple[np.ndarray, np.ndarray]:
    """The seed's create_aug_gen, verbatim but for the class, on random [0, 1] batches."""
    image_gen = generator_class(**SEED_KEYWORDS)

    def create_aug_gen(in_gen):
        for in_x, in_y in in_gen:
            g_x = image_gen.flow(255 * in_x, in_y, batch_size=in_x.shape[0])
            x, y = next(g_x)
            yield x / 255.0, y

    def generator():
        rng = np.random.default_rng(0)
        while True:
            x = rng.random((4, 96, 96, 3), dtype=np.float32)
            y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 4)]
            yield x, y

    return next(create_aug_gen(generator()))


def test_seed_snippet_prints_the_same_shapes_dtypes_and_ranges_as_keras() -> None:
    ours_x, ours_y = _seed_snippet_output(ImageDataGenerator)
    np.random.seed(0)  # Keras draws from NumPy's global generator
    keras_x, keras_y = _seed_snippet_output(legacy.ImageDataGenerator)
    assert ours_x.shape == keras_x.shape == (4, 96, 96, 3)
    assert ours_x.dtype == keras_x.dtype == np.float32
    assert ours_y.shape == keras_y.shape and ours_y.dtype == keras_y.dtype
    # Brightness is drawn from [0.5, 1.5] on uniform [0, 1] data: the maximum lies in
    # [0.5, 1] (clipped at 1), the minimum near 0, for Keras and confaug alike.
    for x in (ours_x, keras_x):
        assert 0.0 <= x.min() < 0.05 and 0.45 < x.max() <= 1.0
    assert ours_y.min() == keras_y.min() == 0.0 and ours_y.max() == keras_y.max() == 1.0


def test_save_to_dir_writes_each_augmented_image(tmp_path) -> None:
    import cv2

    generator = ImageDataGenerator(horizontal_flip=True)
    x = np.stack([_smooth_image(i, 16) for i in range(5)])
    flow = generator.flow(
        x,
        np.arange(5),
        batch_size=2,
        shuffle=False,
        seed=1,
        save_to_dir=tmp_path / "out",
        save_prefix="aug",
        save_format="png",
    )
    assert len(flow) == 3
    batch_x, batch_y = next(flow)
    assert list(batch_y) == [0, 1]
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["aug_e0_b0_0.png", "aug_e0_b0_1.png"]
    saved = cv2.imread(str(tmp_path / "out" / "aug_e0_b0_1.png"))[..., ::-1].astype(float)
    expected = batch_x[1] - batch_x[1].min()
    expected *= 255 / expected.max()
    assert np.abs(saved - expected).max() <= 1.0
    with pytest.raises(ValueError, match="save_format"):
        generator.flow(x, save_to_dir=tmp_path, save_format="gif")


def test_preprocessing_functions_are_never_confused_by_name() -> None:
    def make(offset: float):
        def pre(x):
            return x + offset

        return pre

    first = ImageDataGenerator(preprocessing_function=make(1.0))
    second = ImageDataGenerator(preprocessing_function=make(2.0))
    anonymous = ImageDataGenerator(preprocessing_function=lambda x: x * 3)
    ones = np.ones((1, 2, 2, 3), np.float32)
    assert first.standardize(ones.copy()).max() == 2.0
    assert second.standardize(ones.copy()).max() == 3.0
    assert anonymous.standardize(ones.copy()).max() == 3.0
    assert first.spec.preprocessing_function != second.spec.preprocessing_function


def test_importing_the_dropin_does_not_import_keras() -> None:
    import subprocess
    import sys

    code = "import sys, confaug.keras; print('keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_without_keras_the_iterators_keep_keras_api(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import confaug.keras as dropin
    import confaug.keras.iterators as iterators

    monkeypatch.delitem(iterators.__dict__, "KerasPyDatasetIterator", raising=False)
    monkeypatch.setitem(sys.modules, "keras", None)  # import keras raises ImportError
    x = np.stack([_smooth_image(i, 8) for i in range(5)])
    flow = ImageDataGenerator(horizontal_flip=True).flow(
        x, np.arange(5), batch_size=2, shuffle=False
    )
    assert type(flow) is dropin.KerasIterator
    assert len(flow) == 3 and flow.n == 5 and iter(flow) is flow
    assert [next(flow)[1].tolist() for _ in range(4)] == [[0, 1], [2, 3], [4], [0, 1]]
    assert flow[2][1].tolist() == [4]


def test_next_is_safe_from_several_threads() -> None:
    """Keras' iterators take next() from any thread; a bare generator would raise."""
    import threading

    x = np.stack([_smooth_image(i, 8) for i in range(16)])
    flow = ImageDataGenerator(rotation_range=10).flow(x, np.arange(16), batch_size=4, seed=0)
    seen: list[int] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            for _ in range(8):
                seen.extend(next(flow)[1].tolist())
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(seen) == sorted(list(range(16)) * 8)  # 32 batches = 8 epochs, each once


class _Watched:
    """A generator whose ``[i]`` records how many hold OpenCV at one thread (and its thread
    count) while the batch is made; it fails for index 1, to see the pin given back."""

    def __init__(self, generator: object) -> None:
        self.generator = generator
        self.seen: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self.generator)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> object:
        import cv2

        from confaug import opencv_threads

        self.seen.append((opencv_threads.holders(), cv2.getNumThreads()))
        if index == 1:
            raise RuntimeError("a batch that fails")
        return self.generator[index]  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "pinned"),
    [({"workers": 2}, True), ({}, False), ({"workers": 2, "use_multiprocessing": True}, False)],
)
def test_keras_threads_hold_opencv_at_one_thread_while_a_batch_is_made(
    options: dict[str, object], pinned: bool
) -> None:
    import cv2

    from confaug import opencv_threads

    x = np.stack([_smooth_image(i, 8) for i in range(6)])
    flow = ImageDataGenerator(rotation_range=10).flow(x, batch_size=2, **options)
    watched = flow._generator = _Watched(flow._generator)
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        assert flow[0].shape == (2, 8, 8, 3)
        with pytest.raises(RuntimeError):
            flow[1]
        assert flow[2].shape == (2, 8, 8, 3)
        assert opencv_threads.holders() == 0 and cv2.getNumThreads() == 2  # given back
    finally:
        cv2.setNumThreads(before)
    expected = (1, 1) if pinned else (0, 2)
    assert watched.seen == [expected] * 3


@pytest.mark.parametrize(
    "name",
    [
        "ImageDataGenerator.flow",
        "ImageDataGenerator.flow_from_directory",
        "ImageDataGenerator.flow_from_dataframe",
        "NumpyArrayIterator",
        "DirectoryIterator",
        "DataFrameIterator",
    ],
)
def test_signatures_are_keras_own_with_every_keyword_shown(name: str) -> None:
    """Written once (the methods are the flow functions, bound): each Keras parameter in
    Keras' order, kind and default, then confaug's ``**options``; ``help()`` shows them."""
    import inspect
    import pydoc

    import confaug.keras as dropin

    def find(module: object) -> object:
        found = module
        for part in name.split("."):
            found = getattr(found, part)
        return found

    ours = inspect.signature(find(dropin)).parameters  # type: ignore[arg-type]
    theirs = inspect.signature(find(legacy)).parameters  # type: ignore[arg-type]
    var_keyword = inspect.Parameter.VAR_KEYWORD
    keras = [(p.name, p.kind, p.default) for p in theirs.values() if p.kind is not var_keyword]
    extra = ["keep_aspect_ratio"] if name.endswith("flow_from_dataframe") else []
    shown = [(p.name, p.kind, p.default) for p in ours.values() if p.name not in extra]
    assert shown == [*keras, ("options", var_keyword, inspect.Parameter.empty)]
    text = pydoc.render_doc(find(dropin), renderer=pydoc.plaintext)
    assert all(str(p) in text for p in ours.values())  # "batch_size: int = 32", ...
