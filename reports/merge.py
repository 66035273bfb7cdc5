"""Merge the results of several runs (hosts, targets, runtimes) into one report.

    python -m reports.merge --out DIR [--gate MUST|SHOULD|none] REPORT_DIR_OR_RESULTS_JSON...

(also `./ocitest report merge ...`). Subjects keep their ids; when two runs have a
subject with the same id, both get "@TARGET" appended (the run's target spec, e.g.
`runc@qemu:debian`, when the runs' targets differ), else "@HOSTNAME" (when the hosts
differ), else "@RUN_ID", in every record too. Counts, coverage and the gate are computed anew over
the merged results. Usage errors print one line and exit 4.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

from reports.gate import MODES, judge
from reports.proofs import real_failures
from reports.records import Record
from reports.reportdir import ReportDirError, check_report_dir
from reports.variants import variant_coverage
from reports.writer import SCHEMA_VERSION, counts, coverage, harness_version, write_doc

USAGE_EXIT = 4


class MergeError(Exception):
    """An input cannot be read or is not an ocitest results document (one line)."""


def load(path: str) -> dict:
    """A results document from a report directory or a results.json path."""
    f = os.path.join(path, "results.json") if os.path.isdir(path) else path
    try:
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise MergeError(f"{path}: cannot read {f}: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError):
        raise MergeError(f"{path}: {f} is not JSON") from None
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        raise MergeError(f"{path}: not an ocitest results.json (schema_version {SCHEMA_VERSION})")
    return doc


def _host(doc: dict) -> str:
    facts = (doc.get("targets") or [{}])[0].get("facts", {})
    return facts.get("hostname") or doc["run"]["id"]


def _target(doc: dict) -> str:
    return (doc.get("targets") or [{}])[0].get("spec", "") or "local"


def merge(docs: list[dict], gate_mode: str | None = None) -> dict:
    """One results document holding every subject and result of `docs`."""
    ids = Counter(s["id"] for d in docs for s in d["subjects"])
    hosts = Counter(_host(d) for d in docs)
    specs = Counter(_target(d) for d in docs)
    subjects, results, targets, catalogue, leftovers = [], [], [], {}, []
    for d in docs:
        if specs[_target(d)] == 1:
            suffix = "@" + _target(d)
        else:
            suffix = "@" + (_host(d) if hosts[_host(d)] == 1 else d["run"]["id"])
        rename = {
            s["id"]: (s["id"] + suffix if ids[s["id"]] > 1 else s["id"]) for s in d["subjects"]
        }
        subjects += [{**s, "id": rename[s["id"]]} for s in d["subjects"]]
        for r in d["results"]:
            new = rename.get(r["subject"], r["subject"])
            nodeid = (
                r["nodeid"].replace(f"[{r['subject']}", f"[{new}", 1)
                if r["subject"]
                else r["nodeid"]
            )
            results.append({**r, "subject": new, "nodeid": nodeid})
        targets += d["targets"]
        for q in d["catalogue"]:
            catalogue.setdefault(q["id"], q)
        leftovers += d["run"]["leftovers"]
    mode = gate_mode or docs[0]["gate"]["mode"]
    verdict = judge(
        [
            Record(
                nodeid=r["nodeid"],
                test=r["test"],
                name=r["name"],
                requirements=r["requirements"],
                level=r["level"],
                subject=r["subject"],
                target=r["target"],
                outcome=r["outcome"],
            )
            for r in results
        ],
        mode,
    )
    if leftovers:
        verdict.passed = False
        verdict.reasons.append(f"leak: the sweepers removed {len(leftovers)} objects")
    failed = real_failures(results, set(catalogue))
    cat = [
        {**q, "failed_by": failed.get(q["id"], [])}
        for q in sorted(catalogue.values(), key=lambda q: q["id"])
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": "merged-" + "+".join(d["run"]["id"] for d in docs),
            "started": min(d["run"]["started"] for d in docs),
            "finished": max(d["run"]["finished"] for d in docs),
            "complete": all(d["run"]["complete"] for d in docs),
            "interrupted": any(d["run"]["interrupted"] for d in docs),
            "harness_version": harness_version(),
            "command": "ocitest report merge",
            "options": {"gate": mode, "merged_from": [d["run"]["id"] for d in docs]},
            "schemas": docs[0]["run"].get("schemas", {}),
            "leftovers": leftovers,
        },
        "targets": targets,
        "subjects": subjects,
        "gate": verdict.as_dict(),
        "counts": counts(subjects, results),
        "coverage": coverage(
            cat,
            results,
            {s: c.get("named", []) for d in docs for s, c in d["coverage"].items()},
            {s: c.get("scope", "") for d in docs for s, c in d["coverage"].items()},
        ),
        "variants": variant_coverage(
            cat,
            results,
            {
                s: {rid: set(c) for rid, c in named.items()}
                for d in docs
                for s, named in d.get("variants", {}).get("named", {}).items()
            },
        ),
        "catalogue": cat,
        "results": sorted(results, key=lambda r: r["nodeid"]),
    }


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 4
        print(f"ocitest report merge: {message}", file=sys.stderr)
        raise SystemExit(USAGE_EXIT)


def _check_paths(out: str, inputs: list[str]) -> None:
    """No input given twice, and --out not one of the inputs (writing there would replace
    a run's own report). Raises MergeError."""
    if not out:
        raise MergeError("--out: empty value")
    seen: dict[str, str] = {}
    for i in inputs:
        real = os.path.realpath(os.path.join(i, "results.json") if os.path.isdir(i) else i)
        if real in seen:
            raise MergeError(f"{i}: given twice (as {seen[real]})")
        seen[real] = i
        if os.path.dirname(real) == os.path.realpath(out):
            raise MergeError(f"--out {out}: is the input {i}; choose another directory")


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="ocitest report merge", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="report directory to write")
    p.add_argument(
        "--gate", choices=MODES, default=None, help="gate mode (default: the first run's)"
    )
    p.add_argument("inputs", nargs="+", help="report directories or results.json files")
    a = p.parse_args(argv)
    try:
        _check_paths(a.out, a.inputs)
        docs = [load(i) for i in a.inputs]
        out = check_report_dir(a.out)
    except (MergeError, ReportDirError) as exc:
        print(f"ocitest report merge: {exc}", file=sys.stderr)
        return USAGE_EXIT
    doc = merge(docs, a.gate)
    write_doc(doc, out)
    print(f"ocitest: merged {len(docs)} runs, {len(doc['results'])} results: {out}/report.html")
    return doc["gate"]["exit_status"]


if __name__ == "__main__":
    raise SystemExit(main())
