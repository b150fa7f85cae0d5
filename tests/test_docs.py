"""The README sections in docs/readme/: generated parts current, commands real, examples true."""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

from confaug.cli import build_parser, main
from confaug.resources import preset_names
from confaug.spec.model import Spec

ROOT = Path(__file__).resolve().parents[1]
READMES = sorted((ROOT / "docs" / "readme").glob("*.md"))


def _script(name: str) -> ModuleType:
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"confaug_scripts_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _console_commands(text: str) -> list[str]:
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_readme_sections_exist() -> None:
    names = {path.name for path in READMES}
    assert {"quickstart-cli.md", "spec-reference.md", "presets.md", "sharing.md"} <= names


def test_spec_reference_is_current() -> None:
    assert _script("gen_spec_reference").main(["--check"]) == 0


def test_spec_reference_has_a_row_per_field_and_detects_staleness(tmp_path: Path) -> None:
    module = _script("gen_spec_reference")
    text = module.generate()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(Spec.model_fields)
    for name, field in Spec.model_fields.items():
        assert field.description, f"Spec.{name} has no description to document"
    stale = tmp_path / "ref.md"
    stale.write_text(text.replace("Degrees", "Degree"), encoding="utf-8")
    assert module.main(["--check", "--output", str(stale)]) == 1
    assert module.main(["--output", str(stale)]) == 0
    assert module.main(["--check", "--output", str(stale)]) == 0


def test_previews_and_presets_page_are_current() -> None:
    assert _script("make_previews").main(["--check"]) == 0


def test_presets_page_shows_every_preset_preview() -> None:
    page = (ROOT / "docs" / "readme" / "presets.md").read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\((docs/previews/[a-z0-9_]+\.png)\)", page)
    assert sorted(Path(p).stem for p in linked) == preset_names()
    for link in linked:
        data = (ROOT / link).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) <= 150 * 1024


def test_every_documented_command_parses() -> None:
    parser = build_parser()
    commands = [c for path in READMES for c in _console_commands(path.read_text(encoding="utf-8"))]
    assert len(commands) >= 15
    for command in commands:
        words = shlex.split(command, comments=True)
        words = words[: words.index(">")] if ">" in words else words
        if words[0] != "confaug":
            continue
        try:
            parser.parse_args(words[1:])
        except SystemExit:
            pytest.fail(f"documented command does not parse: {command}")


def test_first_command_of_the_quick_start_is_the_demo() -> None:
    text = (ROOT / "docs" / "readme" / "quickstart-cli.md").read_text(encoding="utf-8")
    assert _console_commands(text)[0] == "confaug demo"


def test_documented_presets_exist() -> None:
    for path in READMES:
        for name in re.findall(r"preset:([a-z0-9_]+)", path.read_text(encoding="utf-8")):
            assert name in preset_names() or name == "NAME", f"{path.name}: preset:{name}"


def test_validate_example_prints_what_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ROOT / "docs" / "readme" / "quickstart-cli.md").read_text(encoding="utf-8")
    config = next(
        b for b in re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL) if "MotionBlurr" in b
    )
    block = next(
        b
        for b in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL)
        if "$ confaug validate aug.yaml\n" in b
    )
    lines = block.splitlines()
    start = lines.index("$ confaug validate aug.yaml") + 1
    expected = []
    for line in lines[start:]:
        if line.startswith("$ "):
            break
        expected.append(line)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "aug.yaml").write_text(config, encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "aug.yaml"]) == 1
    assert capsys.readouterr().out.splitlines() == expected
