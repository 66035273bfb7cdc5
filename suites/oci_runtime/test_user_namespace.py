"""config-linux.md#user-namespace-mappings: uidMappings and gidMappings, rootfs ownership."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import host_devices_kept

#: root inside is 100000 outside; a second, disjoint range maps 1000 inside to 200000
UID_MAPPINGS = [
    {"containerID": 0, "hostID": 100000, "size": 1000},
    {"containerID": 1000, "hostID": 200000, "size": 1000},
]
GID_MAPPINGS = [{"containerID": 0, "hostID": 300000, "size": 65536}]
#: the host uid:gid of root in the device test (its own, unlike any parallel test's)
DEVICE_TEST_ROOT = "400000:500000"


@pytest.fixture(autouse=True)
def _devices_kept(host):
    """Give back host device nodes a runtime chowned to our mapped root (crun 1.8.1)."""
    with host_devices_kept(host, "100000:300000"), host_devices_kept(host, DEVICE_TEST_ROOT):
        yield


def with_user_namespace(bundle) -> None:
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = UID_MAPPINGS
    bundle.config["linux"]["gidMappings"] = GID_MAPPINGS


def as_tuples(mappings: list[dict]) -> list[tuple[int, int, int]]:
    return [(m["containerID"], m["hostID"], m["size"]) for m in mappings]


@pytest.mark.requires("root", "userns")
@pytest.mark.requirement("config-linux.userns.mappings-applied")
@pytest.mark.variant("privilege")
def test_uid_and_gid_mappings_become_the_user_namespace_maps(containers):
    b = containers.bundle()
    with_user_namespace(b)
    report = containers.probe(b)
    seen = {"uid_map": report.uid_map, "gid_map": report.gid_map}
    wanted = {"uid_map": as_tuples(UID_MAPPINGS), "gid_map": as_tuples(GID_MAPPINGS)}
    assert seen == wanted, violation(
        "config-linux.userns.mappings-applied",
        wanted=f"(containerID, hostID, size) maps {wanted}",
        seen=f"{seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.requirement("config-linux.userns.no-rootfs-chown")
@pytest.mark.variant("privilege", "state-present")
def test_mappings_leave_the_host_device_nodes_alone(containers, host):
    # The host nodes the container refers to: the default devices, bind mounts of the
    # host's nodes in a user namespace. Its stdin is a null device (1:3) of this test's
    # own: crun 1.8.1 chowns the stdio it is handed to the container's root, and handed
    # host /dev/null it would change the host's node. That chown is not judged here: the
    # SHOULD NOT is about filesystems the config references, and stdio is not one.
    b = containers.bundle()
    with_user_namespace(b)
    b.config["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 400000, "size": 65536}]
    b.config["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 500000, "size": 65536}]
    null = f"{b.path}/null-stdin"
    made = host.make_null_device(null)
    assert made.exit_status == 0, f"setup: mknod {null}: {made.stderr}"
    with containers.userns_lock():  # no parallel user-namespace create in between
        # a node still owned by a parallel test's container root (not given back yet)
        # could not be chowned from inside our namespace: start from root's
        host.give_back_devices("*")
        c = containers.create(b, stdin=null)
        owners = host.device_owners()
    assert c.created, "setup: create failed\n" + c.create_result.evidence.brief()
    ours = {p: v for p, v in owners.items() if v.split()[0] == DEVICE_TEST_ROOT}
    assert not ours, violation(
        "config-linux.userns.no-rootfs-chown",
        wanted="the device nodes the container refers to keep their owners (none becomes "
        "the container's root, 400000:500000 on the host)",
        seen=f"owners changed: {ours} (put back after the test)",
        evidence=[c.create_result],
    )
