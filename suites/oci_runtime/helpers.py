"""What the lifecycle tests share: the programs they run and reading the state."""

from __future__ import annotations

from infra.drivers.runtime import RuntimeDriver, RuntimeResult
from suites.messages import violation

#: prints a marker, then waits without end (pid 1 of the container)
LONG_RUNNING = ["sh", "-c", "echo ocitest-started; exec sleep 100000"]
#: prints a marker, then waits until the test creates /tmp/exit in the rootfs
UNTIL_EXIT_FILE = [
    "sh",
    "-c",
    "echo ocitest-started; while [ ! -e /tmp/exit ]; do usleep 20000; done",
]
#: prints a marker and exits
QUICK = ["sh", "-c", "echo ocitest-started"]


def state_of(runtime: RuntimeDriver, container_id: str, rid: str) -> tuple[dict, RuntimeResult]:
    """The state document of `container_id`, or an AssertionError citing `rid`."""
    rr = runtime.state(container_id)
    assert rr.ok, violation(
        rid,
        wanted=f"state of {container_id} (exit status 0)",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    try:
        doc = rr.json()
    except ValueError as exc:
        raise AssertionError(
            violation(
                rid, wanted="the state as a JSON object", seen=f"not JSON: {exc}", evidence=[rr]
            )
        ) from None
    assert isinstance(doc, dict), violation(
        rid, wanted="the state as a JSON object", seen=f"JSON {type(doc).__name__}", evidence=[rr]
    )
    return doc, rr


def assert_created(container, rid: str, why: str = "") -> None:
    """AssertionError citing `rid` unless create of `container` succeeded."""
    rr = container.create_result
    assert rr.ok, violation(
        rid,
        wanted="create succeeds" + (f" ({why})" if why else ""),
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
