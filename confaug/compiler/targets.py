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
import re
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from confaug.errors import ConfigError, DataError, did_you_mean
from confaug.spec.model import RESERVED_TARGETS, Spec

_POINT_KINDS = ("bboxes", "keypoints")
#: Names of keys that hold labels (class_labels, category_ids, classes, labels, cls).
_LABEL_WORDS = re.compile(r"label|class|categor|cls")
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
        #: How many leading columns of a row are coordinates (the rest are labels
        #: albumentations carries): 4 for boxes, the keypoint format's letters.
        self._coords = {
            "bboxes": 4,
            "keypoints": len((spec.keypoint_params or {}).get("format") or "xy"),
        }
        self._known = self._names.union(*(fields for _, _, fields in self.with_params))
        self._warned: set[str] = set()
        self._warned_rows: set[str] = set()
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
        #: The keys whose items carry images of other samples (Mosaic's, OverlayElements'
        #: metadata): the pipeline brings those images into the working form as it brings
        #: the sample's own.
        self.metadata_images = tuple(
            key for _, kind, key, _ in self._needs if kind in ("mosaic", "overlay")
        )
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
        #: The alternatives of each step's need that includes boxes or keypoints:
        #: ``fill_absent``'s empty rows must not stand in for them (ConstrainedCoarseDropout's
        #: bbox_labels would then pick no box, without a word).
        self._from_caller = tuple(
            keys
            for _, kind, keys, _ in self._needs
            if kind == "keys" and not self._placed.isdisjoint(keys)
        )
        #: Keys steps read as they are (Mosaic's metadata, targets_as_params): never taken
        #: for labels that should follow the boxes.
        self._step_keys = frozenset(
            key
            for _, kind, arg, _ in self._needs
            for key in ((arg,) if kind in ("mosaic", "overlay") else arg if kind == "keys" else ())
        )
        _check_box_label_steps(compose, spec)
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
            if self.with_params:
                self._check_unfollowed(data)

    def fill_absent(self, data: dict[str, Any]) -> list[str]:
        """Empty boxes / keypoints (and their label fields) for image-only calls; the keys added.

        albumentations refuses a call without the label fields its params name, which would
        make a detection config unusable on plain images (previews, ``apply_batch``).
        """
        added: list[str] = []
        for target, width, label_fields in self.with_params:
            if target in data or any(
                target in keys and not _holds_any(data, keys) for keys in self._from_caller
            ):
                continue  # a step needs the sample's own: _check_needs refuses it
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
                _check_masks(value, key, data.get("image"))
            elif key in self._extra_rows:
                data[key] = _as_rows(value, key)  # (a key that is there: no resize)
                _check_rows(data[key], key, self._extra_rows[key], self._coords[kind])
            elif (
                value is None and kind != "image" and key not in self._placed
            ):  # image=None is the pipeline's to word
                raise DataError(f"{key} is None; expected the {kind} of the sample")
        for target, width, label_fields in self.with_params:
            if target in data:
                data[target] = _as_rows(data[target], target)
                _check_labelled(data, target, width, label_fields, coords=self._coords[target])

    def _check_needs(self, data: dict[str, Any]) -> None:
        """Refuse a sample without what a step needs, whether or not the step fires on it."""
        for path, kind, arg, why in self._needs:
            if kind == "keys":
                if not _holds_any(data, arg):
                    wanted = " or ".join(f"'{key}'" for key in arg)
                    raise DataError(
                        f"{path} needs {wanted} in each sample{why}; this one has {_held(data)}"
                    )
            elif kind == "volume":
                if self._volumes.isdisjoint(data):
                    raise DataError(
                        f"{path} is a 3-D transform: it needs a 'volume' (a D×H×W array) in "
                        f"each sample; this one has {_held(data)}"
                    )
            elif kind == "channel":
                image = data.get("image")
                if image is None:
                    continue
                channels = 1 if np.ndim(image) < 3 else np.shape(image)[-1]
                if arg >= channels:
                    raise DataError(
                        f"{path} works on channel {arg}, but the image has {channels} "
                        f"channel(s) (shape {np.shape(image)})"
                    )
            elif kind == "steps":
                image = data.get("image")
                if image is not None and arg > min(np.shape(image)[:2]):
                    raise DataError(
                        f"{path} cuts the image into num_steps {arg} cells a side, more than "
                        f"the image's {min(np.shape(image)[:2])} pixels (shape "
                        f"{np.shape(image)})"
                    )
            elif kind == "mosaic":
                self._check_mosaic(path, arg, data)
            elif kind == "overlay":
                _check_overlays(path, arg, data)

    def _check_mosaic(self, path: str, key: str, data: dict[str, Any]) -> None:
        """Mosaic's other samples, checked as the sample itself is: albumentations skips an
        item it cannot use with only a warning (or the whole list, when it is not one), and
        fails on their boxes with its own words (an unformatted f-string, an IndexError)."""
        items = data[key]
        if not isinstance(items, (list, tuple)):
            raise DataError(
                f"{path}: {key} is {type(items).__name__}; expected a list of dicts, one per "
                "other sample ({'image': ..., 'mask': ..., 'bboxes': ..., label fields})"
            )
        image, mask = data.get("image"), data.get("mask")
        for number, item in enumerate(items):
            name = f"{key}[{number}]"
            picture = _metadata_image(path, item, name, image)
            if item.get("mask") is not None:
                _check_item_mask(path, item["mask"], f"{name}.mask", picture, like=mask)
            for target, width, label_fields in self.with_params:
                if item.get(target) is not None:  # None or absent: the item has none
                    try:
                        _check_labelled(
                            item,
                            target,
                            width,
                            label_fields,
                            where=f"{name}.",
                            coords=self._coords[target],
                        )
                    except DataError as error:
                        raise DataError(f"{path}: {error}") from None

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

    def _check_unfollowed(self, data: dict[str, Any]) -> None:
        """Refuse (or point out once) a key holding one entry per box or keypoint that is
        not a label field: albumentations passes it through as it is while it drops boxes
        that leave the image and reorders others, so its entries no longer match their
        rows (a ``class_labels`` beside preset:detection's boxes). A key named like labels
        is refused; another (metadata that may match the count by chance) is warned of."""
        # flow(targets=...) checks the keys alone (every value None) before any sample is
        # read: there a key named like labels beside the boxes is refused by its name.
        keys_only = all(value is None for value in data.values())
        counts: dict[str, int] = {}
        for target, _, _ in self.with_params:
            if keys_only and target in data:
                counts[target] = -1  # present, count unknown
                continue
            try:
                counts[target] = len(data[target]) if data.get(target) is not None else 0
            except TypeError:  # _check_inputs words it
                counts[target] = 0
        for key in set(data) - self._known - self._step_keys:
            value = data[key]
            if keys_only:
                entries = -1
            elif value is None or isinstance(value, (str, bytes, dict)) or _rank(value) == 0:
                continue
            else:
                try:
                    entries = len(value)
                except TypeError:
                    continue
            placed = next((t for t, n in counts.items() if n and n == entries), None)
            if placed is None or (keys_only and not _LABEL_WORDS.search(key.lower())):
                continue
            params = "bbox_params" if placed == "bboxes" else "keypoint_params"
            fields = dict((t, f) for t, _, f in self.with_params)[placed]
            fix = (
                f"add it to {params}.label_fields, e.g. the override "
                f"'{params}.label_fields=[{', '.join((*fields, key))}]', so that its entries "
                f"follow their {placed}; or give each label as an extra value of its row"
            )
            problem = (
                f"'{key}' holds one entry per row of {placed}"
                + ("" if keys_only else f" ({entries})")
                + " but is not a label "
                f"field: it passes through unchanged while {placed} outside the image are "
                "dropped, so its entries would no longer match their rows"
            )
            if _LABEL_WORDS.search(key.lower()):
                raise ConfigError.single(problem, field=f"{params}.label_fields", hint=fix)
            if key not in self._warned_rows:
                self._warned_rows.add(key)
                warnings.warn(f"{problem}; if they are labels, {fix}", UserWarning, stacklevel=5)

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


#: What a step needs from every sample: ``(step path, kind, argument, why)``. Kinds: "keys"
#: (one of the keys in the argument), "volume", "channel" (that channel of the image), "steps"
#: (GridDistortion's cells a side), "mosaic" / "overlay" (the metadata under that key).
Need = tuple[str, str, Any, str]


def _needs(compose: Any, keras: bool) -> Iterator[Need]:
    """What the steps of ``compose`` need from every sample (see :data:`Need`)."""
    for path, transform in _steps(compose, keras):
        name = type(transform).__name__
        for key in getattr(transform, "targets_as_params", None) or ():
            yield path, "keys", (key,), ""
        if getattr(transform, "targets", None) is not None and "image" not in _target_keys(
            transform
        ):
            yield path, "volume", None, ""
        if name == "GridDistortion":
            yield path, "steps", transform.num_steps, ""
        elif name == "SelectiveChannelTransform":
            channels = list(getattr(transform, "channels", ()) or ())
            if channels:
                yield path, "channel", max(channels), ""
        elif name == "Mosaic":
            yield path, "mosaic", transform.metadata_key, ""
        elif name == "OverlayElements":
            yield path, "overlay", transform.metadata_key, ""
        elif name == "CropNonEmptyMaskIfExists":
            # albumentations reads 'mask', else the first of 'masks', and raises without both
            yield path, "keys", ("mask", "masks"), " (it crops around the mask's objects)"
        elif name == "ConstrainedCoarseDropout":
            # albumentations picks the holes from the mask if mask_indices are set and the
            # sample has one, else from the boxes with bbox_labels; with neither it warns
            # and leaves the image as it is.
            picks = (("mask", "mask_indices"), ("bboxes", "bbox_labels"))
            keys = tuple(
                key for key, option in picks if getattr(transform, option, None) is not None
            )
            options = " / ".join(option for key, option in picks if key in keys)
            if keys:
                yield path, "keys", keys, f" (its {options} pick the objects to drop out)"


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
    if failed.endswith(".Erasing") and "missing 1 required positional argument: 'seed'" in text:
        # albumentations 2.0.8's Erasing, when none of its tries finds an area of its scale
        # and ratio inside the image, calls apply() without the seed it needs.
        return DataError(
            f"{failed} found no area of its scale and ratio (width / height) inside this "
            f"sample's image ({_held(data)}); widen ratio or scale, or use images of a "
            "shape the ratio fits"
        )
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
    """A ``DataError`` unless ``mask`` is an H×W or H×W×C array of a dtype every step can
    warp, with finite values (a NaN mask would come out NaN, without a word)."""
    if not isinstance(mask, np.ndarray):
        raise DataError(f"{name} is {type(mask).__name__}; expected a NumPy array (H×W or H×W×C)")
    _check_mask_shape(mask, name)
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


def _check_mask_shape(mask: np.ndarray, name: str) -> None:
    """A ``DataError`` unless ``mask`` is H×W or H×W×C with a channel: OpenCV fails on the
    others inside a step, in its own words (or NumPy, stacking them)."""
    if mask.ndim not in (2, 3):
        squeeze = " (np.squeeze it?)" if mask.ndim > 3 and 1 in mask.shape[2:] else ""
        raise DataError(
            f"{name} has shape {mask.shape}; expected H×W or H×W×C (rank 2 or 3){squeeze}"
        )
    if mask.ndim == 3 and mask.shape[2] == 0:
        raise DataError(f"{name} has shape {mask.shape}: 0 channels; expected H×W or H×W×C")


def _check_masks(value: Any, key: str, image: Any) -> None:
    """Each mask of a ``masks`` target checked, all of one shape and of the image's height
    and width: albumentations stacks them into one array, and NumPy refused other shapes
    ("all input arrays must have the same shape"), naming none."""
    first: tuple[int, ...] | None = None
    for number, mask in enumerate(_listed(value, key)):
        name = f"{key}[{number}]"
        check_mask(mask, name)
        if isinstance(image, np.ndarray) and image.ndim >= 2 and mask.shape[:2] != image.shape[:2]:
            raise DataError(
                f"{name} has shape {mask.shape}, the image {image.shape}: every mask must "
                "have the image's height and width"
            )
        if first is None:
            first = mask.shape
        elif mask.shape != first:
            raise DataError(
                f"{name} has shape {mask.shape}, {key}[0] {first}: the masks of a sample "
                "must all have one shape (they are stacked into one array)"
            )


def _listed(value: Any, name: str) -> Any:
    """The masks of a ``masks`` target: a list of arrays, or one array of them."""
    if isinstance(value, (np.ndarray, list, tuple)):
        return value
    raise DataError(f"{name} is {type(value).__name__}; expected a list of masks or one array")


def _holds_any(data: dict[str, Any], keys: tuple[str, ...]) -> bool:
    """Whether ``data`` holds one of ``keys`` (an empty 'masks' list holds no mask)."""
    return any(key in data and not (key == "masks" and _is_empty(data[key])) for key in keys)


def _is_empty(value: Any) -> bool:
    try:
        return len(value) == 0
    except TypeError:
        return False


def _check_labelled(
    sample: dict[str, Any],
    target: str,
    width: int,
    label_fields: tuple[str, ...],
    where: str = "",
    coords: int | None = None,
) -> None:
    """A ``DataError`` unless ``sample[target]`` is a table of rows with one label per row in
    each of ``label_fields``: the sample's own boxes or keypoints, or those of another sample
    a step mixes in (``where`` then names it: ``mosaic_metadata[2].``)."""
    count = _check_rows(sample[target], f"{where}{target}", width, coords)
    for field in label_fields:
        name = f"{where}{field}"
        if field not in sample:  # albumentations: "Your 'label_fields' are not valid"
            give = f"add '{field}': [...] to {where[:-1]}" if where else f"pass {field}=[...]"
            raise DataError(
                f"{where}{target} need their label field {field!r} (the spec's "
                f"{'bbox' if width == 4 else 'keypoint'}_params.label_fields): {give}, one "
                "label per row"
            )
        if isinstance(sample[field], (str, bytes)):  # its characters are not labels
            raise DataError(f"{name} is a string; expected one label per row")
        labels = _length(sample[field], name)
        if labels != count:
            raise DataError(f"{name}: {labels} label(s) for {count} {target}; give one per row")


def _metadata_image(path: str, item: Any, name: str, image: Any) -> np.ndarray:
    """The 'image' of a metadata ``item`` (a dict), with the main ``image``'s rank and
    channels: albumentations skips (Mosaic) or fails on (OverlayElements) one without."""
    if not isinstance(item, dict):
        raise DataError(f"{path}: {name} is {type(item).__name__}; expected a dict with an 'image'")
    picture = item.get("image")
    if not isinstance(picture, np.ndarray):
        got = "missing" if "image" not in item else f"{type(picture).__name__}"
        raise DataError(f"{path}: {name}.image is {got}; expected a NumPy array")
    if picture.ndim not in (2, 3) or min(picture.shape[:2]) < 1:
        raise DataError(
            f"{path}: {name}.image has shape {picture.shape}; expected an H×W or H×W×C image "
            "with pixels"
        )
    if image is None:
        return picture
    shape = np.shape(image)
    if picture.ndim != len(shape) or (picture.ndim == 3 and picture.shape[-1] != shape[-1]):
        wanted = "(h, w)" if len(shape) == 2 else f"(h, w, {shape[-1]})"
        raise DataError(
            f"{path}: {name}.image has shape {picture.shape}, the image {shape}: it must have "
            f"the image's channels, shape {wanted}"
        )
    # Metadata images of the sample's dtype reach here converted as the sample is
    # (Pipeline._augment); others are pasted into the image's dtype as they are: [0, 1]
    # floats would become 0s and 1s in bytes, bytes or 0-255 floats white in a [0, 1]
    # image. The image here is the one the steps see (uint8, or float in [0, 1]:
    # compiler.values.to_working).
    dtype = np.asarray(image).dtype
    floats = dtype.kind == "f"
    wanted = "floats in [0, 1]" if floats else str(dtype)
    if picture.dtype != dtype and not (floats and picture.dtype.kind == "f"):
        raise DataError(
            f"{path}: {name}.image is {picture.dtype}, but the steps see the image as "
            f"{wanted}: give it in the image's own dtype (it is then converted as the image "
            f"is), or as {wanted}"
        )
    if floats and picture.size and not (picture.min() >= 0.0 and picture.max() <= 1.0):
        raise DataError(
            f"{path}: {name}.image has values from {picture.min():g} to {picture.max():g}, "
            f"but the steps see the image as {wanted}: give it in the image's own dtype "
            f"(it is then converted as the image is), or as {wanted}"
        )
    return picture


def _check_item_mask(path: str, mask: Any, name: str, picture: np.ndarray, like: Any) -> None:
    """A metadata item's mask: a mask of its own image's height and width (and, for
    Mosaic, the main mask's rank and channels: albumentations skips the item otherwise)."""
    check_mask(mask, f"{path}: {name}")
    if mask.shape[:2] != picture.shape[:2]:
        raise DataError(
            f"{path}: {name} has shape {mask.shape}, its image {picture.shape}: it must have "
            "its image's height and width"
        )
    if like is not None:
        main = np.shape(like)
        if mask.ndim != len(main) or (mask.ndim == 3 and mask.shape[-1] != main[-1]):
            raise DataError(
                f"{path}: {name} has shape {mask.shape}, the mask {main}: it must have the "
                "mask's number of dimensions and channels"
            )


def _check_overlays(path: str, key: str, data: dict[str, Any]) -> None:
    """OverlayElements' overlays: one dict or a list of them, each an image with the main
    image's channels, an optional normalized 'bbox' to paste it into and an optional
    'mask' of the overlay's size (albumentations fails on them with NumPy's or OpenCV's
    words, or pastes a part of a mask of another size without a word)."""
    items = data[key]
    if isinstance(items, dict):  # albumentations takes one dict as one overlay
        items = [items]
    elif not isinstance(items, list):  # a tuple too: albumentations reads it as one dict
        raise DataError(
            f"{path}: {key} is {type(items).__name__}; expected a list of dicts (or one "
            "dict), each with an 'image' and optionally 'bbox', 'mask', 'mask_id'"
        )
    image = data.get("image")
    shape = np.shape(image) if image is not None else None
    for number, item in enumerate(items):
        name = f"{key}[{number}]"
        picture = _metadata_image(path, item, name, image)
        if "bbox" in item:
            if shape is not None and len(shape) == 3 and shape[-1] == 1:
                # OpenCV's resize drops a one-channel axis; the paste then fails
                raise DataError(
                    f"{path}: {name}.bbox cannot place an overlay on a one-channel "
                    f"H×W×1 image (shape {shape}): give the image and overlay as H×W"
                )
            if shape is not None:
                _check_overlay_box(path, item["bbox"], f"{name}.bbox", shape)
        elif (
            "mask" in item and shape is not None and not _fits(picture.shape, shape)
        ):  # albumentations shrinks the overlay to the image, and not its mask
            raise DataError(
                f"{path}: {name}.image has shape {picture.shape}, larger than the image "
                f"{shape}, and a mask: give a 'bbox' to place it in, or an overlay that fits"
            )
        if "mask" in item:
            _check_item_mask(path, item["mask"], f"{name}.mask", picture, like=None)


def _fits(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
    return inner[0] <= outer[0] and inner[1] <= outer[1]


def _check_overlay_box(path: str, bbox: Any, name: str, shape: tuple[int, ...]) -> None:
    """An overlay's 'bbox': x_min, y_min, x_max, y_max in [0, 1], at least a pixel a side."""
    try:
        box = np.asarray(bbox, dtype=np.float64)
    except (TypeError, ValueError):
        box = np.zeros(0)
    if box.ndim != 1 or box.size < 4 or not np.isfinite(box[:4]).all():
        raise DataError(
            f"{path}: {name} is {bbox!r:.60}; expected [x_min, y_min, x_max, y_max] as "
            "fractions of the image's width and height"
        )
    corners = box[:4]
    # albumentations' check_bboxes: in [0, 1] up to np.isclose, max above min
    inside = (corners >= 0) & (corners <= 1) | np.isclose(corners, 0) | np.isclose(corners, 1)
    height, width = shape[:2]
    x_min, y_min, x_max, y_max = (int(v) for v in corners * (width, height, width, height))
    if not inside.all() or x_max - x_min < 1 or y_max - y_min < 1:
        raise DataError(
            f"{path}: {name} {box[:4].tolist()} is not a box of at least one pixel inside "
            f"the image {shape[:2]}: expected 0 <= x_min < x_max <= 1 and 0 <= y_min < "
            "y_max <= 1, fractions of the image's width and height"
        )


def _check_box_label_steps(compose: Any, spec: Spec) -> None:
    """A ConfigError for ConstrainedCoarseDropout's bbox_labels where the spec cannot give
    them boxes: without bbox_params albumentations finds no boxes on any sample, and labels
    that are strings need a label field to be looked up in."""
    for path, transform in _steps(compose, bool(keras_offset(spec))):
        labels = getattr(transform, "bbox_labels", None)
        if type(transform).__name__ != "ConstrainedCoarseDropout" or labels is None:
            continue
        if getattr(transform, "mask_indices", None) is not None:
            continue  # it can work on masks alone
        params = spec.bbox_params
        if params is None:
            problem = "but the spec has no bbox_params, so no sample can hold boxes"
        elif any(isinstance(label, str) for label in labels) and not params.get("label_fields"):
            problem = "and string labels are looked up in bbox_params.label_fields, which is empty"
        else:
            continue
        raise ConfigError.single(
            f"{path} picks boxes by their labels (bbox_labels {list(labels)}), {problem}",
            field=f"{path}.bbox_labels",
            hint="add e.g. 'bbox_params: {format: pascal_voc, label_fields: [labels]}'",
        )


def _as_rows(rows: Any, target: str) -> Any:
    """``rows`` (boxes or keypoints) as albumentations takes them: a list, tuple or NumPy
    array as given; another array-like (a torch or TensorFlow tensor, anything with
    ``__array__`` or ``.numpy()``) as the NumPy array it holds. albumentations reads boxes
    with ``rows.copy()`` and NumPy calls, so a tensor failed inside it (AttributeError);
    keypoints it converts itself, and the image is read with ``np.asarray`` too."""
    if isinstance(rows, (list, tuple, np.ndarray, str, bytes, dict)) or rows is None:
        return rows  # (_check_rows words the wrong kinds)
    if not (hasattr(rows, "__array__") or callable(getattr(rows, "numpy", None))):
        return rows
    try:
        return np.asarray(rows) if hasattr(rows, "__array__") else np.asarray(rows.numpy())
    except Exception as exc:  # e.g. a tensor on a GPU, or one that requires grad
        raise DataError(
            f"{target} is {type(rows).__name__} and cannot be read as a NumPy array "
            f"({type(exc).__name__}: {exc}); pass it on the CPU, e.g. rows.detach().cpu()"
        ) from None


def _check_rows(rows: Any, target: str, width: int, coords: int | None = None) -> int:
    """How many boxes (keypoints) ``rows`` holds; a ``DataError`` unless it is a table of
    numbers with at least ``width`` columns (extra columns are labels albumentations keeps)
    whose first ``coords`` (default ``width``: the coordinates, a keypoint's angle and
    scale) are finite. albumentations refuses a NaN box in its own words, but carries a
    NaN keypoint through (or drops it, and its label, without a word)."""
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
    values = table[:, : coords or width]
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise DataError(
            f"{target}[{row}] holds NaN or infinity ({values[row].tolist()}); coordinates "
            "must be finite"
        )
    return len(table)


def _rank(value: Any) -> int:
    """``np.ndim(value)``, or 1 when NumPy cannot say (a ragged list: still a list)."""
    try:
        return int(np.ndim(value))
    except (TypeError, ValueError):
        return 1


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
