"""Writes the report directory: results.json, junit.xml, report.html, summary.md.

A pure function of data: `build_results(ReportInput)` makes the results.json document
(schema: reports/schemas/results.schema.json) from explicit inputs (records, catalogue,
known failures, subjects, target facts, schemas, proofs, options); every other file is
rendered from it, so the four files never disagree. Nothing here reads pytest's config:
reports/plugin.py gathers the inputs. Files are written to a temporary name and renamed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
from collections import Counter
from dataclasses import dataclass, field

import jsonschema

from infra import version
from reports import peers as peers_mod
from reports import performance as perf_mod
from reports.catalogue import Catalogue, ids_named_in_tests
from reports.gate import Verdict
from reports.html import render_html
from reports.junit import render_junit
from reports.known_failures import KnownFailure
from reports.proofs import real_failures
from reports.records import OUTCOMES, Record
from reports.reportdir import MARKER
from reports.schemas import load_schema
from reports.summary import render_summary
from reports.variants import variant_coverage, variants_named_in_tests

SCHEMA_VERSION = 1


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds")


def harness_version() -> str:
    """The ocitest version that writes this report (infra/version.py)."""
    return version.harness_version()


def coverage(
    catalogue: list[dict], results: list[dict], named: dict[str, list[str]], scopes: dict[str, str]
) -> dict:
    """Coverage per suite (docs/architecture.md, Contracts / Catalogue entry): testable requirements that some test of
    the suite names, over the suite's testable requirements, each id counted once;
    `ran` counts those with a result in this run (fewer after -k or a path selection);
    `specs` maps each spec the suite's catalogue follows to its version ({"runtime-spec":
    "1.3.0"}).

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
            "specs": {q["spec"]: q["spec_version"] for q in reqs if q.get("spec_version")},
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


@dataclass
class ReportInput:
    """Everything a report is made of.

    Attributes:
        run_id: the run's id.
        records: one per test x subject (reports/records.py).
        verdict: the gate's verdict on `records`.
        catalogue: every loaded requirement (reports/catalogue.py).
        known: the known failures given (reports/known_failures.py).
        subjects: the subject objects of results.json, in report order.
        targets: [{"spec": target spec, "facts": {name: value}}].
        schemas: spec name -> {"dir", "version"} of the schemas the subjects' kinds used.
        proofs: requirement id -> names of the mutants that prove its tests can fail.
        options: the run's options as results.json's run.options (gate, known_failures,
            target, report_dir, workers).
        command: the command line as the user typed it.
        started: seconds since the epoch.
        interrupted: the run was interrupted or the harness broke.
        leftovers: what the end-of-run sweep had to remove.
        performance: a performance.json to show in report.html (--performance), or None
            for the one in the report directory, if any.
        peers: a peers.json (./ocitest peers) to show in report.html (--peers), or None
            for the one in the report directory, if any.
        mutation: the mutation score of reports/proofs.json per mutant kind
            (reports.proofs.mutation_score), {} for none.
        logs: report file name -> local path of files copied beside the report (a VM
            target's console, `console-qemu-IMAGE.log`).
    """

    run_id: str
    records: list[Record]
    verdict: Verdict
    catalogue: Catalogue
    known: list[KnownFailure]
    subjects: list[dict]
    targets: list[dict]
    schemas: dict[str, dict]
    proofs: dict[str, list[str]]
    options: dict
    command: str
    started: float
    interrupted: bool = False
    leftovers: list[str] = field(default_factory=list)
    performance: str | None = None
    peers: str | None = None
    mutation: dict = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


def build_results(inp: ReportInput) -> dict:
    """The results.json document (see reports/schemas/results.schema.json)."""
    cat = inp.catalogue
    records = inp.records
    suites = {cat[i].suite for r in records for i in r.requirements if i in cat}
    suites = suites or {q.suite for q in cat.values()}
    results = [r.to_dict() for r in sorted(records, key=lambda r: r.nodeid)]
    failed = real_failures(results, cat)
    catalogue = [
        q.as_entry(inp.proofs.get(q.id, []), failed.get(q.id, []))
        for q in sorted(cat.values(), key=lambda q: q.id)
        if q.suite in suites
    ]
    named = {
        suite: sorted(ids_named_in_tests(d, set(cat)))
        for suite, d in cat.suite_dirs.items()
        if suite in suites
    }
    used = {json.dumps(r["known_failure"], sort_keys=True) for r in results if r["known_failure"]}
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": inp.run_id,
            "started": _iso(inp.started),
            "finished": _iso(dt.datetime.now().timestamp()),
            "complete": not inp.interrupted and all(r.complete for r in records),
            "interrupted": inp.interrupted,
            "harness_version": harness_version(),
            "python": platform.python_version(),
            "command": inp.command,
            "options": inp.options,
            "schemas": inp.schemas,
            "leftovers": inp.leftovers,
            "unused_known_failures": [
                k.as_dict()
                for k in inp.known
                if json.dumps(k.as_dict(), sort_keys=True) not in used
            ],
        },
        "targets": inp.targets,
        "subjects": inp.subjects,
        "gate": inp.verdict.as_dict(),
        "counts": counts(inp.subjects, results),
        "coverage": coverage(catalogue, results, named, cat.scopes),
        "variants": variant_coverage(
            catalogue,
            results,
            {
                suite: variants_named_in_tests(d)
                for suite, d in cat.suite_dirs.items()
                if suite in suites
            },
        ),
        "catalogue": catalogue,
        "mutation": inp.mutation,
        "results": results,
    }


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write_all(inp: ReportInput, out: str) -> str:
    """Write every report file of `inp` into directory `out`; return `out`. The results
    document is validated against its schema first (a mismatch is a harness bug and
    raises jsonschema.ValidationError)."""
    doc = build_results(inp)
    write_doc(doc, out, inp.performance, inp.peers)
    for name, path in inp.logs.items():  # after write_doc: the directory and marker exist
        with contextlib.suppress(OSError):  # a log gone with its VM is not worth the report
            shutil.copyfile(path, os.path.join(out, os.path.basename(name)))
    return out


def write_doc(doc: dict, out: str, performance: str | None = None, peers: str | None = None) -> str:
    """Validate `doc` against results.schema.json and write every report file into `out`;
    report.html gets a performance section when `performance` (a performance.json path)
    is given or `out` holds a valid performance.json, and a peers section likewise from
    `peers` or `out`'s peers.json. Raises performance.PerformanceError or
    peers.PeersError for a given file that is not one."""
    jsonschema.validate(doc, load_schema("results.schema.json"))
    perf = perf_mod.find(out, performance)
    peer_doc = peers_mod.find(out, peers)
    os.makedirs(out, exist_ok=True)
    _write(os.path.join(out, MARKER), "ocitest report directory\n")
    _write(os.path.join(out, "results.json"), json.dumps(doc, indent=1))
    _write(os.path.join(out, "junit.xml"), render_junit(doc))
    _write(os.path.join(out, "report.html"), render_html(doc, perf, peer_doc))
    _write(os.path.join(out, "summary.md"), render_summary(doc))
    return out
