"""``confaug augment`` resumes only into a DST made with the same config, seed, masks,
format and quality.

DST keeps ``.confaug.json`` (the resolved config's fingerprint, the seed, the masks' folder,
``--format``, ``--quality`` when it writes JPEGs, the config named); a run with another of
these is refused, naming both and ``--overwrite``, which writes every copy again with the new
config. Other library versions are a warning naming both, repeated on every later resume.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _stamp(dst: Path) -> dict[str, Any]:
    """DST's .confaug.json."""
    return json.loads((dst / ".confaug.json").read_text("utf-8"))


def _mask_folder(tmp_path: Path) -> Path:
    masks = tmp_path / "masks" / "a"
    masks.mkdir(parents=True)
    for i in range(3):
        save_image(masks / f"{i}.png", np.full((12, 12), i, np.uint8))
    return tmp_path / "masks"


def test_dst_records_the_fingerprint_seed_and_config(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    assert _augment(cli, src, tmp_path / "out", config, "--seed", "4")[0] == 0
    stamp = _stamp(tmp_path / "out")
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
    assert _stamp(dst)["config"] == second
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


def _all_files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the stamp, and every folder (as b"<dir>")."""
    return {
        str(p.relative_to(folder)): b"<dir>" if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.name != ".confaug.json"
    }


def test_overwrite_with_fewer_copies_leaves_exactly_a_fresh_run(
    cli: Run, src: Path, tmp_path: Path
) -> None:
    first = _config(tmp_path, "a.yaml", "rotation_range: 20")
    second = _config(tmp_path, "b.yaml", "horizontal_flip: true")
    dst, fresh = tmp_path / "out", tmp_path / "fresh"
    more = ("--copies", "4")  # the later --copies wins
    assert _augment(cli, src, dst, first, *more)[0] == 0
    assert _augment(cli, src, dst, first, "--copies", "1")[0] == 0  # a resume keeps the 4
    (src / "a" / "2.png").rename(tmp_path / "2.png")  # an image gone from SRC since
    (src / "b").mkdir()
    (src / "b" / "0.png").write_bytes((tmp_path / "2.png").read_bytes())
    assert _augment(cli, src, dst, first, "--format", "jpg")[0] == 2  # another format: no
    assert _augment(cli, src, dst, first)[0] == 0  # b/0.png's copies
    (dst / "notes.txt").write_text("mine", encoding="utf-8")  # files confaug did not write,
    (dst / "a" / "0_aug9.png").write_bytes(b"mine")  # one named like a copy
    (dst / "old").mkdir()
    code, out, _ = _augment(cli, src, dst, second, "--overwrite", "--copies", "1")
    assert code == 0 and "14 earlier copies removed first" in out  # 3 × 4, b/0.png's 2
    assert _augment(cli, src, fresh, second, "--copies", "1")[0] == 0
    left = _all_files(dst)
    assert (left.pop("notes.txt"), left.pop("a/0_aug9.png"), left.pop("old")) == (
        b"mine",
        b"mine",
        b"<dir>",
    )
    assert left == _all_files(fresh)  # no stale _aug1.._aug3, nothing of 2.png
    stamps = [_stamp(d) for d in (dst, fresh)]
    assert stamps[0]["written"] == stamps[1]["written"]


def test_an_interrupted_overwrite_resumes_into_the_new_dataset(
    cli: Run, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confaug.cli import augment

    first = _config(tmp_path, "a.yaml", "rotation_range: 20")
    second = _config(tmp_path, "b.yaml", "horizontal_flip: true")
    dst, fresh = tmp_path / "out", tmp_path / "fresh"
    assert _augment(cli, src, dst, first)[0] == 0
    writes = augment.CopyWriter.__call__

    def stopped_after_one_image(self: Any, job: Any, should_stop: Any = None) -> Any:
        if job.source.name != "0.png":
            raise KeyboardInterrupt  # Ctrl-C while the overwriting run is at its second image
        return writes(self, job, should_stop)

    monkeypatch.setattr(augment.CopyWriter, "__call__", stopped_after_one_image)
    assert _augment(cli, src, dst, second, "--overwrite", "--workers", "1")[0] == 130
    monkeypatch.undo()
    code, out, _ = _augment(cli, src, dst, second)  # resumed without --overwrite
    assert code == 0 and "4 written, 2 skipped" in out  # the first config's copies are gone
    assert _augment(cli, src, fresh, second)[0] == 0
    assert _files(dst) == _files(fresh)


def test_a_tampered_record_removes_nothing_outside_dst(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst = tmp_path / "out"
    assert _augment(cli, src, dst, config)[0] == 0
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    mine = [outside / "keep_aug0.png", tmp_path / "keep_aug0.png", dst / "a" / "x0.png"]
    for path in mine:
        path.write_bytes(b"mine")
    (dst / "linked").symlink_to(outside, target_is_directory=True)
    stamp = _stamp(dst)
    listed = stamp["written"]["copies"]
    for name in ("../keep_aug.png", str(tmp_path / "keep_aug.png"), "linked/keep_aug.png"):
        listed[name] = 1  # outside DST: up, absolute, through a link
    listed["a/x.png"] = 1  # not named as a copy
    (dst / ".confaug.json").write_text(json.dumps(stamp), encoding="utf-8")
    assert _augment(cli, src, dst, config, "--overwrite")[0] == 0
    assert [path.read_bytes() for path in mine] == [b"mine"] * 3


def test_masks_stale_copies_go_with_their_images(cli: Run, src: Path, tmp_path: Path) -> None:
    masks = _mask_folder(tmp_path)
    config = _config(tmp_path, "a.yaml", "horizontal_flip: true")
    dst, mask_dst = tmp_path / "out", tmp_path / "out_masks"
    with_masks = ("--mask-dir", str(masks), "--mask-dst", str(mask_dst))
    assert _augment(cli, src, dst, config, *with_masks, "--copies", "3")[0] == 0
    assert _augment(cli, src, dst, config, *with_masks, "--overwrite")[0] == 0
    assert sorted(p.name for p in (mask_dst / "a").iterdir()) == sorted(
        p.name for p in (dst / "a").iterdir()
    )
    assert len(list((dst / "a").iterdir())) == 6  # 3 images × 2 copies


def test_another_format_or_jpeg_quality_is_refused(cli: Run, src: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst, jpegs = tmp_path / "out", tmp_path / "jpegs"
    assert _augment(cli, src, dst, config)[0] == 0
    assert (_stamp(dst)["format"], _stamp(dst)["quality"]) == ("same", None)  # all PNG
    before = _files(dst)
    code, _, err = _augment(cli, src, dst, config, "--format", "jpg")
    assert code == 2 and "--format same" in err and "--format jpg, --quality 95" in err
    assert _files(dst) == before and not list(dst.rglob("*.jpg"))  # no second set of files
    assert _augment(cli, src, dst, config, "--quality", "50")[0] == 0  # PNG: no quality
    assert _augment(cli, src, jpegs, config, "--format", "jpg", "--quality", "90")[0] == 0
    code, _, err = _augment(cli, src, jpegs, config, "--format", "jpg", "--quality", "80")
    assert code == 2 and "--quality 90" in err and "--quality 80" in err
    code, out, _ = _augment(cli, src, jpegs, config, "--format", "jpg", "--quality", "90")
    assert code == 0 and "6 skipped" in out
    mixed = tmp_path / "mixed"  # PNG copies first: a JPEG added to SRC later sets a quality
    assert _augment(cli, src, mixed, config, "--quality", "50")[0] == 0
    assert _stamp(mixed)["quality"] is None
    (src / "a" / "3.jpg").write_bytes((jpegs / "a" / "0_aug0.jpg").read_bytes())
    assert _augment(cli, src, mixed, config, "--quality", "70")[0] == 0
    assert _stamp(mixed)["quality"] == 70
    (src / "a" / "3.jpg").unlink()  # no JPEG written now, but DST holds JPEGs of quality 70
    assert _augment(cli, src, mixed, config, "--quality", "60")[0] == 0
    assert _stamp(mixed)["quality"] == 70
    (src / "a" / "4.jpg").write_bytes((jpegs / "a" / "0_aug0.jpg").read_bytes())
    code, _, err = _augment(cli, src, mixed, config, "--quality", "60")
    assert code == 2 and "--quality 70" in err and "--quality 60" in err


def test_other_library_versions_warn_naming_both_on_every_resume(
    cli: Run, src: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst = tmp_path / "out"
    assert _augment(cli, src, dst, config)[0] == 0
    current = _stamp(dst)["versions"]
    assert "albumentations==" in current and "opencv==" in current and "confaug==" in current
    code, _, err = _augment(cli, src, dst, config)
    assert code == 0 and "warning" not in err
    old = "albumentations==1.4.0 confaug==0.0.1 opencv==4.5.0"
    stamp = _stamp(dst)
    stamp["versions"] = old  # as an earlier install would have left it
    (dst / ".confaug.json").write_text(json.dumps(stamp), encoding="utf-8")
    (dst / "a" / "1_aug1.png").unlink()
    for _ in range(2):  # the second resume, with this install's versions, still warns
        code, out, err = _augment(cli, src, dst, config)
        assert code == 0 and "written" in out
        (line,) = [line for line in err.splitlines() if line.startswith("warning:")]
        assert old in line and current in line and "--overwrite" in line
        assert (_stamp(dst)["versions"], _stamp(dst)["earlier_versions"]) == (current, [old])
    code, _, err = _augment(cli, src, dst, config, "--overwrite")
    assert code == 0 and "warning" not in err and "earlier_versions" not in _stamp(dst)
    assert "warning" not in _augment(cli, src, dst, config)[2]


def test_the_masks_folder_is_compared_as_a_folder_not_a_string(
    cli: Run, src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    masks = _mask_folder(tmp_path)
    config = _config(tmp_path, "a.yaml", "horizontal_flip: true")
    dst = tmp_path / "out"
    with_dst = ("--mask-dst", str(tmp_path / "out_masks"))
    assert _augment(cli, src, dst, config, "--mask-dir", str(masks), *with_dst)[0] == 0
    assert _stamp(dst)["masks"]["dir"] == str(masks.resolve())
    monkeypatch.chdir(tmp_path)
    for spelling in ("masks", "./masks", "masks/../masks/"):
        code, out, err = _augment(cli, src, dst, config, "--mask-dir", spelling, *with_dst)
        assert code == 0 and "6 skipped" in out, err
    other = tmp_path / "other"
    masks.rename(other)
    code, _, err = _augment(cli, src, dst, config, "--mask-dir", str(other), *with_dst)
    assert code == 2 and str(masks) in err and str(other) in err


@pytest.mark.parametrize("masks", [True, "masks", ["masks"], {"dir": 1, "pattern": "{stem}"}])
def test_a_hand_edited_masks_entry_is_refused_naming_the_stamp(
    cli: Run, src: Path, tmp_path: Path, masks: Any
) -> None:
    config = _config(tmp_path, "a.yaml", "rotation_range: 20")
    dst = tmp_path / "out"
    assert _augment(cli, src, dst, config)[0] == 0
    stamp = _stamp(dst)
    stamp["masks"] = masks
    (dst / ".confaug.json").write_text(json.dumps(stamp), encoding="utf-8")
    code, _, err = _augment(cli, src, dst, config)
    assert code == 2 and f"{dst / '.confaug.json'}: 'masks' holds" in err
    assert "Traceback" not in err and "--overwrite" in err
    assert _augment(cli, src, dst, config, "--overwrite")[0] == 0
