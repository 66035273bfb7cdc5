"""The CI gate (docs/architecture.md, Gate).

- MUST: the run fails on a failed, error or stale result whose level is MUST.
- SHOULD: also on those at SHOULD.
- none: report only.
A harness `error` fails the run in every mode (the harness itself broke), and a MAY
requirement never fails it ("not implemented"). A test with several requirement ids
gates at its strictest level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reports.records import Record

MODES = ("MUST", "SHOULD", "none")
GATED_LEVELS = {"MUST": {"MUST"}, "SHOULD": {"MUST", "SHOULD"}, "none": set()}
FAILING = {"failed", "error", "stale"}


@dataclass
class Verdict:
    passed: bool
    mode: str
    reasons: list[str]

    @property
    def exit_status(self) -> int:
        return 0 if self.passed else 1

    def as_dict(self) -> dict:
        """The `gate` object of results.json."""
        return {
            "mode": self.mode,
            "passed": self.passed,
            "exit_status": self.exit_status,
            "reasons": self.reasons,
        }


def judge(records: Iterable[Record], mode: str) -> Verdict:
    """The gate's verdict over `records`; `reasons` lists the nodeids that failed it."""
    if mode not in MODES:
        raise ValueError(f"unknown gate mode {mode!r}")
    reasons = []
    for r in records:
        if r.outcome == "error":
            reasons.append(f"{r.nodeid}: error (harness)")
        elif r.outcome in FAILING and (r.level or "MUST") in GATED_LEVELS[mode]:
            reasons.append(f"{r.nodeid}: {r.outcome} at {r.level or 'MUST'}")
    return Verdict(passed=not reasons, mode=mode, reasons=reasons)
