"""What a pipeline takes besides the image, decided once from its spec.

Boxes, keypoints and their label fields need care albumentations does not give them:
empty defaults for image-only calls, labels kept exactly as the caller gave them, a clear
refusal when their params are missing, and a word when a key looks like a misspelt target.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from confaug.errors import ConfigError, DataError, did_you_mean
from confaug.spec.model import RESERVED_TARGETS, Spec

_POINT_KINDS = ("bboxes", "keypoints")


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
        # samples (Mosaic's metadata), whose labels albumentations reads as they are.
        self._relabel = bool(self.with_params) and not (
            any(kind in _POINT_KINDS for kind in spec.additional_targets.values())
            or _reads_metadata(compose)
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
        """
        if not self._relabel:
            return compose(**data)
        originals: list[tuple[str, Any]] = []
        for target, _, label_fields in self.with_params:
            if target not in data:
                continue
            count = len(data[target])
            for field in label_fields:
                if field in data:
                    labels = data[field]
                    if len(labels) != count:
                        raise DataError(
                            f"{field}: {len(labels)} label(s) for {count} {target}; "
                            "give one per row"
                        )
                    originals.append((field, labels))
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


def _pick(labels: Any, rows: np.ndarray) -> Any:
    """``labels`` at ``rows``, by position, in the caller's container type."""
    if isinstance(labels, np.ndarray):
        return labels[rows]
    values = labels if isinstance(labels, (list, tuple)) else list(labels)  # e.g. a Series
    picked = [values[i] for i in rows]
    return tuple(picked) if isinstance(labels, tuple) else picked


def _reads_metadata(transform: Any) -> bool:
    """Whether a transform (or one nested in a composite) takes other samples' data."""
    if getattr(transform, "metadata_key", None):
        return True
    return any(_reads_metadata(child) for child in getattr(transform, "transforms", ()))
