"""JSON Schemas of ocitest's own files: catalogue, known-failures, results.json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def load_schema(name: str) -> dict:
    """The schema `name` (e.g. "results.schema.json") from this directory."""
    return json.loads((HERE / name).read_text())
