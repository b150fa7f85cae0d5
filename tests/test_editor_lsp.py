"""The shipped schema in a real editor: yaml-language-server driven over LSP on stdio.

Two servers, both pinned in `.ci/run` (and the README's test command): the current 1.x, and
1.19, the last before `prefixItems` was understood, so a pair must be checked by both.
The presets are opened where they are (their modeline names the shipped schema); every other
file is written with the modeline users write, next to a copy of it.
Every wait is bounded by a timeout; nothing asserts on time.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

import confaug
from confaug import resources
from confaug.errors import ConfigError
from confaug.spec.param_docs import param_docs

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / ".ci" / "node" / "node_modules"
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
# package folder in node_modules → the version .ci/run pins for it
PINS = dict(
    re.findall(r"\b(yaml-language-server(?:-[\d.]+)?)@(?:npm:yaml-language-server@)?([\d.]+)", CI)
)
TIMEOUT = 60.0  # seconds for any one answer of the server; a hang fails, slowness does not
MODELINE = resources.schema_modeline()


class LspClient:
    """Just enough of a language client: requests, notifications, and the server's requests."""

    def __init__(self, argv: list[str], settings: dict[str, Any], log: IO[bytes]) -> None:
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
        )
        self.settings = settings
        self.inbox: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.diagnostics: dict[str, list[dict[str, Any]]] = {}
        self.last_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        stream = self.proc.stdout
        while True:
            headers: dict[str, str] = {}
            while (line := stream.readline()) not in (b"\r\n", b"\n"):
                if not line:
                    self.inbox.put(None)  # the server exited
                    return
                key, _, value = line.decode("ascii").partition(":")
                headers[key.strip().lower()] = value.strip()
            self.inbox.put(json.loads(stream.read(int(headers["content-length"]))))

    def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def _next(self, deadline: float) -> dict[str, Any]:
        try:
            message = self.inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"yaml-language-server gave no answer within {TIMEOUT:g} s")
        if message is None:
            pytest.fail("yaml-language-server exited")
        if "method" in message and "id" in message:  # a request of the server's
            result = None
            if message["method"] == "workspace/configuration":
                items = message["params"]["items"]
                result = [self.settings.get(item.get("section", ""), {}) for item in items]
            self._send({"id": message["id"], "result": result})
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            self.diagnostics[params["uri"]] = params["diagnostics"]
        return message

    def request(self, method: str, params: Any) -> Any:
        self.last_id += 1
        wanted = self.last_id
        self._send({"id": wanted, "method": method, "params": params})
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self._next(deadline)
            if message.get("id") == wanted and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")

    def open(self, path: Path) -> list[dict[str, Any]]:
        """Open ``path`` and return the diagnostics the server publishes for it."""
        uri = path.as_uri()
        self.diagnostics.pop(uri, None)
        document = {"uri": uri, "languageId": "yaml", "version": 1, "text": path.read_text()}
        self.notify("textDocument/didOpen", {"textDocument": document})
        deadline = time.monotonic() + TIMEOUT
        while uri not in self.diagnostics:
            self._next(deadline)
        return self.diagnostics.pop(uri)

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:  # a server that does not stop is stopped
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _server(package: str) -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the editor tests need node and npm (see .ci/run)")
    path = MODULES / package / "bin" / "yaml-language-server"
    npm = next(part for part in CI.split(" && ") if part.startswith("npm install"))
    assert path.is_file(), f"{package} is not installed; run .ci/run, or: {npm}"
    installed = json.loads((MODULES / package / "package.json").read_text())["version"]
    assert installed == PINS[package], f"{package} {installed} is not the pinned version: rerun npm"
    return path


@pytest.fixture(scope="module", params=sorted(PINS), ids=lambda package: PINS[package])
def editor(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LspClient, Path]]:
    server = _server(request.param)
    folder = tmp_path_factory.mktemp("editor")
    schema = folder / resources.SCHEMA_FILE
    shutil.copy(resources.schemas_dir() / "confaug.schema.json", schema)
    settings = {
        "yaml": {
            "validate": True,
            "hover": True,
            "completion": True,
            "schemaStore": {"enable": False},  # offline: no catalog from the network
            "schemas": {schema.as_uri(): ["*.yaml"]},
        }
    }
    with open(folder / "server.log", "wb") as log:
        client = LspClient(["node", str(server), "--stdio"], settings, log)
        try:
            capabilities = {
                "workspace": {"configuration": True},
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": True}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                },
            }
            client.request(
                "initialize",
                {"processId": None, "rootUri": folder.as_uri(), "capabilities": capabilities},
            )
            client.notify("initialized", {})
            client.notify("workspace/didChangeConfiguration", {"settings": settings})
            yield client, folder
        finally:
            client.close()


def test_ci_pins_both_servers() -> None:
    assert set(PINS) == {"yaml-language-server", "yaml-language-server-1.19"}, PINS
    assert PINS["yaml-language-server"].startswith("1.")
    assert PINS["yaml-language-server-1.19"].startswith("1.19.")


def test_every_preset_has_no_diagnostic(editor: tuple[LspClient, Path]) -> None:
    client, _ = editor
    presets = sorted(resources.presets_dir().glob("*.yaml"))
    assert presets
    for preset in presets:  # in place: their modeline names the shipped schema itself
        assert client.open(preset) == [], preset.name


# name → (config below the modeline, the text the diagnostic starts at, words of its message)
BROKEN: dict[str, tuple[str, str, str]] = {
    "unknown_key": ("rotaton_range: 3\n", "rotaton_range", "Property rotaton_range is not allowed"),
    "wrong_enum": ("fill_mode: mirror\n", "mirror", "Value is not accepted"),
    "wrong_border_mode": (
        "transforms:\n  - Affine: {border_mode: 7}\n",
        "7",
        "Value is not accepted",
    ),
    "missing_required": (
        "transforms:\n  - RandomCrop: {height: 64}\n",
        "RandomCrop",
        'Missing property "width"',
    ),
    "bare_name_needing_params": ("transforms:\n  - Resize\n", "Resize", "Value is not accepted"),
    "bad_pair": (
        "transforms:\n  - GaussNoise: {std_range: [0.1, x]}\n",
        "x]",
        'Incorrect type. Expected "number"',
    ),
    "pair_of_three": (
        "transforms:\n  - GaussNoise: {std_range: [0.1, 0.2, 0.3]}\n",
        "[0.1",
        "Array has too many items",
    ),
    "bbox_option_typo": (
        "bbox_params: {format: coco, min_visibilty: 0.1}\n",
        "min_visibilty",
        "Property min_visibilty is not allowed",
    ),
    "one_or_other_of_three": (
        "transforms:\n  - OneOrOther:\n      transforms: [HorizontalFlip, VerticalFlip, Blur]\n",
        "[HorizontalFlip",
        "Array has too many items",
    ),
    "both_of_one_of_two": (
        "transforms:\n  - LongestMaxSize: {max_size: 256, max_size_hw: [256, 256]}\n",
        "{max_size",
        "Matches multiple schemas",
    ),
    "unknown_preset": ("extends: preset:lite\n", "preset:lite", "Value is not accepted"),
}


# confaug places a rule across two parameters at the step's name, the editor at its mapping.
AT_THE_STEP = {"both_of_one_of_two"}


def _config(folder: Path, name: str, body: str) -> Path:
    """``folder/name.yaml``: the schema modeline, then ``body``."""
    path = folder / f"{name}.yaml"
    path.write_text(f"{MODELINE}\n{body}", encoding="utf-8")
    return path


def assert_flagged_and_refused(editor: tuple[LspClient, Path], name: str, body: str) -> None:
    """The editor flags the config ``body`` (a diagnostic) and confaug refuses it: the
    schema and the validator agree on it (the probe modules' editor checks)."""
    client, folder = editor
    path = _config(folder, name, body)
    assert client.open(path), name
    with pytest.raises(ConfigError):
        confaug.load_spec(path)


def _position(text: str, token: str) -> dict[str, int]:
    offset = text.index(token, len(MODELINE))
    line = text.count("\n", 0, offset)
    return {"line": line, "character": offset - (text.rfind("\n", 0, offset) + 1)}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_gets_its_diagnostic_where_the_mistake_is(
    editor: tuple[LspClient, Path], name: str
) -> None:
    client, folder = editor
    body, token, words = BROKEN[name]
    path = _config(folder, name, body)
    text = path.read_text(encoding="utf-8")
    found = client.open(path)
    assert len(found) == 1, found
    assert words in found[0]["message"], found
    assert found[0]["range"]["start"] == _position(text, token), found
    with pytest.raises(ConfigError) as refused:  # confaug refuses it too, at the same place
        confaug.load_spec(path)
    start = found[0]["range"]["start"]
    places = [(problem.line, problem.column) for problem in refused.value.problems]
    if name in AT_THE_STEP:
        places = [(line, None) for line, _ in places]
        assert (start["line"] + 1, None) in places, places
    else:
        assert (start["line"] + 1, start["character"] + 1) in places, places


def _at(path: Path, line: int, character: int) -> dict[str, Any]:
    """The parameters of a request about one place in ``path``."""
    return {
        "textDocument": {"uri": path.as_uri()},
        "position": {"line": line, "character": character},
    }


def _completion_items(client: LspClient, path: Path, line: int, character: int) -> list[Any]:
    result = client.request("textDocument/completion", _at(path, line, character))
    return result["items"] if isinstance(result, dict) else result or []


def _inserted(item: dict[str, Any]) -> str:
    """What choosing a completion item writes (servers use either field)."""
    return str(item.get("insertText") or item["textEdit"]["newText"])


def test_completion_inside_a_transform_offers_its_parameters_with_their_defaults(
    editor: tuple[LspClient, Path],
) -> None:
    client, folder = editor
    path = _config(folder, "complete", "transforms:\n  - GaussNoise:\n      \n")
    client.open(path)
    items = {item["label"]: item for item in _completion_items(client, path, 3, 6)}
    assert set(param_docs("GaussNoise")) <= set(items)
    assert _inserted(items["p"]) == "p: ${1:0.5}"  # GaussNoise's own default, not 0


def _hover_text(client: LspClient, path: Path, line: int, character: int) -> str:
    result = client.request("textDocument/hover", _at(path, line, character))
    assert result, "no hover"
    contents = result["contents"]
    text = contents["value"] if isinstance(contents, dict) else str(contents)
    return text.replace("\\", "")  # markdown escapes differ between versions


def test_hover_shows_albumentations_description(editor: tuple[LspClient, Path]) -> None:
    client, folder = editor
    path = _config(folder, "hover", "transforms:\n  - GaussNoise: {std_range: [0.1, 0.2]}\n")
    text = path.read_text(encoding="utf-8")
    assert client.open(path) == []
    where = _position(text, "std_range")
    description = param_docs("GaussNoise")["std_range"].description
    assert description
    shown = _hover_text(client, path, where["line"], where["character"] + 2)
    assert description.split(".")[0] in shown, shown
    where = _position(text, "GaussNoise")
    assert "Gaussian noise" in _hover_text(client, path, where["line"], where["character"] + 2)


def test_completion_inside_a_nested_composite_offers_names_and_parameters(
    editor: tuple[LspClient, Path],
) -> None:
    client, folder = editor
    head = "transforms:\n  - OneOf:\n      transforms:\n"
    path = _config(folder, "nested", f"{head}        - GaussNoise:\n            \n")
    assert client.open(path) == []
    items = {item["label"]: item for item in _completion_items(client, path, 5, 12)}
    assert set(param_docs("GaussNoise")) <= set(items), sorted(items)
    assert _inserted(items["p"]) == "p: ${1:0.5}"
    # a file of its own: the server keeps an open one's text
    path = _config(folder, "nested_name", f"{head}        - Gauss\n")
    client.open(path)
    names = {item["label"] for item in _completion_items(client, path, 4, 15)}
    assert {"GaussNoise", "GaussianBlur", "Sequential"} <= names
    assert not {"Compose", "BasicTransform", "ToTensorV2"} & names


# A config that uses every kind of key the schema describes: a preset parent, Keras keywords
# (numbers, pairs, names), steps bare and with parameters, border and interpolation by name
# and by number, a one-of-two transform, every composite nested, compose options, targets.
EVERY_FEATURE = """\
version: 1
extends: [preset:keras_seed]
data_format: channels_last
fill_mode: reflect
cval: 0.5
interpolation: bicubic
dtype: float32
seed: 7
value_range: [0, 255]
samplewise_center: true
samplewise_std_normalization: true
zca_epsilon: 1.0e-05
rotation_range: 15
width_shift_range: [-0.1, 0.1]
height_shift_range: 0.1
brightness_range: [0.8, 1.2]
shear_range: 5
zoom_range: [0.9, 1.1]
channel_shift_range: 10.0
horizontal_flip: true
vertical_flip: false
rescale: 0.5
validation_split: 0.2
transforms:
  - HorizontalFlip
  - Affine: {rotate: [-10, 10], border_mode: reflect, interpolation: 1, p: 0.5}
  - RandomCrop: {height: 24, width: 24}
  - LongestMaxSize: {max_size: 32}
  - GaussNoise: {std_range: [0.02, 0.08], p: 0.3}
  - OneOf:
      p: 0.9
      transforms:
        - GaussianBlur: {blur_limit: [3, 5]}
        - Sequential:
            p: 1.0
            transforms: [VerticalFlip, {Blur: {blur_limit: 3}}]
  - SomeOf: {n: 1, transforms: [ToGray, CLAHE]}
  - OneOrOther: {transforms: [Transpose, {RandomRotate90: {p: 1}}]}
  - PadIfNeeded: {min_height: 32, min_width: 32, border_mode: constant, fill: 0}
bbox_params: {format: pascal_voc, label_fields: [labels], min_visibility: 0.1}
keypoint_params: {format: xy, remove_invisible: false}
additional_targets: {image2: image, mask2: mask}
is_check_shapes: true
"""


def test_a_config_using_every_feature_has_no_diagnostic_and_compiles(
    editor: tuple[LspClient, Path],
) -> None:
    client, folder = editor
    path = _config(folder, "every_feature", EVERY_FEATURE)
    assert client.open(path) == []
    confaug.load_pipeline(path)  # and confaug agrees: it is a whole, valid config
