"""report.html: one self-contained page (inline CSS, no scripts needed, no network).

Top: verdict, subjects with their counts, coverage. Then the requirement matrix (spec ->
section -> requirement rows, a column per subject, each cell linking to the evidence of
its tests), differences between subjects, the environment, and every result's evidence.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import jinja2

from infra.subjects import target_tag

TEMPLATES = Path(__file__).parent / "templates"
#: characters of stdout/stderr shown per command of a result that passed or was skipped
#: (results.json keeps the full excerpts); failures show evidence.EXCERPT_CHARS
PASSED_EXCERPT = 300
#: worst first: the outcome a cell shows when several tests cover one requirement
SEVERITY = ["error", "failed", "stale", "xfail", "passed", "unsupported", "not-required", "skipped"]


def _cell_outcome(outcomes: list[str]) -> str:
    return min(outcomes, key=SEVERITY.index) if outcomes else ""


def case_label(result: dict) -> str:
    """What tells a result apart from the other results of one requirement and subject:
    the parameters besides the subject ("created"), else the test's name."""
    name = result["name"]
    params = name[name.find("[") + 1 : -1] if "[" in name else ""
    subject = result["subject"] or ""
    if params.startswith(subject):
        params = params[len(subject) :].lstrip("-")
    return params or name.split("[")[0]


def matrix(doc: dict) -> list[dict]:
    """Rows of the requirement matrix: catalogue entries with a cell per subject.

    A cell holds (index, outcome, case label) for each result of that requirement and
    subject; `outcome` is the worst of them, or "not run" when a test names the
    requirement but none ran here (deselected, or another suite)."""
    by_req: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(doc["results"]):
        for rid in r["requirements"]:
            by_req[(rid, r["subject"])].append(i)
    named = {rid for cov in doc["coverage"].values() for rid in cov.get("named", [])}
    rows = []
    for q in doc["catalogue"]:
        cells = []
        for s in doc["subjects"]:
            idx = by_req.get((q["id"], s["id"]), [])
            results = doc["results"]
            shown = _cell_outcome([results[i]["outcome"] for i in idx])
            if shown == "failed" and q["level"] == "MAY":
                shown = "not-implemented"
            if not idx:
                shown = (
                    "not run"
                    if q["id"] in named
                    else ("untestable" if not q["testable"] else "no test")
                )
            label = len(idx) > 1
            cells.append(
                {
                    "outcome": shown,
                    "tests": [
                        (
                            i,
                            results[i]["outcome"],
                            case_label(results[i]) if label else "",
                            results[i]["nodeid"],
                        )
                        for i in idx
                    ],
                }
            )
        outcomes = {c["outcome"] for c in cells if c["tests"]}
        rows.append({**q, "cells": cells, "differs": len(outcomes) > 1})
    return rows


def basis_lines(doc: dict, ids: list[str]) -> list[dict]:
    """What each of `ids` rests on, for a result row: dicts of id, level, basis (its
    name, "" for an entry without one), text (what the basis means), url (the spec text
    it rests on) and spec_url (the requirement's own section). Ids the catalogue lacks
    are left out."""
    cat = {q["id"]: q for q in doc["catalogue"]}
    return [
        {
            "id": rid,
            "level": cat[rid]["level"],
            "basis": cat[rid].get("basis") or "",
            "text": cat[rid].get("basis_text") or "",
            "url": cat[rid].get("basis_url") or cat[rid]["url"],
            "spec_url": cat[rid]["url"],
        }
        for rid in ids
        if rid in cat
    ]


def column_heads(doc: dict) -> list[dict]:
    """The matrix's column heads, one per subject: `name` (the id without its target
    part), `where` (that part: the target, "" in a run with one target) and `title` (the
    tooltip: id, version, target), so that many columns stay narrow."""
    heads = []
    for s in doc["subjects"]:
        sid, target = s["id"], s.get("target") or ""
        tag = "@" + target_tag(target) if target else ""
        name, where = (sid[: -len(tag)], tag[1:]) if tag and sid.endswith(tag) else (sid, "")
        title = " ".join(
            x for x in (sid, s.get("version") or "", f"on {target}" if target else "") if x
        )
        heads.append({"id": sid, "name": name, "where": where, "title": title})
    return heads


def render_html(doc: dict, performance: dict | None = None, peers: dict | None = None) -> str:
    """report.html of results document `doc`; with a performance document, its section
    (reports/performance.py render_section: charts, p50/p99 bars, ratios) too; with a
    peers document (peers.json), the peers section (reports/peers.py render_section)."""
    from reports import peers as peers_mod
    from reports.performance import render_section  # matplotlib only when there is one

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    rows = matrix(doc)
    sections: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        sections[row["spec"]][row["section"]].append(row)
    return env.get_template("report.html.j2").render(
        doc=doc,
        sections=sections,
        heads=column_heads(doc),
        differences=[r for r in rows if r["differs"]],
        PASSED_EXCERPT=PASSED_EXCERPT,
        basis_lines=lambda ids: basis_lines(doc, ids),
        performance=render_section(performance) if performance else "",
        peers=peers_mod.render_section(peers) if peers else "",
    )
