"""The corpus of broken layouts: one case per way to break one requirement.

Each `Case` names the requirement id it breaks and edits the reference layout
(reference.py) at one stage; `write_corpus(dest)` writes every case as `dest/<name>/`
plus `dest/cases.json` ({name: {requirement, doc, what}}) and the valid reference as
`dest/reference/`. `./ocitest corpus write DIR` calls it. Other requirements may break
along the way (a truncated blob is also a wrong digest); the named one always does.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from suites.oci_image import reference as ref

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


def all_cases() -> list[Case]:
    """Every corpus case (the case modules register on import)."""
    from suites.oci_image import corpus_blobs, corpus_docs, corpus_layers  # noqa: F401

    return list(CASES)


def write_corpus(dest: Path) -> list[Case]:
    """Write every case into `dest/<name>/`, the reference into `dest/reference/` and the
    case list into `dest/cases.json`. `dest` must not exist or be empty.

    Raises:
        FileExistsError: `dest` holds files already.
    """
    if dest.exists() and any(dest.iterdir()):
        raise FileExistsError(f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    ref.write_layout(dest / "reference")
    cases = all_cases()
    for c in cases:
        ref.write_layout(dest / c.name, c.edit)
    table = {c.name: {"requirement": c.rid, "doc": c.doc, "what": c.what} for c in cases}
    (dest / "cases.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    return cases


def main(argv: list[str]) -> int:
    """`python -m suites.oci_image.corpus DIR`: write the corpus; usage errors exit 4."""
    if len(argv) != 1:
        print("ocitest corpus: usage is 'corpus write DIR'", file=sys.stderr)
        return 4
    try:
        from suites.oci_image import corpus  # the registered module, not __main__

        cases = corpus.write_corpus(Path(argv[0]))
    except (FileExistsError, NotADirectoryError, PermissionError) as exc:
        print(f"ocitest corpus: {argv[0]}: cannot write there ({exc})", file=sys.stderr)
        return 4
    ids = {c.rid for c in cases}
    print(
        f"ocitest corpus: {len(cases)} broken layouts ({len(ids)} requirements) and the reference in {argv[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
