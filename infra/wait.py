"""Waiting on a condition with a deadline: the harness's one polling loop.

Nothing in ocitest sleeps for a fixed time to let something happen; it polls a
condition (a state, a file, a socket) until it holds or a deadline passes, and says
which deadline passed. Three forms:

- `poll(condition, deadline)`: how the wait ended (`Waited`), never raises for the
  deadline;
- `wait_until(what, condition, deadline)`: returns the seconds waited, raises
  `WaitTimeout` naming `what` and the deadline;
- `wait_recorded(what, condition, deadline, driver)`: for a test's evidence; the polls'
  own calls through `driver` are left out of its log (only the last is kept) and the
  wait itself becomes one evidence line; returns whether the condition held.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from infra.evidence import Evidence, EvidenceLog

#: seconds between two calls of the condition, unless the caller gives its own
POLL_INTERVAL = 0.05


class WaitTimeout(Exception):
    """`what` did not hold within `deadline` seconds (the message names both)."""

    def __init__(self, what: str, deadline: float, waited: float) -> None:
        super().__init__(f"{what}: not within the deadline of {deadline:g} s")
        self.what = what
        self.deadline = deadline
        self.waited = waited


@dataclass
class Waited:
    """How a poll ended: `ok` when the condition held, after `seconds` (wall clock)."""

    ok: bool
    seconds: float


def poll(
    condition: Callable[[], object],
    deadline: float,
    *,
    interval: float = POLL_INTERVAL,
    ignore_errors: bool = False,
) -> Waited:
    """Call `condition()` until it returns a true value or `deadline` seconds have
    passed since the first call; `interval` seconds between calls. The condition is
    called at least once, and once more after the last sleep. With `ignore_errors`, an
    exception from the condition counts as false; without, it propagates."""
    start = time.monotonic()
    while True:
        try:
            if condition():
                return Waited(True, time.monotonic() - start)
        except Exception:
            if not ignore_errors:
                raise
        if time.monotonic() - start > deadline:
            return Waited(False, time.monotonic() - start)
        time.sleep(interval)


def wait_until(
    what: str,
    condition: Callable[[], object],
    deadline: float,
    *,
    interval: float = POLL_INTERVAL,
    ignore_errors: bool = False,
) -> float:
    """Poll `condition` as `poll` does; returns the seconds waited. Raises WaitTimeout
    (naming `what`, e.g. "containerd answers Status", and `deadline`) when it passes."""
    waited = poll(condition, deadline, interval=interval, ignore_errors=ignore_errors)
    if not waited.ok:
        raise WaitTimeout(what, deadline, waited.seconds)
    return waited.seconds


class Logged(Protocol):
    """A driver or client that records its calls in `log` (RuntimeDriver, CriClient)."""

    log: EvidenceLog


def wait_recorded(
    what: str,
    condition: Callable[[], object],
    deadline: float,
    driver: Logged,
    *,
    interval: float = POLL_INTERVAL,
) -> bool:
    """Poll `condition` (which may call `driver`) until it holds or `deadline` seconds
    pass; True when it held. The polls' calls are kept out of `driver.log` except the
    last one; then one evidence line "(wait) WHAT" records how long it took, or that
    the deadline passed. Exceptions from the condition propagate."""
    quiet = EvidenceLog()
    loud, driver.log = driver.log, quiet
    try:
        waited = poll(condition, deadline, interval=interval)
    finally:
        driver.log = loud
    if quiet.records:
        loud.add(quiet.records[-1])
    loud.add(
        Evidence(
            command=f"(wait) {what}",
            exit_status=0 if waited.ok else 1,
            duration=round(waited.seconds, 3),
            note=(
                f"held after {waited.seconds:.2f} s"
                if waited.ok
                else f"deadline of {deadline:g} s passed"
            ),
        )
    )
    return waited.ok
