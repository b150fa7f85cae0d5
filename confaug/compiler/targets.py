"""What a pipeline takes besides the image, decided once from its spec.

Boxes, keypoints and their label fields need care albumentations does not give them:
empty defaults for image-only calls, labels kept exactly as the caller gave them, a clear
refusal when their params are missing, and a word when a key looks like a misspelt target.

A valid config can still fail on a sample (a crop larger than the image, a mask that is not
there, a channel the image lacks): that is the data's fault, so it is a ``DataError`` naming
the step (``transforms.2.MaskDropout``), what the sample held, and what the step needed.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from confaug.errors import ConfigError, DataError, did_you_mean
from confaug.spec.model import RESERVED_TARGETS, Spec

_POINT_KINDS = ("bboxes", "keypoints")
_VOLUME_KINDS = frozenset({"volume", "volumes"})


class Targets:
    """The non-image inputs of one compiled spec (``compose`` is its albumentations Compose)."""

    def __init__(self, spec: Spec, compose: Any) -> None:
        self._spec = spec
        #: Additional targets of kind image: converted with the image's value range.
        self.extra_images = tuple(
            key for key, kind in spec.additional_targets.items() if kind == "image"
        )
        #: ``(target, row width, label fields)`` of the boxes/keypoints that have params.
        self.with_params = tuple(
            (target, width, tuple(params.get("label_fields") or ()))
            for target, params, width in (
                ("bboxes", spec.bbox_params, 4),
                ("keypoints", spec.keypoint_params, 2),
            )
            if params is not None
        )
        # Labels go to albumentations as row numbers (see run) unless other boxes can join a
        # sample's own: more targets of the same kind, or a transform that mixes in other
        # samples (Mosaic's metadata), whose labels albumentations reads as they are, or a
        # transform that picks boxes by their labels' values (ConstrainedCoarseDropout).
        self._relabel = bool(self.with_params) and not (
            any(kind in _POINT_KINDS for kind in spec.additional_targets.values())
            or _reads_metadata(compose)
            or _reads_box_labels(compose)
        )
        self._names = RESERVED_TARGETS | frozenset(spec.additional_targets)
        self._known = self._names.union(*(fields for _, _, fields in self.with_params))
        self._warned: set[str] = set()
        # Boxes or keypoints without params would come back empty or untouched.
        kinds = {**{kind: kind for kind in _POINT_KINDS}, **spec.additional_targets}
        self._unformatted = frozenset(
            key
            for key, kind in kinds.items()
            if kind in _POINT_KINDS
            and (spec.bbox_params if kind == "bboxes" else spec.keypoint_params) is None
        )
        # What steps need from every sample (a mask, metadata, a volume), by step.
        self._volumes = _VOLUME_KINDS | frozenset(
            key for key, kind in spec.additional_targets.items() if kind in _VOLUME_KINDS
        )
        self._needs = tuple(_needs(compose, bool(keras_offset(spec))))
        #: The kind of every key a sample may hold besides metadata: the reserved targets
        #: are their own kind, additional targets have theirs.
        self._kinds = {
            **{name: name for name in RESERVED_TARGETS},
            **spec.additional_targets,
        }
        widths = {target: width for target, width, _ in self.with_params}
        labels = {target: fields for target, _, fields in self.with_params}
        #: The keys whose rows ``_check_inputs`` checks in its first loop (additional box
        #: and keypoint targets; the reserved ones are checked with their label fields),
        #: and their row widths; decided here, not per sample.
        self._extra_rows = {
            name: widths[kind] for name, kind in spec.additional_targets.items() if kind in widths
        }
        #: The reserved box / keypoint targets the spec places: their check words None.
        self._placed = frozenset(widths)
        for name, kind in spec.additional_targets.items():
            if labels.get(kind):
                # albumentations 2.0.8 takes the label fields away with the first kind's
                # rows and then fails on the second's (KeyError): on every sample.
                raise ConfigError.single(
                    f"additional target {name!r} holds {kind}, and the {kind} have label "
                    f"fields {list(labels[kind])}: albumentations cannot carry labels for two "
                    f"{kind} targets; give {name}'s labels as an extra value of each row "
                    "instead, and drop label_fields",
                    field=f"additional_targets.{name}",
                )

    def check(self, data: dict[str, Any]) -> None:
        """Refuse boxes/keypoints the spec cannot place; point out a misspelt target once."""
        if self._unformatted and not self._unformatted.isdisjoint(data):
            self._refuse_unformatted(data)
        if not self._known.issuperset(data):
            self._warn_near_misses(data)

    def fill_absent(self, data: dict[str, Any]) -> list[str]:
        """Empty boxes / keypoints (and their label fields) for image-only calls; the keys added.

        albumentations refuses a call without the label fields its params name, which would
        make a detection config unusable on plain images (previews, ``apply_batch``).
        """
        added: list[str] = []
        for target, width, label_fields in self.with_params:
            if target in data:
                continue
            data[target] = np.zeros((0, width), dtype=np.float32)
            added.append(target)
            for field in label_fields:
                if field not in data:
                    data[field] = np.zeros(0, dtype=np.float32)
                    added.append(field)
        return added

    def run(self, compose: Callable[..., dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
        """``compose(**data)`` with label fields handed over as row numbers.

        albumentations 2.0.8 decides how to encode a label field from the first call it sees
        and keeps that for later calls (int labels then come back as floats, and strings
        after numbers fail), so each copy of a pipeline would behave by its history. Row
        numbers are always numeric; the caller's labels are picked back by them, unchanged.

        A step that fails on the sample is a ``DataError`` naming the step (see
        :func:`_step_failure`).
        """
        self._check_needs(data)
        self._check_inputs(data)
        try:
            return self._run(compose, data)
        except DataError:
            raise
        except Exception as exc:
            failure = _step_failure(exc, compose, self._spec, data)
            if failure is None:
                raise
            raise failure from exc

    def _check_inputs(self, data: dict[str, Any]) -> None:
        """Refuse masks, boxes and keypoints no step could work on, before albumentations
        fails on them inside OpenCV or NumPy (or, for some, only when a step fires)."""
        for key, value in data.items():
            kind = self._kinds.get(key)
            if kind is None:
                continue  # metadata, passed on as it is
            if kind == "mask":
                check_mask(value, key)
            elif kind == "masks":
                for number, mask in enumerate(_listed(value, key)):
                    check_mask(mask, f"{key}[{number}]")
            elif key in self._extra_rows:
                _check_rows(value, key, self._extra_rows[key])
            elif (
                value is None and kind != "image" and key not in self._placed
            ):  # image=None is the pipeline's to word
                raise DataError(f"{key} is None; expected the {kind} of the sample")
        for target, width, label_fields in self.with_params:
            if target not in data:
                continue
            count = _check_rows(data[target], target, width)
            for field in label_fields:
                if field not in data:  # albumentations: "Your 'label_fields' are not valid"
                    raise DataError(
                        f"{target} need their label field {field!r} (the spec's "
                        f"{'bbox' if width == 4 else 'keypoint'}_params.label_fields): pass "
                        f"{field}=[...], one label per row"
                    )
                if isinstance(data[field], (str, bytes)):
                    raise DataError(f"{field} is a string; expected one label per row")
                labels = _length(data[field], field)
                if labels != count:
                    raise DataError(
                        f"{field}: {labels} label(s) for {count} {target}; give one per row"
                    )

    def _check_needs(self, data: dict[str, Any]) -> None:
        """Refuse a sample without what a step needs, whether or not the step fires on it."""
        for path, needs in self._needs:
            if needs == "volume":
                if self._volumes.isdisjoint(data):
                    raise DataError(
                        f"{path} is a 3-D transform: it needs a 'volume' (a D×H×W array) in "
                        f"each sample; this one has {_held(data)}"
                    )
            elif needs.startswith("channel "):
                image = data.get("image")
                if image is None:
                    continue
                wanted = int(needs.removeprefix("channel "))
                channels = 1 if np.ndim(image) < 3 else np.shape(image)[-1]
                if wanted >= channels:
                    raise DataError(
                        f"{path} works on channel {wanted}, but the image has {channels} "
                        f"channel(s) (shape {np.shape(image)})"
                    )
            elif needs.startswith("steps "):
                steps = int(needs.removeprefix("steps "))
                image = data.get("image")
                if image is not None and steps > min(np.shape(image)[:2]):
                    raise DataError(
                        f"{path} cuts the image into num_steps {steps} cells a side, more than "
                        f"the image's {min(np.shape(image)[:2])} pixels (shape "
                        f"{np.shape(image)})"
                    )
            elif needs not in data:
                raise DataError(
                    f"{path} needs '{needs}' in each sample; this one has {_held(data)}"
                )

    def _run(self, compose: Callable[..., dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
        if not self._relabel:
            return compose(**data)
        originals: list[tuple[str, Any]] = []
        for target, _, label_fields in self.with_params:
            if target not in data:
                continue
            count = len(data[target])
            for field in label_fields:  # present, one per row: _check_inputs made sure
                originals.append((field, data[field]))
                data[field] = np.arange(count, dtype=np.float32)
        out = compose(**data)
        for field, labels in originals:
            rows = np.asarray(out[field], dtype=np.float64).reshape(-1).astype(np.intp)
            out[field] = _pick(labels, rows)
        return out

    def _warn_near_misses(self, data: dict[str, Any]) -> None:
        """Other keys pass through untouched (metadata); one that looks like a misspelt
        target would leave that target unaugmented, so it is pointed out once."""
        for key in set(data) - self._known - self._warned:
            self._warned.add(key)
            # Stricter than a did-you-mean for config keys: metadata such as 'image_id' or
            # 'class' must not be mistaken for 'image' or 'masks'.
            near = [
                name
                for name in self._names
                if abs(len(key) - len(name)) <= 2
                and difflib.SequenceMatcher(None, key.lower(), name).ratio() >= 0.75
            ]
            if near:
                warnings.warn(
                    f"'{key}' is not a target of this pipeline and passes through unchanged "
                    f"({did_you_mean(key, near)})",
                    UserWarning,
                    stacklevel=5,
                )

    def _refuse_unformatted(self, data: dict[str, Any]) -> None:
        key = min(self._unformatted.intersection(data))
        kind = self._spec.additional_targets.get(key, key)
        params = "bbox_params" if kind == "bboxes" else "keypoint_params"
        example = "{format: pascal_voc}" if kind == "bboxes" else "{format: xy}"
        raise ConfigError.single(
            f"'{key}' were passed, but the spec has no {params}, so their format is unknown "
            f"and they would not follow the image; add e.g. '{params}: {example}' to the "
            "config" + (" (preset:detection has one)" if kind == "bboxes" else ""),
            field=params,
        )


def keras_offset(spec: Spec) -> int:
    """1 when the Compose starts with the Keras keywords' step, else 0 (see build_compose)."""
    return 1 if spec.has_keras_augmentation else 0


def _needs(compose: Any, keras: bool) -> Iterator[tuple[str, str]]:
    """(step path, what it needs from every sample) for the steps of ``compose``."""
    for path, transform in _steps(compose, keras):
        for key in getattr(transform, "targets_as_params", None) or ():
            yield path, key
        if getattr(transform, "targets", None) is not None and "image" not in _target_keys(
            transform
        ):
            yield path, "volume"
        if type(transform).__name__ == "GridDistortion":
            yield path, f"steps {transform.num_steps}"
        if type(transform).__name__ == "SelectiveChannelTransform":
            channels = list(getattr(transform, "channels", ()) or ())
            if channels:
                yield path, f"channel {max(channels)}"


def _target_keys(transform: Any) -> frozenset[str]:
    try:
        return frozenset(transform.targets)
    except Exception:  # a base class without targets
        return frozenset({"image"})


def _steps(compose: Any, keras: bool) -> Iterator[tuple[str, Any]]:
    """Every transform of ``compose`` with the path of its step in the config."""
    todo: list[tuple[str, Any]] = []
    for index, transform in enumerate(getattr(compose, "transforms", ())):
        if keras and index == 0:
            todo.append(("the Keras keywords (rotation_range, zoom_range, ...)", transform))
            continue
        todo.append((f"transforms.{index - int(keras)}.{type(transform).__name__}", transform))
    while todo:
        path, transform = todo.pop(0)
        yield path, transform
        children = getattr(transform, "transforms", None)
        if isinstance(children, list) and type(transform).__name__ != "Compose":
            todo[:0] = [
                (f"{path}.transforms.{i}.{type(child).__name__}", child)
                for i, child in enumerate(children)
            ]


def _step_failure(exc: Exception, compose: Any, spec: Spec, data: dict[str, Any]) -> Any:
    """A DataError naming the step that raised ``exc`` on this sample, or None when no step
    of ``compose`` did (the exception is then not the data's, or not a step's).

    The step is the innermost frame of the traceback whose ``self`` is one of the steps of
    the ``compose`` that ran (a thread's copy has its own objects, so they are looked up
    in it, and only when something failed).
    """
    paths = {id(transform): path for path, transform in _steps(compose, bool(keras_offset(spec)))}
    failed: str | None = None
    trace = exc.__traceback__
    while trace is not None:
        owner = trace.tb_frame.f_locals.get("self")
        if owner is not None and id(owner) in paths:
            failed = paths[id(owner)]
        trace = trace.tb_next
    if failed is None:
        return None
    reason = str(exc).strip().splitlines()
    text = reason[-1] if reason else ""
    if isinstance(exc, KeyError):
        text = f"needs {text} in each sample"
    elif isinstance(exc, MemoryError):
        text = f"ran out of memory ({text})" if text else "ran out of memory"
    return DataError(
        f"{failed} failed on this sample ({_held(data)}): {type(exc).__name__}: {text}"
    )


#: Mask dtypes every geometric step warps (OpenCV's nearest-neighbour remap and warps).
_MASK_DTYPES = frozenset(
    np.dtype(name) for name in ("uint8", "int8", "uint16", "int16", "int32", "float32", "float64")
)
#: 64-bit integer masks albumentations hands on as int32: their values must fit.
_WIDE_MASK_DTYPES = frozenset(np.dtype(name) for name in ("int64", "uint64"))
_INT32 = np.iinfo(np.int32)


def check_mask(mask: Any, name: str) -> None:
    """A ``DataError`` unless ``mask`` is an array of a dtype every step can warp, with
    finite values (a NaN mask would come out NaN, without a word)."""
    if not isinstance(mask, np.ndarray):
        raise DataError(f"{name} is {type(mask).__name__}; expected a NumPy array (H×W or H×W×C)")
    dtype = mask.dtype
    if dtype in _WIDE_MASK_DTYPES:
        if mask.size and (int(mask.min()) < _INT32.min or int(mask.max()) > _INT32.max):
            raise DataError(
                f"{name} has {dtype} values {int(mask.min())}..{int(mask.max())}, beyond int32, "
                "the integer type masks are warped in"
            )
        return
    if dtype not in _MASK_DTYPES:
        hint = " (e.g. mask.astype(np.uint8))" if dtype.kind in "biu" else ""
        raise DataError(
            f"{name} has dtype {dtype}; expected uint8, int8, uint16, int16, int32 or int64 "
            f"classes, or float32/float64 values{hint}"
        )
    if dtype.kind == "f" and not np.isfinite(mask).all():
        raise DataError(f"{name} contains NaN or infinite values")


def _listed(value: Any, name: str) -> Any:
    """The masks of a ``masks`` target: a list of arrays, or one array of them."""
    if isinstance(value, (np.ndarray, list, tuple)):
        return value
    raise DataError(f"{name} is {type(value).__name__}; expected a list of masks or one array")


def _check_rows(rows: Any, target: str, width: int) -> int:
    """How many boxes (keypoints) ``rows`` holds; a ``DataError`` unless it is a table of
    numbers with at least ``width`` columns (extra columns are labels albumentations keeps)."""
    if rows is None or isinstance(rows, (str, bytes, dict)):
        raise DataError(
            f"{target} is {'None' if rows is None else type(rows).__name__}; expected one row "
            f"per {'box' if width == 4 else 'keypoint'}: [] when there are none"
        )
    try:
        table = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"{target} must be a table of numbers, one row of at least {width} per item"
        ) from None
    if table.size == 0:
        return len(table) if table.ndim else 0
    if table.ndim != 2 or table.shape[1] < width:
        raise DataError(
            f"{target} has shape {table.shape}; expected one row of at least {width} numbers "
            f"per item ({'x_min, y_min, x_max, y_max' if width == 4 else 'x, y'} first)"
        )
    return len(table)


def _length(values: Any, name: str) -> int:
    try:
        return len(values)
    except TypeError:
        raise DataError(f"{name} is {type(values).__name__}; expected one label per row") from None


def _held(data: dict[str, Any]) -> str:
    """What a sample holds, for errors: ``image (64, 64, 3), mask (64, 64)``."""
    parts = [
        f"{key} {np.shape(value)}" if isinstance(value, np.ndarray) else key
        for key, value in data.items()
    ]
    return ", ".join(parts) or "nothing"


def _pick(labels: Any, rows: np.ndarray) -> Any:
    """``labels`` at ``rows``, by position, in the caller's container type."""
    if isinstance(labels, np.ndarray):
        return labels[rows]
    values = labels if isinstance(labels, (list, tuple)) else list(labels)  # e.g. a Series
    picked = [values[i] for i in rows]
    return tuple(picked) if isinstance(labels, tuple) else picked


def _reads_box_labels(transform: Any) -> bool:
    """Whether a transform (or one nested in a composite) selects boxes by label value."""
    if getattr(transform, "bbox_labels", None):
        return True
    return any(_reads_box_labels(child) for child in getattr(transform, "transforms", ()))


def _reads_metadata(transform: Any) -> bool:
    """Whether a transform (or one nested in a composite) takes other samples' data."""
    if getattr(transform, "metadata_key", None):
        return True
    return any(_reads_metadata(child) for child in getattr(transform, "transforms", ()))
