"""The target contract: run a command with a deadline, read and write files.

Every command on a target goes through `Target.run`, which wraps it in coreutils
`timeout -k` so that no call can hang the run (testinfra's local backend waits with no
deadline, and a detached `create` would otherwise hold the caller's pipes forever).
"""

from __future__ import annotations

import os
import shlex
import signal
import time
from dataclasses import dataclass

#: exit status of coreutils `timeout` when the deadline passed
TIMEOUT_STATUS = 124
#: seconds between SIGTERM and SIGKILL when a deadline passes
KILL_AFTER = 5


class TargetError(Exception):
    """A target cannot be opened or used (a usage error at start)."""


@dataclass
class CommandResult:
    """One command run on a target.

    Attributes:
        argv: the command as given (without the timeout wrapper).
        exit_status: the command's exit status; 124 when `timed_out`.
        stdout, stderr: decoded output (UTF-8, undecodable bytes replaced).
        duration: wall-clock seconds.
        timeout: the deadline in seconds.
    """

    argv: list[str]
    exit_status: int
    stdout: str
    stderr: str
    duration: float
    timeout: float

    @property
    def timed_out(self) -> bool:
        """The deadline passed: `timeout` said so (124), or the command ignored its
        SIGTERM and was killed KILL_AFTER seconds later (128 + SIGKILL)."""
        return self.exit_status == TIMEOUT_STATUS or (
            self.exit_status == 128 + signal.SIGKILL and self.duration >= self.timeout
        )

    @property
    def crash_signal(self) -> str:
        """The signal that killed the command ("SIGSEGV"), as the shell reports it
        (exit status 128 + N), when that was not our deadline; else ""."""
        n = self.exit_status - 128
        if self.timed_out or not 0 < n < 65:
            return ""
        try:
            return signal.Signals(n).name
        except ValueError:
            return f"signal {n}"

    @property
    def command(self) -> str:
        return shlex.join(self.argv)


class Target:
    """A place where subjects run. Subclasses provide `host` (a testinfra Host)."""

    kind = "abstract"
    #: commands and files live on another machine (ssh, VMs): the harness keeps its own
    #: bookkeeping locally (infra/run.py, `RunContext.control_base`) and ships files
    remote = False
    #: factor on the default deadline of a call run here (drivers' `call_timeout`): a VM
    #: under emulation (TCG) runs a runtime call several times slower than the host
    call_slowdown = 1.0

    def __init__(self, spec: str) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec

    @property
    def host(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self, argv: list[str], timeout: float, *, shell_suffix: str = "") -> CommandResult:
        """Run `argv` on the target with a deadline of `timeout` seconds.

        `shell_suffix` is appended verbatim to the shell command line (used for
        redirections such as `</dev/null >out 2>err`).
        """
        wrapped = ["timeout", "-k", str(KILL_AFTER), f"{timeout:g}", *argv]
        line = shlex.join(wrapped) + (" " + shell_suffix if shell_suffix else "")
        start = time.monotonic()
        res = self.host.run(line)
        return CommandResult(
            argv=list(argv),
            exit_status=res.rc,
            stdout=res.stdout_bytes.decode("utf-8", errors="replace"),
            stderr=res.stderr_bytes.decode("utf-8", errors="replace"),
            duration=time.monotonic() - start,
            timeout=timeout,
        )

    def owner_pid(self) -> int:
        """A pid on the target that lives exactly as long as this harness process: what
        a run records as its owner, so that the sweeper of a later run (on any harness)
        knows it is stale once the pid is gone. Locally: our own pid."""
        return os.getpid()

    def close(self) -> None:
        """Release what opening the target made (connections, VMs); the controller
        calls it once at the end of the run. Nothing for the local target."""

    def logs(self) -> dict[str, str]:
        """Files of this harness's machine that tell what happened to the target (a VM's
        console): report file name -> local path; the report copies them. None here."""
        return {}

    def facts(self) -> dict[str, str]:
        """Host facts for the report's environment section: hostname, kernel, arch,
        distro, cgroup mode (`unified`, `hybrid` or `legacy`) and the name of PID 1."""
        script = (
            "uname -n; uname -r; uname -m; . /etc/os-release 2>/dev/null; "
            'echo "${PRETTY_NAME:-?}"; '
            "if [ -e /sys/fs/cgroup/cgroup.controllers ]; then echo unified; "
            "elif [ -d /sys/fs/cgroup/unified ]; then echo hybrid; else echo legacy; fi; "
            "cat /proc/1/comm 2>/dev/null || echo ?"
        )
        res = self.run(["sh", "-c", script], timeout=10)
        keys = ["hostname", "kernel", "arch", "distro", "cgroup", "init"]
        return dict(zip(keys, res.stdout.splitlines(), strict=False))

    # File access on the target. The local target uses Python's own file calls; a remote
    # kind overrides these with commands through its host.
    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        raise NotImplementedError

    def read_text(self, path: str) -> str:
        raise NotImplementedError

    def exists(self, path: str) -> bool:
        return self.run(["test", "-e", path], timeout=10).exit_status == 0

    def make_dirs(self, path: str, mode: int = 0o755) -> None:
        raise NotImplementedError

    def make_null(self, path: str) -> bool:
        """A null device node (char 1:3, mode 666) at `path`, for a container's stdin in
        place of the host's /dev/null (crun 1.8.1 chowns the stdio it is handed to the
        container's user); False where none can be made (no CAP_MKNOD: rootless)."""
        res = self.run(["mknod", "-m", "666", path, "c", "1", "3"], timeout=10)
        return res.exit_status == 0

    def copy_tree(self, src: str, dst: str) -> None:
        """Copy a directory tree, keeping symlinks, modes and owners (`cp -a`)."""
        res = self.run(["cp", "-a", src, dst], timeout=120)
        if res.exit_status != 0:
            raise TargetError(f"cp -a {src} {dst} failed ({res.exit_status}): {res.stderr.strip()}")

    def remove_tree(self, path: str) -> None:
        """Remove a tree; stays on this file system (`rm -rf --one-file-system`)."""
        res = self.run(["rm", "-rf", "--one-file-system", path], timeout=120)
        if res.exit_status != 0:
            raise TargetError(f"rm -rf {path} failed ({res.exit_status}): {res.stderr.strip()}")
