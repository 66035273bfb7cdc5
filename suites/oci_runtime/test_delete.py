"""runtime.md#delete and lifecycle step 12: delete undoes create, and only when stopped."""

from __future__ import annotations

import pytest

from suites.messages import requirement_headers, violation
from suites.oci_runtime.helpers import LONG_RUNNING, QUICK, assert_created, state_of


@pytest.mark.parametrize("status", ["created", "running"])
@pytest.mark.requirement("runtime.delete.not-stopped-errors")
def test_delete_of_a_container_not_stopped_fails(containers, runtime, host, status):
    c = containers.created(args=LONG_RUNNING)
    if status == "running":
        assert runtime.start(c.id).ok
    before, _ = state_of(runtime, c.id, "runtime.delete.not-stopped-errors")
    rr = runtime.delete(c.id)
    after = containers.state(c.id) or {}
    pid = before.get("pid")
    alive = isinstance(pid, int) and host.pid_alive(pid)
    assert not rr.ok and after.get("status") == status and alive, violation(
        "runtime.delete.not-stopped-errors",
        wanted=f"delete of a {status} container fails; it stays {status}, its process alive",
        seen=f"exit status {rr.exit_status}, then status {after.get('status', '(no state: gone)')!r}, "
        f"process {pid} alive: {alive}",
        evidence=[rr],
    )


@pytest.mark.requires("root")  # looks at the cgroup, which a rootless container lacks
@pytest.mark.requirement(
    "runtime.delete.removes-created-resources", "runtime.lifecycle.destroy-on-delete"
)
def test_delete_removes_the_container_its_process_and_cgroup(containers, runtime, host):
    c = containers.running(args=QUICK)
    cgroups_path = c.bundle.config["linux"]["cgroupsPath"]
    before = host.cgroup_dirs(cgroups_path)
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    assert before, f"setup: no cgroup {cgroups_path} while the container existed"
    rr = runtime.delete(c.id)
    st = runtime.state(c.id)
    after = host.cgroup_dirs(cgroups_path)
    assert rr.ok and not st.ok and not after, (
        violation(
            "runtime.delete.removes-created-resources",
            wanted="delete exits 0; then state fails and the container's cgroups are gone",
            seen=f"delete exit {rr.exit_status}, state exit {st.exit_status}, cgroups left: {after}",
            evidence=[rr, st],
        )
        + "\n"
        + requirement_headers(["runtime.lifecycle.destroy-on-delete"])
    )


@pytest.mark.requirement("runtime.delete.keeps-foreign-resources")
def test_delete_keeps_the_bundle_and_mount_sources(containers, runtime, target, host):
    b = containers.bundle(args=["sh", "-c", "cat /mnt/data/file"])
    target.make_dirs(f"{b.path}/hostdir")
    target.write_text(f"{b.path}/hostdir/file", "ocitest-host-data\n")
    b.config["mounts"].append(
        {
            "destination": "/mnt/data",
            "type": "bind",
            "source": f"{b.path}/hostdir",
            "options": ["rbind", "ro"],
        }
    )
    c = containers.create(b)
    assert_created(c, "runtime.delete.keeps-foreign-resources")
    assert runtime.start(c.id).ok
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    rr = runtime.delete(c.id)
    assert rr.ok, violation(
        "runtime.delete.keeps-foreign-resources",
        wanted="exit status 0",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    kept = {
        p: host.exists(p)
        for p in (b.config_path, f"{b.rootfs}/bin/busybox", f"{b.path}/hostdir/file")
    }
    assert all(kept.values()), violation(
        "runtime.delete.keeps-foreign-resources",
        wanted="config.json, the rootfs and the bind mount's source all still there",
        seen=", ".join(f"{p}: {'kept' if k else 'GONE'}" for p, k in kept.items()),
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.delete.id-reusable")
@pytest.mark.variant("state-present")
def test_a_deleted_id_can_be_used_again(containers, runtime):
    c = containers.running(args=QUICK)
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    assert runtime.delete(c.id).ok
    again = containers.create(containers.bundle(args=LONG_RUNNING), container_id=c.id)
    assert again.created, violation(
        "runtime.delete.id-reusable",
        wanted=f"create with the deleted id {c.id} succeeds",
        seen=f"exit status {again.create_result.exit_status}",
        evidence=[again.create_result],
    )


@pytest.mark.requirement("runtime.delete.missing-id-errors")
def test_delete_without_an_id_fails(runtime):
    rr = runtime.raw("delete")
    assert not rr.ok, violation(
        "runtime.delete.missing-id-errors",
        wanted="a non-zero exit status",
        seen="exit status 0",
        evidence=[rr],
    )
