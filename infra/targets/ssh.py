"""Any Linux host reached with OpenSSH: `--target ssh://USER@HOST[:PORT]`.

Every command goes through one shared connection (OpenSSH ControlMaster: the first
process of a run opens it, the xdist workers reuse it through its socket under
`CONTROL_BASE/ssh/`; it ends itself after `PERSIST` idle seconds and the controller
closes it at the end of the run). The remote command is wrapped in coreutils
`timeout -k` like on the local target, and the local `ssh` process has its own deadline
on top (`timeout` + `SSH_SLACK` s). An ssh exit status of 255 (connection lost or never
made) is retried once; a host that does not answer when the target is opened is a
`TargetError` ("... does not answer"), which the plugin makes a usage error (exit 4).

The key is `key` (from `--ssh-key` or OCITEST_SSH_KEY); without one, ssh uses the
agent (SSH_AUTH_SOCK) and the user's own configuration. Host keys are not checked
(`StrictHostKeyChecking=no` with a throw-away known-hosts file): the targets are test
machines the user names, often VMs with fresh keys.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import select
import shlex
import subprocess
import time

from infra.targets.base import KILL_AFTER, CommandResult, Target, TargetError

#: local bookkeeping of remote targets (ssh control sockets, each run's lock and kind files)
CONTROL_BASE = "/tmp/ocitest-control"
#: seconds the shared connection stays open when idle
PERSIST = 120
#: seconds the local ssh process may take beyond the remote deadline (connect, teardown)
SSH_SLACK = 30
#: seconds allowed to open the connection
CONNECT_TIMEOUT = 10
#: ssh's own exit status for a connection error
SSH_ERROR = 255

_SPEC = re.compile(
    r"^ssh://(?:(?P<user>[A-Za-z0-9._-]+)@)?(?P<host>[A-Za-z0-9._-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>[0-9]{1,5}))?/?$"
)


def parse_spec(spec: str) -> tuple[str, str, int]:
    """`ssh://user@host[:port]` -> (user, host, port); user defaults to root, port to 22.

    Raises:
        TargetError: the spec is malformed."""
    m = _SPEC.match(spec)
    if not m:
        raise TargetError(f"--target {spec!r}: wanted ssh://USER@HOST[:PORT]")
    port = int(m.group("port") or 22)
    if not 0 < port < 65536:
        raise TargetError(f"--target {spec!r}: port {port} is not in 1..65535")
    return m.group("user") or "root", m.group("host").strip("[]"), port


class SshTarget(Target):
    """A host reached over ssh. `key`: a private key file, or "" for the agent."""

    kind = "ssh"
    remote = True

    def __init__(self, spec: str, key: str = "", *, check: bool = True) -> None:
        super().__init__(spec)
        self.user, self.hostname, self.port = parse_spec(spec)
        self.key = key or os.environ.get("OCITEST_SSH_KEY", "")
        if self.key and not os.path.isfile(self.key):
            raise TargetError(f"--ssh-key {self.key}: no such file")
        digest = hashlib.sha256(f"{self.user}@{self.hostname}:{self.port}".encode()).hexdigest()
        self.control_dir = os.path.join(CONTROL_BASE, "ssh")
        self.control_path = os.path.join(self.control_dir, digest[:16])
        self._keeper: subprocess.Popen | None = None
        self._keeper_pid = 0
        if check:
            self.check()

    @property
    def host(self):
        raise TargetError("the ssh target runs commands with Target.run (no testinfra host)")

    def ssh_argv(self) -> list[str]:
        """The ssh command line up to the destination (options, key, control socket)."""
        os.makedirs(self.control_dir, mode=0o700, exist_ok=True)
        argv = [
            "ssh",
            "-p", str(self.port),
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
            "-o", "ServerAliveInterval=10",
            "-o", "ServerAliveCountMax=3",
            "-o", "ControlMaster=auto",
            "-o", f"ControlPath={self.control_path}",
            "-o", f"ControlPersist={PERSIST}",
        ]  # fmt: skip
        if self.key:
            argv += ["-i", self.key, "-o", "IdentitiesOnly=yes"]
        return [*argv, f"{self.user}@{self.hostname}"]

    def _ssh(self, line: str, timeout: float, stdin=subprocess.DEVNULL) -> tuple[int, bytes, bytes]:
        argv = [*self.ssh_argv(), "--", line]
        try:
            p = subprocess.run(
                argv, stdin=stdin, capture_output=True, timeout=timeout + SSH_SLACK, check=False
            )
        except subprocess.TimeoutExpired as exc:
            return 124, exc.stdout or b"", (exc.stderr or b"") + b"\nssh: local deadline passed"
        return p.returncode, p.stdout, p.stderr

    def run(self, argv: list[str], timeout: float, *, shell_suffix: str = "") -> CommandResult:
        """Run `argv` on the host (see `Target.run`); retried once on ssh exit 255."""
        wrapped = ["timeout", "-k", str(KILL_AFTER), f"{timeout:g}", *argv]
        line = shlex.join(wrapped) + (" " + shell_suffix if shell_suffix else "")
        start = time.monotonic()
        rc, out, err = self._ssh(line, timeout)
        if rc == SSH_ERROR:
            rc, out, err = self._ssh(line, timeout)
        return CommandResult(
            argv=list(argv),
            exit_status=rc,
            stdout=out.decode("utf-8", errors="replace"),
            stderr=err.decode("utf-8", errors="replace"),
            duration=time.monotonic() - start,
            timeout=timeout,
        )

    def check(self) -> None:
        """Raises TargetError when the host does not answer (one line)."""
        rc, _, err = self._ssh("true", CONNECT_TIMEOUT)
        if rc != 0:
            why = err.decode(errors="replace").strip().splitlines()
            raise TargetError(
                f"--target {self.spec}: {self.hostname} port {self.port} does not answer "
                f"({why[-1] if why else f'ssh exit status {rc}'})"
            )

    def owner_pid(self) -> int:
        """The pid of a `cat` on the host that reads from a connection of its own held by
        this process: when we end (even killed), the connection closes and the `cat`
        exits, so the run's owner pid is gone there too (see `Target.owner_pid`)."""
        if self._keeper is None:
            argv = self.ssh_argv()
            argv[-1:-1] = ["-o", "ControlMaster=no", "-o", "ControlPath=none", "-T"]
            self._keeper = subprocess.Popen(
                [*argv, "--", "echo $$; exec cat >/dev/null"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            ready, _, _ = select.select([self._keeper.stdout], [], [], CONNECT_TIMEOUT + 10)
            line = self._keeper.stdout.readline().strip() if ready else b""
            if not line.isdigit():
                self._stop_keeper()
                raise TargetError(f"--target {self.spec}: cannot start the run's owner process")
            self._keeper_pid = int(line)
        return self._keeper_pid

    def _stop_keeper(self) -> None:
        if self._keeper is not None:
            self._keeper.stdin.close()
            try:
                self._keeper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._keeper.kill()
                self._keeper.wait(timeout=10)
            self._keeper.stdout.close()
            self._keeper = None

    def close(self) -> None:
        """Close the shared connection and the owner connection (the controller, at the
        end of the run)."""
        self._stop_keeper()
        if os.path.exists(self.control_path):
            subprocess.run(
                [*self.ssh_argv()[:-1], "-O", "exit", f"{self.user}@{self.hostname}"],
                capture_output=True,
                timeout=15,
                check=False,
            )

    # files: through commands (contents travel base64-encoded in the command line)
    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        data = base64.b64encode(text.encode()).decode()
        res = self.run(
            ["sh", "-c", 'printf %s "$1" | base64 -d > "$2" && chmod "$3" "$2"',
             "write", data, path, f"{mode:o}"],
            timeout=30,
        )  # fmt: skip
        if res.exit_status != 0:
            raise OSError(f"cannot write {path} on {self.spec}: {res.stderr.strip()}")

    def read_text(self, path: str) -> str:
        res = self.run(["cat", "--", path], timeout=30)
        if res.exit_status != 0:
            raise FileNotFoundError(
                f"{path} on {self.spec}: exit status {res.exit_status}: {res.stderr.strip()}"
            )
        return res.stdout

    def make_dirs(self, path: str, mode: int = 0o755) -> None:
        res = self.run(["mkdir", "-p", "-m", f"{mode:o}", "--", path], timeout=30)
        if res.exit_status != 0:
            raise OSError(f"cannot create {path} on {self.spec}: {res.stderr.strip()}")

    def put_stream(self, line: str, source, timeout: float) -> CommandResult:
        """Run the shell `line` on the host with `source` (a readable file) as its stdin
        (e.g. `tar -x` of a stream made here). Not retried: the stream is consumed."""
        start = time.monotonic()
        wrapped = f"timeout -k {KILL_AFTER} {timeout:g} sh -c {shlex.quote(line)}"
        rc, out, err = self._ssh(wrapped, timeout, stdin=source)
        return CommandResult(
            argv=["sh", "-c", line],
            exit_status=rc,
            stdout=out.decode("utf-8", errors="replace"),
            stderr=err.decode("utf-8", errors="replace"),
            duration=time.monotonic() - start,
            timeout=timeout,
        )
