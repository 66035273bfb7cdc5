"""Self-test of the sweeper after a CRI run killed with SIGKILL (controller and workers
at once, as an OOM kill or a cancelled CI job does) while its pods are running.

The embedded containerds (Debian's 1.6 and, when setup built it, 2.4.2 beside it), their
shims and the containers outlive the run; `sweep_run` with the run's id must then leave
nothing: no process of the run or in its cgroups, no directory, mount or cgroup, no CNI
bridge RUN-br or RUN-b2, no portmap NAT rule naming RUN-net, no shim socket (under
/run/containerd/s for 1.6, under the run's cri2/s for 2.4.2).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from infra.run import STATE_BASE, WORK_BASE
from infra.services.containerd import built_version
from infra.sweep import sweep_run
from infra.targets import open_target
from tests.conftest import PYTEST, ROOT

#: seconds for the killed run to reach a running pod with a host port
START_DEADLINE = 240.0
#: seconds for what the sweeper killed to be reaped
GONE_DEADLINE = 30.0


def _wait(what: str, probe, deadline: float):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if got := probe():
            return got
        time.sleep(0.2)
    raise AssertionError(f"deadline of {deadline:g} s passed waiting for {what}")


def _run_of(state: str, pid: int) -> str:
    for f in glob.glob(f"{state}/oct*/owner.pid"):
        if Path(f).read_text().strip() == str(pid):
            return Path(f).parent.name
    return ""


def _nat_rules(run: str) -> list[str]:
    res = subprocess.run(
        ["iptables", "-t", "nat", "-S"], capture_output=True, text=True, timeout=30, check=False
    )
    return [line for line in res.stdout.splitlines() if f"{run}-net" in line]


def _shim_sockets(state: str, run: str) -> list[str]:
    """The shims' sockets: 1.6 writes each task's `address`, 2.x its `bootstrap.json`."""
    tasks = f"{state}/{run}/cri*/state/io.containerd.runtime.v2.task/*/*"
    out = []
    for f in glob.glob(f"{tasks}/address"):
        with contextlib.suppress(OSError):
            out.append(Path(f).read_text().strip().removeprefix("unix://"))
    for f in glob.glob(f"{tasks}/bootstrap.json"):
        with contextlib.suppress(OSError, ValueError):
            addr = json.loads(Path(f).read_text())["address"]
            out.append(addr.removeprefix("unix://"))
    return out


def _pids_with(needle: str, file: str) -> list[str]:
    """Live processes whose /proc file `file` names `needle` (another run's sweeper of
    this run does not count)."""
    out = []
    for p in glob.glob("/proc/[0-9]*"):
        with contextlib.suppress(OSError):
            cmdline = Path(f"{p}/cmdline").read_bytes()
            if b"\0sweep\0" in cmdline:
                continue
            if needle in Path(f"{p}/{file}").read_bytes().decode(errors="replace"):
                out.append(p.rsplit("/", 1)[1])
    return [p for p in out if p != str(os.getpid())]


def _leftovers(run: str, state: str, work: str, sockets: list[str]) -> list[str]:
    left = [f"process {p} names the run" for p in _pids_with(run, "cmdline")]
    left += [f"process {p} in the run's cgroups" for p in _pids_with(f"/{run}-cri", "cgroup")]
    left += [f"path {p}" for p in (f"{state}/{run}", f"{work}/{run}") if os.path.lexists(p)]
    left += [f"mount {m}" for m in Path("/proc/self/mountinfo").read_text().split() if run in m]
    left += [f"cgroup {d}" for d in glob.glob(f"/sys/fs/cgroup/*/{run}-*")]
    left += [
        f"bridge {b}" for b in (f"{run}-br", f"{run}-b2") if os.path.exists(f"/sys/class/net/{b}")
    ]
    left += [f"nat rule {r}" for r in _nat_rules(run)]
    left += [f"shim socket {s}" for s in sockets if os.path.lexists(s)]
    return left


@pytest.mark.selftest
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the embedded containerd")
def test_sweep_after_a_killed_cri_run_leaves_nothing(tmp_path):
    cmd = [
        *PYTEST,
        "suites/cri/test_port_mapping.py",
        "suites/cri/test_streaming.py",
        "--gate",
        "none",
        "-n",
        "2",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run, sockets = "", []
    try:
        run = _wait("the run's directory", lambda: _run_of(STATE_BASE, proc.pid), START_DEADLINE)
        _wait("a pod with a host port", lambda: _nat_rules(run), START_DEADLINE)
        if built_version():  # both containerds: wait for a shim of 2.4.2 as well
            _wait(
                "a shim of containerd 2.4.2",
                lambda: [s for s in _shim_sockets(STATE_BASE, run) if f"/{run}/cri2/s/" in s],
                START_DEADLINE,
            )
        sockets = _shim_sockets(STATE_BASE, run)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert sockets, "no shim was running when the run was killed"
    if built_version():  # both containerds ran pods: a shim of each
        assert any(f"/{run}/cri2/s/" in s for s in sockets), sockets
    removed = sweep_run(open_target("local"), run)  # root's layout
    # killed processes vanish once reaped; a run starting meanwhile may sweep it too (its
    # sweeper names the run): judge what is left after a short wait, not `removed`
    left: list[str] = []
    end = time.monotonic() + GONE_DEADLINE
    while (left := _leftovers(run, STATE_BASE, WORK_BASE, sockets)) and time.monotonic() < end:
        time.sleep(0.2)
    assert not left, f"{GONE_DEADLINE:g} s after sweep_run({run}): {left}\nit removed: {removed}"
