"""``import confaug`` stays light, and albumentations never phones home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "torch", "keras", "jax", "albumentations", "albucore")


def run_python(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter without NO_ALBUMENTATIONS_UPDATE; it prints JSON."""
    env = {k: v for k, v in os.environ.items() if k != "NO_ALBUMENTATIONS_UPDATE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_confaug_imports_no_framework_nor_albumentations() -> None:
    found = run_python(
        f"""
        import json, sys
        import confaug
        heavy = {HEAVY!r}
        loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))
        print(json.dumps({{"loaded": loaded, "version": confaug.__version__}}))
        """
    )
    assert found["loaded"] == []
    assert found["version"]


def test_compiling_sets_no_update_check_and_makes_no_connection() -> None:
    found = run_python(
        """
        import json, os, socket
        attempts = []
        def refuse(self, address, *args):
            attempts.append(repr(address))
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = lambda address, *a, **k: refuse(None, address)
        before = os.environ.get("NO_ALBUMENTATIONS_UPDATE")
        import confaug
        after_import = os.environ.get("NO_ALBUMENTATIONS_UPDATE")
        pipe = confaug.load_pipeline(
            {"version": 1, "rotation_range": 5, "transforms": [{"GaussNoise": {"p": 0.5}}]}
        )
        print(json.dumps({
            "before": before,
            "after_import": after_import,
            "after": os.environ.get("NO_ALBUMENTATIONS_UPDATE"),
            "attempts": attempts,
            "compose": type(pipe.compose).__name__,
        }))
        """
    )
    assert found["before"] is None
    assert found["after"] == "1"
    assert found["attempts"] == []
    assert found["compose"] == "Compose"


def test_validating_alone_also_sets_the_variable() -> None:
    found = run_python(
        """
        import json, os, sys
        import confaug
        confaug.load_spec({"version": 1, "transforms": ["HorizontalFlip"]})
        print(json.dumps({
            "env": os.environ.get("NO_ALBUMENTATIONS_UPDATE"),
            "albumentations": "albumentations" in sys.modules,
        }))
        """
    )
    assert found == {"env": "1", "albumentations": True}


def test_keras_only_spec_validates_without_albumentations() -> None:
    found = run_python(
        """
        import json, sys
        import confaug
        confaug.load_spec({"version": 1, "rotation_range": 3, "horizontal_flip": True})
        print(json.dumps({"albumentations": "albumentations" in sys.modules}))
        """
    )
    assert found == {"albumentations": False}


def test_loading_and_running_a_config_never_imports_torch() -> None:
    found = run_python(
        """
        import json, sys
        import numpy as np
        import confaug
        pipe = confaug.load_pipeline("preset:classification_heavy")
        pipe(image=np.zeros((32, 32, 3), np.uint8), seed=0)
        confaug.json_schema()
        print(json.dumps({"torch": "torch" in sys.modules}))
        """
    )
    assert found["torch"] is False


def test_the_catalog_is_the_same_whether_or_not_torch_came_first() -> None:
    listing = (
        "import json\n"
        "from confaug.spec.catalog import catalog\n"
        'print(json.dumps({"names": sorted(catalog())}))\n'
    )
    plain = run_python(listing)["names"]
    torch_first = run_python("import torch, albumentations.pytorch\n" + listing)["names"]
    assert plain == torch_first
    assert "ToTensorV2" not in plain and "ToTensor3D" not in plain


def test_albumentations_pytorch_stays_importable_for_the_program() -> None:
    found = run_python(
        """
        import json
        import confaug
        confaug.load_pipeline("preset:keras_seed")
        from albumentations.pytorch import ToTensorV2
        print(json.dumps({"name": ToTensorV2.__name__}))
        """
    )
    assert found["name"] == "ToTensorV2"
