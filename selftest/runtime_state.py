"""Runtime mutants of runtime.md's state: the state JSON a runtime prints is wrong
(missing or invented fields, a wrong pid or status).

Declared as declare.py says; standard library only (runtime_mutant.py imports this
module under the system python with -I).
"""

from __future__ import annotations

import json
import subprocess
import sys

from selftest.declare import runtime_mutant
from selftest.runtime_base import TIMEOUT, StateRewriting, Wrapper, _note_created, _was_created


@runtime_mutant(
    "state-unknown-ok",
    breaks="state of an id never created invents a state",
    fails=[
        "test_state.py::test_state_of_an_unknown_container_fails",
        "test_create.py::test_create_fails_when_a_mount_source_is_missing",
    ],
    requirements=[
        "runtime.state-op.unknown-id-errors",
        "runtime.errors.no-side-effects",
    ],
)
class StateUnknownOk(Wrapper):
    """state of an id never created answers with an invented state."""

    def run(self) -> int:
        if (
            self.command == "state"
            and self.ids
            and self.state(self.ids[0]) is None
            and not _was_created(self.globals, self.ids[0])
        ):
            print(
                json.dumps(
                    {"ociVersion": "1.0.2", "id": self.ids[0], "status": "stopped", "bundle": "/"}
                )
            )
            return 0
        if self.command == "create" and self.ids:
            res = subprocess.run([self.base, *self.argv], timeout=TIMEOUT)
            if res.returncode == 0:
                _note_created(self.globals, self.ids[0])
            return res.returncode
        return self.passthrough()


@runtime_mutant(
    "state-no-bundle",
    breaks="the state JSON lacks bundle",
    fails=[
        "test_state.py::test_state_validates_against_the_state_schema",
        "test_state.py::test_state_bundle_is_the_absolute_bundle_path",
        "test_create.py::test_create_with_an_id_in_use_fails",
    ],
    requirements=[
        "runtime.state.schema",
        "runtime.state.bundle",
        "runtime.create.duplicate-id-errors",
    ],
)
class StateNoBundle(Wrapper):
    """The state JSON lacks the required bundle property."""

    def run(self) -> int:
        if self.command == "state" and self.ids:
            res = self.real("state", *self.args)
            if res.returncode == 0:
                doc = json.loads(res.stdout)
                doc.pop("bundle", None)
                print(json.dumps(doc))
            else:
                sys.stderr.write(res.stderr)
            return res.returncode
        return self.passthrough()


@runtime_mutant(
    "state-wrong-pid",
    breaks="the state's pid names no process",
    fails=[
        "test_state.py::test_state_pid_is_the_container_process",
        "test_create.py::test_create_builds_the_environment_before_start",
        "test_linux.py::test_create_makes_the_dev_symlinks",
        "test_linux.py::test_the_program_has_only_stdin_stdout_stderr_open",
        "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
    ],
    requirements=[
        "runtime.state.pid-is-container-process",
        "runtime.delete.not-stopped-errors",
    ],
)
class StateWrongPid(StateRewriting):
    """The state reports a pid that is not the container process (above Linux's largest
    possible pid_max, 4194304, so it can never name a real process)."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("pid"):
            doc["pid"] = 4_194_304 + 1 + doc["pid"] % 100_000


@runtime_mutant(
    "state-no-annotations",
    breaks="the state never carries annotations",
    fails=[
        "test_state.py::test_state_carries_the_annotations",
    ],
    requirements=[
        "runtime.state.annotations",
    ],
)
class StateNoAnnotations(StateRewriting):
    """The state never carries annotations."""

    def rewrite(self, doc: dict) -> None:
        doc.pop("annotations", None)


@runtime_mutant(
    "state-bad-version",
    breaks="the state's ociVersion is not a version",
    fails=[
        "test_state.py::test_state_reports_the_id_and_an_oci_version",
    ],
    requirements=[
        "runtime.state.oci-version",
    ],
)
class StateBadVersion(StateRewriting):
    """The state's ociVersion is not a version."""

    def rewrite(self, doc: dict) -> None:
        doc["ociVersion"] = "latest"


@runtime_mutant(
    "state-stuck-created",
    breaks='a running container is reported as "created"',
    fails=[
        "test_state.py::test_status_follows_the_lifecycle",
        "test_start.py::test_start_of_a_running_container_fails",
        "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
    ],
    requirements=[
        "runtime.state.status-running",
        "runtime.start.not-created-errors",
    ],
)
class StateStuckCreated(StateRewriting):
    """A running container is reported as "created"."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("status") == "running":
            doc["status"] = "created"


@runtime_mutant(
    "state-wrong-id",
    breaks="the state names another container's id",
    fails=[
        "test_state.py::test_state_reports_the_id_and_an_oci_version",
    ],
    requirements=[
        "runtime.state.id",
    ],
)
class StateWrongId(StateRewriting):
    """The state's id is not the id asked for (a suffix added)."""

    def rewrite(self, doc: dict) -> None:
        if isinstance(doc.get("id"), str):
            doc["id"] += "-other"


@runtime_mutant(
    "state-no-pid-while-created",
    breaks="the state of a created container has no pid",
    fails=[
        "test_state.py::test_state_pid_is_the_container_process",
    ],
    requirements=[
        "runtime.state.pid",
    ],
)
class StateNoPidWhileCreated(StateRewriting):
    """The state omits pid while the container is created."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("status") == "created":
            doc.pop("pid", None)


@runtime_mutant(
    "state-created-as-creating",
    breaks='a created container is reported as "creating"',
    fails=[
        "test_state.py::test_status_follows_the_lifecycle",
    ],
    requirements=[
        "runtime.state.status-created",
    ],
)
class StateCreatedAsCreating(StateRewriting):
    """A created container's status reads "creating"."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("status") == "created":
            doc["status"] = "creating"
