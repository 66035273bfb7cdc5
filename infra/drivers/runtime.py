"""Driver for any binary that follows the OCI runtime command line.

Operations follow runtime-spec runtime.md "Operations" (state, create, start, kill,
delete) plus the common extensions run, list and features, in the command-line form of
runtime-tools' command-line-interface.md (`create --bundle PATH ID`). Every call:
- passes the subject's own global arguments and `--root STATE_ROOT` (our own state
  root under /run/ocitest/RUN_ID/, so the sweeper knows what is ours);
- runs with a deadline through the target (timeout -k);
- is recorded as Evidence in the test's log.
`create` hands the container its stdio as files (stdin /dev/null), since a detached
container keeps the caller's pipes open for its whole life.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from infra.drivers import call_timeout
from infra.evidence import Evidence, EvidenceLog
from infra.subjects import Subject
from infra.targets import CommandResult, Target

#: signals that mean the program itself broke (a runtime passes on others, e.g. the
#: SIGKILL that ended the container process of `run`)
CRASH_SIGNALS = {"SIGSEGV", "SIGBUS", "SIGILL", "SIGFPE", "SIGABRT", "SIGTRAP", "SIGSYS"}
#: default deadline of one runtime call, seconds ($OCITEST_CALL_TIMEOUT, infra/drivers)
CALL_TIMEOUT = 30.0


@dataclass
class RuntimeResult:
    """One runtime call: the command result and its evidence record."""

    result: CommandResult
    evidence: Evidence

    @property
    def ok(self) -> bool:
        return self.result.exit_status == 0

    @property
    def exit_status(self) -> int:
        return self.result.exit_status

    @property
    def stdout(self) -> str:
        return self.result.stdout

    @property
    def stderr(self) -> str:
        return self.result.stderr

    def json(self) -> object:
        """stdout parsed as JSON. Raises ValueError when it is not JSON."""
        return json.loads(self.result.stdout)


class RuntimeDriver:
    """Runs one runtime subject's operations on one target.

    Args:
        subject: a resolved runtime subject.
        target: where the binary runs.
        state_root: directory passed as `--root` (created on first use).
        log: where each call's evidence goes.
        timeout: deadline per call, seconds (default: $OCITEST_CALL_TIMEOUT, else
            CALL_TIMEOUT times the target's `call_slowdown`).
    """

    def __init__(
        self,
        subject: Subject,
        target: Target,
        state_root: str,
        log: EvidenceLog,
        timeout: float | None = None,
    ) -> None:
        self.subject = subject
        self.target = target
        self.state_root = state_root
        self.log = log
        self.timeout = timeout or call_timeout(CALL_TIMEOUT * target.call_slowdown)

    def argv(self, *args: str) -> list[str]:
        """The full command line for runtime arguments `args`."""
        return [self.subject.path, *self.subject.args, "--root", self.state_root, *args]

    def call(
        self, *args: str, timeout: float | None = None, suffix: str = "", note: str = ""
    ) -> RuntimeResult:
        """Run the runtime with `args` (after the global options); record evidence."""
        res = self.target.run(
            self.argv(*args), timeout=timeout or self.timeout, shell_suffix=suffix
        )
        if res.timed_out:
            note = (note + "; " if note else "") + f"timed out after {res.timeout:g} s"
        elif res.crash_signal:  # a fault's signal is a crash; another may be passed on
            how = "crashed: killed" if res.crash_signal in CRASH_SIGNALS else "killed"
            note = (note + "; " if note else "") + f"{how} by {res.crash_signal}"
        ev = self.log.add(
            Evidence(
                command=res.command,
                exit_status=res.exit_status,
                stdout=res.stdout,
                stderr=res.stderr,
                duration=round(res.duration, 4),
                note=note,
            )
        )
        return RuntimeResult(res, ev)

    # runtime.md operations -----------------------------------------------------------
    def state(self, container_id: str) -> RuntimeResult:
        """`state ID` (runtime.md#query-state): stdout is the state JSON."""
        return self.call("state", container_id)

    def create(
        self, container_id: str, bundle: str, stdio_dir: str, stdin: str = "/dev/null"
    ) -> RuntimeResult:
        """`create --bundle BUNDLE ID` (runtime.md#create).

        The container's stdout and stderr go to `stdio_dir`/stdout and /stderr (which
        also receive the runtime's own messages while create runs); stdin is `stdin` (a
        path on the target; by default a null device of the container's own,
        `stdio_dir`/null, where one can be made, else /dev/null: crun 1.8.1 chowns the
        stdio it is handed to the container's user, which must not reach the host's
        node). The evidence holds what those files held when create returned.
        """
        out, err = f"{stdio_dir}/stdout", f"{stdio_dir}/stderr"
        self.target.make_dirs(stdio_dir)
        if stdin == "/dev/null" and self.target.make_null(f"{stdio_dir}/null"):
            stdin = f"{stdio_dir}/null"  # the host's own node is never handed over
        rr = self.call(
            "create",
            "--bundle",
            bundle,
            container_id,
            suffix=f"<{shlex.quote(stdin)} >{shlex.quote(out)} 2>{shlex.quote(err)}",
        )
        rr.result.stdout = self.target.read_text(out)
        rr.result.stderr = self.target.read_text(err)
        rr.evidence.stdout, rr.evidence.stderr = rr.result.stdout, rr.result.stderr
        return rr

    def start(self, container_id: str) -> RuntimeResult:
        """`start ID` (runtime.md#start)."""
        return self.call("start", container_id)

    def kill(self, container_id: str, signal: str = "TERM") -> RuntimeResult:
        """`kill ID SIGNAL` (runtime.md#kill); `signal` is a name (TERM) or number."""
        return self.call("kill", container_id, signal)

    def delete(self, container_id: str, *, force: bool = False) -> RuntimeResult:
        """`delete ID` (runtime.md#delete); `force` adds the common `--force` extension."""
        return self.call("delete", *(["--force"] if force else []), container_id)

    # common extensions ---------------------------------------------------------------
    def list_ids(self) -> RuntimeResult:
        """`list --quiet`: one container id per line."""
        return self.call("list", "--quiet")

    def features(self) -> RuntimeResult:
        """`features` (features.md): stdout is the features JSON, where supported."""
        return self.call("features")

    def version(self) -> RuntimeResult:
        return self.call("--version")

    def raw(self, *args: str) -> RuntimeResult:
        """Any command line, for the tests of malformed invocations."""
        return self.call(*args)
