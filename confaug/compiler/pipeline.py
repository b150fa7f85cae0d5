"""``Pipeline``: a compiled spec that augments samples and batches."""

from __future__ import annotations

import contextlib
import copy
import functools
import random
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from confaug._albu import albumentations
from confaug.compiler.batch_path import BatchPath
from confaug.compiler.build import build_compose, output_step, range_steps, see_input_values
from confaug.compiler.range_bits import warn_if_just_above_one
from confaug.compiler.targets import Targets
from confaug.compiler.values import (
    CHANNEL_COUNTS,
    OWN_UNITS_TOP,
    Scale,
    check_one_kind,
    from_own_units,
    in_own_units,
    infer_scale,
    input_scale,
    pil_image_array,
    to_output,
    to_own_units,
    to_working,
)
from confaug.errors import ConfigError, DataError
from confaug.idg.standardize import Standardizer, check_zca_rounds, check_zca_size
from confaug.idg.warp import floats_up_to
from confaug.opencv_threads import STRIPED_WARPS, pinned_if_safe
from confaug.seeding import resolve_seed, sample_seed
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec

if TYPE_CHECKING:
    from confaug.batching import factory as _factory


_INFER = object()  # infer the value range from the image itself
_MASK_KEYS = ("mask",)  # besides additional targets of kind mask or image


@functools.cache
def _sample_failures() -> tuple[type[BaseException], ...]:
    """What albumentations and OpenCV raise for a sample they cannot work on (too small for a
    crop, sizes that disagree, no pixels, too large for memory): a valid config fails only
    so on data, so these are the data's errors (:class:`DataError`), not the pipeline's."""
    import cv2

    crops = getattr(getattr(albumentations().augmentations, "crops", None), "transforms", None)
    crop_size = getattr(crops, "CropSizeError", None)
    extra = (crop_size,) if isinstance(crop_size, type) else ()
    return (ValueError, MemoryError, cv2.error, *extra)


def _shapes(data: dict[str, Any]) -> str:
    return ", ".join(
        f"{key} {np.shape(value)}" for key, value in data.items() if isinstance(value, np.ndarray)
    )


def _seed_compose(compose: Any, seed: int) -> None:
    # One generator shared by all steps: albumentations' own set_random_seed gives every
    # step an identical stream, so e.g. two p=0.5 flips would always fire together.
    compose.set_random_state(np.random.default_rng(seed), random.Random(seed))


def _standardizer(spec: Spec, function: Callable[..., Any] | None, stats: Any) -> Standardizer:
    standardizer = Standardizer.from_spec(spec, function)
    if stats is not None:
        standardizer.load_state(stats)
    return standardizer


class _Generators:
    """A ``Pipeline`` method that is a ``batching.factory`` function: ``pipe.flow`` is
    ``factory.flow`` bound to ``pipe`` (a real bound method, so ``help()`` shows the
    factory's signature and docstring), ``Pipeline.flow`` the function itself."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, pipeline: Pipeline | None, owner: type | None = None) -> Any:
        # Upward on purpose (ARCHITECTURE.md): users hold the pipeline; it offers the
        # generators. Imported on first use, so compiling never imports batching.
        from confaug.batching import factory

        function = getattr(factory, self.name)
        return function if pipeline is None else types.MethodType(function, pipeline)


#: The keys one of which every sample must hold for albumentations to have pixels to work on.
_IMAGE_KEYS = frozenset({"image", "images", "volume", "volumes"})


def other_layout(
    shape: tuple[int, ...], channels_first: bool, *, hint: str | None = None
) -> str | None:
    """The words for an image (rank 3) or a batch (rank 4) of ``shape`` that is in the other
    layout than ``channels_first`` says, else None.

    ``flow``'s and ``wrap``'s rule (1, 3 or 4 channels on the data_format's axis), where
    the other layout's channel axis keeps it: a CHW ``(3, 32, 32)`` image handed to a
    ``channels_last`` pipeline (torchvision's layout) was read as 3 rows of 32 pixels with
    32 channels — a horizontal flip became a vertical one, without a word. An image whose
    channels fit neither layout (32×32 with 5 channels) is a many-channel image and is
    taken as it is, as ``apply_batch`` and the row adapters always took it. ``hint``
    replaces the default one (is data_format right?)."""
    start = len(shape) - 3
    axis, other = (start, start + 2) if channels_first else (start + 2, start)
    if start < 0 or shape[axis] in CHANNEL_COUNTS or shape[other] not in CHANNEL_COUNTS:
        return None
    layout = "channels_first" if channels_first else "channels_last"
    hint = hint or f"is data_format right? the pipeline's is {layout}"
    return (
        f"has shape {tuple(shape)}: {shape[axis]} channels on axis {axis}; "
        f"expected 1, 3 or 4 ({hint})"
    )


class Pipeline:
    """A compiled augmentation spec.

    ``pipe(image=..., mask=...)`` augments one sample like an albumentations ``Compose``
    (images in the spec's ``data_format``; dtype and value range kept, unless a step such
    as ``Normalize`` sets them: then they are albumentations' own).
    ``pipe.apply_batch(x)`` augments a batch and runs the Keras standardization stage.
    """

    def __init__(self, spec: Spec) -> None:
        self._setup(spec, self._resolve_function(spec), stats=None)

    def _setup(
        self,
        spec: Spec,
        function: Callable[..., Any] | None,
        stats: Any,
        *,
        checked: bool = False,
    ) -> None:
        self.spec: Spec = spec
        self.compose: Any = build_compose(spec, checked=checked)
        self._channels_first = spec.data_format == "channels_first"
        self._targets = Targets(spec, self.compose)  # decided once, not per sample
        # The keys of a sample's images (one image each) and of its lists of images, which
        # __call__ reads and checks (_checked_images).
        self._image_keys = ("image", *self._targets.extra_images)
        self._image_list_keys = ("images", *_keys_of_kind(spec, "images"))
        layout = "channels_first" if self._channels_first else "channels_last"
        move = "np.moveaxis(image, -1, 0)" if self._channels_first else "np.moveaxis(image, 0, -1)"
        # What an image in the other layout is told (_checked_images).
        self._layout_hint = (
            f"is data_format right? the pipeline's is {layout}; or move the channel axis: {move}"
        )
        # Whether a step (Normalize, ToFloat, FromFloat) sets the output's dtype and range.
        self._output = output_step(spec, self.compose)
        # The Normalize written for 0–255 values (or ToFloat), which gets the caller's values.
        self._input_step = see_input_values(spec, self.compose)
        # Whether a sample may still show that step's max_pixel_value misses the data's top
        # (warned once; decided here, so other pipelines pay nothing per sample).
        self._check_scale = self._input_step is not None and self._input_step.scaled_for is not None
        # The same for a Normalize written for [0, 1] (max_pixel_value 1) meeting uint8.
        self._check_bytes = (
            self._input_step is not None and self._input_step.unit_divisor is not None
        )
        # The Keras keywords alone: whole batches (never when a step sets the output's dtype:
        # the batch path gives the input's back).
        # Whether every float value is known to lie within its scale: "auto" finds the
        # scale from the values (a fixed range, or bounds given to for_value_bounds, may
        # be wrong: those keep the full clips). Decided by the spec alone, so a pickled
        # pipeline rebuilt from it decides the same.
        self._values_checked = spec.value_range == "auto"
        self._batch = (
            None
            if self._output is not None
            else BatchPath.of(self.compose, values_checked=self._values_checked)
        )
        # The Keras keywords alone (or nothing: a validation pipeline) work on float 0-255
        # images in their own units, one by one as in a batch (values.in_own_units), and
        # give back what they leave alone exactly; albumentations steps take [0, 1].
        self._keeps_units = _keras_steps_only(self.compose)
        self._function = function
        self.standardizer = _standardizer(spec, function, stats)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ranged: dict[tuple[float, float], Pipeline] = {}
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
    def output_set_by(self) -> str | None:
        """The step whose dtype and range the output has (``transforms.3.Normalize``), or
        None when the output keeps the input's."""
        return None if self._output is None else self._output.path

    def output_dtype(self, dtype: Any, *, standardize: bool = True) -> np.dtype[Any]:
        """The dtype an image of ``dtype`` comes out in: the one a step sets (``Normalize``,
        ``ToFloat``, ``FromFloat``) or the input's; after :meth:`standardize`, the spec's
        ``dtype``, or float32 when the Keras stage does anything. For a stand-in of an image
        that could not be augmented (Ray's ``on_error="mark"``), so its column keeps one
        dtype."""
        out = np.dtype(dtype) if self._output is None else self._output.dtype
        if not standardize:
            return out
        if self.spec.dtype is not None:
            return np.dtype(self.spec.dtype)
        return out if self.standardizer.is_identity else np.dtype(np.float32)

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

    def for_value_bounds(self, low: float, high: float) -> Pipeline:
        """This pipeline for float data whose values all lie in ``[low, high]``.

        With ``value_range: auto`` the range ([0, 1] or [0, 255]) is decided once from these
        bounds, not per sample, so a dark image of a 0–255 dataset is not taken for a [0, 1]
        one; the sources call this with the bounds of their whole dataset. A ``DataError``
        when the bounds fit neither range. With a fixed ``value_range``, ``self``. The
        pipeline returned shares this one's standardizer (and so ``fit``'s statistics).
        """
        if self.spec.value_range != "auto":
            return self
        scale = infer_scale(np.asarray([low, high], dtype=np.float64), "auto", where="x")
        assert scale is not None
        warn_if_just_above_one(high)
        key = (scale.low, scale.high)
        with self._lock:
            ranged = self._ranged.get(key)
            if ranged is None:
                ranged = Pipeline.__new__(Pipeline)
                spec = self.spec.model_copy(update={"value_range": key})
                ranged._setup(spec, self._function, stats=None)
                # Not marked checked: bounds a caller gives may be wrong, and then the full
                # clips keep the output in range (a source's own bounds are right, but this
                # pipeline cannot tell them apart).
                ranged.standardizer = self.standardizer
                self._ranged[key] = ranged
        return ranged

    def without_augmentation(self) -> Pipeline:
        """The same pipeline with nothing random: for validation and test data.

        The Keras keywords that augment are turned off and the listed transforms dropped,
        except those that set the output's dtype and range (``Normalize``, ``ToFloat``,
        ``FromFloat``, also from inside a ``Sequential``), so validation data has the training
        data's scale; what makes data ready for the model stays too — ``rescale``,
        ``preprocessing_function``, sample- and featurewise standardization (sharing this
        pipeline's ``fit`` statistics), ``dtype``, ``data_format`` and ``value_range``. As
        Keras users write a second ``ImageDataGenerator(rescale=1/255)`` for validation. Any
        other deterministic step validation data needs (a ``Resize``) belongs in a config of
        its own, ``extends``-ing this one with ``transforms`` set to those steps.
        """
        off = {key: Spec.model_fields[key].default for key in GEOMETRIC_KEYWORDS}
        # The range steps run on every sample and draw nothing (build.output_step): keeping
        # them alone is exact, and model.fit(train, validation_data=val) sees one scale.
        kept = range_steps(self.spec.transforms)
        plain = Pipeline.__new__(Pipeline)
        plain._setup(self.spec.model_copy(update={**off, "transforms": kept}), self._function, None)
        plain.standardizer = self.standardizer  # fit() on either is seen by both
        return plain

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
        """Augment one sample. ``seed`` makes the result a pure function of the seed.

        PIL images are read as their mode means (CMYK, YCbCr, HSV as RGB, a palette through
        its palette: ``values.pil_image_array``) and put in the pipeline's layout; the images
        of a sample (``image``, the members of ``images``, additional image targets) must be
        of one kind (uint8, uint16 or float); and an image in the other layout than the
        pipeline's (a C×H×W ``(3, 32, 32)`` on ``channels_last``) is a ``DataError``, by the
        rule ``flow`` and ``apply_batch`` use (:func:`other_layout`)."""
        # The seed check flow(seed=...) makes: numpy's words ("expected non-negative
        # integer", "SeedSequence expects int ...") named no argument.
        seed = None if seed is None else resolve_seed(seed)
        return self._augment(self._checked_images(data), seed, _INFER)

    def augment_sample(self, *, seed: int | None = None, **data: Any) -> dict[str, Any]:
        """``pipe(seed=..., **data)`` without the checks of the caller's images: the batching
        loader's entry (``batching.protocol.augment_sample_of``). Its sources hand over
        arrays they have checked by their own rules — the Keras drop-in's flows take any
        channel count, with Keras' warning, where :meth:`__call__` refuses a layout."""
        return self._augment(data, None if seed is None else resolve_seed(seed), _INFER)

    def _checked_images(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (the caller's keywords, a dict of its own) with its PIL images read as
        arrays in the pipeline's layout, after the checks :meth:`__call__` lists."""
        named: list[tuple[str, Any]] = []  # every image of the sample, by its name
        for key in self._image_keys:
            if key in data:
                data[key] = self._read_pil(data[key], key)
                named.append((key, data[key]))
        for key in self._image_list_keys:
            members = data.get(key)
            if isinstance(members, (list, tuple)):
                # As H×W×C whatever the data_format: albumentations gets lists of images
                # as they are given (only image targets are moved to H×W×C and back).
                read = [_pil_or(m, f"{key}[{i}]") for i, m in enumerate(members)]
                if any(new is not old for new, old in zip(read, members, strict=True)):
                    data[key] = read if isinstance(members, list) else tuple(read)
                named.extend((f"{key}[{i}]", member) for i, member in enumerate(read))
            elif members is not None:
                named.append((key, members))  # one array of images: one dtype
        # pipe(image=u8, images=[u8, f32]) came back with images[0] as float32 (stacked with
        # the float one): the check flow and apply_batch make on their lists.
        check_one_kind([value for _, value in named], "image", labels=[n for n, _ in named])
        for name in self._image_keys:
            shape = getattr(data.get(name), "shape", None)
            if shape is None or len(shape) != 3:
                continue
            wrong = other_layout(tuple(shape), self._channels_first, hint=self._layout_hint)
            if wrong is not None:  # a (3, 32, 32) was read as 3 rows × 32 with 32 channels
                raise DataError(f"{name} {wrong}")
        return data

    def _read_pil(self, value: Any, name: str) -> Any:
        """``value``, or the array a PIL image means, in the pipeline's layout."""
        array = pil_image_array(value, name)
        if array is None:
            return value
        if self._channels_first and array.ndim == 3:  # PIL's pixels are H×W×C
            array = np.ascontiguousarray(np.moveaxis(array, -1, 0))
        return array

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
            if "image" in data:
                raise DataError("image is None; expected an array (H×W or H×W×C)")
            kinds = {self.spec.additional_targets.get(key, key) for key in data}
            if _IMAGE_KEYS.isdisjoint(kinds):  # albumentations would fail inside a step
                held = ", ".join(sorted(data)) or "nothing"
                raise DataError(f"no image given (the sample holds {held}): call pipe(image=...)")
            return self._targets.run(compose, data)
        image = np.asarray(image)
        if image.ndim not in (2, 3):
            raise DataError(f"image: expected a 2-D or 3-D array, got shape {image.shape}")
        if image.ndim == 3 and image.shape[0 if self._channels_first else 2] == 0:
            raise DataError(f"image has shape {image.shape}: 0 channels; expected 1, 3 or 4")
        if self._channels_first:
            data = self._to_hwc(data)
            image = data["image"]
        self._check_sizes(data, image)
        if batch_scale is _INFER:
            scale = infer_scale(image, self.spec.value_range, where="image")
        else:
            scale = batch_scale  # type: ignore[assignment]
        fixed_range = self.spec.value_range != "auto"  # "auto" looks at min and max already
        if image.dtype.kind == "f" and fixed_range and not np.isfinite(image).all():
            raise DataError("image: float image contains NaN or infinity")
        # The Keras keywords alone work on float 0-255 images in their own units, as the
        # batch path does (values.in_own_units): the same bits either way.
        own_units = self._keeps_units and in_own_units(scale)
        working = to_own_units if own_units else functools.partial(to_working, scale=scale)
        data["image"] = working(image)
        for key in self._targets.extra_images:
            if key in data:
                data[key] = working(np.asarray(data[key]))
        given = {key: data[key] for key in self._targets.metadata_images if key in data}
        for key, items in given.items():
            data[key] = _items_in_working_form(items, image.dtype, working, self._channels_first)
        if scale is not None and self._check_scale:
            self._warn_normalize_scale(image.dtype, scale)
        elif scale is None and self._check_bytes:
            self._warn_bytes_scale()
        added = self._targets.fill_absent(data)
        shapes = _shapes(data)
        try:
            top = OWN_UNITS_TOP if own_units else 1.0
            with (
                _pinned_for(data, self._targets.extra_images, self._keeps_units),
                floats_up_to(top, checked=self._values_checked),
            ):
                if self._input_step is None:
                    out = self._targets.run(compose, data)
                else:  # that step gets the caller's values; per call: per thread and sample
                    with input_scale(scale):
                        out = self._targets.run(compose, data)
        except DataError:
            raise
        except _sample_failures() as exc:
            raise DataError(
                f"cannot augment this sample ({shapes}): {type(exc).__name__}: {exc}"
            ) from exc
        for key in added:
            out.pop(key, None)
        out.update(given)  # the caller's metadata back as it was given
        for key in ("image", *self._targets.extra_images):
            if key in out:
                out[key] = (
                    from_own_units(out[key], image.dtype)
                    if own_units
                    else to_output(out[key], scale, self._output)
                )
        if self._channels_first:
            out = self._to_chw(out)
        return out

    def _warn_bytes_scale(self) -> None:
        """Once per pipeline: a Normalize written for [0, 1] floats meets uint8 images,
        which albumentations hands it as 0..255 (outputs about 250 times too large)."""
        step = self._input_step
        assert step is not None and step.unit_divisor is not None
        self._check_bytes = False
        warnings.warn(
            f"{step.path} divides by max_pixel_value {step.unit_divisor:g}, but uint8 images "
            "reach it with values from 0 to 255: its output is not normalized as its mean "
            "and std say (albumentations gives the same); set max_pixel_value: 255 for uint8 "
            "data",
            UserWarning,
            stacklevel=4,
        )

    def _warn_normalize_scale(self, dtype: np.dtype[Any], scale: Scale) -> None:
        """Once per pipeline: the Normalize that sees the caller's values divides by a
        ``max_pixel_value`` that is not their top (floats in [0, 1], uint16 meeting 255)."""
        step = self._input_step
        if step is None or step.scaled_for is None or scale.high == step.scaled_for:
            return
        self._check_scale = False
        warnings.warn(
            f"{step.path} divides by max_pixel_value {step.scaled_for:g}, but this "
            f"{dtype} image's values run from 0 to {scale.high:g}: its output is not "
            f"normalized as its mean and std say (albumentations gives the same); set "
            f"max_pixel_value: {scale.high:g} for this data",
            UserWarning,
            stacklevel=4,
        )

    def _check_sizes(self, data: dict[str, Any], image: np.ndarray) -> None:
        """An image with pixels, and masks (and other images) of its height and width."""
        if min(image.shape[:2]) < 1:
            raise DataError(f"image: shape {image.shape} has no pixels")
        for key, value in data.items():
            if key == "image" or not (key in _MASK_KEYS or self._is_pixels(key)):
                continue
            shape = np.shape(value)
            if len(shape) < 2 or shape[:2] != image.shape[:2]:
                raise DataError(
                    f"{key} has shape {shape}, the image {image.shape}: it must have the "
                    "image's height and width"
                )

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
    def check_targets(self, keys: Any) -> None:
        """Refuse target keys the spec cannot place (boxes without ``bbox_params``) before
        any sample is read: a generator over such targets (``flow(targets=...)``) failed
        at its first batch, as a SampleError naming a sample that was not at fault."""
        self._targets.check(dict.fromkeys(keys))

    def apply_batch(
        self, x: np.ndarray, seed: int | None = None, *, standardize: bool = True
    ) -> np.ndarray:
        """Augment every image of a batch (NHWC or NCHW, per the spec) and standardize it.

        With ``seed``, image ``i`` gets the seed ``sample_seed(seed, i)``: the result does
        not depend on what ran before.
        """
        if seed is not None:  # confaug's words for a bad seed, as flow(seed=...) gives
            seed = resolve_seed(seed)
        batch = _as_batch(x)
        expected = 4
        if batch.ndim == 3 and not self._channels_first:
            if batch.shape[-1] in (3, 4):  # grayscale images 3 or 4 pixels wide: unlikely
                warnings.warn(
                    f"apply_batch: x has shape {batch.shape}, read as {batch.shape[0]} grayscale "
                    f"images of {batch.shape[1]}x{batch.shape[2]} pixels; for one image pass "
                    "x[None] (a batch of one) or call the pipeline on it: pipe(image=x)",
                    stacklevel=2,
                )
            batch = batch[..., None]  # NHW grayscale
            squeeze = True
        else:
            squeeze = False
        if batch.ndim != expected:
            raise DataError(
                f"x: expected a batch of rank 4 ({self.spec.data_format}), got shape {batch.shape}"
            )
        wrong = other_layout(batch.shape, self._channels_first)
        if wrong is not None:  # flow's and wrap's check (other_layout)
            raise DataError(f"x {wrong}")
        result = self._augment_batch(batch, seed)
        if squeeze:
            result = result[..., 0]
        return self.standardize(result) if standardize else result

    def _augment_batch(self, batch: np.ndarray, seed: int | None) -> np.ndarray:
        """A rank-4 batch augmented (:meth:`apply_batch` without its checks of the layout:
        ``fit(augment=True)`` takes what Keras' ``fit`` takes, any channel count)."""
        # One value range for the whole batch: a dark 0–255 image must not pass for [0, 1].
        scale = infer_scale(batch, self.spec.value_range, where="x")
        result = self._whole_batch(batch, seed, scale)  # None: image by image, below
        out = []
        for i, image in enumerate(batch if result is None else ()):
            try:
                sample_seed_i = None if seed is None else sample_seed(seed, i)
                out.append(self._augment({"image": image}, sample_seed_i, scale)["image"])
            except DataError as err:
                raise DataError(f"x[{i}]: {err}") from err
        if result is None:
            shapes = {image.shape for image in out}
            if len(shapes) > 1:  # np.stack would say only "must have the same shape"
                listed = ", ".join(map(str, sorted(shapes)))
                raise DataError(
                    f"x: the augmented images differ in shape ({listed}): a step changes the "
                    "size on some samples only (p < 1, a random scale); end the pipeline with "
                    "a fixed-size step such as Resize or RandomCrop with p: 1"
                )
            result = np.stack(out) if out else self._empty_like(batch)
        return result

    def _empty_like(self, batch: np.ndarray) -> np.ndarray:
        """The result of augmenting an empty ``batch``: in the dtype a step sets, if one does."""
        return batch.copy() if self._output is None else batch.astype(self._output.dtype)

    @property
    def augments_batches(self) -> bool:
        """Whether :meth:`augment_images` takes whole batches (the spec is the Keras
        keywords alone); else it returns None and samples go one by one."""
        return self._batch is not None

    def augment_images(
        self, images: Sequence[np.ndarray], seeds: Sequence[int]
    ) -> np.ndarray | None:
        """The images of one batch (each as ``pipe(image=...)`` takes it), image ``i``
        augmented with ``seeds[i]``, stacked: the same bits as one call per image. None
        when they must go one by one (see ``compiler/batch_path.py``)."""
        if self._batch is None:
            return None
        compose = self._thread_compose()
        try:
            result = self._batch.run_samples(
                images,
                seeds,
                value_range=self.spec.value_range,
                channels_first=self._channels_first,
            )
        except _sample_failures():  # one by one, to name the image and word the error
            return None
        if result is not None:
            self._as_if_one_by_one(compose, seeds[-1])
        return result

    def _whole_batch(
        self, batch: np.ndarray, seed: int | None, scale: Scale | None
    ) -> np.ndarray | None:
        """``apply_batch``'s images through the batch path, or None."""
        if self._batch is None:
            return None
        seeds = None if seed is None else [sample_seed(seed, i) for i in range(len(batch))]
        compose = self._thread_compose()
        try:
            result = self._batch.run_array(
                batch,
                scale,
                seeds=seeds,
                compose=compose,
                channels_first=self._channels_first,
                finite=self.spec.value_range == "auto",  # infer_scale saw every value
            )
        except _sample_failures():  # one by one, to name the image and word the error
            return None
        if result is not None and seeds:
            self._as_if_one_by_one(compose, seeds[-1])
        return result

    def _as_if_one_by_one(self, compose: Any, last_seed: int) -> None:
        """Leave ``compose``'s generators where seeding it for each image would: seeded
        with the last image's seed and past that image's draws (later unseeded calls then
        continue as they did before the batch path existed)."""
        assert self._batch is not None
        _seed_compose(compose, last_seed)
        compose.py_random.random()  # the Compose's own p check
        # What one draw takes from the generator does not depend on the image's size.
        self._batch.sampler.sample(compose.transforms[0].random_generator, 1, 1)

    def standardize(self, batch: np.ndarray) -> np.ndarray:
        """Keras' post-augmentation stage on a batch: function, rescale, statistics, dtype.

        Without any of them the batch is returned as it is (dtype and range kept).
        """
        return self.standardizer(batch, channels_first=self._channels_first, dtype=self.spec.dtype)

    def fit(
        self, x: np.ndarray, augment: bool = False, rounds: int = 1, seed: int | None = None
    ) -> Pipeline:
        """Compute featurewise mean / std / ZCA from sample data ``x`` (as Keras' ``fit``).

        A NaN or infinite value would spoil every statistic and so every later output: it is
        a ``DataError`` naming the samples that hold one. With ``augment=True`` the statistics
        are those of ``rounds`` augmented copies of ``x`` together (at most
        :data:`MAX_FIT_ROUNDS`), computed one round at a time; ZCA whitening holds them all,
        within ``idg.standardize.MAX_ZCA_ROUNDS_BYTES``.
        """
        data = _as_batch(x)
        if data.ndim != 4 or not len(data):
            raise DataError(f"fit needs a batch of at least one image (rank 4), got {data.shape}")
        if augment:
            rounds = _checked_rounds(rounds)
        if self.standardizer.zca_whitening:  # before augmenting rounds of it
            check_zca_size(data.shape[1:], channels_first=self._channels_first)
            if augment:  # ZCA holds every round at once (fit_rounds); others one at a time
                check_zca_rounds(rounds, data.shape)
        _require_finite(data, "x")
        if not augment:
            self.standardizer.fit(data, channels_first=self._channels_first)
            return self
        base = 0 if seed is None else resolve_seed(seed)
        self.standardizer.fit_rounds(
            self._augmented_rounds(data, rounds, base),
            rounds,
            channels_first=self._channels_first,
        )
        return self

    def _augmented_rounds(self, data: np.ndarray, rounds: int, base: int) -> Iterator[np.ndarray]:
        """``fit(augment=True)``'s rounds one by one (round ``r`` seeded ``sample_seed(base,
        r)``, as Keras' rounds were concatenated), so the statistics hold one at a time."""
        first: tuple[int, ...] | None = None
        for number in range(rounds):
            batch = self._augment_batch(data, sample_seed(base, number))
            if first is None:
                first = batch.shape
            elif batch.shape != first:  # np.concatenate said only "dimensions must match"
                raise DataError(
                    f"fit: round {number}'s augmented images have shape {batch.shape[1:]}, "
                    f"round 0's {first[1:]}: a step changes the size on some rounds only "
                    "(p < 1, a random scale); end the pipeline with a fixed-size step such "
                    "as Resize or RandomCrop with p: 1"
                )
            # Named by their place in all the rounds, as when the rounds were concatenated.
            _require_finite(batch, "augmented x", offset=number * len(data))
            yield batch

    # ---- data sources -----------------------------------------------------------------
    # Each is the batching.factory function of that name bound to this pipeline (see
    # _Generators): one signature, written once, with every option, for help() and mypy.
    if TYPE_CHECKING:
        flow = _factory.flow
        flow_from_directory = _factory.flow_from_directory
        flow_from_dataframe = _factory.flow_from_dataframe
        wrap = _factory.wrap
    else:
        flow = _Generators("flow")
        flow_from_directory = _Generators("flow_from_directory")
        flow_from_dataframe = _Generators("flow_from_dataframe")
        wrap = _Generators("wrap")

    # ---- sharing ----------------------------------------------------------------------
    def to_yaml(self) -> str:
        """The spec as YAML; ``load_spec`` of it equals ``self.spec``."""
        return self.spec.to_yaml()

    def __getstate__(self) -> dict[str, Any]:
        return {"spec": self.spec, "function": self._function, "stats": self.standardizer.state()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The spec compiled in the process that pickled it: its compile-time checks passed.
        self._setup(state["spec"], state["function"], state["stats"], checked=True)

    def __repr__(self) -> str:
        names = [type(t).__name__ for t in self.compose.transforms]
        return f"Pipeline({', '.join(names) or 'identity'})"


def _items_in_working_form(
    items: Any, dtype: np.dtype[Any], working: Callable[[np.ndarray], np.ndarray], chw: bool
) -> Any:
    """Metadata items (a dict or a list of dicts) with their 'image' as the steps see the
    sample's own: HWC, in the working form of the sample's value range. Items that are not
    dicts of an image of the sample's dtype and rank are left for the checks to word."""
    if isinstance(items, dict):
        return _items_in_working_form([items], dtype, working, chw)[0]
    if not isinstance(items, (list, tuple)):
        return items
    converted = []
    for item in items:
        picture = item.get("image") if isinstance(item, dict) else None
        if isinstance(picture, np.ndarray) and picture.dtype == dtype and picture.ndim in (2, 3):
            if chw and picture.ndim == 3:
                picture = np.ascontiguousarray(np.moveaxis(picture, 0, -1))
            item = {**item, "image": working(picture)}
        converted.append(item)
    return converted if isinstance(items, list) else tuple(converted)  # as given: checked so


def _pil_or(value: Any, name: str) -> Any:
    """The array a PIL image means (H×W×C), or ``value`` when it is none."""
    array = pil_image_array(value, name)
    return value if array is None else array


def _keys_of_kind(spec: Spec, kind: str) -> tuple[str, ...]:
    """The additional targets of ``kind``."""
    return tuple(key for key, value in spec.additional_targets.items() if value == kind)


def _keras_steps_only(compose: Any) -> bool:
    """Whether ``compose``'s steps are all Keras keyword steps (``IdgTransform``), or none."""
    from confaug.idg.transform import IdgTransform

    return all(type(step) is IdgTransform for step in getattr(compose, "transforms", ()))


def _pinned_for(
    data: dict[str, Any], extra_images: Sequence[str], keras_only: bool
) -> contextlib.AbstractContextManager[None]:
    """OpenCV held at one thread around albumentations' steps when the installed OpenCV's
    float32 warps depend on its threads (``opencv_threads.STRIPED_WARPS``, 5.1 on) and the
    sample's images are float32: Affine, Rotate, Perspective… warp them with bilinear
    interpolation and a constant or replicated border, whose bits would otherwise depend on
    ``cv2.setNumThreads`` and on the worker count (the Keras warp pins itself the same way).
    Nothing otherwise: uint8 images, older OpenCV, and the Keras keywords alone (``keras_only``:
    their warp pins only the warps that stripe) keep OpenCV's threads."""
    if not STRIPED_WARPS or keras_only:
        return contextlib.nullcontext()
    keys = ("image", *extra_images)
    if any(getattr(data.get(key), "dtype", None) == np.float32 for key in keys):
        return pinned_if_safe()
    return contextlib.nullcontext()


def _as_batch(x: Any) -> np.ndarray:
    """``x`` as one array; a list of images of different shapes is a ``DataError``, as is
    one that mixes kinds of images (``check_one_kind``)."""
    if isinstance(x, (list, tuple)):
        check_one_kind(x, "x")
    try:
        return np.asarray(x)
    except ValueError:
        shapes = [np.shape(image) for image in list(x)[:5]]
        raise DataError(
            f"x: the images differ in shape ({', '.join(map(str, shapes))}, ...); a batch "
            "is one array of images of one size"
        ) from None


#: The most rounds ``fit(augment=True, rounds=...)`` runs. Each augments all of ``x`` once and
#: the statistics hold one round at a time, but the time grows with them: rounds=10**6 of four
#: 8×8 images ran for minutes (Keras', holding every round, ended in a MemoryError).
MAX_FIT_ROUNDS = 1000


def _checked_rounds(rounds: Any) -> int:
    """``fit``'s ``rounds``: an int from 1 to :data:`MAX_FIT_ROUNDS`, else a ValueError."""
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"rounds={rounds!r}; expected an int >= 1")
    if rounds > MAX_FIT_ROUNDS:
        raise ValueError(
            f"rounds={rounds!r}; fit(augment=True) runs at most {MAX_FIT_ROUNDS} rounds (each "
            "augments all of x once); for statistics of more augmented images, pass more "
            "images in x"
        )
    return int(rounds)


def _require_finite(data: np.ndarray, where: str, offset: int = 0) -> None:
    """A ``DataError`` naming the samples (numbered from ``offset``) of ``data`` that hold a
    NaN or an infinity."""
    if data.dtype.kind not in "fc" or np.isfinite(data).all():
        return
    flat = data.reshape(len(data), -1) if data.ndim > 1 else data.reshape(-1, 1)
    bad = offset + np.flatnonzero(~np.isfinite(flat).all(axis=1))
    # One index per sample ("x[1], x[3]"): "x[1, 3]" read as one element of a 4-D array.
    named = ", ".join(f"{where}[{i}]" for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
    raise DataError(f"{named}: NaN or infinite values; statistics need finite data")
