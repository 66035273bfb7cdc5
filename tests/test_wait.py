"""infra/wait.py: the one polling loop, its deadline and its evidence line."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infra.evidence import Evidence, EvidenceLog
from infra.wait import WaitTimeout, poll, wait_recorded, wait_until


def test_poll_returns_once_the_condition_holds():
    calls = iter([False, False, True])
    waited = poll(lambda: next(calls), deadline=5, interval=0.001)
    assert waited.ok and waited.seconds < 5


def test_poll_gives_up_after_the_deadline_and_calls_once_more():
    calls = []
    waited = poll(lambda: calls.append(1), deadline=0.05, interval=0.01)
    assert not waited.ok and waited.seconds >= 0.05 and len(calls) >= 2


def test_wait_until_raises_naming_what_and_the_deadline():
    with pytest.raises(WaitTimeout, match=r"the socket answers: not within the deadline of 0.05 s"):
        wait_until("the socket answers", lambda: False, 0.05, interval=0.01)


def test_condition_errors_propagate_unless_ignored():
    def boom():
        raise OSError("not yet")

    with pytest.raises(OSError):
        poll(boom, 1)
    assert not poll(boom, 0.02, interval=0.01, ignore_errors=True).ok


def test_wait_recorded_keeps_the_last_poll_and_one_wait_line():
    driver = SimpleNamespace(log=EvidenceLog())
    n = iter(range(100))

    def ready():
        i = next(n)
        driver.log.add(Evidence(command=f"state {i}", exit_status=0))
        return i == 2

    assert wait_recorded("state says running", ready, 5, driver, interval=0.001)
    assert [e.command for e in driver.log.records] == ["state 2", "(wait) state says running"]
    assert not wait_recorded("never", lambda: False, 0.02, driver, interval=0.01)
    last = driver.log.records[-1]
    assert last.exit_status == 1 and last.note == "deadline of 0.02 s passed"
