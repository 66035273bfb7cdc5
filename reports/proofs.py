"""Proofs: which mutants showed that a requirement's tests can fail, as committed data.

`reports/proofs.json` is written by the self-tests (their last full mutant run) and
shipped with the product, so a user's report shows the same proofs as ours without
loading any mutant. Shape (schema_version 1):

    {"schema_version": 1, "generated": "<ISO 8601 time>",
     "mutants": {"<mutant name>": {"kind": "runtime" | "cri" | ..., "base": "runc",
                                   "requirements": ["<catalogue id>", ...],
                                   "caught_by": ["test_x.py::test_y", ...],
                                   "violated": ["<catalogue id>", ...],
                                   "caught": true}}}

Only mutants with `caught: true` prove anything, and only the requirements their caught
tests failed at: `violated`, the ids named by the assertions that failed (see
`record_violates`). An entry without `violated` (written before it existed) proves its
declared `requirements`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable
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
                for rid in m.get("violated", m["requirements"]):
                    out.setdefault(rid, set()).add(name)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ProofsError(f"{path}: malformed mutant entry: {exc}") from None
    return {rid: sorted(names) for rid, names in sorted(out.items())}


def mutation_score(doc: dict) -> dict[str, dict]:
    """Mutation score per mutant kind ("runtime", "cri", "registry", "corpus", ...) of a
    proofs document: {kind: {"caught": n, "all": n, "score": caught/all (0..1, 4
    decimals), "survivors": [mutant names]}}, kinds sorted."""
    out: dict[str, dict] = {}
    for key, m in sorted(doc.get("mutants", {}).items()):
        k = out.setdefault(m.get("kind", "?"), {"caught": 0, "all": 0, "survivors": []})
        k["all"] += 1
        if m.get("caught"):
            k["caught"] += 1
        else:
            k["survivors"].append(key)
    for k in out.values():
        k["score"] = round(k["caught"] / k["all"], 4) if k["all"] else 0.0
    return dict(sorted(out.items()))


def variant_score(doc: dict) -> dict:
    """The variant mutants of a proofs document (entries with a "variant" class; they
    count in their kind's score too): {"caught": n, "all": n, "survivors": [names],
    "by_class": {class: [caught, all]}}."""
    out: dict = {"caught": 0, "all": 0, "survivors": [], "by_class": {}}
    for key, m in sorted(doc.get("mutants", {}).items()):
        if not m.get("variant"):
            continue
        out["all"] += 1
        c = out["by_class"].setdefault(m["variant"], [0, 0])
        c[1] += 1
        if m.get("caught"):
            out["caught"] += 1
            c[0] += 1
        else:
            out["survivors"].append(key)
    return out


def load_score(path: Path | str = DEFAULT) -> dict[str, dict]:
    """The mutation score of the proofs file at `path` (mutation_score); {} when it is
    missing or unreadable (the report then shows none)."""
    try:
        return mutation_score(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


#: the header line of a violation message (suites/messages.py): "<id> (<LEVEL>, <spec> ..."
_HEADER = re.compile(r"(?:^|[\s'\"])([a-z0-9][a-z0-9_.-]*[a-z0-9]) \((?:MUST|SHOULD|MAY), ", re.M)


def violated_ids(message: str, known: Collection[str]) -> list[str]:
    """The catalogue ids (among `known`) that the violation headers of a failure
    `message` name, in order of first appearance, without repeats."""
    out: list[str] = []
    for m in _HEADER.finditer(message or ""):
        rid = m.group(1)
        if rid in known and rid not in out:
            out.append(rid)
    return out


def record_violates(requirements: Iterable[str], message: str, known: Collection[str]) -> list[str]:
    """The requirements a failed or xfailed record shows broken: those its failure
    message names (assertion-level attribution), else its only requirement when the test
    names exactly one, else none (a failure that names no id cannot say which of the
    test's requirements broke, so it proves none of them)."""
    named = violated_ids(message, known)
    if named:
        return named
    reqs = [r for r in requirements if r in known]
    return reqs if len(reqs) == 1 else []


def is_mutant_subject(subject_id: str | None) -> bool:
    """Subjects of the self-tests' mutants carry ids "mutant-<key>" (selftest/)."""
    return bool(subject_id) and subject_id.startswith("mutant-")


def real_failures(results: Iterable[dict], known: Collection[str]) -> dict[str, list[str]]:
    """Requirement id -> sorted ids of the real (non-mutant) subjects of a run that fail
    it: records that failed, or xfailed as known failures, at an assertion naming it.
    `results` are results.json records (dicts with subject, outcome, requirements,
    message)."""
    out: dict[str, set[str]] = {}
    for r in results:
        if r.get("outcome") not in ("failed", "xfail") or is_mutant_subject(r.get("subject")):
            continue
        for rid in record_violates(r.get("requirements", []), r.get("message", ""), known):
            out.setdefault(rid, set()).add(r.get("subject") or "")
    return {rid: sorted(s) for rid, s in sorted(out.items())}
