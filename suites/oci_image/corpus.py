"""The corpus of broken layouts: one case per way to break one requirement.

Each `Case` names the requirement id it breaks and edits the reference layout
(infra/images/reference_layout.py) at one stage; `write_corpus(dest)` writes every case
as `dest/<name>/` plus `dest/cases.json` ({name: {requirement, doc, what}}) and the valid
reference as `dest/reference/`. `./ocitest corpus write DIR` calls it. Other requirements may break
along the way (a truncated blob is also a wrong digest); the named one always does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra.images import reference_layout as ref
from suites.oci_image import corpus_blobs, corpus_docs, corpus_layers
from suites.oci_image.corpus_base import CASES, Case

#: the case modules, which register their cases in CASES on import
CASE_MODULES = (corpus_blobs, corpus_docs, corpus_layers)


def all_cases() -> list[Case]:
    """Every corpus case (the case modules registered them on import)."""
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
        cases = write_corpus(Path(argv[0]))
    except OSError as exc:
        why = exc.strerror if exc.strerror else str(exc)
        print(f"ocitest corpus: {argv[0]}: cannot write there ({why})", file=sys.stderr)
        return 4
    ids = {c.rid for c in cases}
    print(
        f"ocitest corpus: {len(cases)} broken layouts ({len(ids)} requirements) and the reference in {argv[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
