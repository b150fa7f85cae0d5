"""``Pipeline``: a compiled spec that augments samples and batches."""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from confaug.compiler.build import build_compose
from confaug.compiler.targets import Targets
from confaug.compiler.values import Scale, from_working, infer_scale, to_working
from confaug.errors import ConfigError, DataError
from confaug.idg.standardize import Standardizer
from confaug.seeding import resolve_seed, sample_seed
from confaug.spec.model import Spec

if TYPE_CHECKING:
    from confaug.batching.generator import BatchGenerator


_INFER = object()  # infer the value range from the image itself


def _seed_compose(compose: Any, seed: int) -> None:
    # One generator shared by all steps: albumentations' own set_random_seed gives every
    # step an identical stream, so e.g. two p=0.5 flips would always fire together.
    compose.set_random_state(np.random.default_rng(seed), random.Random(seed))


def _standardizer(spec: Spec, function: Callable[..., Any] | None, stats: Any) -> Standardizer:
    standardizer = Standardizer.from_spec(spec, function)
    if stats is not None:
        standardizer.load_state(stats)
    return standardizer


class Pipeline:
    """A compiled augmentation spec.

    ``pipe(image=..., mask=...)`` augments one sample like an albumentations ``Compose``
    (images in the spec's ``data_format``; dtype and value range kept).
    ``pipe.apply_batch(x)`` augments a batch and runs the Keras standardization stage.
    """

    def __init__(self, spec: Spec) -> None:
        self._setup(spec, self._resolve_function(spec), stats=None)

    def _setup(self, spec: Spec, function: Callable[..., Any] | None, stats: Any) -> None:
        self.spec: Spec = spec
        self.compose: Any = build_compose(spec)
        self._channels_first = spec.data_format == "channels_first"
        self._targets = Targets(spec, self.compose)  # decided once, not per sample
        self._function = function
        self.standardizer = _standardizer(spec, function, stats)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._calls = 0
        self._owner = threading.get_ident()
        # Other threads work on their own copy; their streams derive from this base.
        self._thread_base = resolve_seed(spec.seed)
        if spec.seed is not None:
            _seed_compose(self.compose, spec.seed)

    @property
    def data_format(self) -> str:
        """``channels_last`` (HWC / NHWC) or ``channels_first`` (CHW / NCHW)."""
        return self.spec.data_format

    @property
    def validation_split(self) -> float:
        """Fraction held out for ``subset="validation"`` by directory and table sources."""
        return self.spec.validation_split

    @staticmethod
    def _resolve_function(spec: Spec) -> Callable[..., Any] | None:
        if spec.preprocessing_function is None:
            return None
        from confaug.registry import lookup

        function = lookup(spec.preprocessing_function)
        if function is None:
            raise ConfigError.single(
                f"no function is registered as '{spec.preprocessing_function}'",
                field="preprocessing_function",
            )
        return function

    # ---- one sample -------------------------------------------------------------------
    def _thread_compose(self) -> Any:
        if threading.get_ident() == self._owner:
            return self.compose
        compose = getattr(self._local, "compose", None)
        if compose is None:
            compose = copy.deepcopy(self.compose)
            with self._lock:
                self._calls += 1
                salt = self._calls
            _seed_compose(compose, sample_seed(self._thread_base, salt))
            self._local.compose = compose
        return compose

    def __call__(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        """Augment one sample. ``seed`` makes the result a pure function of the seed."""
        return self._augment(data, seed, _INFER)

    def _augment(
        self, data: dict[str, Any], seed: int | None, batch_scale: Scale | object | None
    ) -> dict[str, Any]:
        """One sample; ``batch_scale`` is its batch's value range, or ``_INFER`` (its own)."""
        self._targets.check(data)
        compose = self._thread_compose()
        if seed is not None:
            _seed_compose(compose, seed)
        image = data.get("image")
        if image is None:
            return self._targets.run(compose, data)
        image = np.asarray(image)
        if image.ndim not in (2, 3):
            raise DataError(f"image: expected a 2-D or 3-D array, got shape {image.shape}")
        if self._channels_first:
            data = self._to_hwc(data)
            image = data["image"]
        if batch_scale is _INFER:
            scale = infer_scale(image, self.spec.value_range, where="image")
        else:
            scale = batch_scale  # type: ignore[assignment]
        data["image"] = to_working(image, scale)
        for key in self._targets.extra_images:
            if key in data:
                data[key] = to_working(np.asarray(data[key]), scale)
        added = self._targets.fill_absent(data)
        out = self._targets.run(compose, data)
        for key in added:
            out.pop(key, None)
        out["image"] = from_working(out["image"], scale)
        for key in self._targets.extra_images:
            if key in out:
                out[key] = from_working(out[key], scale)
        if self._channels_first:
            out = self._to_chw(out)
        return out

    def _to_hwc(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        for key, value in data.items():
            if self._is_pixels(key) and isinstance(value, np.ndarray) and value.ndim == 3:
                data[key] = np.ascontiguousarray(np.moveaxis(value, 0, -1))
        return data

    def _to_chw(self, data: dict[str, Any]) -> dict[str, Any]:
        for key, value in data.items():
            if self._is_pixels(key) and isinstance(value, np.ndarray) and value.ndim == 3:
                data[key] = np.ascontiguousarray(np.moveaxis(value, -1, 0))
        return data

    def _is_pixels(self, key: str) -> bool:
        kind = self.spec.additional_targets.get(key, key)
        return kind in ("image", "mask")

    # ---- batches ----------------------------------------------------------------------
    def apply_batch(
        self, x: np.ndarray, seed: int | None = None, *, standardize: bool = True
    ) -> np.ndarray:
        """Augment every image of a batch (NHWC or NCHW, per the spec) and standardize it.

        With ``seed``, image ``i`` gets the seed ``sample_seed(seed, i)``: the result does
        not depend on what ran before.
        """
        batch = np.asarray(x)
        expected = 4
        if batch.ndim == 3 and not self._channels_first:
            batch = batch[..., None]  # NHW grayscale
            squeeze = True
        else:
            squeeze = False
        if batch.ndim != expected:
            raise DataError(
                f"x: expected a batch of rank 4 ({self.spec.data_format}), got shape {batch.shape}"
            )
        # One value range for the whole batch: a dark 0–255 image must not pass for [0, 1].
        scale = infer_scale(batch, self.spec.value_range, where="x")
        out = []
        for i, image in enumerate(batch):
            try:
                sample_seed_i = None if seed is None else sample_seed(seed, i)
                out.append(self._augment({"image": image}, sample_seed_i, scale)["image"])
            except DataError as err:
                raise DataError(f"x[{i}]: {err}") from err
        result = np.stack(out) if out else batch.copy()
        if squeeze:
            result = result[..., 0]
        return self.standardize(result) if standardize else result

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        """Keras' post-augmentation stage on a batch: function, rescale, statistics, dtype.

        Without any of them the batch is returned as it is (dtype and range kept).
        """
        return self.standardizer(batch, channels_first=self._channels_first, dtype=self.spec.dtype)

    def fit(
        self, x: np.ndarray, augment: bool = False, rounds: int = 1, seed: int | None = None
    ) -> Pipeline:
        """Compute featurewise mean / std / ZCA from sample data ``x`` (as Keras' ``fit``)."""
        data = np.asarray(x)
        if augment:
            base = 0 if seed is None else seed
            data = np.concatenate(
                [
                    self.apply_batch(data, seed=sample_seed(base, r), standardize=False)
                    for r in range(rounds)
                ]
            )
        self.standardizer.fit(data, channels_first=self._channels_first)
        return self

    # ---- data sources -----------------------------------------------------------------
    def flow(
        self, x: Any, y: Any = None, sample_weight: Any = None, **options: Any
    ) -> BatchGenerator:
        """Batches from in-memory arrays, as Keras' ``flow``."""
        # Upward on purpose (ARCHITECTURE.md): users hold the pipeline; it offers generators.
        from confaug.batching.factory import flow

        return flow(self, x, y, sample_weight, **options)

    def flow_from_directory(self, directory: Any, **options: Any) -> BatchGenerator:
        """Batches from a folder of class subfolders, as Keras' ``flow_from_directory``."""
        # Upward on purpose (ARCHITECTURE.md): users hold the pipeline; it offers generators.
        from confaug.batching.factory import flow_from_directory

        return flow_from_directory(self, directory, **options)

    def flow_from_dataframe(self, dataframe: Any, **options: Any) -> BatchGenerator:
        """Batches from a pandas DataFrame or a CSV file, as Keras' ``flow_from_dataframe``."""
        # Upward on purpose (ARCHITECTURE.md): users hold the pipeline; it offers generators.
        from confaug.batching.factory import flow_from_dataframe

        return flow_from_dataframe(self, dataframe, **options)

    def wrap(self, batches: Iterable[Any], **options: Any) -> Any:
        """Augment an existing iterable of ``(x, y)`` batches on the fly."""
        # Upward on purpose (ARCHITECTURE.md): users hold the pipeline; it offers generators.
        from confaug.batching.factory import wrap

        return wrap(self, batches, **options)

    # ---- sharing ----------------------------------------------------------------------
    def to_yaml(self) -> str:
        """The spec as YAML; ``load_spec`` of it equals ``self.spec``."""
        return self.spec.to_yaml()

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "function": self._function, "stats": self.standardizer.state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._setup(state["spec"], state["function"], state["stats"])

    def __repr__(self) -> str:
        names = [type(t).__name__ for t in self.compose.transforms]
        return f"Pipeline({', '.join(names) or 'identity'})"
