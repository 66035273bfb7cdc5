"""RuntimeService.ExecSync: output, exit code, timeout, and a container not running."""

from __future__ import annotations

import pytest

from suites.cri.helpers import must_succeed
from suites.messages import violation


@pytest.mark.requirement("cri.exec-sync.output")
def test_exec_sync_returns_stdout_and_stderr_apart(pods):
    cid = pods.running()
    res = must_succeed(
        pods.exec(cid, ["sh", "-c", "echo ocitest-out; echo ocitest-err >&2"]),
        "cri.exec-sync.output",
    )
    out, err = res.response.stdout, res.response.stderr
    assert out == b"ocitest-out\n" and err == b"ocitest-err\n", violation(
        "cri.exec-sync.output",
        wanted="stdout b'ocitest-out\\n' and stderr b'ocitest-err\\n'",
        seen=f"stdout {out!r}, stderr {err!r}",
        evidence=[res],
    )


@pytest.mark.requirement("cri.exec-sync.exit-code")
@pytest.mark.parametrize("code", [0, 7])
def test_exec_sync_returns_the_exit_code(pods, code):
    cid = pods.running()
    res = must_succeed(pods.exec(cid, ["sh", "-c", f"exit {code}"]), "cri.exec-sync.exit-code")
    assert res.response.exit_code == code, violation(
        "cri.exec-sync.exit-code",
        wanted=f"exit_code {code}",
        seen=f"exit_code {res.response.exit_code}",
        evidence=[res],
    )


@pytest.mark.requirement("cri.exec-sync.timeout")
@pytest.mark.variant("process")
def test_exec_sync_gives_up_after_its_timeout_and_stops_the_command(pods):
    rid = "cri.exec-sync.timeout"
    cid = pods.running()
    pidfile = "/tmp/ocitest-exec-timeout.pid"
    res = pods.exec(cid, ["sh", "-c", f"echo $$ > {pidfile}; exec sleep 30"], timeout=1)
    # not before the timeout (an instant error for another reason proves nothing), and
    # well before the command would have ended by itself
    assert not res.ok and 0.9 <= res.duration < 15, violation(
        rid,
        wanted="an error between 1 s (the timeout) and 15 s, the 30 s command cut short",
        seen=f"{res.code_name} after {res.duration:.1f} s",
        evidence=[res],
    )
    # read through the output, both streams, not exit codes: what is judged here is the
    # timeout, not how faithfully ExecSync reports streams and exit codes
    read = must_succeed(pods.exec(cid, ["cat", pidfile]), rid)
    pid = (read.response.stdout + read.response.stderr).decode().strip()
    check = ["sh", "-c", f'kill -0 "{pid}" 2>/dev/null && echo alive || echo gone']

    def alive() -> bool:
        out = pods.exec(cid, check).response
        return b"alive" in out.stdout + out.stderr

    stopped = pods.wait_for(
        f"the timed-out command (pid {pid}) is stopped", lambda: not alive(), 10
    )
    assert stopped, violation(
        rid,
        wanted="the command stopped once its timeout passed",
        seen=f"its process {pid} still runs in the container 10 s later",
        evidence=[res, read],
    )


@pytest.mark.requirement("cri.exec-sync.not-running-errors")
@pytest.mark.variant("failure-path")
def test_exec_sync_in_a_created_container_fails(pods):
    cid = pods.created()
    res = pods.exec(cid, ["true"])
    assert not res.ok, violation(
        "cri.exec-sync.not-running-errors",
        wanted="ExecSync fails in a container that was never started",
        seen=f"{res.code_name}, exit_code {res.response.exit_code if res.ok else '-'}",
        evidence=[res],
    )
    # positive control: once started, the same ExecSync works (the failure above was the
    # state's, not the command's or the call's)
    started = pods.cri.call("StartContainer", container_id=cid)
    control = pods.exec(cid, ["true"])
    assert started.ok and control.ok and control.response.exit_code == 0, (
        "control: ExecSync of `true` after StartContainer did not succeed\n"
        + control.evidence.brief()
    )
