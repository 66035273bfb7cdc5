"""Latency of an OCI runtime's operations (runtime.md#operations), one subject at a time.

Each figure is the duration of one runtime command as our driver timed it (the process
started through the target's command runner until it exited): create, start, state,
exec and kill of a running container, delete of a stopped one, and run-to-exit, the
whole create, start, wait until stopped (polling state) and delete of a container that
runs `true`. Bundle making (an overlay mount) is not timed. Run with `./ocitest bench`.
"""

from __future__ import annotations

import time

LONG = ["sleep", "60"]


def _ok(rr, what: str):
    assert rr.ok, f"benchmark: {what} failed\n" + rr.evidence.brief()
    return rr.result.duration


def test_operations_of_a_running_container(containers, runtime, bench):
    for _ in bench.iterations():
        b = containers.bundle(args=LONG)
        b.write()
        c = containers.create(b)
        bench.record("create", _ok(c.create_result, "create"))
        bench.record("start", _ok(runtime.start(c.id), "start"))
        bench.record("state", _ok(runtime.state(c.id), "state"))
        bench.record("exec", _ok(runtime.raw("exec", c.id, "true"), "exec true"))
        bench.record("kill", _ok(runtime.kill(c.id, "KILL"), "kill KILL"))
        assert containers.wait_status(c.id, "stopped"), f"benchmark: {c.id} did not stop"
        bench.record("delete", _ok(runtime.delete(c.id), "delete"))


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
        bench.record("run-to-exit", time.monotonic() - t0)
