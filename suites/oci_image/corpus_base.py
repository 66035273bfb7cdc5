"""The corpus's building blocks: `Case`, the `CASES` registry and the edit helpers.

The case modules (corpus_blobs.py, corpus_docs.py, corpus_layers.py) declare their cases
with `case(...)` on import; corpus.py imports them and writes the corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.images import reference_layout as ref

SHA = "sha256:" + "a" * 64


@dataclass(frozen=True)
class Case:
    """A broken layout: `name` (directory), `rid` (the requirement it breaks), `what`."""

    name: str
    rid: str
    what: str
    edit: ref.Edit

    @property
    def doc(self) -> str:
        return self.rid.split(".")[1]


CASES: list[Case] = []


def case(name: str, rid: str, what: str, stage: str, fn: Callable) -> None:
    """Declare a case whose edit runs `fn(obj)` at `stage` (mutating obj, or replacing it
    when `fn` is marked with `new`)."""

    def edit(at: str, obj: object) -> object:
        if at != stage:
            return None
        result = fn(obj)
        return result if getattr(fn, "replaces", False) else None

    CASES.append(Case(name, rid, what, edit))


def new(fn: Callable) -> Callable:
    """Mark an edit whose return value replaces the stage's object (else it mutates)."""
    fn.replaces = True
    return fn


def _set(path: str, value: object) -> Callable:
    """An edit setting the dotted/indexed `path` ("layers.0.size") of a JSON object;
    value DELETE removes the key."""

    def fn(obj: dict) -> None:
        *head, last = path.split(".")
        for k in head:
            obj = obj[int(k)] if isinstance(obj, list) else obj[k]
        if value is DELETE:
            del obj[last]
        elif isinstance(obj, list):
            obj[int(last)] = value
        else:
            obj[last] = value

    return fn


DELETE = object()


def _blob(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":")[1]
