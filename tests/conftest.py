"""Shared fixtures: config files written to a temporary working directory, the CLI in-process.

Plain helper functions (images, folders, stand-in pipelines, counters) are in ``helpers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

WriteConfig = Callable[..., Path]
Register = Callable[[str, Callable[..., object]], None]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory, so errors name files as ``aug.yaml``."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write(in_tmp: Path) -> WriteConfig:
    """``write("aug.yaml", text)`` writes a config (text or bytes) under the working dir."""

    def _write(name: str, content: str | bytes) -> Path:
        path = in_tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Run:
    """``cli("validate", "aug.yaml")`` runs ``confaug`` in-process: (exit code, stdout, stderr)."""
    from confaug.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def presets(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty presets directory standing in for the shipped one; write presets into it."""
    from confaug import resources

    folder = tmp_path_factory.mktemp("presets")
    monkeypatch.setattr(resources, "presets_dir", lambda: folder)
    return folder


@pytest.fixture
def registered() -> Iterator[Register]:
    """``registered(name, fn)`` registers a function for the test and forgets it afterwards."""
    import confaug

    names: list[str] = []

    def _register(name: str, function: Callable[..., object]) -> None:
        confaug.register(name, function)
        names.append(name)

    yield _register
    for name in names:
        confaug.unregister(name)
