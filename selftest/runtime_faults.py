#!/usr/bin/python3 -I
"""Faulty runtimes for ocitest's self-tests (tests/test_faults_runtime.py): each wraps
real runc and, in exactly one test of the suite, breaks the call itself rather than a
behaviour of the spec: it hangs, crashes half-way or prints garbage. The harness must
turn that into one failed test with a clear reason, go on with the rest of the run,
write the report and leak nothing.

A fault is picked by the name its entry point is invoked as, fault-NAME (a symlink to
this file that `write` makes). It fires only while pytest runs the call phase of the
test it `hits` (the harness's local target passes the environment, and with it
PYTEST_CURRENT_TEST, to every runtime call), so which test fails is known in advance;
every other call goes to runc unchanged. Standard library only (runs as python3 -I).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# run as a script (python3 -I): make the checkout importable for runtime_base
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))

from selftest.runtime_base import Wrapper

#: seconds a hanging fault sleeps (far beyond any deadline the self-tests give)
HANG = 3600


class Hangs(Wrapper):
    """Does the real call, then hangs (the container is left as the call made it)."""

    def fire(self) -> int:
        res = self.real(self.command, *self.args)
        sys.stdout.write(res.stdout)
        sys.stderr.write(res.stderr)
        sys.stdout.flush()
        time.sleep(HANG)
        return res.returncode


class HangsCreate(Hangs):
    """Does the real create, then hangs."""

    def fire(self) -> int:
        # create hands the container our stdio: run it with that stdio, then hang
        rc = subprocess.call([self.base, *self.argv], timeout=60)
        time.sleep(HANG)
        return rc


class Crashes(Wrapper):
    """Does half the work (the real create), then dies of SIGSEGV before answering."""

    def fire(self) -> int:
        subprocess.call([self.base, *self.argv], timeout=60)
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
        return 139  # not reached


class GarbageState(Wrapper):
    """`state` of an existing container prints a line that is not JSON (exit status 0)."""

    def fire(self) -> int:
        res = self.real(self.command, *self.args)
        if res.returncode != 0:
            sys.stderr.write(res.stderr)
            return res.returncode
        print("state: ok <container status=running/>")
        return 0


@dataclass(frozen=True)
class Fault:
    """One faulty runtime.

    Attributes:
        name: the entry point is fault-NAME, the subject fault-NAME.
        verb: the runtime command it breaks.
        hits: the one test it breaks ("test_file.py::test_name"), in its call phase.
        expect: words the failure message of `hits` must contain (the harness's reason).
        behaviour: the runtime_base.Wrapper subclass whose `fire()` replaces the call.
    """

    name: str
    verb: str
    hits: str
    expect: tuple[str, ...]
    behaviour: type


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault(
            "hangs-on-create",
            "create",
            "test_state.py::test_state_reports_the_id_and_an_oci_version",
            ("create", "timed out after"),
            HangsCreate,
        ),
        Fault(
            "hangs-on-start",
            "start",
            "test_start.py::test_start_runs_the_program_as_process_says",
            ("start", "timed out after"),
            Hangs,
        ),
        Fault(
            "hangs-on-kill",
            "kill",
            "test_kill.py::test_kill_delivers_the_named_signal",
            ("kill", "timed out after"),
            Hangs,
        ),
        Fault(
            "crashes-in-create",
            "create",
            "test_state.py::test_state_reports_the_id_and_an_oci_version",
            ("create", "crashed: killed by SIGSEGV"),
            Crashes,
        ),
        Fault(
            "garbage-state",
            "state",
            "test_state.py::test_state_validates_against_the_state_schema",
            ("state", "not JSON"),
            GarbageState,
        ),
    )
}


def fires(fault: Fault, command: str, current: str) -> bool:
    """Whether `fault` breaks this call: `command` is its verb and pytest is in the call
    phase of its test (`current`: $PYTEST_CURRENT_TEST, "PATH::NAME[PARAMS] (call)")."""
    if command != fault.verb or not current.endswith(" (call)"):
        return False
    test = current.rsplit(" ", 1)[0].rsplit("/", 1)[-1]
    return test.split("[", 1)[0] == fault.hits


def write(directory: str | Path) -> dict[str, str]:
    """Create `directory` and the entry points fault-NAME (symlinks to this file;
    idempotent, safe in parallel); name -> executable path. Raises OSError."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    script = Path(__file__).resolve()
    paths = {}
    for name in FAULTS:
        link = out / f"fault-{name}"
        if not (link.is_symlink() and os.readlink(link) == str(script)):
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(script)
            tmp.replace(link)
        paths[name] = str(link)
    return paths


def main() -> int:
    name = os.path.basename(sys.argv[0]).removeprefix("fault-")
    base = shutil.which("runc")
    if name not in FAULTS or not base:
        sys.stderr.write(f"runtime_faults: unknown fault {name!r} or no runc\n")
        return 2
    fault = FAULTS[name]
    w = fault.behaviour(base, sys.argv[1:])
    if fires(fault, w.command, os.environ.get("PYTEST_CURRENT_TEST", "")):
        return w.fire()
    return w.passthrough()


if __name__ == "__main__":
    sys.exit(main())
