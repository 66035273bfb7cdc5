"""Embedded services the harness starts once per run: a registry, a containerd.

Each service is started on the controller (or the only process), waits until ready,
and is stopped at the end of the run leaving nothing behind. Everything a service
writes lives under the run's directories (/run/ocitest/RUN_ID, /var/lib/ocitest/runs/
RUN_ID) and every process it starts names the run id on its command line, so the
sweeper can remove what a killed run left.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from infra import wait

#: seconds a service may take to become ready
READY_TIMEOUT = 60.0


class ServiceError(Exception):
    """A service could not be started or did not become ready (message: one line)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, predicate: Callable[[], bool], timeout: float = READY_TIMEOUT) -> None:
    """Poll `predicate()` every 50 ms until true (infra/wait.py; an exception it raises
    counts as not ready). Raises ServiceError after `timeout` s."""
    try:
        wait.wait_until(what, predicate, timeout, ignore_errors=True)
    except wait.WaitTimeout:
        raise ServiceError(f"{what}: not ready within {timeout:g} s") from None


_SPAWN = r"""
pidfile=$1; log=$2; shift 2
rm -f "$pidfile"
setsid sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >"$log" 2>&1 </dev/null &
i=0
while [ ! -s "$pidfile" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat "$pidfile"
"""


def spawn(target, argv: list[str], pidfile: str, log: str) -> int:
    """Start `argv` on `target` as a daemon in a session of its own (stdio to `log`).

    Returns its pid. Raises ServiceError when it could not be started."""
    res = target.run(["sh", "-c", _SPAWN, "spawn", pidfile, log, *argv], timeout=30)
    pid = res.stdout.strip()
    if res.exit_status != 0 or not pid.isdigit():
        raise ServiceError(f"cannot start {argv[0]}: {res.stderr.strip() or 'no pid'}")
    return int(pid)


_STOP = r"""
pid=$1; grace=$2
alive() { [ -e "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]; }
kill -TERM "$pid" 2>/dev/null || exit 0
i=0
while alive && [ $i -lt $((grace * 20)) ]; do sleep 0.05; i=$((i + 1)); done
if alive; then kill -KILL "$pid"; echo killed; fi
true
"""


def stop_pid(target, pid: int, grace: int = 10) -> bool:
    """SIGTERM `pid`, then SIGKILL after `grace` s. True when it ended on SIGTERM."""
    res = target.run(["sh", "-c", _STOP, "stop", str(pid), str(grace)], timeout=grace + 15)
    return "killed" not in res.stdout
