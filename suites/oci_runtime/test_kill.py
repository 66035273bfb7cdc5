"""runtime.md#kill: the named signal reaches the container process, and only when it may."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import LONG_RUNNING, state_of

#: traps SIGUSR1 and says so; pid 1 ignores signals it has no handler for
TRAPS_USR1 = [
    "sh",
    "-c",
    'trap "echo ocitest-got-USR1" USR1; echo ocitest-started; while :; do usleep 20000; done',
]


@pytest.mark.requirement("runtime.kill.sends-signal")
def test_kill_delivers_the_named_signal(containers, runtime):
    c = containers.running(args=TRAPS_USR1)
    assert containers.wait_output(c, "ocitest-started"), "setup: the program did not start"
    rr = runtime.kill(c.id, "USR1")
    got = containers.wait_output(c, "ocitest-got-USR1")
    assert rr.ok and got, violation(
        "runtime.kill.sends-signal",
        wanted="kill exits 0 and the program's USR1 trap runs",
        seen=f"exit status {rr.exit_status}, stdout {containers.output(c)!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.kill.sends-signal")
def test_kill_stops_a_created_container(containers, runtime):
    c = containers.created(args=LONG_RUNNING)
    rr = runtime.kill(c.id, "KILL")
    stopped = containers.wait_status(c.id, "stopped")
    assert rr.ok and stopped, violation(
        "runtime.kill.sends-signal",
        wanted="kill KILL of a created container exits 0 and the container stops",
        seen=f"exit status {rr.exit_status}, status "
        f"{(containers.state(c.id) or {}).get('status')!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.kill.not-running-errors")
@pytest.mark.variant("state-present")
def test_kill_of_a_stopped_container_fails(containers, runtime):
    c = containers.running(args=["sh", "-c", "echo ocitest-started"])
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    rr = runtime.kill(c.id, "TERM")
    doc, st = state_of(runtime, c.id, "runtime.kill.not-running-errors")
    assert not rr.ok and doc.get("status") == "stopped", violation(
        "runtime.kill.not-running-errors",
        wanted="kill of a stopped container fails and it stays stopped",
        seen=f"exit status {rr.exit_status}, status {doc.get('status')!r}",
        evidence=[rr, st],
    )


@pytest.mark.requirement("runtime.kill.missing-id-errors")
def test_kill_without_an_id_fails(runtime):
    rr = runtime.raw("kill")
    assert not rr.ok, violation(
        "runtime.kill.missing-id-errors",
        wanted="a non-zero exit status",
        seen="exit status 0",
        evidence=[rr],
    )
