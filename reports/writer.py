"""Writes the report directory: results.json, junit.xml, report.html, summary.md.

`build_results()` makes the results.json document (schema:
reports/schemas/results.schema.json); every other file is rendered from it, so the four
files never disagree. Files are written to a temporary name and renamed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from collections import Counter
from importlib import metadata

import jsonschema

from reports.catalogue import Catalogue, ids_named_in_tests
from reports.gate import Verdict
from reports.html import render_html
from reports.junit import render_junit
from reports.records import OUTCOMES, Record
from reports.reportdir import MARKER
from reports.schemas import load_schema
from reports.summary import render_summary

SCHEMA_VERSION = 1


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def harness_version() -> str:
    try:
        return metadata.version("ocitest")
    except metadata.PackageNotFoundError:
        return "unknown"


def coverage(
    catalogue: list[dict], results: list[dict], named: dict[str, list[str]], scopes: dict[str, str]
) -> dict:
    """Coverage per suite (DESIGN.md, Catalogue): testable requirements that some test of
    the suite names, over the suite's testable requirements, each id counted once;
    `ran` counts those with a result in this run (fewer after -k or a path selection).

    `catalogue`, `results`: the lists of a results document; `named`: suite -> ids its
    tests name (see catalogue.ids_named_in_tests); `scopes`: suite -> its scope line."""
    ran = {rid for r in results for rid in r["requirements"]}
    out = {}
    for suite in sorted({q["suite"] for q in catalogue}):
        reqs = [q for q in catalogue if q["suite"] == suite]
        testable = [q["id"] for q in reqs if q["testable"]]
        with_test = set(named.get(suite, [])) | ran
        covered = [i for i in testable if i in with_test]
        out[suite] = {
            "scope": scopes.get(suite, ""),
            "named": sorted(named.get(suite, [])),
            "requirements": len(reqs),
            "testable": len(testable),
            "covered": len(covered),
            "ran": sum(1 for i in testable if i in ran),
            "percent": round(100.0 * len(covered) / len(testable), 1) if testable else 0.0,
            "untested": sorted(set(testable) - set(covered)),
            "not_run": sorted(set(covered) - ran),
            "untestable": sorted(q["id"] for q in reqs if not q["testable"]),
            "by_level": {
                lvl: {
                    "testable": sum(1 for q in reqs if q["testable"] and q["level"] == lvl),
                    "covered": sum(
                        1
                        for q in reqs
                        if q["testable"] and q["level"] == lvl and q["id"] in with_test
                    ),
                }
                for lvl in ("MUST", "SHOULD", "MAY")
            },
        }
    return out


def counts(subjects: list[dict], results: list[dict]) -> dict:
    """subject id -> outcome -> number of results (outcomes with none left out)."""
    c = Counter((r["subject"], r["outcome"]) for r in results)
    return {s["id"]: {o: c[(s["id"], o)] for o in OUTCOMES if c[(s["id"], o)]} for s in subjects}


def build_results(
    config,
    ctx,
    records: list[Record],
    verdict: Verdict,
    *,
    interrupted: bool,
    started: float,
    leftovers: list[str],
    known: list | None = None,
) -> dict:
    """The results.json document of a pytest run (see reports/schemas/results.schema.json)."""
    from infra.mutants import proofs
    from infra.plugin import TARGET
    from infra.schemas import schema_version
    from reports.plugin import CATALOGUE

    cat: Catalogue = config.stash[CATALOGUE]
    suites = {cat[i].suite for r in records for i in r.requirements if i in cat}
    suites = suites or {q.suite for q in cat.values()}
    proven = proofs()
    results = [r.to_dict() for r in sorted(records, key=lambda r: r.nodeid)]
    catalogue = [
        q.as_entry(proven.get(q.id, []))
        for q in sorted(cat.values(), key=lambda q: q.id)
        if q.suite in suites
    ]
    subjects = [s.summary() for s in ctx.subjects]
    named = {
        suite: sorted(ids_named_in_tests(d, set(cat)))
        for suite, d in cat.suite_dirs.items()
        if suite in suites
    }
    used = {json.dumps(r["known_failure"], sort_keys=True) for r in results if r["known_failure"]}
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": ctx.run_id,
            "started": _iso(started),
            "finished": _iso(dt.datetime.now().timestamp()),
            "complete": not interrupted and all(r.complete for r in records),
            "interrupted": interrupted,
            "harness_version": harness_version(),
            "python": platform.python_version(),
            "command": " ".join(["pytest", *sys.argv[1:]]),
            "options": {
                "gate": config.option.ocitest_gate,
                "known_failures": config.option.ocitest_known_failures,
                "target": ctx.target_spec,
                "report_dir": os.path.abspath(config.option.ocitest_report_dir),
                "workers": getattr(config.option, "numprocesses", None),
            },
            "schemas": {
                "runtime-spec": {"dir": ctx.schema_dir, "version": schema_version(ctx.schema_dir)}
            },
            "leftovers": leftovers,
            "unused_known_failures": [
                k.as_dict()
                for k in (known or [])
                if json.dumps(k.as_dict(), sort_keys=True) not in used
            ],
        },
        "targets": [{"spec": ctx.target_spec, "facts": config.stash[TARGET].facts()}],
        "subjects": subjects,
        "gate": verdict.as_dict(),
        "counts": counts(subjects, results),
        "coverage": coverage(catalogue, results, named, cat.scopes),
        "catalogue": catalogue,
        "results": results,
    }


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_all(
    config,
    ctx,
    records: list[Record],
    verdict: Verdict,
    *,
    interrupted: bool,
    started: float,
    leftovers: list[str],
) -> str:
    """Write every report file; return the directory. The results document is validated
    against its schema first (a mismatch is a harness bug and raises)."""
    from reports.plugin import KNOWN

    doc = build_results(
        config,
        ctx,
        records,
        verdict,
        interrupted=interrupted,
        started=started,
        leftovers=leftovers,
        known=config.stash[KNOWN],
    )
    return write_doc(doc, os.path.abspath(config.option.ocitest_report_dir))


def write_doc(doc: dict, out: str) -> str:
    """Validate `doc` against results.schema.json and write every report file into `out`."""
    jsonschema.validate(doc, load_schema("results.schema.json"))
    os.makedirs(out, exist_ok=True)
    _write(os.path.join(out, MARKER), "ocitest report directory\n")
    _write(os.path.join(out, "results.json"), json.dumps(doc, indent=1))
    _write(os.path.join(out, "junit.xml"), render_junit(doc))
    _write(os.path.join(out, "report.html"), render_html(doc))
    _write(os.path.join(out, "summary.md"), render_summary(doc))
    return out
