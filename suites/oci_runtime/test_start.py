"""runtime.md#start and lifecycle step 8: start runs the program, once, and only then."""

from __future__ import annotations

import pytest

from suites.messages import requirement_headers, violation
from suites.oci_runtime.helpers import LONG_RUNNING, assert_created, state_of


@pytest.mark.requirement("runtime.start.runs-program", "runtime.lifecycle.run-program")
def test_start_runs_the_program_as_process_says(containers, runtime):
    b = containers.bundle(args=["sh", "-c", 'echo "ocitest:$OCITEST_VAR:$(pwd)"'])
    b.config["process"]["env"].append("OCITEST_VAR=from-config")
    b.config["process"]["cwd"] = "/tmp"
    c = containers.create(b)
    assert_created(c, "runtime.start.runs-program")
    rr = runtime.start(c.id)
    got = containers.wait_output(c, "ocitest:")
    out = containers.output(c)
    assert rr.ok and got and "ocitest:from-config:/tmp" in out, (
        violation(
            "runtime.start.runs-program",
            wanted="start exits 0 and the program prints 'ocitest:from-config:/tmp' (args, env, cwd)",
            seen=f"exit status {rr.exit_status}, stdout {out!r}",
            evidence=[rr],
        )
        + "\n"
        + requirement_headers(["runtime.lifecycle.run-program"])
    )


@pytest.mark.requirement("runtime.start.missing-id-errors")
def test_start_without_an_id_fails(runtime):
    rr = runtime.raw("start")
    assert not rr.ok, violation(
        "runtime.start.missing-id-errors",
        wanted="a non-zero exit status",
        seen="exit status 0",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.start.not-created-errors")
@pytest.mark.variant("state-present")
def test_start_of_a_running_container_fails(containers, runtime):
    c = containers.running(args=LONG_RUNNING)
    assert containers.wait_output(c, "ocitest-started")
    rr = runtime.start(c.id)
    doc, st = state_of(runtime, c.id, "runtime.start.not-created-errors")
    runs = containers.output(c).count("ocitest-started")
    assert not rr.ok and doc.get("status") == "running" and runs == 1, violation(
        "runtime.start.not-created-errors",
        wanted="the second start fails; the container keeps running its one program",
        seen=f"exit status {rr.exit_status}, status {doc.get('status')!r}, program started "
        f"{runs} time(s)",
        evidence=[rr, st],
    )


@pytest.mark.requirement("runtime.start.not-created-errors")
@pytest.mark.variant("state-present")
def test_start_of_a_stopped_container_fails(containers, runtime):
    c = containers.running(args=["sh", "-c", "echo ocitest-started"])
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    rr = runtime.start(c.id)
    doc, st = state_of(runtime, c.id, "runtime.start.not-created-errors")
    runs = containers.output(c).count("ocitest-started")
    assert not rr.ok and doc.get("status") == "stopped" and runs == 1, violation(
        "runtime.start.not-created-errors",
        wanted="start of a stopped container fails and runs nothing",
        seen=f"exit status {rr.exit_status}, status {doc.get('status')!r}, program started "
        f"{runs} time(s)",
        evidence=[rr, st],
    )


@pytest.mark.requirement("runtime.start.no-process-errors")
def test_start_without_process_fails(containers, runtime):
    b = containers.bundle()
    del b.config["process"]
    c = containers.create(b)
    evidence = [c.create_result]
    started = False
    if c.created:  # a runtime may refuse already at create (see the catalogue entry)
        rr = runtime.start(c.id)
        evidence.append(rr)
        started = rr.ok
    assert not started, violation(
        "runtime.start.no-process-errors",
        wanted="create or start fails: config.json has no process",
        seen="both exit 0",
        evidence=evidence,
    )
