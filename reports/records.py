"""Result records: one per test × subject, assembled from pytest's phase reports.

Workers attach an "ocitest" user property to each phase report (outcome, subject,
requirements, level, message) and the suites' fixtures attach "ocitest.evidence" at
teardown; user properties survive xdist, so the controller rebuilds every record here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

#: outcome values (docs/architecture.md, Outcomes): results.json, report, junit
OUTCOMES = ("passed", "failed", "error", "skipped", "unsupported", "not-required", "xfail", "stale")
PROP = "ocitest"
EVIDENCE_PROP = "ocitest.evidence"
#: failure messages are cut at this many characters in the record
MESSAGE_CHARS = 6000


def test_of(nodeid: str) -> str:
    """The nodeid without its parameter part: "a.py::test_x[runc]" -> "a.py::test_x"."""
    return re.sub(r"\[.*\]$", "", nodeid)


@dataclass
class Record:
    """One test × subject result (a row of results.json)."""

    nodeid: str
    test: str
    name: str
    requirements: list[str]
    level: str
    subject: str | None
    target: str
    outcome: str = "passed"
    duration: float = 0.0
    message: str = ""
    evidence: list[dict] = field(default_factory=list)
    known_failure: dict | None = None
    redactions: int = 0  # secret values replaced in its message, output and evidence
    variants: list[str] = field(default_factory=list)
    complete: bool = False
    scrubbed: int = 0  # of those, the ones in its phase reports (failure text, output)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("complete")
        d.pop("scrubbed")
        return d


def phase_info(report) -> dict | None:
    """The "ocitest" user property of a phase report, if any."""
    for key, value in getattr(report, "user_properties", []):
        if key == PROP:
            return value
    return None


def phase_evidence(report) -> list[dict]:
    ev: list[dict] = []
    for key, value in getattr(report, "user_properties", []):
        if key == EVIDENCE_PROP:
            ev = value
    return ev


class RecordBook:
    """Accumulates phase reports into records, keyed by nodeid. `target`: the spec of
    a record whose test has no subject (the first `--target`); a subject's own target
    comes with its phase reports."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.records: dict[str, Record] = {}

    def add(self, report) -> Record | None:
        info = phase_info(report)
        if info is None:
            return None
        rec = self.records.get(report.nodeid)
        if rec is None:
            rec = self.records[report.nodeid] = Record(
                nodeid=report.nodeid,
                test=test_of(report.nodeid),
                name=report.nodeid.split("::")[-1],
                requirements=info["requirements"],
                level=info["level"],
                subject=info.get("subject"),
                target=info.get("target") or self.target,
                variants=list(info.get("variants") or []),
            )
        rec.duration = round(rec.duration + float(getattr(report, "duration", 0.0)), 4)
        phase, outcome = report.when, info["outcome"]
        if info.get("known_failure"):
            rec.known_failure = info["known_failure"]
        if (phase == "setup" and outcome != "passed") or phase == "call":
            rec.outcome, rec.message = outcome, info.get("message", "")
        elif phase == "teardown":
            rec.complete = True
            if outcome in ("failed", "error"):
                note = "teardown: " + info.get("message", "")
                if rec.outcome in ("passed", "skipped", "unsupported", "not-required"):
                    rec.outcome = "error"
                rec.message = (rec.message + "\n\n" + note).strip()
        ev = phase_evidence(report)
        if ev:
            rec.evidence = ev
        rec.scrubbed += info.get("redactions", 0)
        rec.redactions = rec.scrubbed + sum(e.get("redactions", 0) for e in rec.evidence)
        rec.message = rec.message[:MESSAGE_CHARS]
        return rec

    def finish(self) -> list[Record]:
        """All records; one whose teardown never arrived (a dead worker) is an error."""
        out = []
        for rec in self.records.values():
            if not rec.complete and rec.outcome == "passed":
                rec.outcome = "error"
                rec.message = (
                    rec.message + "\nno teardown report: the worker died or the run was interrupted"
                ).strip()
            out.append(rec)
        return out
