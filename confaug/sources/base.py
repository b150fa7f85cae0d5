"""What every indexed source provides to the batching layer."""

from __future__ import annotations

from typing import Any, Literal, Protocol, get_args

import numpy as np

from confaug.spec.vocab import DataFormat

#: How a batch's ``y`` is made: from label metadata, a copy of ``x``, the augmented masks,
#: the augmented extra targets (a dict of per-sample lists), or not at all. (Not to be
#: confused with the spec's ``TargetKind``: the kinds of input a transform augments.)
YMode = Literal["labels", "input", "mask", "targets", "none"]


class Source(Protocol):
    """A dataset read one sample at a time; nothing is loaded until :meth:`load`.

    Sources subclass it explicitly to inherit :meth:`sample_key`.
    """

    y_mode: YMode
    #: Pipeline output keys gathered into ``y`` when ``y_mode == "targets"``, else ().
    target_keys: tuple[str, ...]

    def __len__(self) -> int: ...

    def describe(self, index: int) -> str:
        """The file path, or ``"index N"``, used in error messages."""
        ...

    def sample_key(self, index: int) -> int:
        """The stable integer that seeds sample ``index``'s augmentation (a non-negative
        int, the same in every process): by default the index itself."""
        return index

    def load(self, index: int) -> dict[str, Any]:
        """Keyword data for one pipeline call: ``image`` and any ``mask``/``bboxes``/… ."""
        ...

    def labels_for(self, indices: np.ndarray) -> Any:
        """``y`` for these samples when ``y_mode == "labels"``, else None."""
        ...

    def weights_for(self, indices: np.ndarray) -> np.ndarray | None:
        """Sample weights for these samples, or None."""
        ...


def check_data_format(data_format: str) -> DataFormat:
    """Return ``data_format`` if valid, else raise ValueError."""
    formats = get_args(DataFormat)
    if data_format not in formats:
        raise ValueError(f"data_format={data_format!r}; expected one of {list(formats)}")
    return data_format  # type: ignore[return-value]


def to_layout(image: np.ndarray, data_format: str) -> np.ndarray:
    """An HWC image in the pipeline's layout (a CHW view for ``channels_first``)."""
    return image.transpose(2, 0, 1) if data_format == "channels_first" else image


def split_bounds(count: int, subset: str | None, validation_split: float) -> tuple[int, int]:
    """``[start, stop)`` of a Keras-style subset: the first fraction is validation."""
    if subset is None:
        return 0, count
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split={validation_split!r}; expected 0 <= value < 1")
    cut = int(validation_split * count)
    if subset == "validation":
        return 0, cut
    if subset == "training":
        return cut, count
    raise ValueError(f"subset={subset!r}; expected 'training', 'validation' or None")
