"""Peers run side by side with ocitest for comparison (never in CI; see benchmarks/README.md)."""

from __future__ import annotations

import json
from pathlib import Path


def write_section(out: Path, name: str, section: dict) -> None:
    """Put `section` under key `name` of OUT/peers.json, keeping the other peers' sections
    (an unreadable file is started afresh)."""
    path = out / "peers.json"
    doc = {}
    if path.is_file():
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            doc = {}
    doc[name] = section
    path.write_text(json.dumps(doc, indent=2) + "\n")
