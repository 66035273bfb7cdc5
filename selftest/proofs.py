"""reports/proofs.json, the proofs the report shows: per mutant, the requirement ids it
violates and the tests that caught it in the last self-test run that ran it.

    {"schema_version": 1, "generated": "2025-01-01T00:00:00+00:00",
     "mutants": {"<registry key>": {"kind": "runtime"|"cri"|..., "base": "runc",
                 "requirements": [ids], "caught_by": ["test_x.py::test_y[param]"],
                 "violated": [ids], "caught": true, "variant": "boundary"}}}

`variant` only for a variant mutant (declared with variant=, reports/variants.py): it
breaks one behaviour in that variant class only; `score` counts them apart too.

The self-tests (tests/test_mutants.py, tests/test_cri_mutants.py) `record` each mutant's
result, the tests it made fail beyond its baseline and the requirement ids their failed
assertions named (reports.proofs.record_violates), as RESULTS/KEY.json; then
`python -m selftest.proofs write` rewrites the file from them. A mutant with no result
(a sampled run) keeps its entry as it was; one never run gets caught false. Keys are
registry keys (unique: "kill-wrong-signal", "crun-claims-1.3.0", "cri-exec-sync-exit-zero").

    python -m selftest.proofs write [--results DIR] [--out FILE]
    python -m selftest.proofs declared [--out FILE]   # caught_by = the declared fails
    python -m selftest.proofs score [--proofs FILE]   # caught / all per kind, survivors
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from reports.proofs import mutation_score, variant_score
from selftest.declare import Mutant

ROOT = Path(__file__).resolve().parent.parent
#: the committed proofs file (shipped with the reports package)
PROOFS = ROOT / "reports" / "proofs.json"
SCHEMA_VERSION = 1
#: environment variable naming the directory of self-test results
RESULTS_ENV = "OCITEST_SELFTEST_RESULTS"


def results_dir() -> Path:
    """Where the self-tests record results: $OCITEST_SELFTEST_RESULTS, else
    selftest-results/ in the checkout (git-ignored)."""
    return Path(os.environ.get(RESULTS_ENV) or ROOT / "selftest-results")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


def record(
    mutant: Mutant,
    caught_by: Iterable[str],
    directory: Path | None = None,
    violated: Iterable[str] = (),
) -> Path:
    """Record one self-test's result: the tests `mutant` made fail beyond its baseline
    ("test_x.py::test_y[param]", subject-free) and the requirement ids those failures
    named (`violated`). Writes DIR/KEY.json; its path."""
    path = (directory or results_dir()) / f"{mutant.key}.json"
    doc = {
        "key": mutant.key,
        "caught_by": sorted(caught_by),
        "violated": sorted(set(violated)),
        "recorded": _now(),
    }
    _write_json(path, doc)
    return path


def entry(mutant: Mutant, caught_by: Iterable[str], violated: Iterable[str] | None = None) -> dict:
    """The proofs.json entry of `mutant` caught by `caught_by` (requirements in declared
    order, tests and `violated` sorted). `violated` None: the declared requirements (a
    result recorded before failures were attributed, or the declarations' promise)."""
    tests = sorted(set(caught_by))
    doc = {
        "kind": mutant.kind,
        "base": mutant.base,
        "requirements": list(mutant.requirements),
        "caught_by": tests,
        "violated": sorted(set(mutant.requirements if violated is None else violated)),
        "caught": bool(tests),
    }
    if getattr(mutant, "variant", ""):
        doc["variant"] = mutant.variant  # a variant mutant (reports/variants.py class)
    return doc


def declared(registry: dict[str, Mutant]) -> dict:
    """The document as the declarations promise it: each mutant caught by its `fails`,
    violating its declared requirements."""
    mutants = {k: entry(m, m.fails) for k, m in sorted(registry.items())}
    return _document(mutants)


def _document(mutants: dict) -> dict:
    return {"schema_version": SCHEMA_VERSION, "generated": _now(), "mutants": mutants}


def read_results(directory: Path) -> dict[str, dict]:
    """registry key -> {"caught_by": [tests], "violated": [ids] or None}, of every result
    recorded in `directory` (None: recorded without attribution)."""
    out = {}
    for path in sorted(directory.glob("*.json")):
        doc = json.loads(path.read_text())
        out[doc["key"]] = {"caught_by": doc["caught_by"], "violated": doc.get("violated")}
    return out


def rewrite(old: dict | None, registry: dict[str, Mutant], results: dict[str, dict]) -> dict:
    """The new document: `results` for the mutants that ran, the `old` entry for those
    that did not (a new mutant never run: caught false); undeclared mutants dropped."""
    before = (old or {}).get("mutants", {})
    mutants = {}
    for key, m in sorted(registry.items()):
        if key in results:
            mutants[key] = entry(m, results[key]["caught_by"], results[key]["violated"])
        else:
            mutants[key] = before.get(key) or entry(m, [])
    return _document(mutants)


def score(doc: dict) -> dict[str, dict]:
    """Mutation score per mutant kind of a proofs document (reports.proofs.mutation_score:
    {kind: {"caught", "all", "score", "survivors"}})."""
    return mutation_score(doc)


def score_lines(doc: dict) -> list[str]:
    """One line per kind: "runtime: 118/118 caught (score 1.0000)", then survivors."""
    lines = []
    for kind, k in score(doc).items():
        lines.append(f"{kind}: {k['caught']}/{k['all']} caught (score {k['score']:.4f})")
        lines += [f"  survivor: {key}" for key in k["survivors"]]
    v = variant_score(doc)
    if v["all"]:
        classes = ", ".join(f"{c} {n[0]}/{n[1]}" for c, n in v["by_class"].items())
        lines.append(f"variant mutants: {v['caught']}/{v['all']} caught ({classes})")
        lines += [f"  survivor: {key}" for key in v["survivors"]]
    return lines


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 4
        self.exit(4, f"selftest.proofs: {message}\n")


def main(argv: list[str]) -> int:
    ap = _Parser(prog="python -m selftest.proofs", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="rewrite the proofs file from self-test results")
    w.add_argument("--results", type=Path, default=None, help="default: " + RESULTS_ENV)
    w.add_argument("--out", type=Path, default=PROOFS)
    d = sub.add_parser("declared", help="write the proofs the declarations promise")
    d.add_argument("--out", type=Path, default=PROOFS)
    sc = sub.add_parser("score", help="print the mutation score per kind and the survivors")
    sc.add_argument("--proofs", type=Path, default=PROOFS)
    a = ap.parse_args(argv)
    if a.command == "score":
        try:
            doc = json.loads(a.proofs.read_text())
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"selftest.proofs: {a.proofs}: cannot read: {exc}\n")
            return 4
        print("\n".join(score_lines(doc)))
        return 0
    from selftest.registry import REGISTRY

    if a.command == "declared":
        _write_json(a.out, declared(REGISTRY))
        print(f"{a.out}: {len(REGISTRY)} mutants, as declared")
        return 0
    directory = a.results or results_dir()
    results = read_results(directory) if directory.is_dir() else {}
    if not results:
        sys.stderr.write(f"selftest.proofs: no self-test results in {directory}\n")
        return 4
    old = json.loads(a.out.read_text()) if a.out.exists() else None
    doc = rewrite(old, REGISTRY, results)
    _write_json(a.out, doc)
    ran = [k for k in results if k in REGISTRY]
    survived = sorted(k for k in ran if not doc["mutants"][k]["caught"])
    print(
        f"{a.out}: {len(ran)} of {len(REGISTRY)} mutants from {directory}, "
        f"{len(survived)} survived" + (f": {', '.join(survived)}" if survived else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
