"""``confaug resolve``: the config as confaug runs it — extends, overrides and defaults applied."""

from __future__ import annotations

import argparse
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confaug.cli.common import (
    add_command,
    add_config_options,
    add_output_option,
    load_checked,
    write_output,
)
from confaug.errors import one_line

if TYPE_CHECKING:
    from confaug.spec.model import Spec


def canonical_json(spec: Spec) -> str:
    """The resolved spec as canonical JSON: every key, sorted, no whitespace."""
    return json.dumps(
        spec.to_data(full=True), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def fingerprint(spec: Spec) -> str:
    """``sha256:<hex>`` of :func:`canonical_json` — equal specs, equal fingerprints."""
    return "sha256:" + hashlib.sha256(canonical_json(spec).encode("utf-8")).hexdigest()


def versions() -> str:
    """The versions that decide what a spec does: albumentations and confaug."""

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"

    from confaug._version import __version__

    return f"albumentations=={version('albumentations')} confaug=={__version__}"


def _shown(link: str) -> str:
    """A file of the extends chain as ``preset:NAME`` when it is a shipped preset."""
    from confaug.resources import presets_dir

    path = Path(link).resolve()
    if path.parent == presets_dir().resolve() and path.suffix == ".yaml":
        return f"preset:{path.stem}"
    return link


def run(args: argparse.Namespace) -> int:
    """Print the resolved YAML, or the fingerprint line."""
    from confaug.api import spec_to_yaml

    document, spec, _ = load_checked(args.config, args)
    if args.fingerprint:
        text = f"{fingerprint(spec)} {versions()}\n"
    else:
        chain = " -> ".join(_shown(link) for link in document.chain) or args.config
        # File names and --set values are the config's and the user's text: a line break in
        # one (a parent named "p\nvertical_flip: true", a multi-line --set value) would end
        # the comment and make the rest a key of the file, so the output would load to
        # another spec than its fingerprint. They are escaped as problems escape them.
        header = [f"# resolved by confaug from: {one_line(chain)}"]
        if args.overrides:
            header.append(f"# overrides: {one_line(' '.join(args.overrides))}")
        header.append(f"# fingerprint: {fingerprint(spec)} {versions()}")
        text = "\n".join(header) + "\n" + spec_to_yaml(spec, full=not args.set_only)
    write_output(text, args.output)
    return 0


def register(subparsers: Any) -> None:
    """Add the ``resolve`` command."""
    parser = add_command(
        subparsers,
        "resolve",
        help="print the fully resolved config (extends, overrides, defaults)",
        description="Print the config as confaug runs it: the extends chain merged, --set "
        "overrides and every top-level default applied (transform parameters as written), as "
        "YAML that loads back to the same spec. --fingerprint prints only a stable sha256 of "
        "that spec plus the albumentations and confaug versions: two runs with the same line "
        "augment the same way (values are hashed as written, so equal pipelines written "
        "differently can differ).",
        example="confaug resolve project.yaml\n"
        "confaug resolve project.yaml --set rotation_range=5 --fingerprint",
        run=run,
    )
    parser.add_argument("config", metavar="FILE", help="config file, or preset:NAME")
    parser.add_argument(
        "--fingerprint",
        action="store_true",
        help="print 'sha256:<hex> albumentations==X confaug==Y' only",
    )
    parser.add_argument(
        "--set-only", action="store_true", help="leave out keys that are at their defaults"
    )
    add_output_option(parser)
    add_config_options(parser)
