"""report.html: one self-contained page (inline CSS, no scripts needed, no network).

Top: verdict, subjects with their counts, coverage. Then the requirement matrix (spec ->
section -> requirement rows, a column per subject, each cell linking to the evidence of
its tests), differences between subjects, the environment, and every result's evidence.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
#: worst first: the outcome a cell shows when several tests cover one requirement
SEVERITY = ["error", "failed", "stale", "xfail", "passed", "unsupported", "not-required", "skipped"]


def _cell_outcome(outcomes: list[str]) -> str:
    return min(outcomes, key=SEVERITY.index) if outcomes else ""


def matrix(doc: dict) -> list[dict]:
    """Rows of the requirement matrix: catalogue entries with a cell per subject."""
    by_req: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, r in enumerate(doc["results"]):
        for rid in r["requirements"]:
            by_req[(rid, r["subject"])].append(i)
    rows = []
    for q in doc["catalogue"]:
        cells = []
        for s in doc["subjects"]:
            idx = by_req.get((q["id"], s["id"]), [])
            outs = [doc["results"][i]["outcome"] for i in idx]
            shown = _cell_outcome(outs)
            if shown == "failed" and q["level"] == "MAY":
                shown = "not-implemented"
            cells.append({"outcome": shown, "tests": idx})
        rows.append(
            {**q, "cells": cells, "differs": len({c["outcome"] for c in cells if c["outcome"]}) > 1}
        )
    return rows


def render_html(doc: dict) -> str:
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
        doc=doc, sections=sections, differences=[r for r in rows if r["differs"]]
    )
