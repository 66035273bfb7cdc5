"""Proofs: which mutants showed that a requirement's tests can fail, as committed data.

`reports/proofs.json` is written by the self-tests (their last full mutant run) and
shipped with the product, so a user's report shows the same proofs as ours without
loading any mutant. Shape (schema_version 1):

    {"schema_version": 1, "generated": "<ISO 8601 time>",
     "mutants": {"<mutant name>": {"kind": "runtime" | "cri", "base": "runc",
                                   "requirements": ["<catalogue id>", ...],
                                   "caught_by": ["test_x.py::test_y", ...],
                                   "caught": true}}}

Only mutants with `caught: true` prove anything.
"""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT = Path(__file__).with_name("proofs.json")


class ProofsError(Exception):
    """The proofs file is unreadable or not of the shape above."""


def load_proofs(path: Path | str = DEFAULT) -> dict[str, list[str]]:
    """Requirement id -> sorted names of the caught mutants that violate it.

    A missing file means no proofs ({}). Raises ProofsError for a malformed one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ProofsError(f"{path}: cannot read: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema_version") != 1:
        raise ProofsError(f"{path}: not a proofs file of schema_version 1")
    out: dict[str, set[str]] = {}
    try:
        for name, m in doc["mutants"].items():
            if m["caught"]:
                for rid in m["requirements"]:
                    out.setdefault(rid, set()).add(name)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProofsError(f"{path}: malformed mutant entry: {exc}") from None
    return {rid: sorted(names) for rid, names in sorted(out.items())}
