"""The harness's own cost per test against the runtime's own work, from a report.

    .venv/bin/python -m benchmarks.harness_stats ocitest-report [OTHER_REPORT ...] [--json OUT]

Reads each report directory's results.json (reports/schemas/results.schema.json) and,
over the tests that ran (outcome passed, failed, xfail, stale or error), gives:
- `tests`: how many; `wall_s`: the run's wall time (run.started to run.finished);
- `test_s`: the sum of the tests' durations, `median_test_s` the median per test;
- `runtime_s`: the sum of the durations of the runtime commands in their evidence (a
  command whose first word is a runtime subject's path; waits, probe output and
  config.json records are not commands and are left out; a wait's own polls are not in
  the evidence, so the figure is a lower bound of the time spent in the runtime);
- `harness_ratio`: test_s / runtime_s (1.0 would be a harness that costs nothing);
- `median_overhead_s`: median per test of duration minus its runtime commands;
- `parallelism`: test_s / wall_s (how much of the run's wall time the workers overlapped).
With several reports, one column each (e.g. before and after a change, or -n 0 and -n 2).
Exit status 0, or 4 with one line for a directory without a readable results.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path

RAN = {"passed", "failed", "xfail", "stale", "error"}
USAGE_EXIT = 4


class StatsError(Exception):
    """A report directory without a readable results.json (one line)."""


def _seconds(started: str, finished: str) -> float | None:
    try:
        a, b = (dt.datetime.fromisoformat(x.replace("Z", "+00:00")) for x in (started, finished))
    except (TypeError, ValueError):
        return None
    return (b - a).total_seconds()


def runtime_paths(doc: dict) -> list[str]:
    """Paths of the runtime subjects of a results document (longest first)."""
    paths = [s.get("path", "") for s in doc.get("subjects", []) if s.get("kind") == "runtime"]
    return sorted((p for p in paths if p), key=len, reverse=True)


def runtime_seconds(result: dict, paths: list[str]) -> float:
    """Sum of the durations (s) of the runtime commands in one result's evidence."""
    total = 0.0
    for ev in result.get("evidence") or []:
        first = (ev.get("command") or "").split(" ", 1)[0]
        if first in paths:
            total += float(ev.get("duration") or 0)
    return total


def stats(doc: dict) -> dict:
    """The figures of one results document (see the module docstring)."""
    paths = runtime_paths(doc)
    ran = [r for r in doc.get("results", []) if r.get("outcome") in RAN]
    durations = [float(r.get("duration") or 0) for r in ran]
    runtimes = [runtime_seconds(r, paths) for r in ran]
    run = doc.get("run", {})
    wall = _seconds(run.get("started", ""), run.get("finished", ""))
    test_s, runtime_s = sum(durations), sum(runtimes)
    return {
        "tests": len(ran),
        "wall_s": round(wall, 2) if wall is not None else None,
        "test_s": round(test_s, 2),
        "median_test_s": round(statistics.median(durations), 3) if durations else None,
        "runtime_s": round(runtime_s, 2),
        "harness_ratio": round(test_s / runtime_s, 2) if runtime_s else None,
        "median_overhead_s": (
            round(statistics.median(d - r for d, r in zip(durations, runtimes, strict=True)), 3)
            if durations
            else None
        ),
        "parallelism": round(test_s / wall, 2) if wall else None,
    }


def load(report_dir: str) -> dict:
    """results.json of a report directory. Raises StatsError."""
    p = Path(report_dir) / "results.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise StatsError(f"{p}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise StatsError(f"{p}: not JSON: {exc}") from None


def table(columns: dict[str, dict]) -> str:
    """A plain-text table: one row per figure, one column per report."""
    keys = [
        "tests",
        "wall_s",
        "test_s",
        "median_test_s",
        "runtime_s",
        "harness_ratio",
        "median_overhead_s",
        "parallelism",
    ]
    names = list(columns)
    width = max(12, *(len(n) for n in names))
    lines = ["figure".ljust(18) + "".join(n.rjust(width + 2) for n in names)]
    for k in keys:
        lines.append(k.ljust(18) + "".join(str(columns[n][k]).rjust(width + 2) for n in names))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.harness_stats", description=__doc__)
    ap.add_argument("reports", nargs="+", metavar="REPORT_DIR")
    ap.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    try:
        columns = {d: stats(load(d)) for d in args.reports}
    except StatsError as exc:
        print(f"harness_stats: {exc}", file=sys.stderr)
        return USAGE_EXIT
    print(table(columns))
    if args.json:
        Path(args.json).write_text(json.dumps(columns, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
