"""Labels and weights given to ``flow`` and ``wrap`` are checked when the flow is made.

NaN labels and weights went into the batches as they were (and on into the loss), a string
``y`` failed mid-epoch with NumPy's IndexError, a scalar with Python's "has no len()", and
``wrap`` took weights of another length. Each is a ``DataError`` saying what is wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import confaug
from confaug.errors import DataError

X = np.random.default_rng(0).integers(0, 255, (6, 8, 8, 3)).astype(np.uint8)
PIPE = confaug.load_pipeline("preset:keras_seed")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"y": "abcdef"}, "y is str; expected one entry per sample"),
        ({"y": 5}, "y is int; expected one entry per sample"),
        ({"y": [[1], [1, 2], [1], [1], [1], [1]]}, "y: its entries have different lengths"),
        ({"y": [0, 1, np.nan, 1, 0, 1.0]}, r"y\[2\] is nan"),
        (
            {"y": np.where(np.eye(6) * np.arange(6)[:, None] == 4, np.inf, np.eye(6))},
            r"y\[4\] is NaN",
        ),
        ({"y": np.arange(6), "sample_weight": [1, 1, np.nan, 1, 1, 1]}, r"sample_weight\[2\]"),
        ({"y": np.arange(6), "sample_weight": list("abcdef")}, "sample_weight has dtype <U1"),
        ({"y": np.arange(6), "sample_weight": [1, None, 1, 1, 1, 1]}, "has dtype object"),
        ({"y": np.arange(6), "sample_weight": 2.0}, "sample_weight is float"),
        ({"y": np.arange(6), "sample_weight": np.ones((6, 2))}, r"has shape \(6, 2\)"),
    ],
)
def test_bad_labels_and_weights_are_refused_when_the_flow_is_made(
    given: dict[str, Any], said: str
) -> None:
    with pytest.raises(DataError, match=said):
        PIPE.flow(X, batch_size=6, **given)


def test_good_labels_and_weights_pass_as_given() -> None:
    weights = np.linspace(0.5, 1.0, 6).astype(np.float32)
    _, y, w = next(iter(PIPE.flow(X, np.array(list("abcdef")), weights, shuffle=False)))
    assert y.tolist() == list("abcdef") and w.dtype == np.float32
    assert np.array_equal(w, weights)


@pytest.mark.parametrize(
    ("batch", "said"),
    [
        ((X, np.arange(6), np.ones(4)), "batch 0 x has 6 samples but w has 4"),
        ((X, np.arange(6), 3), "batch 0 w is int"),
        ((X, "abcdef"), "batch 0 y is str"),
    ],
)
def test_wrap_checks_the_lengths_of_what_rides_along(batch: Any, said: str) -> None:
    with pytest.raises(DataError, match=said):
        next(iter(PIPE.wrap([batch])))
