"""What the fault self-tests (tests/test_faults_*.py) share: the inner run's small
deadlines, and the checks that a faulty subject's run ended well: one failed test per
fault with a clear reason, the rest passed, the report written, nothing left on the host."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from infra.run import STATE_BASE, WORK_BASE
from tests.conftest import InnerRun, subject_free

#: seconds one runtime call, RPC or registry request may take in the inner runs
#: ($OCITEST_CALL_TIMEOUT): small, so that a hang costs the run seconds, not minutes
CALL_TIMEOUT = 4


def inner_env() -> dict[str, str]:
    return {**os.environ, "OCITEST_CALL_TIMEOUT": str(CALL_TIMEOUT)}


def not_passed(run: InnerRun, subject: str) -> dict[str, dict]:
    """Subject-free key -> record, for the subject's tests that did not pass (or skip)."""
    return {
        subject_free(r["nodeid"], r["subject"]): r
        for r in run.results["results"]
        if r["subject"] == subject and r["outcome"] not in ("passed", "skipped", "unsupported")
    }


def host_leftovers(run_id: str) -> list[str]:
    """What of run `run_id` is still on this host: processes naming it, its
    directories, mounts and cgroups."""
    left = []
    for p in glob.glob("/proc/[0-9]*"):
        try:
            cmd = Path(f"{p}/cmdline").read_bytes()
        except OSError:
            continue
        if run_id.encode() in cmd and b"\0sweep\0" not in cmd:
            line = cmd.replace(b"\0", b" ")[:120].decode(errors="replace")
            left.append(f"process {p[6:]}: {line}")
    dirs = (f"{STATE_BASE}/{run_id}", f"{WORK_BASE}/{run_id}")
    left += [f"path {d}" for d in dirs if os.path.lexists(d)]
    left += [f"mount {m}" for m in Path("/proc/self/mountinfo").read_text().split() if run_id in m]
    left += [f"cgroup {d}" for d in glob.glob(f"/sys/fs/cgroup/*/{run_id}-*")]
    left += [f"cgroup {d}" for d in glob.glob(f"/sys/fs/cgroup/*/*/{run_id}-*")]
    return left


def assert_ended_well(run: InnerRun) -> None:
    """The inner run finished with a report (exit 0 or 1, not interrupted, no harness
    traceback), and neither its leak check nor this host saw anything of it left."""
    out = run.stdout[-3000:] + run.stderr[-2000:]
    assert run.rc in (0, 1), f"exit status {run.rc}\n{out}"
    assert (run.report_dir / "results.json").exists(), out
    assert run.results["run"]["complete"], out
    assert "INTERNALERROR" not in run.stdout + run.stderr, out
    assert run.results["run"]["leftovers"] == [], run.results["run"]["leftovers"]
    left = host_leftovers(run.results["run"]["id"])
    assert not left, left
