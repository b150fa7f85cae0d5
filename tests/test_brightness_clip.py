"""The clip after Keras' brightness is as light as the values allow, and never lighter.

When a pipeline found its images' range from their values (``value_range: auto``) and the
warp cannot leave the input's range (nearest or bilinear; a constant fill within 0–255),
a brightness factor at most 1 cannot carry a value out of [0, top], and a larger one can
only carry it over the top: the clip is skipped, or is a truncation at the top. A fixed
``value_range`` (values the pipeline never looked at), cubic kernels and fills out of range
keep the full clip. Every path gives the same values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import confaug
from confaug.idg import warp
from confaug.seeding import sample_seed
from tests.helpers import count_calls

GEOMETRY: dict[str, Any] = {"rotation_range": 20, "zoom_range": 0.2, "horizontal_flip": True}


def _floats(count: int = 6, size: int = 30, top: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.uniform(0, 1, (count, size, size, 3)) * top).astype(np.float32)


def _counts(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    return count_calls(monkeypatch, warp.np, "clip"), count_calls(
        monkeypatch, warp.cv2, "threshold"
    )


@pytest.mark.parametrize("top", [1.0, 255.0])
def test_darkening_needs_no_clip_and_brightening_a_truncation(
    monkeypatch: pytest.MonkeyPatch, top: float
) -> None:
    x = _floats(top=top)
    darker = confaug.load_pipeline({**GEOMETRY, "brightness_range": [0.4, 0.9]})
    brighter = confaug.load_pipeline({**GEOMETRY, "brightness_range": [1.2, 1.6]})
    clips, truncations = _counts(monkeypatch)
    dark = darker.apply_batch(x, seed=1)
    assert (clips.value, truncations.value) == (0, 0)
    bright = brighter.apply_batch(x, seed=1)
    assert clips.value == 0 and truncations.value >= 1
    assert float(dark.min()) >= 0.0 and float(dark.max()) <= top * 0.9
    assert float(bright.max()) == top and float(bright.min()) >= 0.0


@pytest.mark.parametrize(
    "spec",
    [
        {"value_range": [0, 1]},  # a range the pipeline was told, not one it found
        {"interpolation_order": 3},  # cubic kernels overshoot
        {"fill_mode": "constant", "cval": 400},  # a fill above the top
    ],
    ids=["fixed range", "cubic", "fill above 255"],
)
def test_values_the_pipeline_cannot_vouch_for_are_clipped_in_full(
    monkeypatch: pytest.MonkeyPatch, spec: dict[str, Any]
) -> None:
    x = _floats()
    if "value_range" in spec:
        x[:, 5:9, 5:9] = 1.3  # beyond the range it was told: the clip has work to do
    else:  # sharp edges, which cubic kernels overshoot
        x[:, :, ::2] = 1.0
        x[:, :, 1::2] = 0.0
    pipe = confaug.load_pipeline({**GEOMETRY, "brightness_range": [0.92, 0.98], **spec})
    clips, _ = _counts(monkeypatch)
    out = pipe.apply_batch(x, seed=3)
    assert clips.value >= 1
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("brightness", [[0.5, 0.99], [0.9, 1.4]])
@pytest.mark.parametrize("fill", [{}, {"fill_mode": "constant", "cval": 200}])
def test_the_light_clip_gives_the_full_clips_values_on_every_path(
    brightness: list[float], fill: dict[str, Any]
) -> None:
    spec = {**GEOMETRY, "brightness_range": brightness, **fill}
    pipe = confaug.load_pipeline(spec)
    x = _floats(count=5)
    x[:, 0, :] = 1.0  # values at the top, which a bilinear sum may pass by a rounding step
    batch = pipe.apply_batch(x, seed=9)
    step = pipe.compose.transforms[0]
    for index, image in enumerate(x):
        params = step.sampler.sample(np.random.default_rng(sample_seed(9, index)), 30, 30)
        full = warp.apply_params(
            image,
            params,
            fill_mode=step.fill_mode,
            cval=step.cval,
            interpolation_order=step.interpolation_order,
        )  # checked=False: the full clip
        assert np.array_equal(batch[index], np.clip(full, 0.0, 1.0))
        one = pipe(image=image, seed=sample_seed(9, index))["image"]
        assert np.array_equal(one, batch[index])


def test_the_truncation_touches_only_values_above_the_top() -> None:
    values = np.array([[0.0, 0.5, 1.0, 1.0000001, 1.7, 250.0]], np.float32)
    truncated = values.copy()
    warp.clip_brightened(truncated, np.array([1.2]), 1.0, kept=True)
    assert np.array_equal(truncated, np.minimum(values, 1.0))
    untouched = values[:, :3].copy()
    warp.clip_brightened(untouched, 0.8, 1.0, kept=True)
    assert np.array_equal(untouched, values[:, :3])
    below = np.array([[-0.5, 0.5, 2.0]], np.float32)  # a negative factor: the full clip
    warp.clip_brightened(below, np.array([-1.0, 1.0]), 1.0, kept=True)
    assert below.tolist() == [[0.0, 0.5, 1.0]]


def test_a_pickled_pipeline_keeps_the_same_clip() -> None:
    import pickle

    pipe = confaug.load_pipeline({**GEOMETRY, "brightness_range": [0.5, 1.5]})
    copy = pickle.loads(pickle.dumps(pipe))
    assert copy._values_checked and copy._batch is not None and copy._batch.values_checked
    # Bounds a caller gives are not trusted to lighten the clip (they may be wrong), nor is
    # a range a config fixes.
    ranged = pickle.loads(pickle.dumps(pipe.for_value_bounds(0.0, 1.0)))
    told = pickle.loads(pickle.dumps(confaug.load_pipeline({**GEOMETRY, "value_range": [0, 1]})))
    assert not ranged._values_checked and not told._values_checked
    x = _floats()
    assert np.array_equal(copy.apply_batch(x, seed=2), pipe.apply_batch(x, seed=2))
