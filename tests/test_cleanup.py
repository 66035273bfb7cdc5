"""Clean-up: nothing of ours is left after a run, after Ctrl-C, or after a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from infra.run import STATE_BASE, WORK_BASE
from infra.sweep import main as sweep_main
from tests.conftest import PYTEST, ROOT


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


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


def start_suite_run(tmp_path, *extra: str, via_cli: bool = False) -> tuple[subprocess.Popen, str]:
    """Start the runtime suite in its own process group; return it and its run id once
    it has a container. `via_cli`: through ./ocitest run (pytest is then its child)."""
    before = run_ids()
    cmd = [str(ROOT / "ocitest"), "run"] if via_cli else [*PYTEST, "suites/oci_runtime"]
    proc = subprocess.Popen(
        [*cmd, "-n", "2", "--gate", "none", "--report-dir", str(tmp_path / "report"), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for rid in run_ids() - before:
            try:  # ours: the run whose owner is the pytest we started
                with open(f"{STATE_BASE}/{rid}/owner.pid") as fh:
                    owner = int(fh.read().strip() or 0)
                if proc.pid not in (owner, _parent(owner)):
                    continue
                roots = [f"{STATE_BASE}/{rid}/{s}" for s in os.listdir(f"{STATE_BASE}/{rid}")]
                if any(os.listdir(r) for r in roots if os.path.isdir(r)):
                    return proc, rid
            except (OSError, ValueError):
                continue
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    pytest.fail("the inner run never created a container within 60 s")


@pytest.mark.parametrize(
    "how, sig", [("pytest", signal.SIGINT), ("cli", signal.SIGINT), ("cli", signal.SIGTERM)]
)
def test_an_interrupted_run_leaves_nothing_and_writes_an_incomplete_report(tmp_path, how, sig):
    proc, rid = start_suite_run(tmp_path, "--runtime", "runc", via_cli=(how == "cli"))
    os.killpg(proc.pid, sig)
    out, _ = proc.communicate(timeout=180)
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


def test_a_full_run_with_failures_leaves_nothing(inner, mutant_exe):
    run = inner(
        [
            "suites/oci_runtime",
            "-n",
            "2",
            "--gate",
            "none",
            "--runtime",
            mutant_exe("delete-keeps-container"),
            "--runtime",
            "crun",
        ]
    )
    rid = run.results["run"]["id"]
    assert run.results["run"]["leftovers"] == []
    assert traces_of(rid) == []
