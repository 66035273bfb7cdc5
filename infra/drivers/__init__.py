"""The drivers: the only code that talks to a subject (runtime CLI, CRI gRPC, registry
HTTP, the host inspector). `call_timeout` is their shared default deadline."""

from __future__ import annotations

import os

#: environment variable: seconds one runtime call, CRI RPC or registry request may take
#: when its caller names no deadline of its own (default 30)
CALL_TIMEOUT_ENV = "OCITEST_CALL_TIMEOUT"


class CallTimeoutError(ValueError):
    """$OCITEST_CALL_TIMEOUT is not a number of seconds above 0 (a usage error)."""


def call_timeout(default: float = 30.0, environ: dict[str, str] | None = None) -> float:
    """The default deadline of one call, seconds: $OCITEST_CALL_TIMEOUT when set (a
    finite number above 0; the self-tests of faulty subjects make it small), else
    `default`. Raises CallTimeoutError (one line) for another value."""
    raw = (os.environ if environ is None else environ).get(CALL_TIMEOUT_ENV, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not (0 < value < 1e6):
        raise CallTimeoutError(f"{CALL_TIMEOUT_ENV}={raw!r}: expected seconds, above 0")
    return value
