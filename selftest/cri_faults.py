"""Faulty CRI endpoints for ocitest's self-tests (tests/test_faults_cri.py): the proxy of
cri_proxy.py in front of the embedded containerd, reached as `--cri-endpoint fault:NAME`
(selftest/plugin.py), breaks the connection itself rather than a behaviour of the CRI:

- `dies-after-rpcs`: the proxy process exits after answering AFTER unary RPCs, as an
  endpoint that crashes mid-run; every later call finds nobody at the socket.
- `stalls-exec-sync`: one ExecSync (the one whose command names STALL_MARKER) is never
  answered: the proxy holds it until the caller's deadline passes.

The harness must end the affected tests as failed with the RPC and the reason, go on,
write the report and leave nothing behind. Never imported by the product.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

#: unary RPCs the dying proxy answers before it exits (enough for the run's start and
#: a few tests)
AFTER = 30
#: bytes in an ExecSync request that the stalling proxy never answers (the command of
#: test_exec.py::test_exec_sync_returns_stdout_and_stderr_apart)
STALL_MARKER = b"ocitest-out"
#: longest a stalled call is held, seconds (when the caller gave no deadline)
STALL_MAX = 600.0


@dataclass
class CriFault:
    """One faulty endpoint: `before(rpc, raw, context)` runs before every unary call is
    forwarded (it may never return, or end the process)."""

    name: str
    breaks: str

    def before(self, rpc: str, raw: bytes, context) -> None:
        return None


class Dies(CriFault):
    def __init__(self, name: str, breaks: str, after: int = AFTER) -> None:
        super().__init__(name, breaks)
        self.after, self.count, self.lock = after, 0, threading.Lock()

    def before(self, rpc: str, raw: bytes, context) -> None:
        with self.lock:
            self.count += 1
            if self.count > self.after:
                os._exit(3)  # as a crash: no goodbye to the callers in flight


class Stalls(CriFault):
    def before(self, rpc: str, raw: bytes, context) -> None:
        if rpc == "ExecSync" and STALL_MARKER in raw:
            left = context.time_remaining()
            time.sleep(STALL_MAX if left is None or left > STALL_MAX else max(left, 0) + 1)


FAULTS: dict[str, CriFault] = {
    f.name: f
    for f in (
        Dies("dies-after-rpcs", f"the endpoint exits after {AFTER} RPCs"),
        Stalls("stalls-exec-sync", "one ExecSync is never answered"),
    )
}
