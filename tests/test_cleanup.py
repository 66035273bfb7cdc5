"""Clean-up: nothing of ours is left after a run, after Ctrl-C, or after a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from infra.run import STATE_BASE, WORK_BASE
from infra.sweep import main as sweep_main
from tests.conftest import ROOT


def run_ids() -> set[str]:
    return set(os.listdir(STATE_BASE)) if os.path.isdir(STATE_BASE) else set()


def traces_of(run_id: str) -> list[str]:
    """Everything on this host that still carries `run_id`."""
    found = []
    for base in (STATE_BASE, WORK_BASE):
        if os.path.exists(f"{base}/{run_id}"):
            found.append(f"{base}/{run_id}")
    with open("/proc/self/mountinfo") as fh:
        found += [ln.split()[4] for ln in fh if run_id in ln]
    for ctrl in os.listdir("/sys/fs/cgroup"):
        d = f"/sys/fs/cgroup/{ctrl}"
        if os.path.isdir(d):
            found += [f"{d}/{n}" for n in os.listdir(d) if n.startswith(run_id)]
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=False)
    found += [ln for ln in ps.stdout.splitlines() if run_id in ln and "ps -eo" not in ln]
    return found


def start_suite_run(tmp_path, *extra: str) -> tuple[subprocess.Popen, str]:
    """Start the runtime suite in its own process group; return it and its run id once
    it has a container."""
    before = run_ids()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "suites/oci_runtime",
            "-n",
            "2",
            "--gate",
            "none",
            "--report-dir",
            str(tmp_path / "report"),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for rid in run_ids() - before:
            roots = [
                f"{STATE_BASE}/{rid}/{s}"
                for s in os.listdir(f"{STATE_BASE}/{rid}")
                if os.path.isdir(f"{STATE_BASE}/{rid}/{s}")
            ]
            if any(os.listdir(r) for r in roots if os.path.isdir(r)):
                return proc, rid
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the inner run never created a container within 60 s")


def test_ctrl_c_leaves_nothing_and_still_writes_an_incomplete_report(tmp_path):
    proc, rid = start_suite_run(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, out[-3000:]
    assert traces_of(rid) == [], out[-3000:]
    import json

    doc = json.loads((tmp_path / "report" / "results.json").read_text())
    assert doc["run"]["complete"] is False and doc["run"]["interrupted"] is True
    assert "Incomplete run" in (tmp_path / "report" / "report.html").read_text()


def test_the_sweeper_removes_what_a_killed_run_left(tmp_path, capsys):
    proc, rid = start_suite_run(tmp_path)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert traces_of(rid), "the killed run left nothing, so this test proves nothing"
    sweep_main()
    assert traces_of(rid) == []
    assert rid in capsys.readouterr().out


def test_a_full_run_with_failures_leaves_nothing(inner):
    from infra.mutants import MUTANTS

    run = inner(
        [
            "suites/oci_runtime",
            "-n",
            "2",
            "--gate",
            "none",
            "--runtime",
            MUTANTS["delete-keeps-container"].path,
            "--runtime",
            "crun",
        ]
    )
    rid = run.results["run"]["id"]
    assert run.results["run"]["leftovers"] == []
    assert traces_of(rid) == []
