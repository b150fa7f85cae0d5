"""Spec → ``albumentations.Compose``: every decision made once, here, not per image."""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from confaug._albu import albumentations
from confaug.compiler.values import (
    ChannelsMatch,
    FloatsIn,
    KeepsChannelAxis,
    OnInputValues,
    SetByStep,
)
from confaug.errors import ConfigError, Problem
from confaug.spec.catalog import catalog, to_opencv
from confaug.spec.model import GEOMETRIC_KEYWORDS, Spec
from confaug.spec.steps import TransformStep, and_
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

# Steps whose image function is wrapped when built: FromFloat gets a uint8 image as the
# floats it takes (values.FloatsIn), ToGray keeps the channel axis (values.KeepsChannelAxis).
_IMAGE_WRAPPERS: dict[str, Callable[[Callable[..., Any]], Any]] = {
    "FromFloat": FloatsIn,
    "ToGray": KeepsChannelAxis,
}

# albumentations 2.0.8's modules of the transforms that set the image's size: crops,
# resizes, pads, the 3-D crops and pads, and the mixing ones (Mosaic).
_SIZE_SETTING_MODULES = tuple(
    f"albumentations.augmentations.{module}"
    for module in ("crops.", "geometric.resize", "geometric.pad", "transforms3d.", "mixing.")
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
            built = info.cls(**params)
    except ConfigError:
        raise
    except Exception as err:  # albumentations validates in __init__ with assorted exceptions
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise ConfigError([Problem(None, None, None, f"{path}.{step.name}", message)]) from None
    wrapper = _IMAGE_WRAPPERS.get(step.name)
    if wrapper is not None:
        _wrap(built, wrapper)
    lengths = _per_channel_lengths(step, built)
    if lengths:
        _wrap(built, functools.partial(ChannelsMatch, path=f"{path}.{step.name}", lengths=lengths))
    return built


def _per_channel_lengths(step: TransformStep, built: Any) -> dict[str, int]:
    """The lengths of a standard ``Normalize``'s mean and std as the config gives them, when
    they have more than one value (one value is every channel's): to check them against
    each image's channels (``values.ChannelsMatch``). Its defaults (ImageNet's three
    values) are albumentations' own and left alone."""
    if step.name != "Normalize" or getattr(built, "normalization", None) != "standard":
        return {}
    lengths = {}
    for name in ("mean", "std"):
        value = step.params.get(name)
        if isinstance(value, (list, tuple)) and len(value) > 1:
            lengths[name] = len(value)
    return lengths


def _problem(field: str, message: str, hint: str | None = None) -> Problem:
    """A problem at ``field`` of a config built from no file (no line to point at)."""
    return Problem(None, None, None, field, message, hint)


def _check_selections(steps: Sequence[TransformStep], built: Sequence[Any], base: str) -> None:
    """No child of a ``SelectiveChannelTransform`` that cannot work on the channels it gets.

    It runs its children on the selected channels alone (one per entry of ``channels``) and
    writes what they give back into the image, channel by channel:

    - a child that resizes, crops or pads gives channels of another size, and every image
      failed with NumPy's "could not broadcast input array from shape (10,10) into (64,64)"
      (unless it already had that size, when the child did nothing);
    - a child that takes only some numbers of channels (HueSaturationValue and CLAHE 1 or 3,
      PlanckianJitter 3, ChannelDropout 2 or more, an RGBShift 3 at most) failed on every
      image with albumentations' "expects 1-channel or 3-channel images"; one that leaves
      that many channels as they are (ToSepia on one) did nothing, without a word; one that
      changes their number (ToRGB, ToGray to one channel) had channels dropped or kept;
    - a nested ``SelectiveChannelTransform`` indexes the selection it is given, not the
      image: ``channels`` beyond it failed with NumPy's "index 2 is out of bounds".

    Each is refused at the child, all of a config's at once. Which numbers of channels a
    child takes cannot be read from albumentations (no transform says), and it depends on the
    child's own parameters (a ChannelDropout's channel_drop_range, a fill's length): each
    child is tried, as built, on small images of that many channels and of three
    (:func:`_channel_trial`).
    """
    problems = _selection_problems(steps, built, base, None)
    if problems:
        raise ConfigError(problems)


def _selection_problems(
    steps: Sequence[TransformStep], built: Sequence[Any], base: str, channels: list[int] | None
) -> list[Problem]:
    """:func:`_check_selections` for ``steps`` (built as ``built``, at ``base``), which get
    the ``channels`` of the nearest ``SelectiveChannelTransform`` above them (None: none)."""
    problems: list[Problem] = []
    for i, (step, transform) in enumerate(zip(steps, built, strict=True)):
        where = f"{base}.{i}.{step.name}"
        info = catalog().get(step.name)
        if channels is not None:
            problems.extend(_selected_step_problems(step, info, transform, where, channels))
        if step.transforms is None:
            continue
        inner = channels
        if step.name == "SelectiveChannelTransform":
            inner = list(transform.channels)
        children = list(getattr(transform, "transforms", ()))
        problems.extend(
            _selection_problems(step.transforms, children, f"{where}.transforms", inner)
        )
    return problems


def _selected_step_problems(
    step: TransformStep, info: Any, transform: Any, where: str, channels: list[int]
) -> list[Problem]:
    """What makes ``step`` fail or do nothing on the ``channels`` selected for it."""
    selected = f"the {_channels(len(channels))} SelectiveChannelTransform selects ({channels})"
    module = info.cls.__module__ if info is not None else ""
    if module.startswith(_SIZE_SETTING_MODULES):
        return [
            _problem(
                where,
                f"{step.name} changes the image's size, but SelectiveChannelTransform writes "
                "what its transforms give back into the image's own channels, which keep "
                "theirs: it would fail on every image",
                f"move {step.name} out of SelectiveChannelTransform, before or after it",
            )
        ]
    if step.name == "SelectiveChannelTransform":
        return _nested_selection(step, transform, where, len(channels), selected)
    if step.transforms is None:
        return _channel_problem(step.name, transform, len(channels), where, selected)
    return []


def _nested_selection(
    step: TransformStep, transform: Any, where: str, count: int, selected: str
) -> list[Problem]:
    """A nested ``SelectiveChannelTransform``'s channels beyond the ``count`` it is given."""
    channels = list(transform.channels)
    beyond = [index for index in channels if index >= count]
    if not beyond:
        return []
    field = f"{where}.channels" if "channels" in step.params else where
    return [
        _problem(
            field,
            f"a nested SelectiveChannelTransform's channels number {selected}, not the "
            f"image's: {', '.join(map(str, beyond))} {'is' if len(beyond) == 1 else 'are'} "
            "beyond them, so it would fail on every image",
            f"number them from 0 within that selection (0 to {count - 1})"
            if count > 1
            else "the selection has one channel: channels: [0]",
        )
    ]


def _channels(count: int) -> str:
    return f"{count} channel" if count == 1 else f"{count} channels"


@dataclass(frozen=True)
class _Trial:
    """What one transform did to the small images of one number of channels."""

    #: Runs that raised, and the last one's message.
    failed: int
    error: str
    #: Runs that gave the image back unchanged, and that changed it.
    same: int
    changed: int
    #: The numbers of channels it gave back, when other than the number it got.
    made: frozenset[int]


# The images a SelectiveChannelTransform's child is tried on: small (a trial costs about a
# millisecond), uint8 and [0, 1] floats (the two forms steps see), a few seeds each.
_TRIAL_SIDE = 24
_TRIAL_SEEDS = (0, 1, 2)
_RGB = 3  # the channels albumentations' transforms are written for: what a trial is compared with


def _channel_trial(transform: Any, count: int, *, until_fine: bool = False) -> _Trial:
    """``transform`` (a copy, with p: 1) run on small images of ``count`` channels; with
    ``until_fine``, only until a run changes the image and keeps its channels (most steps:
    one run, on compiling)."""
    trial = copy.deepcopy(transform)  # the pipeline's own transform is not touched
    trial.p = 1.0
    pixels = np.random.default_rng(0).integers(0, 256, (_TRIAL_SIDE, _TRIAL_SIDE, count))
    images = (pixels.astype(np.uint8), (pixels / 255).astype(np.float32))
    failed = same = changed = 0
    error = ""
    made: set[int] = set()
    # Each run is seeded: albumentations 2.0.8's transforms draw from their own generators
    # (set_random_seed), never from NumPy's or Python's global state (tested).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for image in images:
            for seed in _TRIAL_SEEDS:
                trial.set_random_seed(seed)
                try:
                    out = np.asarray(trial(image=image.copy())["image"])
                except Exception as err:  # any failure of the step is the finding
                    failed += 1
                    text = str(err).strip()
                    error = text.splitlines()[-1] if text else type(err).__name__
                    continue
                channels = 1 if out.ndim == 2 else out.shape[-1]
                if channels != count:
                    made.add(channels)
                elif np.array_equal(out, image):
                    same += 1
                else:
                    changed += 1
                    if until_fine:
                        return _Trial(failed, error, same, changed, frozenset(made))
    return _Trial(failed, error, same, changed, frozenset(made))


def _channel_problem(
    name: str, transform: Any, count: int, where: str, selected: str
) -> list[Problem]:
    """``name``, given the ``count`` channels ``selected`` names: a problem when it fails
    on them every time, or changes their number, or leaves them as they are while it changes
    three-channel images (compared with three channels, what albumentations' transforms are
    written for, so that what fails or does nothing on any image is not blamed on the
    number of channels)."""
    here = _channel_trial(transform, count, until_fine=True)
    if here.made:
        made = _either(sorted(here.made))
        return [
            _problem(
                where,
                f"{name} makes {made} of {selected}, but SelectiveChannelTransform "
                f"writes them back one for one into those {count}: channels would be "
                "dropped or left unchanged",
                f"keep the number of channels, or move {name} out of SelectiveChannelTransform",
            )
        ]
    runs = here.failed + here.same + here.changed
    if count == _RGB or not (here.failed == runs or here.same == runs):
        return []
    rgb = _channel_trial(transform, _RGB)
    if here.failed == runs and rgb.failed < runs:
        takes = _either([n for n in range(1, 5) if n != count and _takes(transform, n)])
        return [
            _problem(
                where,
                (f"{name} runs on {takes}, not on " if takes else f"{name} cannot work on ")
                + f"{selected}: it would fail on every image (albumentations: {here.error})",
                f"select {takes}, or move {name} out of SelectiveChannelTransform"
                if takes
                else f"move {name} out of SelectiveChannelTransform",
            )
        ]
    if here.same == runs and 2 * rgb.changed >= runs:
        return [
            _problem(
                where,
                f"{name} would do nothing to {selected}: it leaves "
                f"{count}-channel images as they are (it changes 3-channel ones)",
                f"select 3 channels, or remove {name}",
            )
        ]
    return []


def _either(numbers: list[int]) -> str:
    """``[1, 3]`` → "1 or 3 channels", ``[2, 3, 4]`` → "2, 3 or 4 channels", ``[]`` → ""."""
    if not numbers:
        return ""
    either = and_([str(n) for n in numbers], "or")
    return f"{either} {'channel' if numbers == [1] else 'channels'}"


def _takes(transform: Any, count: int) -> bool:
    """Whether ``transform`` works on ``count`` channels: it runs, keeps them, changes them."""
    trial = _channel_trial(transform, count, until_fine=True)
    return trial.failed == 0 and not trial.made and trial.changed > 0


def build_compose(spec: Spec, *, checked: bool = False) -> Any:
    """The albumentations ``Compose`` for ``spec``: the Keras warp first, then listed steps.
    ``checked``: the spec compiled once already (a pipeline unpickled in a worker), so the
    trials of SelectiveChannelTransform's children, which only refuse, are not run again."""
    A = albumentations()
    steps: list[Any] = []
    keras = keras_step(spec)
    if keras is not None:
        steps.append(keras)
    listed = [build_step(step, spec, f"transforms.{i}") for i, step in enumerate(spec.transforms)]
    if not checked:
        _check_selections(spec.transforms, listed, "transforms")
    steps.extend(listed)
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
    when the output keeps the input's. A ``ConfigError`` when such a step, or one that changes
    the number of channels, may not run on a sample (a batch would mix two kinds of values,
    or of shapes), or when it meets a Keras stage it would spoil (an integer ``dtype`` after
    the Keras stage's floats is the spec's own rule, ``Spec._consistent``)."""
    found: SetByStep | None = None
    for path, transform, skipped_by in _walk(compose, bool(spec.has_keras_augmentation)):
        name = type(transform).__name__
        if skipped_by is not None:
            _check_channels_kept(path, transform, skipped_by)
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
    #: A standard ``Normalize``'s ``max_pixel_value`` of at most 1, written for [0, 1]
    #: floats: it is not handed the caller's values, and uint8 images (worked on as they
    #: are) get a warning; else None.
    unit_divisor: float | None = None


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
    steps = list(_walk(compose, bool(spec.has_keras_augmentation)))
    for position, (path, transform, _) in enumerate(steps):
        name = type(transform).__name__
        if name not in RANGE_STEPS:
            continue
        if name == "ToFloat":
            _refuse_normalize_after(path, steps[position + 1 :])
            _wrap(transform, functools.partial(OnInputValues, integers=True))
            return InputValueStep(path, None)
        if name != "Normalize":
            return None
        if not (transform.max_pixel_value or 0) > 1:
            divisor = transform.max_pixel_value
            standard = transform.normalization == "standard" and divisor
            return InputValueStep(path, None, float(divisor)) if standard else None
        standard = transform.normalization == "standard"
        step = InputValueStep(path, float(transform.max_pixel_value) if standard else None)
        _check_value_range(spec, step)
        _wrap(transform, OnInputValues)
        return step
    return None


def _refuse_normalize_after(to_float: str, later: list[Any]) -> None:
    """A ``ConfigError`` for a standard ``Normalize`` after ``ToFloat`` that divides by a
    ``max_pixel_value`` above 1: ``ToFloat``'s values are in [0, 1], so every pixel would
    come out near ``-mean / std`` (about -2), on every image."""
    for path, transform, _ in later:
        if type(transform).__name__ != "Normalize" or transform.normalization != "standard":
            continue
        if (transform.max_pixel_value or 0) > 1:
            raise ConfigError.single(
                f"{path} divides by max_pixel_value {transform.max_pixel_value:g}, but it "
                f"comes after {to_float}, whose values are in [0, 1]: every pixel would come "
                "out near -mean/std",
                field=f"{path}.max_pixel_value",
                hint="set max_pixel_value: 1, or drop the ToFloat (Normalize divides itself)",
            )


def _wrap(transform: Any, wrapper: Callable[[Callable[..., Any]], Any]) -> None:
    # albumentations looks each target's function up in this table, filled once at
    # construction (additional image targets included): the step's own image function is
    # replaced by itself wrapped, the only change to the transform. The table is private to
    # albumentations (pinned at 2.0.8): should it change, compiling fails here, loudly,
    # rather than the step silently seeing [0, 1] values.
    table: dict[str, Any] = getattr(transform, "_key2func", None) or {}
    # The function under any wrappers already put there (a Normalize's ChannelsMatch).
    keys = [key for key, function in table.items() if _innermost(function) == transform.apply]
    if not keys:
        raise RuntimeError(
            f"confaug cannot wrap {type(transform).__name__}'s image function (to give it "
            "the values it takes): it was not found in albumentations' table of them "
            "(_key2func, as in 2.0.8, the version confaug needs); this is albumentations "
            f"{albumentations().__version__}"
        )
    for key in keys:
        table[key] = wrapper(table[key])


def _innermost(function: Any) -> Any:
    while isinstance(function, (OnInputValues, FloatsIn, KeepsChannelAxis, ChannelsMatch)):
        function = function.function
    return function


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
    """The steps of ``RANGE_STEPS`` among ``steps`` and inside their composites, in order,
    and those that change the number of channels (``ToGray`` to one channel): what a
    pipeline without augmentation keeps, so that its output has the training output's
    dtype, range and channels. Exact: :func:`output_step` makes sure each runs on every
    sample, and none of them draws anything."""
    kept: list[TransformStep] = []
    for step in steps:
        if step.name in RANGE_STEPS or _changes_channels(step):
            kept.append(step)
        elif step.transforms:
            kept.extend(range_steps(step.transforms))
    return tuple(kept)


def _check_keras_stage(spec: Spec, step: SetByStep) -> None:
    name = step.path.rsplit(".", 1)[-1]
    problems = [
        _problem(
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
            _problem(
                "dtype",
                f"dtype {spec.dtype} would round and clip the floats {step.path} gives",
                "leave dtype unset, or set a float dtype",
            )
        )
    if problems:
        raise ConfigError(problems)


#: The steps that may change the number of channels, each with the num_output_channels
#: that keeps it (found by running every transform of albumentations 2.0.8's catalog on 1-
#: and 3-channel images: ToGray makes that many of RGB, ToRGB of gray; both default to 3).
_CHANNEL_STEPS = {"ToGray": ("RGB", 3), "ToRGB": ("gray", 1)}


def _channel_change(name: str, channels: Any) -> str | None:
    """What step ``name`` with ``num_output_channels`` ``channels`` does to the number of
    channels, when it changes it; else None."""
    kind, keeps = _CHANNEL_STEPS.get(name, ("", channels))
    if channels == keeps:
        return None
    return f"makes {channels}-channel images of {kind} ones (num_output_channels: {channels})"


def _changes_channels(step: TransformStep) -> bool:
    """:func:`_channel_change` of a step as written (num_output_channels defaults to 3)."""
    return step.name in _CHANNEL_STEPS and (
        _channel_change(step.name, step.params.get("num_output_channels", 3)) is not None
    )


def _check_channels_kept(path: str, transform: Any, skipped_by: tuple[str, str]) -> None:
    """A step that changes the number of channels must run on every sample or on none:
    a batch of samples it skipped and samples it ran on mixes channel counts, and failed
    only at some later batch, with a hint about the images' sizes."""
    change = _channel_change(type(transform).__name__, getattr(transform, "num_output_channels", 0))
    if change is None:
        return
    reason, blamed = skipped_by
    fix = (
        f"set {blamed} to 1"
        if blamed.endswith(".p")
        else f"move {type(transform).__name__} out of {blamed}, to the top level of transforms"
    )
    if type(transform).__name__ == "ToGray":
        fix += "; or keep three channels (num_output_channels: 3) for gray images in RGB"
    raise ConfigError.single(
        f"{path} {change}, so it must run on every sample, but {reason}: a batch would mix "
        "images with different numbers of channels",
        field=blamed,
        hint=fix,
    )


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
