"""The sweeper and the shims of a killed CRI run (containerd 1.6 keeps their sockets
outside our directories, under /run/containerd/s): a shim killed before it wrote its
task's `address` file, and a shim still alive when the sweep starts, must leave no
socket and no process once `sweep_run` returns (no grace period after it).

The run here is staged by hand, as a SIGKILLed run leaves it: the task directory of
containerd 1.6's layout, a "shim" process naming the run that holds a socket named as
1.6 names it (sha256 of ADDRESS/NAMESPACE/ID), and no address file. tests/test_cri_sweep.py
does the same with a real run."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from infra.run import STATE_BASE, WORK_BASE
from infra.sweep import sweep_run
from infra.targets import open_target
from tests.faults import host_leftovers

SHIM_SOCKETS = Path("/run/containerd/s")

#: a shim stand-in: binds its socket, says so, and lives on
SHIM = (
    "import socket, sys, time; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
    "s.listen(); open(sys.argv[2], 'w').close(); time.sleep(300)"
)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: /run/containerd/s and /run/ocitest")
def test_sweep_removes_a_shims_socket_without_its_address_file_and_the_shim(tmp_path):
    run = "oct" + secrets.token_hex(3)
    address = f"{STATE_BASE}/{run}/cri/containerd.sock"
    task = Path(f"{STATE_BASE}/{run}/cri/state/io.containerd.runtime.v2.task/k8s.io/{'ab' * 32}")
    task.mkdir(parents=True)
    Path(f"{WORK_BASE}/{run}").mkdir(parents=True, exist_ok=True)
    SHIM_SOCKETS.mkdir(parents=True, exist_ok=True)
    sock = SHIM_SOCKETS / hashlib.sha256(f"{address}/k8s.io/{task.name}".encode()).hexdigest()
    ready = tmp_path / "ready"
    # the shim's command line names the run, as containerd-shim-runc-v2 -address ... does
    shim = subprocess.Popen(
        ["python3", "-c", SHIM, str(sock), str(ready), "-address", address],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sock.is_socket(), "the stand-in shim did not bind its socket"
        removed = sweep_run(open_target("local"), run)
        assert shim.wait(5) == -9, "the shim was not killed"
        assert not sock.exists(), f"the shim's socket {sock} outlived the sweep: {removed}"
        assert f"shim socket {sock}" in removed, removed
        assert not host_leftovers(run), host_leftovers(run)
    finally:
        if shim.poll() is None:
            shim.kill()
            shim.wait(5)
        sock.unlink(missing_ok=True)
        subprocess.run(["rm", "-rf", f"{STATE_BASE}/{run}", f"{WORK_BASE}/{run}"], check=False)
