"""runtime.md#create and lifecycle step 2: what create must do, and must not do."""

from __future__ import annotations

import json

import pytest

from suites.messages import requirement_headers, violation
from suites.oci_runtime.helpers import LONG_RUNNING, QUICK, assert_created, state_of


@pytest.mark.requirement("runtime.create.creates-container")
def test_create_makes_a_container_that_state_reports(containers, runtime):
    b = containers.bundle(args=LONG_RUNNING)
    c = containers.create(b)
    assert c.created, violation(
        "runtime.create.creates-container",
        wanted="create exits 0",
        seen=f"exit status {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
    doc, rr = state_of(runtime, c.id, "runtime.create.creates-container")
    assert doc.get("id") == c.id and doc.get("status") == "created", violation(
        "runtime.create.creates-container",
        wanted=f'state of {c.id} with status "created"',
        seen=f"id {doc.get('id')!r}, status {doc.get('status')!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.create.missing-args-errors")
def test_create_without_an_id_fails(containers, runtime):
    b = containers.bundle(args=QUICK)
    b.write()
    for args in (("create",), ("create", "--bundle", b.path)):
        rr = runtime.raw(*args)
        assert not rr.ok, violation(
            "runtime.create.missing-args-errors",
            wanted="a non-zero exit status",
            seen="exit status 0",
            evidence=[rr],
        )


@pytest.mark.requirement("runtime.create.duplicate-id-errors", "runtime.state.id-unique")
@pytest.mark.variant("state-present")
def test_create_with_an_id_in_use_fails(containers, runtime):
    first = containers.created(args=LONG_RUNNING)
    other = containers.bundle(args=LONG_RUNNING)
    second = containers.create(other, container_id=first.id)
    assert not second.created, (
        violation(
            "runtime.create.duplicate-id-errors",
            wanted=f"create of a second {first.id} fails",
            seen="exit status 0",
            evidence=[second.create_result],
        )
        + "\n"
        + requirement_headers(["runtime.state.id-unique"])
    )
    doc, rr = state_of(runtime, first.id, "runtime.create.duplicate-id-errors")
    assert doc.get("bundle") == first.bundle.path and doc.get("status") == "created", violation(
        "runtime.create.duplicate-id-errors",
        wanted=f"{first.id} unchanged: bundle {first.bundle.path}, status created",
        seen=f"bundle {doc.get('bundle')!r}, status {doc.get('status')!r}",
        evidence=[rr],
    )


@pytest.mark.requirement(
    "runtime.lifecycle.program-not-run-at-create", "runtime.create.process-args-deferred"
)
def test_create_does_not_run_the_program(containers, runtime, target):
    c = containers.created(args=["sh", "-c", "touch /ran; echo ocitest-started; exec sleep 100000"])
    out = containers.output(c)
    ran = target.exists(f"{c.bundle.rootfs}/ran")
    assert "ocitest-started" not in out and not ran, (
        violation(
            "runtime.lifecycle.program-not-run-at-create",
            wanted="no trace of the program after create (no output, no /ran)",
            seen=f"stdout {out!r}, /ran exists: {ran}",
            evidence=[c.create_result],
        )
        + "\n"
        + requirement_headers(["runtime.create.process-args-deferred"])
    )
    rr = runtime.start(c.id)
    assert rr.ok and containers.wait_output(c, "ocitest-started"), (
        "the program did not run after start either, so this test proves nothing:\n"
        + rr.evidence.brief()
    )


# looks into the created process's namespaces from outside: crun's is not dumpable until
# start, so only root may (and nsenter as a user would need the container's userns)
@pytest.mark.requires("root")
@pytest.mark.requirement("runtime.lifecycle.create-environment", "runtime.create.applies-config")
def test_create_builds_the_environment_before_start(containers, runtime, host):
    b = containers.bundle(args=LONG_RUNNING)
    b.config["hostname"] = "ocitest-applied"
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.create-environment")
    doc, rr = state_of(runtime, c.id, "runtime.create.applies-config")
    pid = doc.get("pid")
    name = host.hostname_in(pid)
    assert name == "ocitest-applied", violation(
        "runtime.create.applies-config",
        wanted='hostname "ocitest-applied" in the container\'s UTS namespace before start',
        seen=f"hostname {name!r} (process {pid})",
        evidence=[rr],
    )
    for ns in ("mnt", "pid", "uts", "ipc", "net"):
        theirs, ours = host.namespace(pid, ns), host.namespace("self", ns)
        assert theirs and theirs != ours, violation(
            "runtime.lifecycle.create-environment",
            wanted=f"a new {ns} namespace for the container process (config.json asks for it)",
            seen=f"{theirs!r}, the same as the host's {ours!r}",
            evidence=[rr],
        )


@pytest.mark.requires("root")  # looks at the cgroup, which a rootless container lacks
@pytest.mark.requirement(
    "runtime.lifecycle.create-error-when-impossible",
    "runtime.create.unapplicable-property-errors",
    "runtime.errors.no-side-effects",
)
@pytest.mark.variant("failure-path")
def test_create_fails_when_a_mount_source_is_missing(containers, runtime, host):
    b = containers.bundle(args=LONG_RUNNING)
    b.config["mounts"].append(
        {
            "destination": "/mnt/missing",
            "type": "bind",
            "source": f"{b.path}/does-not-exist",
            "options": ["rbind"],
        }
    )
    c = containers.create(b)
    assert not c.created, (
        violation(
            "runtime.create.unapplicable-property-errors",
            wanted="create fails: a bind mount's source does not exist",
            seen="exit status 0",
            evidence=[c.create_result],
        )
        + "\n"
        + requirement_headers(["runtime.lifecycle.create-error-when-impossible"])
    )
    rr = runtime.state(c.id)
    assert not rr.ok, violation(
        "runtime.errors.no-side-effects",
        wanted=f"no container {c.id} after the failed create",
        seen="state succeeds",
        evidence=[c.create_result, rr],
    )
    cgroups = host.cgroup_dirs(b.config["linux"]["cgroupsPath"])
    assert not cgroups, violation(
        "runtime.errors.no-side-effects",
        wanted="no cgroup left by the failed create",
        seen=f"{cgroups}",
        evidence=[c.create_result],
    )
    good = containers.bundle(args=LONG_RUNNING)
    again = containers.create(good, container_id=c.id)
    assert again.created, violation(
        "runtime.errors.no-side-effects",
        wanted=f"the id {c.id} is free again after the failed create",
        seen=f"exit status {again.create_result.exit_status}",
        evidence=[again.create_result],
    )


@pytest.mark.requirement("runtime.lifecycle.config-updates-ignored")
def test_config_changes_after_create_have_no_effect(containers, runtime, target):
    b = containers.bundle(args=["sh", "-c", "echo ocitest-original"])
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.config-updates-ignored")
    changed = json.loads(json.dumps(b.config))
    changed["process"]["args"] = ["sh", "-c", "echo ocitest-changed"]
    b.write_unvalidated(changed)
    rr = runtime.start(c.id)
    assert rr.ok, violation(
        "runtime.lifecycle.config-updates-ignored",
        wanted="exit status 0",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    containers.wait_for("the program printed a line", lambda: "ocitest-" in containers.output(c))
    out = containers.output(c)
    assert "ocitest-original" in out and "ocitest-changed" not in out, violation(
        "runtime.lifecycle.config-updates-ignored",
        wanted="the program of config.json at create time ('echo ocitest-original')",
        seen=f"stdout {out!r}",
        evidence=[c.create_result, rr],
    )
