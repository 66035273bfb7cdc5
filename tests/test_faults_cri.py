"""Self-tests of faulty CRI endpoints (selftest/cri_faults.py, `--cri-endpoint
fault:NAME`): an endpoint that dies mid-run and one that never answers one ExecSync.
Each runs test_exec.py and test_runtime_info.py with a call deadline of a few seconds;
the affected tests must fail naming the RPC and the reason (UNAVAILABLE, timed out after
N s), the others pass, the run finish within its deadlines with its report, and nothing
of it stay on the host (the dead endpoint's pods are the sweeper's)."""

from __future__ import annotations

import os

import pytest

from selftest.cri_faults import AFTER
from tests.conftest import run_pytest
from tests.faults import CALL_TIMEOUT, assert_ended_well, inner_env, not_passed

ARGS = [
    "suites/cri/test_exec.py",
    "suites/cri/test_runtime_info.py",
    "-k",
    "not verbose_status_info",  # containerd 1.6 fails it (known-failures.yaml)
    "--runtime-handler",
    "runc",
    "--gate",
    "none",
    "-n",
    "2",
]
#: seconds the inner run may take (containerd's start, 9 tests, a stalled call)
RUN_DEADLINE = 200
#: the one test whose ExecSync the stalling endpoint holds
STALLED = "test_exec.py::test_exec_sync_returns_stdout_and_stderr_apart"

pytestmark = [
    pytest.mark.selftest,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the embedded containerd"),
]


def _run(name: str, tmp_path):
    return run_pytest([*ARGS, "--cri-endpoint", f"fault:{name}"], tmp_path / "r", env=inner_env())


def test_a_stalled_exec_sync_fails_its_one_test_after_the_deadline(tmp_path):
    run = _run("stalls-exec-sync", tmp_path)
    assert_ended_well(run)
    assert run.seconds < RUN_DEADLINE, f"the run took {run.seconds:.0f} s"
    bad = not_passed(run, "fault-stalls-exec-sync-runc")
    assert set(bad) == {STALLED}, {k: r["outcome"] for k, r in bad.items()}
    rec = bad[STALLED]
    deadline = 10 + CALL_TIMEOUT  # the test's ExecSync timeout, plus the call deadline
    assert rec["outcome"] == "failed", rec["message"][:2000]
    for words in ("RuntimeService/ExecSync", f"DEADLINE_EXCEEDED (timed out after {deadline} s)"):
        assert words in rec["message"], f"{words!r} not in:\n{rec['message'][:3000]}"
    assert rec["duration"] < deadline + 30, rec["duration"]


def test_an_endpoint_that_dies_fails_the_later_tests_and_the_run_goes_on(tmp_path):
    run = _run("dies-after-rpcs", tmp_path)
    # its pods outlive it: the run's leak check reports them (that is right), the
    # sweeper removes them, and nothing stays on the host
    out = run.stdout[-3000:] + run.stderr[-2000:]
    assert run.rc in (0, 1) and (run.report_dir / "results.json").exists(), out
    assert run.seconds < RUN_DEADLINE, f"the run took {run.seconds:.0f} s"
    subject = "fault-dies-after-rpcs-runc"
    outcomes = run.outcomes(subject)
    bad = not_passed(run, subject)
    assert bad and len(bad) < len(outcomes), f"{AFTER} RPCs: {outcomes}"
    for key, rec in bad.items():
        msg = rec["message"]
        assert "Service/" in msg and "UNAVAILABLE" in msg, f"{key}:\n{msg[:3000]}"
    from tests.faults import host_leftovers

    assert not host_leftovers(run.results["run"]["id"])
