"""``confaug augment`` resumes only into a DST made with the same config and seed.

DST keeps ``.confaug.json`` (the resolved config's fingerprint, the seed, the config named);
a run with another config or seed is refused, naming both fingerprints and ``--overwrite``,
which writes every copy again with the new config.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import Run
from tests.helpers import save_image


@pytest.fixture
def src(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(3):
        save_image(tmp_path / "src" / "a" / f"{i}.png", rng.integers(0, 255, (12, 12, 3), "u1"))
    return tmp_path / "src"


def _config(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(f"version: 1\n{text}\n", encoding="utf-8")
    return str(path)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


def _augment(cli: Run, src: Path, dst: Path, config: str, *more: str) -> tuple[int, str, str]:
    return cli("augment", str(src), str(dst), "--config", config, "--copies", "2", "-q", *more)


def test_dst_records_the_fingerprint_seed_and_config(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    assert _augment(cli, src, tmp_path / "out", config, "--seed", "4")[0] == 0
    stamp = json.loads((tmp_path / "out" / ".confaug.json").read_text("utf-8"))
    code, out, _ = cli("resolve", config, "--fingerprint")
    assert code == 0
    assert stamp["fingerprint"] == out.split()[0]
    assert (stamp["seed"], stamp["config"], stamp["masks"]) == (4, config, None)


def test_the_same_config_resumes(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst = tmp_path / "out"
    assert _augment(cli, src, dst, config)[0] == 0
    (dst / "a" / "1_aug1.png").unlink()  # an interrupted run
    code, out, _ = _augment(cli, src, dst, config)
    assert code == 0 and "1 written, 5 skipped" in out


def test_another_config_or_seed_is_refused_and_nothing_changes(
    cli: Run, src: Path, tmp_path: Path
) -> None:
    first = _config(tmp_path, "a.yaml", "rotation_range: 20")
    second = _config(tmp_path, "b.yaml", "rotation_range: 5")
    dst = tmp_path / "out"
    assert _augment(cli, src, dst, first)[0] == 0
    before = _files(dst)
    code, _, err = _augment(cli, src, dst, second)
    assert code == 2
    fingerprints = [cli("resolve", c, "--fingerprint")[1].split()[0] for c in (first, second)]
    assert all(f in err for f in fingerprints) and "--overwrite" in err
    code, _, err = _augment(cli, src, dst, first, "--seed", "9")
    assert code == 2 and "seed 9" in err and "--overwrite" in err
    code, _, err = _augment(cli, src, dst, first, "--set", "rotation_range=21")
    assert code == 2  # an override changes the resolved config, so its fingerprint
    assert _files(dst) == before


def test_overwrite_writes_every_copy_with_the_new_config(
    cli: Run, src: Path, tmp_path: Path
) -> None:
    first = _config(tmp_path, "a.yaml", "rotation_range: 20")
    second = _config(tmp_path, "b.yaml", "rotation_range: 5\nhorizontal_flip: true")
    dst, fresh = tmp_path / "out", tmp_path / "fresh"
    assert _augment(cli, src, dst, first)[0] == 0
    code, out, _ = _augment(cli, src, dst, second, "--overwrite")
    assert code == 0 and "6 written, 0 skipped" in out
    assert _augment(cli, src, fresh, second)[0] == 0
    assert _files(dst) == _files(fresh)  # not a mix: exactly the second config's dataset
    assert json.loads((dst / ".confaug.json").read_text("utf-8"))["config"] == second
    assert _augment(cli, src, dst, second)[0] == 0  # and it now resumes with the second


def test_a_dst_without_a_record_resumes_and_gets_one(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst = tmp_path / "out"
    assert _augment(cli, src, dst, config)[0] == 0
    (dst / ".confaug.json").unlink()  # made before DST kept a record
    code, out, _ = _augment(cli, src, dst, config)
    assert code == 0 and "6 skipped" in out and (dst / ".confaug.json").is_file()


def test_an_unreadable_record_is_refused(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst = tmp_path / "out"
    dst.mkdir()
    (dst / ".confaug.json").write_text("[1, 2", encoding="utf-8")
    code, _, err = _augment(cli, src, dst, config)
    assert code == 2 and ".confaug.json cannot be read" in err and "--overwrite" in err
    assert _augment(cli, src, dst, config, "--overwrite")[0] == 0
