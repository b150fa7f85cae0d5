"""Outputs that exist as special files (probe round 5, data): ``-o /dev/null`` as root used to
replace the system's ``/dev/null`` with a PNG, since the grid is written through a temporary
file renamed over the output."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from confaug.cli.imageio import write_bytes_atomic
from tests.conftest import Run

PREVIEW = ("preview", "preset:keras_seed", "--sample", "scene", "-n", "1", "--size", "32")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")


def _char_device(path: Path, minor: int = 3) -> Path:
    """A node of the null device (1, 3), or of (1, ``minor``), at ``path``; skips where
    nodes cannot be made."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, AttributeError, OSError) as err:
        pytest.skip(f"cannot make a device node here ({err})")
    return path


def test_a_character_device_is_written_to_not_replaced(tmp_path: Path, cli: Run) -> None:
    node = _char_device(tmp_path / "null")
    code, _, err = cli(*PREVIEW, "-o", str(node))
    assert code == 0, err
    assert stat.S_ISCHR(node.stat().st_mode)  # still the device
    assert not list(tmp_path.glob(".null.*"))  # no temporary file left beside it


def test_another_character_device_is_refused_and_kept(tmp_path: Path, cli: Run) -> None:
    node = _char_device(tmp_path / "zero", minor=5)  # Linux's /dev/zero: not an output
    code, _, err = cli(*PREVIEW, "-o", str(node))
    assert code == 2 and "is not a regular file" in err
    assert stat.S_ISCHR(node.stat().st_mode)


@needs_fifo
def test_a_fifo_with_a_reader_gets_the_bytes_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = os.urandom(300_000)  # more than a pipe's buffer
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as stream:
            got.append(stream.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for _ in range(2000):  # until the reader has opened its end
            try:
                write_bytes_atomic(fifo, data)
                break
            except OSError as err:
                assert "nothing reads from it" in str(err)
                threading.Event().wait(0.01)
        assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced by a regular file
    finally:
        if reader.is_alive() and stat.S_ISFIFO(fifo.stat().st_mode):
            # never leave it blocked (it may have closed its end just now: ENXIO)
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=60)
    assert got == [data]


@needs_fifo
def test_a_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path: Path, cli: Run) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = cli(*PREVIEW, "-o", str(fifo))
    assert code != 0 and "nothing reads from it" in err and "Errno" not in err
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_socket_is_refused_and_kept(tmp_path: Path, cli: Run) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets on this system")
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        code, _, err = cli(*PREVIEW, "-o", str(path))
        assert code == 2 and "is not a regular file" in err
        assert stat.S_ISSOCK(path.stat().st_mode)
    finally:
        server.close()


def test_a_regular_file_and_a_link_to_one_are_still_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "grid.png"
    target.write_bytes(b"old contents, longer than the new")
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    link = tmp_path / "link.png"
    link.symlink_to(target)
    write_bytes_atomic(link, b"newer")
    assert link.read_bytes() == b"newer"


@pytest.mark.parametrize("depth", [np.uint8, np.uint16])
def test_gray_ppm_sources_are_augmented_as_gray_ppm(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], depth: type
) -> None:
    from confaug.cli import main  # capfd, not the cli fixture: OpenCV logs to fd 2

    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "c").mkdir(parents=True)
    pixels = np.arange(48, dtype=np.uint16).reshape(6, 8) * (1000 if depth == np.uint16 else 5)
    _, data = cv2.imencode(".pgm", pixels.astype(depth))  # P5 under a .ppm name
    (src / "c" / "a.ppm").write_bytes(data.tobytes())
    (config := tmp_path / "identity.yaml").write_text("version: 1\n", encoding="utf-8")
    capfd.readouterr()
    code = main(["augment", str(src), str(dst), "--config", str(config), "--copies", "1", "-q"])
    err = capfd.readouterr().err
    assert code == 0, err  # was: "cannot encode an image of shape (6, 8) as .ppm (skipped)"
    assert "[ERROR" not in err  # OpenCV's log lines
    copy = cv2.imread(str(dst / "c" / "a_aug0.ppm"), cv2.IMREAD_UNCHANGED)
    assert copy.dtype == depth and copy.ndim == 2
    np.testing.assert_array_equal(copy, pixels.astype(depth))


def test_a_copy_name_of_up_to_255_bytes_is_written(tmp_path: Path) -> None:
    from confaug.cli.imageio import write_bytes_atomic

    path = tmp_path / ("x" * 250 + ".png")  # 254 bytes: the temporary name was 269
    write_bytes_atomic(path, b"data")  # was: OSError [Errno 36] File name too long
    assert path.read_bytes() == b"data"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
