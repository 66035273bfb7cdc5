"""Spec version strings and how they compare.

OCI specs mark the development line after release X as "X-dev" (runtime-spec's
version.go: 1.0.2-dev is what followed 1.0.2), unlike SemVer where a pre-release comes
before X. So "1.0.2-dev" implements at least 1.0.2. Release candidates ("1.1.0-rc.1")
come before their release, as in SemVer.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+](.*))?$")


def parse(version: str) -> tuple[int, int, int, int]:
    """A sortable key for `version`: (major, minor, patch, stage).

    stage is 0 for a release candidate (or other pre-release), 1 for the release and
    2 for "-dev". Raises ValueError for a string that is not a version.
    """
    m = _VERSION.match(version.strip())
    if not m:
        raise ValueError(f"not a spec version: {version!r}")
    major, minor, patch, rest = m.groups()
    stage = 1
    if rest:
        stage = 2 if rest.startswith("dev") else 0
    return int(major), int(minor), int(patch or 0), stage


def at_least(version: str, floor: str) -> bool:
    """True when `version` declares at least `floor` (see the module's note on -dev)."""
    return parse(version) >= parse(floor)


def before(version: str, ceiling: str) -> bool:
    """True when `version` is older than `ceiling`."""
    return parse(version) < parse(ceiling)
