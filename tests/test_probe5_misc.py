"""Items left from probe round 4: missing-value row keys of NumPy and pandas, and a
``preprocessing_function`` that returns values that are not real numbers."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from confaug.batching.loader import SampleError
from confaug.errors import DataError
from confaug.keras import ImageDataGenerator
from confaug.seeding import row_key

pd = pytest.importorskip("pandas", reason="pip install pandas (the test extra)")


@pytest.mark.parametrize(
    "key",
    [
        pd.NA,
        pd.NaT,
        np.datetime64("NaT"),
        np.timedelta64("NaT"),
        complex("nan"),
        np.complex64(complex("nan")),
    ],
    ids=["pd.NA", "pd.NaT", "datetime64-NaT", "timedelta64-NaT", "complex-nan", "c64-nan"],
)
def test_a_missing_value_marker_is_no_row_key(key: Any) -> None:
    # Their texts ("<NA>", "NaT") used to key every such row alike.
    with pytest.raises(DataError, match="missing"):
        row_key(key)


def _blake(data: bytes) -> int:
    digest = hashlib.blake2b(data, digest_size=16, person=b"confaug-ray-row").digest()
    return int.from_bytes(digest, "little")


def test_dates_and_durations_are_keyed_by_their_text() -> None:
    # A timedelta64 is an np.integer that int() refuses: it was a TypeError.
    assert row_key(np.timedelta64(5, "s")) == _blake(b"5 seconds")
    assert row_key(np.timedelta64(-5, "s")) == _blake(b"-5 seconds")
    assert row_key(pd.Timestamp("2020-01-02")) == _blake(b"2020-01-02 00:00:00")
    assert row_key(np.datetime64("2020-01-02")) == _blake(b"2020-01-02")
    # a set of NumPy ints is still a key (by its text, as before)
    key = {np.int64(3), 4}
    assert row_key(key) == _blake(str(key).encode())


def test_pandas_missing_keys_in_a_row_adapter_name_the_row() -> None:
    from confaug.integrations.hf_datasets import hf_transform

    x = np.random.default_rng(0).integers(0, 255, (2, 8, 8, 3), dtype=np.uint8)
    augment = hf_transform({"version": 1, "horizontal_flip": True}, seed=1, key_column="id")
    with pytest.raises(DataError, match=r"^id=<NA>: .*missing"):
        augment({"image": list(x), "id": ["a", pd.NA]})


@pytest.mark.parametrize(
    ("returns", "said"),
    [
        (lambda image: image.astype(np.complex64), "complex64"),
        (lambda image: image.astype(str), "<U"),
        (lambda image: image.astype("datetime64[s]"), "datetime64"),
    ],
    ids=["complex", "text", "dates"],
)
def test_a_preprocessing_function_must_return_real_numbers(returns: Any, said: str) -> None:
    x = np.random.default_rng(0).uniform(0, 1, (3, 8, 8, 3)).astype(np.float32)
    flow = ImageDataGenerator(preprocessing_function=returns).flow(x, shuffle=False)
    with pytest.raises(SampleError, match=rf"x\[0\].*returned {said}.*real numbers"):
        flow[0]


@pytest.mark.parametrize(
    "returns",
    [
        lambda image: image > 0.5,
        lambda image: (image * 100).astype(np.int64),
        lambda image: image.astype(np.float16),
        lambda image: image.astype(object),
        lambda image: image.tolist(),
    ],
    ids=["bool", "int64", "float16", "object-numbers", "nested-list"],
)
def test_real_numbers_of_any_kind_are_taken(returns: Any) -> None:
    x = np.random.default_rng(0).uniform(0, 1, (3, 8, 8, 3)).astype(np.float32)
    out = ImageDataGenerator(preprocessing_function=returns).flow(x, shuffle=False)[0]
    expected = np.stack([np.asarray(returns(image), dtype=np.float32) for image in x])
    np.testing.assert_array_equal(out, expected)


def test_the_dropin_does_not_count_rows_without_a_file_name_as_found(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import cv2

    (tmp_path / "a").mkdir()
    cv2.imwrite(str(tmp_path / "a" / "0.png"), np.zeros((8, 8, 3), np.uint8))
    frame = pd.DataFrame({"filename": ["a/0.png", None, float("nan"), ""], "class": list("abab")})
    with pytest.warns(UserWarning, match="3 row"):
        ImageDataGenerator().flow_from_dataframe(frame, str(tmp_path), target_size=(8, 8))
    assert "Found 1 validated image filenames belonging to 1 classes." in capsys.readouterr().out


def test_flow_takes_torch_tensors_and_refuses_mixed_kinds_in_a_list() -> None:
    import confaug

    torch = pytest.importorskip("torch", reason="pip install torch (the torch extra)")
    pipe = confaug.load_pipeline({"version": 1, "horizontal_flip": True})
    x = np.random.default_rng(0).integers(0, 255, (4, 8, 8, 3), dtype=np.uint8)
    # a list of tensors read their dtype through torch's name for it (was an AttributeError)
    batch = pipe.flow([torch.from_numpy(image) for image in x], batch_size=4, seed=1)[0]
    assert np.array_equal(batch, pipe.flow(x, batch_size=4, seed=1)[0])
    mixed = [x[0], x[1].astype(np.uint16) * 257]
    with pytest.raises(DataError, match=r"x\[1\] is uint16 but x\[0\] is uint8"):
        pipe.flow(mixed, batch_size=2)
