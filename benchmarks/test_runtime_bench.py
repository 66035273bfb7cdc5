"""Latency of an OCI runtime's operations (runtime.md#operations), one subject at a time.

Each figure is the duration of one runtime command as our driver timed it (the process
started through the target's command runner until it exited): create, start, state,
exec and kill of a running container, delete of a stopped one, and run-to-exit, the
whole create, start, wait until stopped (polling state) and delete of a container that
runs `true`. Bundle making (an overlay mount) is not timed. Run with `./ocitest bench`.
"""

from __future__ import annotations

import time

import pytest

from infra.containers import ContainerSession
from infra.drivers.runtime import RuntimeDriver

LONG = ["sleep", "60"]


def _ok(rr, what: str):
    assert rr.ok, f"benchmark: {what} failed\n" + rr.evidence.brief()
    return rr.result.duration


def test_operations_of_a_running_container(containers, runtime, bench):
    for _ in bench.iterations():
        b = containers.bundle(args=LONG)
        b.write()
        c = containers.create(b)
        bench.record("create", _ok(c.create_result, "create"), group="runtime")
        bench.record("start", _ok(runtime.start(c.id), "start"), group="runtime")
        bench.record("state", _ok(runtime.state(c.id), "state"), group="runtime")
        bench.record("exec", _ok(runtime.raw("exec", c.id, "true"), "exec true"), group="runtime")
        bench.record("kill", _ok(runtime.kill(c.id, "KILL"), "kill KILL"), group="runtime")
        assert containers.wait_status(c.id, "stopped"), f"benchmark: {c.id} did not stop"
        bench.record("delete", _ok(runtime.delete(c.id), "delete"), group="runtime")


def test_run_to_exit(containers, runtime, bench):
    for _ in bench.iterations():
        b = containers.bundle(args=["true"])
        b.write()
        t0 = time.monotonic()
        c = containers.create(b)
        _ok(c.create_result, "create")
        _ok(runtime.start(c.id), "start")
        assert containers.wait_status(c.id, "stopped"), f"benchmark: {c.id} did not stop"
        _ok(runtime.delete(c.id), "delete")
        bench.record("run-to-exit", time.monotonic() - t0, group="runtime")


#: GNU time: runs a command, wait4()s it and writes its ru_maxrss (KiB) with -f %M
GNU_TIME = "/usr/bin/time"


class PeakRssDriver(RuntimeDriver):
    """The runtime driver with every command run under GNU time, which writes the
    command's peak resident set size (wait4's ru_maxrss: the largest of the runtime
    process and the children it waited for, KiB) to the file `out` on the target."""

    def __init__(self, base: RuntimeDriver, out: str) -> None:
        super().__init__(base.subject, base.target, base.state_root, base.log, base.timeout)
        self.out = out

    def argv(self, *args: str) -> list[str]:
        return [GNU_TIME, "-f", "%M", "-o", self.out, *super().argv(*args)]

    def peak(self) -> int:
        """Bytes of the last command's peak RSS; AssertionError when time wrote none."""
        text = self.target.read_text(self.out).split()
        assert text and text[-1].isdigit(), f"benchmark: {GNU_TIME} wrote {text!r} to {self.out}"
        return int(text[-1]) * 1024


@pytest.fixture
def measured(runtime, target, ocitest_run, worker_id, rootfs):
    """Containers made through PeakRssDriver (killed and deleted at teardown)."""
    if not target.exists(GNU_TIME):
        pytest.skip(f"needs GNU time ({GNU_TIME}, Debian package time) on the target")
    out = f"{ocitest_run.work_base}/peak-rss-{worker_id}"
    session = ContainerSession(PeakRssDriver(runtime, out), ocitest_run, "m", rootfs)
    yield session
    session.cleanup()
    target.remove_tree(out)


def test_peak_memory(measured, host, bench):
    """Peak RSS of each runtime command, and the peak memory use of a running container's
    cgroup (memory.peak on cgroup v2, memory.max_usage_in_bytes on v1) after an exec."""
    drv = measured.driver
    peak_file = "memory.peak" if host.cgroup_version() == 2 else "memory.max_usage_in_bytes"

    def rec(op: str, rr) -> None:
        _ok(rr, op)
        bench.record(f"runtime peak RSS: {op}", drv.peak(), unit="bytes", group="memory")

    for _ in bench.iterations():
        b = measured.bundle(args=LONG)
        b.write()
        c = measured.create(b)
        rec("create", c.create_result)
        rec("start", drv.start(c.id))
        rec("state", drv.state(c.id))
        rec("exec", drv.raw("exec", c.id, "true"))
        cg = b.config.get("linux", {}).get("cgroupsPath")
        text = host.cgroup_file_at("memory", cg, peak_file) if cg else None
        if text and text.strip().isdigit():
            bench.record(f"container cgroup {peak_file}", int(text), unit="bytes", group="memory")
        rec("kill", drv.kill(c.id, "KILL"))
        assert measured.wait_status(c.id, "stopped"), f"benchmark: {c.id} did not stop"
        rec("delete", drv.delete(c.id))
