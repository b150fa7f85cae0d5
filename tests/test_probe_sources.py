"""Data a probe found handled wrongly, or silently: each case and what it gives now."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

import confaug
from confaug.errors import DataError, ValueRangeWarning

PIPE = confaug.load_pipeline("preset:keras_seed")


def _unit_batch(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (4, 8, 8, 3)).astype(np.float32)


@pytest.mark.parametrize("route", ["flow", "wrap", "wrap guessed"])
def test_floats_just_above_one_read_as_0_255_are_pointed_out(route: str) -> None:
    """One value of 1.02 in [0, 1] data makes value_range: auto read it all as 0-255:
    a ValueRangeWarning says so (once), whichever route decided the range."""
    x = _unit_batch()
    x[0, 0, 0, 0] = 1.02
    pipe = confaug.load_pipeline("preset:keras_seed")
    if route == "wrap guessed":  # the batch path's own range, after a guess from a batch
        list(pipe.wrap([_unit_batch(1)]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if route == "flow":
            next(iter(pipe.flow(x, batch_size=4)))
        else:
            list(pipe.wrap([x]))
    said = [w for w in caught if issubclass(w.category, ValueRangeWarning)]
    assert len(said) == 1 and "value_range: [0, 1]" in str(said[0].message)


@pytest.mark.parametrize("high", [1.0, 2.5, 255.0])
def test_data_plainly_in_one_range_is_not_warned_about(high: float) -> None:
    x = _unit_batch() * np.float32(high)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValueRangeWarning)
        next(iter(PIPE.flow(x, batch_size=4)))
        list(PIPE.wrap([x]))


def test_flow_refuses_a_stream_instead_of_reading_it_whole() -> None:
    endless = itertools.repeat(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(DataError, match=r"x is repeat, which has no length.*use wrap\(\)"):
        PIPE.flow(endless)


def test_a_list_mixing_uint8_and_float_images_is_refused() -> None:
    images = [np.full((8, 8, 3), 200, np.uint8), np.full((8, 8, 3), 0.5, np.float32)]
    with pytest.raises(DataError, match=r"x\[1\] is float32 but x\[0\] is uint8"):
        PIPE.flow(images, batch_size=2)
    both_float = [images[1], images[1].astype(np.float64)]
    assert len(next(iter(PIPE.flow(both_float, batch_size=2)))) == 2


def test_apply_batch_of_one_rgb_image_warns_that_it_reads_gray_images() -> None:
    with pytest.warns(UserWarning, match=r"read as 8 grayscale images of 8x3 pixels"):
        out = PIPE.apply_batch(np.zeros((8, 8, 3), np.uint8))
    assert out.shape == (8, 8, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert PIPE.apply_batch(np.zeros((2, 8, 8), np.uint8)).shape == (2, 8, 8)


def test_a_call_without_an_image_says_so() -> None:
    with pytest.raises(DataError, match="image is None; expected an array"):
        PIPE(image=None)
    seg = confaug.load_pipeline("preset:segmentation")
    with pytest.raises(DataError, match=r"no image given \(the sample holds mask\)"):
        seg(mask=np.zeros((8, 8), np.uint8))


def _folder(root: Path) -> Path:
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        cv2.imwrite(str(root / name / "0.png"), np.zeros((8, 8, 3), np.uint8))
    return root


def test_classes_named_twice_are_refused(tmp_path: Path) -> None:
    root = _folder(tmp_path / "data")
    with pytest.raises(DataError, match="classes names the same folder more than once: 'a'"):
        PIPE.flow_from_directory(root, classes=["a", "b", "a"], target_size=(8, 8))
    with pytest.raises(DataError, match=r"more than once: 'a/\.\./b', 'b'"):
        PIPE.flow_from_directory(root, classes=["a/../b", "b"], target_size=(8, 8))
    with pytest.raises(TypeError, match="give a list of class folder names"):
        PIPE.flow_from_directory(root, classes="ab", target_size=(8, 8))


def test_a_table_with_absolute_names_below_its_directory_is_read(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas: flow_from_dataframe's tables")
    root = _folder(tmp_path / "data")
    names = [str(root / "a" / "0.png"), str(root / "b" / "0.png"), "a/0.png"]
    frame = pd.DataFrame({"filename": names, "class": ["a", "b", "a"]})
    flow = PIPE.flow_from_dataframe(frame, str(root), target_size=(8, 8), shuffle=False)
    assert len(flow.filenames) == 3 and len(next(iter(flow))[0]) == 3
    outside = tmp_path / "elsewhere.png"
    cv2.imwrite(str(outside), np.zeros((8, 8, 3), np.uint8))
    frame = pd.DataFrame({"filename": [str(outside)], "class": ["a"]})
    with pytest.raises(DataError, match="leads outside the directory"):
        next(iter(PIPE.flow_from_dataframe(frame, str(root), target_size=(8, 8))))


def test_a_table_whose_directory_is_missing_names_it(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas: flow_from_dataframe's tables")
    frame = pd.DataFrame({"filename": ["a/0.png"], "class": ["a"]})
    with pytest.raises(DataError, match="nowhere: no such directory"):
        PIPE.flow_from_dataframe(frame, str(tmp_path / "nowhere"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(DataError, match="file: not a directory"):
        PIPE.flow_from_dataframe(frame, str(tmp_path / "file"))


def test_wrap_keeps_a_one_tuple_a_tuple() -> None:
    x = np.zeros((2, 8, 8, 3), np.uint8)
    (alone,) = list(PIPE.wrap([x]))
    (one,) = list(PIPE.wrap([(x,)]))
    assert isinstance(alone, np.ndarray)
    assert isinstance(one, tuple) and len(one) == 1 and one[0].shape == x.shape


@pytest.mark.parametrize("index", ["a", 1.5, None, True])
def test_a_batch_index_must_be_an_integer(index: object) -> None:
    from confaug.keras import ImageDataGenerator

    x = np.zeros((4, 8, 8, 3), np.uint8)
    for flow in (PIPE.flow(x, batch_size=2), ImageDataGenerator().flow(x, batch_size=2)):
        with pytest.raises(TypeError, match="a batch index must be an integer"):
            flow[index]  # type: ignore[index]
        assert len(flow[np.int64(1)]) == 2


@pytest.mark.parametrize(
    ("size", "said"),
    [
        ((8.5, 8), "two integers"),
        (("8", "8"), "two integers"),
        ((True, 8), "two integers"),
        ((8,), "two integers"),
        ((0, 8), r"\(height, width\) > 0"),
        ((100_000, 100_000), "more than the decoder's limit"),
    ],
)
def test_target_size_is_two_whole_numbers_within_the_pixel_limit(
    tmp_path: Path, size: object, said: str
) -> None:
    root = _folder(tmp_path / "data")
    with pytest.raises(ValueError, match=said):
        PIPE.flow_from_directory(root, target_size=size)  # type: ignore[arg-type]
    assert len(PIPE.flow_from_directory(root, target_size=(8.0, 8))) == 1


def test_an_indexed_batch_whose_samples_are_all_skipped_stands_in_the_next(
    tmp_path: Path,
) -> None:
    """``gen[i]`` (model.fit, the adapters) failed when every sample of batch i was
    skipped; it returns the next batch with a readable sample, in the epoch's order."""
    root = _folder(tmp_path / "data")
    (root / "a" / "1.png").write_bytes(b"not a png")
    flow = PIPE.flow_from_directory(
        root, batch_size=1, shuffle=False, on_error="skip", target_size=(8, 8)
    )
    batches = [flow[i] for i in range(len(flow))]  # a/0, a/1 (bad), b/0
    assert len(batches) == 3
    assert np.array_equal(batches[1][0], batches[2][0])  # a/1's stand-in is b/0
    assert any("1.png" in path for path, _ in flow.skipped)
    for name in ("a/0.png", "b/0.png"):
        (root / name).write_bytes(b"broken too")
    broken = PIPE.flow_from_directory(root, batch_size=1, on_error="skip", target_size=(8, 8))
    with pytest.raises(DataError, match="every sample of batch 0 was skipped"):
        broken[0]


def test_next_from_several_threads_takes_turns() -> None:
    """A BatchGenerator's next() from threads at once raised "generator already executing"
    in all but one, and their batches were lost."""
    import threading

    x = np.random.default_rng(3).integers(0, 255, (64, 8, 8, 3)).astype(np.uint8)
    gen = PIPE.flow(x, np.arange(64), batch_size=4, shuffle=False, epochs=1, workers=2)
    got: list[int] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            for _ in range(4):
                _, labels = next(gen)
                got.extend(labels.tolist())
        except BaseException as error:  # recorded for the assert
            errors.append(error)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and sorted(got) == list(range(64))  # every batch once, none lost


def test_a_memmapped_array_travels_to_workers_as_its_file(tmp_path: Path) -> None:
    """Spawned workers got a pickled copy of the whole memmap (600 MB per worker for a
    600 MB file); they open the file instead, and the batches are the same."""
    import pickle

    from confaug.sources.arrays import ArraySource

    path = tmp_path / "x.u8"
    data = np.random.default_rng(4).integers(0, 255, (40, 16, 16, 3)).astype(np.uint8)
    data.tofile(path)
    mapped = np.memmap(path, dtype=np.uint8, mode="r", shape=data.shape)
    source = pickle.loads(pickle.dumps(ArraySource(mapped)))
    assert len(pickle.dumps(ArraySource(mapped))) < 2_000  # the file's name, not its bytes
    assert isinstance(source.x, np.memmap) and np.array_equal(source.x, data)
    view = ArraySource(mapped[5:9])  # a view is not the whole file: copied, as before
    assert np.array_equal(pickle.loads(pickle.dumps(view)).x, data[5:9])
    alone = PIPE.flow(mapped, batch_size=8, shuffle=False, seed=3)
    spawned = PIPE.flow(
        mapped, batch_size=8, shuffle=False, seed=3, workers=1, worker_mode="process"
    )
    assert np.array_equal(next(iter(alone)), next(iter(spawned)))


def test_integer_raw_labels_of_a_table_stay_integers(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas: flow_from_dataframe's tables")
    root = _folder(tmp_path / "data")
    frame = pd.DataFrame({"filename": ["a/0.png", "b/0.png"], "count": [16777217, 3]})
    flow = PIPE.flow_from_dataframe(
        frame, str(root), y_col="count", class_mode="raw", target_size=(8, 8), shuffle=False
    )
    _, y = next(iter(flow))
    assert y.dtype == np.int64 and y.tolist() == [16777217, 3]  # float32 gave 16777216.0
    frame["score"] = [0.5, 1.5]
    scored = PIPE.flow_from_dataframe(
        frame, str(root), y_col="score", class_mode="raw", target_size=(8, 8), shuffle=False
    )
    assert next(iter(scored))[1].dtype == np.float32
