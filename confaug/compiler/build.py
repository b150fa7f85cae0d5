"""Spec → ``albumentations.Compose``: every decision made once, here, not per image."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confaug._albu import albumentations
from confaug.compiler.values import OnInputValues, SetByStep
from confaug.errors import ConfigError, Problem
from confaug.spec.catalog import catalog, to_opencv
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec
from confaug.spec.steps import TransformStep
from confaug.spec.vocab import BORDER_MODES, INTERPOLATIONS

#: albumentations 2.0.8's transforms whose output dtype or value range is their own (each
#: transform of the catalog run on uint8 and float32 images: every other gives the input's).
RANGE_STEPS = frozenset({"Normalize", "ToFloat", "FromFloat"})
_FLOAT_OUTPUT = frozenset({"Normalize", "ToFloat"})
_RUN_ALL = frozenset({"Sequential", "Compose"})  # composites that run every child, in order
# The Keras stage that cannot follow a float-output step: statistics from fit(x) describe x
# as given, not as Normalize leaves it, and rescale would scale an already scaled range.
_FIXED_SCALE_KEYWORDS = (
    "rescale",
    "featurewise_center",
    "featurewise_std_normalization",
    "zca_whitening",
)

# scipy spline order used for the Keras warp when only a named interpolation is given.
# warpAffine has no area kernel (OpenCV treats INTER_AREA as bilinear there), so "area"
# applies to the listed transforms and the warp stays bilinear.
_NAME_TO_ORDER = {"nearest": 0, "bilinear": 1, "bicubic": 3, "area": 1, "lanczos": 4}


def keras_step(spec: Spec) -> Any | None:
    """The single albumentations transform doing the Keras keywords, or None when all are off."""
    if not spec.has_keras_augmentation:
        return None
    from confaug.idg.transform import IdgTransform

    return IdgTransform(
        **{key: getattr(spec, key) for key in GEOMETRIC_KEYWORDS},
        fill_mode=spec.fill_mode,
        cval=spec.cval,
        interpolation_order=warp_order(spec),
    )


def warp_order(spec: Spec) -> int:
    """The Keras-style spline order of the warp: ``interpolation_order``, else from the name."""
    if spec.interpolation_order is not None:
        return spec.interpolation_order
    return _NAME_TO_ORDER[spec.interpolation]


def _shared_defaults(spec: Spec, params: tuple[str, ...]) -> dict[str, Any]:
    """Top-level fill_mode / cval / interpolation, for steps that did not set their own."""
    shared: dict[str, Any] = {}
    if "fill_mode" in spec.model_fields_set and "border_mode" in params:
        shared["border_mode"] = BORDER_MODES[spec.fill_mode]
    if "interpolation" in spec.model_fields_set and "interpolation" in params:
        shared["interpolation"] = INTERPOLATIONS[spec.interpolation]
    return shared


def build_step(step: TransformStep, spec: Spec, path: str) -> Any:
    """One listed step as an albumentations object; failures become ConfigError at ``path``."""
    info = catalog().get(step.name)
    if info is None:
        raise ConfigError([Problem(None, None, None, path, f"unknown transform '{step.name}'")])
    params = {**_shared_defaults(spec, info.params), **to_opencv(step.params)}
    if step.transforms is not None:
        params["transforms"] = [
            build_step(child, spec, f"{path}.{step.name}.transforms.{i}")
            for i, child in enumerate(step.transforms)
        ]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return info.cls(**params)
    except ConfigError:
        raise
    except Exception as err:  # albumentations validates in __init__ with assorted exceptions
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ConfigError([Problem(None, None, None, f"{path}.{step.name}", message)]) from None


def build_compose(spec: Spec) -> Any:
    """The albumentations ``Compose`` for ``spec``: the Keras warp first, then listed steps."""
    A = albumentations()
    steps: list[Any] = []
    keras = keras_step(spec)
    if keras is not None:
        steps.append(keras)
    steps.extend(
        build_step(step, spec, f"transforms.{i}") for i, step in enumerate(spec.transforms)
    )
    options: dict[str, Any] = {
        "bbox_params": spec.bbox_params,
        "keypoint_params": spec.keypoint_params,
        "additional_targets": dict(spec.additional_targets) or None,
        "is_check_shapes": spec.is_check_shapes,
    }
    try:
        return A.Compose(steps, **options)
    except Exception as err:
        raise ConfigError([Problem(None, None, None, "transforms", str(err))]) from None


def output_step(spec: Spec, compose: Any) -> SetByStep | None:
    """The step that sets the output's dtype and range (the last of ``RANGE_STEPS``), or None
    when the output keeps the input's. A ``ConfigError`` when such a step may not run on a
    sample (a batch would mix two kinds of values) or meets a Keras stage it would spoil."""
    found: SetByStep | None = None
    for path, transform, skipped_by in _walk(compose, bool(spec.has_keras_augmentation)):
        name = type(transform).__name__
        if name not in RANGE_STEPS:
            continue
        if skipped_by is not None:
            reason, blamed = skipped_by
            # The fix for what is blamed: its p, or moving the step out of a composite that
            # picks (OneOf, SomeOf, ...).
            if blamed.endswith(".p"):
                fix = f"set {blamed} to 1"
            else:
                fix = f"move {name} out of {blamed}, to the top level of transforms"
            raise ConfigError.single(
                f"{path} sets the images' dtype and value range, so it must run on every "
                f"sample, but {reason}: a batch would mix two kinds of values",
                field=blamed,
                hint=fix,
            )
        found = SetByStep(path, np.dtype(np.float32 if name in _FLOAT_OUTPUT else transform.dtype))
    if found is not None and found.dtype.kind == "f":
        _check_keras_stage(spec, found)
    return found


@dataclass(frozen=True)
class InputValueStep:
    """The step that works on the caller's own values (see :func:`see_input_values`)."""

    #: The step in the config, e.g. ``transforms.2.Normalize``.
    path: str
    #: The top of the values it is written for, when other data would give it nearly one
    #: value (a standard ``Normalize``'s ``max_pixel_value``: 255 on [0, 1] floats) and so
    #: gets a warning; else None.
    scaled_for: float | None


def see_input_values(spec: Spec, compose: Any) -> InputValueStep | None:
    """Let the step written for the caller's values work on them, not on the working form.

    That can only be the first of ``RANGE_STEPS`` (each runs on every sample, in order, see
    :func:`output_step`; a later one gets an earlier one's output). Steps see float data in
    [0, 1]; a ``Normalize`` with ``max_pixel_value`` > 1, as by default, gets it back on the
    caller's scale (:class:`values.OnInputValues`), so float 0–255 data (Keras'
    ``img_to_array``) is normalized as albumentations normalizes it, not divided into nearly
    one value; a ``ToFloat`` gets uint16 images as they are, for its ``max_value`` (12-bit
    data: 4095). A ``ConfigError`` when ``value_range`` does not start at 0 for a standard
    ``Normalize``: a ``max_pixel_value`` means values from 0 to it.
    """
    for path, transform, _ in _walk(compose, bool(spec.has_keras_augmentation)):
        name = type(transform).__name__
        if name not in RANGE_STEPS:
            continue
        if name == "ToFloat":
            _wrap(transform, integers=True)
            return InputValueStep(path, None)
        if name != "Normalize" or not (transform.max_pixel_value or 0) > 1:
            return None
        standard = transform.normalization == "standard"
        step = InputValueStep(path, float(transform.max_pixel_value) if standard else None)
        _check_value_range(spec, step)
        _wrap(transform, integers=False)
        return step
    return None


def _wrap(transform: Any, *, integers: bool) -> None:
    # albumentations looks each target's function up in this table, filled once at
    # construction (additional image targets included): the step's own image function is
    # replaced by itself wrapped, the only change to the transform. The table is private to
    # albumentations (pinned at 2.0.8): should it change, compiling fails here, loudly,
    # rather than the step silently seeing [0, 1] values.
    table: dict[str, Any] = getattr(transform, "_key2func", None) or {}
    keys = [key for key, function in table.items() if function == transform.apply]
    if not keys:
        raise RuntimeError(
            f"confaug cannot give {type(transform).__name__} the caller's values: its image "
            "function was not found in albumentations' table of them (_key2func, as in "
            f"2.0.8, the version confaug needs); this is albumentations "
            f"{albumentations().__version__}"
        )
    for key in keys:
        table[key] = OnInputValues(table[key], integers=integers)


def _check_value_range(spec: Spec, step: InputValueStep) -> None:
    mpv = step.scaled_for
    if mpv is None or spec.value_range == "auto" or spec.value_range[0] == 0:
        return  # a per-image normalization does not depend on where the values start
    low, high = spec.value_range
    raise ConfigError.single(
        f"{step.path} has max_pixel_value {mpv:g}, meant for values from 0 to {mpv:g}, but "
        f"value_range is [{low:g}, {high:g}]: its output would be nearly one value",
        field="value_range",
        hint=f"set {step.path}.max_pixel_value to 1 to normalize the [0, 1] form the steps "
        "see, or use a per-image normalization",
    )


def range_steps(steps: Sequence[TransformStep]) -> tuple[TransformStep, ...]:
    """The steps of ``RANGE_STEPS`` among ``steps`` and inside their composites, in order:
    what a pipeline without augmentation keeps, so that its output has the training output's
    dtype and range. Exact: :func:`output_step` makes sure each runs on every sample, and
    none of them draws anything."""
    kept: list[TransformStep] = []
    for step in steps:
        if step.name in RANGE_STEPS:
            kept.append(step)
        elif step.transforms:
            kept.extend(range_steps(step.transforms))
    return tuple(kept)


def _check_keras_stage(spec: Spec, step: SetByStep) -> None:
    name = step.path.rsplit(".", 1)[-1]
    problems = [
        Problem(
            None,
            None,
            None,
            key,
            f"{key} cannot follow {step.path}, which sets the value range itself"
            + (
                ": rescale would scale it again"
                if key == "rescale"
                else ": fit(x) computes statistics of x as given, not as it leaves them"
            ),
            f"scale with {name}'s own parameters instead" if key == "rescale" else None,
        )
        for key in _FIXED_SCALE_KEYWORDS
        if getattr(spec, key)
    ]
    if spec.dtype is not None and np.dtype(spec.dtype).kind in "iu":
        problems.append(
            Problem(
                None,
                None,
                None,
                "dtype",
                f"dtype {spec.dtype} would round and clip the floats {step.path} gives",
                "leave dtype unset, or set a float dtype",
            )
        )
    if problems:
        raise ConfigError(problems)


def _walk(compose: Any, keras: bool) -> Iterator[tuple[str, Any, tuple[str, str] | None]]:
    """Every step of ``compose`` in order: its path in the config, the transform, and why it
    may not run on a sample with the field to blame (None: it always runs)."""

    def visit(path: str, transform: Any, skipped_by: tuple[str, str] | None) -> Iterator[Any]:
        name = type(transform).__name__
        p = float(getattr(transform, "p", 1.0))
        children = getattr(transform, "transforms", None)
        composite = isinstance(children, list)
        # A composite that picks is blamed before its p: p: 1 would not make it run them all.
        if skipped_by is None and composite and name not in _RUN_ALL:
            skipped_by = (f"{path} picks or mixes its transforms", path)
        elif skipped_by is None and p < 1.0:
            skipped_by = (f"{path} has p: {p:g}", f"{path}.p")
        yield path, transform, skipped_by
        if not isinstance(children, list):
            return
        for i, child in enumerate(children):
            yield from visit(f"{path}.transforms.{i}.{type(child).__name__}", child, skipped_by)

    for index, transform in enumerate(getattr(compose, "transforms", ())):
        if keras and index == 0:
            continue  # the Keras keywords' own step, which keeps dtype and range
        position = index - int(keras)
        yield from visit(f"transforms.{position}.{type(transform).__name__}", transform, None)
