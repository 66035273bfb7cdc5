"""Mount.propagation (issue 15, critest's rprivate / rslave / rshared cases) over a
shared mount the harness makes itself: a host directory bind-mounted on itself and
made rshared, so that the outcome depends on the propagation asked, not on how the
host's own mounts happen to propagate.

After the container starts, the host mounts a tmpfs below the directory: a private
mount does not show it, host-to-container does. A bidirectional mount (privileged
container) also shows the host a tmpfs the container mounts there. Every mount the
test makes is unmounted at teardown (lazily, so a busy one goes too).
"""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_succeed
from suites.messages import violation

RID = "cri.container.mount-propagation"
IN = "/mnt/prop"


@pytest.fixture
def shared_dir(pods, target, ocitest_run):
    """A host directory that is an rshared mount of its own; unmounted afterwards."""
    path = f"{ocitest_run.work_base}/cri-logs/prop-{pods.name('p')}"
    target.make_dirs(path)
    try:
        for argv in (["mount", "--bind", path, path], ["mount", "--make-rshared", path]):
            res = target.run(argv, timeout=20)
            assert res.exit_status == 0, f"setup: {' '.join(argv)}: {res.stderr}"
        yield path
    finally:
        target.run(["umount", "-R", "-l", path], timeout=20)  # absent mounts: ignored
        target.remove_tree(path)


def _mountpoint_on_host(target, path: str) -> bool:
    res = target.run(["grep", "-q", f" {path} ", "/proc/self/mountinfo"], timeout=10)
    return res.exit_status == 0


@pytest.mark.requirement(RID)
@pytest.mark.parametrize(
    "mode",
    ["PROPAGATION_PRIVATE", "PROPAGATION_HOST_TO_CONTAINER", "PROPAGATION_BIDIRECTIONAL"],
)
def test_mount_propagation_modes(pods, target, shared_dir, mode):
    bidirectional = mode == "PROPAGATION_BIDIRECTIONAL"
    pod_cfg = pods.pod_config()
    pod_cfg.linux.security_context.privileged = bidirectional
    mount = pb.Mount(
        container_path=IN, host_path=shared_dir, propagation=pb.MountPropagation.Value(mode)
    )
    cfg = pods.container_config(mounts=[mount])
    cfg.linux.security_context.privileged = bidirectional
    cid = must_succeed(pods.create(pods.pod(pod_cfg), cfg), RID).response.container_id
    must_succeed(pods.cri.call("StartContainer", container_id=cid), RID)
    # the host mounts below the shared directory after the container started
    target.make_dirs(f"{shared_dir}/from-host")
    res = target.run(
        ["mount", "-t", "tmpfs", "ocitest-prop", f"{shared_dir}/from-host"], timeout=20
    )
    assert res.exit_status == 0, f"setup: mount tmpfs on the host: {res.stderr}"
    target.write_text(f"{shared_dir}/from-host/mark", "ocitest-host-mount\n")
    seen = pods.exec(cid, ["cat", f"{IN}/from-host/mark"])
    sees = seen.ok and b"ocitest-host-mount" in seen.response.stdout
    wanted_sees = mode != "PROPAGATION_PRIVATE"
    assert sees == wanted_sees, violation(
        RID,
        wanted=f"{mode}: the host's later tmpfs below the mount "
        + ("seen in the container" if wanted_sees else "not seen in the container"),
        seen=f"cat {IN}/from-host/mark: "
        + (
            f"exit {seen.response.exit_code}, {seen.response.stdout[:80]!r}"
            if seen.ok
            else seen.code_name
        ),
        evidence=[seen],
    )
    made = pods.exec(
        cid, ["sh", "-c", f"mkdir -p {IN}/from-ctr && mount -t tmpfs ocitest-ctr {IN}/from-ctr"]
    )
    on_host = _mountpoint_on_host(target, f"{shared_dir}/from-ctr")
    assert on_host == bidirectional, violation(
        RID,
        wanted=f"{mode}: a tmpfs the container mounts below the mount "
        + ("seen on the host" if bidirectional else "not seen on the host"),
        seen=f"mount in the container: "
        f"{made.response.exit_code if made.ok else made.code_name}; on the host: {on_host}",
        evidence=[made],
    )
