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
def test_exec_sync_gives_up_after_its_timeout(pods):
    cid = pods.running()
    res = pods.exec(cid, ["sleep", "30"], timeout=1)
    assert not res.ok and res.duration < 15, violation(
        "cri.exec-sync.timeout",
        wanted="an error within a few seconds of the 1 s timeout",
        seen=f"{res.code_name} after {res.duration:.1f} s",
        evidence=[res],
    )


@pytest.mark.requirement("cri.exec-sync.not-running-errors")
def test_exec_sync_in_a_created_container_fails(pods):
    cid = pods.created()
    res = pods.exec(cid, ["true"])
    assert not res.ok, violation(
        "cri.exec-sync.not-running-errors",
        wanted="ExecSync fails in a container that was never started",
        seen=f"{res.code_name}, exit_code {res.response.exit_code if res.ok else '-'}",
        evidence=[res],
    )
