"""runtime.md#state and #query-state: the state a runtime reports, and the state operation."""

from __future__ import annotations

import os

import pytest

from infra import schemas, specversion
from suites.messages import violation
from suites.oci_runtime.helpers import LONG_RUNNING, UNTIL_EXIT_FILE, state_of


@pytest.mark.requirement("runtime.state.schema", "runtime.state-op.returns-state")
def test_state_validates_against_the_state_schema(containers, runtime, ocitest_run):
    c = containers.created(args=LONG_RUNNING)
    rr = runtime.state(c.id)
    assert rr.ok, violation(
        "runtime.state-op.returns-state",
        wanted="exit status 0 and the state",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    try:
        doc = rr.json()
    except ValueError as exc:
        raise AssertionError(
            violation(
                "runtime.state-op.returns-state",
                wanted="state as JSON",
                seen=f"not JSON ({exc})",
                evidence=[rr],
            )
        ) from None
    problems = schemas.errors(ocitest_run.schema_dir, "state-schema.json", doc)
    assert not problems, violation(
        "runtime.state.schema",
        wanted="no violation of state-schema.json",
        seen="; ".join(problems),
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.state.id", "runtime.state.oci-version")
def test_state_reports_the_id_and_an_oci_version(containers, runtime):
    c = containers.created(args=LONG_RUNNING)
    doc, rr = state_of(runtime, c.id, "runtime.state.id")
    assert doc.get("id") == c.id, violation(
        "runtime.state.id", wanted=f"id {c.id!r}", seen=f"id {doc.get('id')!r}", evidence=[rr]
    )
    version = doc.get("ociVersion")
    try:
        specversion.parse(str(version))
        well_formed = isinstance(version, str)
    except ValueError:
        well_formed = False
    assert well_formed, violation(
        "runtime.state.oci-version",
        wanted="ociVersion, a spec version string",
        seen=f"ociVersion {version!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.state.bundle")
def test_state_bundle_is_the_absolute_bundle_path(containers, runtime):
    c = containers.created(args=LONG_RUNNING)
    doc, rr = state_of(runtime, c.id, "runtime.state.bundle")
    bundle = doc.get("bundle")
    ok = (
        isinstance(bundle, str)
        and os.path.isabs(bundle)
        and os.path.normpath(bundle) == os.path.normpath(c.bundle.path)
    )
    assert ok, violation(
        "runtime.state.bundle",
        wanted=f"bundle {c.bundle.path!r} (absolute)",
        seen=f"bundle {bundle!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.state.pid", "runtime.state.pid-is-container-process")
def test_state_pid_is_the_container_process(containers, runtime, host):
    c = containers.created(args=LONG_RUNNING)
    doc, created = state_of(runtime, c.id, "runtime.state.pid")
    pid = doc.get("pid")
    assert isinstance(pid, int) and pid > 0, violation(
        "runtime.state.pid", wanted="pid > 0 while created", seen=f"pid {pid!r}", evidence=[created]
    )
    assert host.pid_alive(pid), violation(
        "runtime.state.pid-is-container-process",
        wanted=f"process {pid} alive on the host",
        seen="no such process",
        evidence=[created],
    )
    assert runtime.start(c.id).ok
    assert containers.wait_output(c, "ocitest-started")
    doc, running = state_of(runtime, c.id, "runtime.state.pid-is-container-process")
    pid_running = doc.get("pid")
    argv = host.cmdline(pid_running) if isinstance(pid_running, int) else []
    assert pid_running == pid and argv[:2] == ["sleep", "100000"], violation(
        "runtime.state.pid-is-container-process",
        wanted=f"pid {pid} again while running, now running 'sleep 100000'",
        seen=f"pid {pid_running!r} with argv {argv}",
        evidence=[created, running],
    )


@pytest.mark.requirement(
    "runtime.state.status",
    "runtime.state.status-created",
    "runtime.state.status-running",
    "runtime.state.status-stopped",
    "runtime.scope.operations-on-own-container",
    "runtime.operations.supported",
)
def test_status_follows_the_lifecycle(containers, runtime, target):
    c = containers.created(args=UNTIL_EXIT_FILE)
    seen = []
    doc, rr = state_of(runtime, c.id, "runtime.state.status-created")
    seen.append(rr)
    assert isinstance(doc.get("status"), str), violation(
        "runtime.state.status",
        wanted="the state carries status (a string)",
        seen=f"state keys {sorted(doc)}",
        evidence=seen,
    )
    status = doc.get("status")
    assert status == "created", violation(
        "runtime.state.status-created",
        wanted='status "created"',
        seen=f"status {status!r}",
        evidence=seen,
    )
    rr = runtime.start(c.id)
    assert rr.ok, violation(
        "runtime.operations.supported",
        wanted="start succeeds",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    assert containers.wait_output(c, "ocitest-started"), "the program never printed its marker"
    doc, rr = state_of(runtime, c.id, "runtime.state.status-running")
    seen.append(rr)
    status = doc.get("status")
    assert status == "running", violation(
        "runtime.state.status-running",
        wanted='status "running"',
        seen=f"status {status!r}",
        evidence=seen,
    )
    rr = runtime.kill(c.id, "KILL")
    assert rr.ok, violation(
        "runtime.operations.supported",
        wanted="kill KILL of our running container succeeds",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    stopped = containers.wait_status(c.id, "stopped")
    rr = runtime.state(c.id)
    assert stopped, violation(
        "runtime.state.status-stopped",
        wanted='status "stopped" once the program exited (within 10 s)',
        seen=f"status {(containers.state(c.id) or {}).get('status')!r}",
        evidence=[rr],
    )
    rr = runtime.delete(c.id)
    assert rr.ok, violation(
        "runtime.scope.operations-on-own-container",
        wanted="delete of our stopped container succeeds",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.state.annotations")
def test_state_carries_the_annotations(containers, runtime):
    annotations = {"org.ocitest.purpose": "state-annotations", "org.ocitest.n": "1"}
    c = containers.created(args=LONG_RUNNING, annotations=annotations)
    doc, rr = state_of(runtime, c.id, "runtime.state.annotations")
    got = doc.get("annotations")
    assert got == annotations, violation(
        "runtime.state.annotations",
        wanted=f"annotations {annotations}",
        seen=f"annotations {got!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.state-op.missing-id-errors")
def test_state_without_an_id_fails(runtime):
    rr = runtime.raw("state")
    assert not rr.ok, violation(
        "runtime.state-op.missing-id-errors",
        wanted="a non-zero exit status",
        seen="exit status 0",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.state-op.unknown-id-errors")
def test_state_of_an_unknown_container_fails(runtime, containers):
    rr = runtime.state(containers.new_id())
    assert not rr.ok, violation(
        "runtime.state-op.unknown-id-errors",
        wanted="a non-zero exit status",
        seen="exit status 0",
        evidence=[rr],
    )
