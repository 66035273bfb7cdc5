"""The harness's version and the spec versions of its catalogues (`ocitest --version`).

Standard library only: `./ocitest --version` runs before the virtualenv exists. The
harness version is the `ocitest` distribution's (pyproject.toml [project] version); the
spec versions are the top-level `spec:` and `spec_version:` of each suite's catalogue
files (suites/*/requirements*.yaml), read without a YAML parser.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TOP_KEY = re.compile(r"^(spec|spec_version):\s*[\"']?([^\"'#\s]+)", re.MULTILINE)


def harness_version() -> str:
    """The installed `ocitest` distribution's version, else pyproject.toml's; "unknown"
    when neither can be read."""
    try:
        return metadata.version("ocitest")
    except metadata.PackageNotFoundError:
        pass
    try:
        return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def spec_versions(root: Path = ROOT) -> dict[str, dict[str, str]]:
    """suite -> {spec name: version} of the catalogue files below root/suites, e.g.
    {"oci_runtime": {"runtime-spec": "1.3.0"}}; a suite whose files name no spec maps to {}."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted((root / "suites").glob("*/requirements*.yaml")):
        keys = dict(_TOP_KEY.findall(path.read_text(encoding="utf-8")))
        specs = out.setdefault(path.parent.name, {})
        if "spec" in keys and "spec_version" in keys:
            specs[keys["spec"]] = keys["spec_version"]
    return out


def version_text(root: Path = ROOT) -> str:
    """What `ocitest --version` prints: the harness version, then one line per suite
    with the spec and version its catalogue follows."""
    lines = [f"ocitest {harness_version()}"]
    for suite, specs in spec_versions(root).items():
        named = ", ".join(f"{s} {v}" for s, v in sorted(specs.items())) or "no spec named"
        lines.append(f"  {suite}: {named}")
    return "\n".join(lines)
