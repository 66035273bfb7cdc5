"""config.md#linux-mount-options (idmap, ridmap) and #posix-platform-mounts (uidMappings,
gidMappings): idmapped mounts, since runtime-spec 1.2.0.

The bind source is a directory inside the bundle whose files root owns on the host; with
a mount mapping of 0 -> 12345 (uid) and 0 -> 23456 (gid) they show as 12345:23456.
"""

from __future__ import annotations

import pytest

from infra.probe import parse_report, probe_args
from suites.messages import violation
from suites.oci_runtime.features import needs_feature
from suites.oci_runtime.helpers import bundle_dir, mount_entry

UID_MAP = [{"containerID": 0, "hostID": 12345, "size": 1}]
GID_MAP = [{"containerID": 0, "hostID": 23456, "size": 1}]


def _owner(st: dict | None) -> str:
    return f"{st['uid']}:{st['gid']}" if st else "no file there"


@pytest.mark.requires("root")
@pytest.mark.parametrize(
    "option",
    [
        pytest.param(
            o,
            # a runtime that handed idmap/ridmap to mount(2) as data fails the mount
            marks=pytest.mark.requirement(
                "config.mounts.idmap-uses-mount-mappings",
                "config.mounts.idmap-not-passed-to-mount",
                f"config.mounts.option-{o}",
            ),
            id=o,
        )
        for o in ("idmap", "ridmap")
    ],
)
def test_idmapped_mount_uses_its_own_mappings(containers, runtime, option):
    needs_feature(runtime, "mountOptions", value=option)
    b = containers.bundle()
    source = bundle_dir(b, "idmap-src", {"marker": "owned by root\n"})
    b.config["mounts"].append(
        {
            "destination": "/mnt/i",
            "type": "bind",
            "source": source,
            "options": ["rbind" if option == "ridmap" else "bind", option],
            "uidMappings": UID_MAP,
            "gidMappings": GID_MAP,
        }
    )
    probe = containers.probe(b, "stat:/mnt/i/marker")
    st = probe.stat("/mnt/i/marker")
    assert st and (st["uid"], st["gid"]) == (12345, 23456), violation(
        "config.mounts.idmap-uses-mount-mappings",
        wanted=f"with {option} and mappings 0->12345 / 0->23456, a root-owned file shows "
        "as 12345:23456",
        seen=_owner(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.option-ridmap")
def test_ridmap_maps_the_submounts_too(containers, runtime):
    needs_feature(runtime, "mountOptions", value="ridmap")
    b = containers.bundle()
    b.config["mounts"] += [
        mount_entry("/a"),
        mount_entry("/a/sub"),
        {
            "destination": "/b",
            "type": "bind",
            "source": "rootfs/a",
            "options": ["rbind", "ridmap"],
            "uidMappings": UID_MAP,
            "gidMappings": GID_MAP,
        },
    ]
    probe = containers.probe(b, "stat:/b/sub")
    st = probe.stat("/b/sub")
    assert st and (st["uid"], st["gid"]) == (12345, 23456), violation(
        "config.mounts.option-ridmap",
        wanted="/b (rbind of /a with ridmap): the root-owned submount /b/sub shows as 12345:23456",
        seen=_owner(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.idmap-without-mappings-no-userns-errors")
@pytest.mark.parametrize("option", ["idmap", "ridmap"])
def test_idmap_without_mappings_or_user_namespace_fails(containers, runtime, option):
    needs_feature(runtime, "mountOptions", value=option)
    b = containers.bundle()
    source = bundle_dir(b, "idmap-src", {"marker": "owned by root\n"})
    b.config["mounts"].append(
        {"destination": "/mnt/i", "type": "bind", "source": source, "options": ["bind", option]}
    )
    c = containers.create(b)
    assert not c.created, violation(
        "config.mounts.idmap-without-mappings-no-userns-errors",
        wanted=f"create fails: {option} with no uidMappings/gidMappings and no user namespace",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.requirement("config.mounts.idmap-without-mappings-userns-or-error")
def test_idmap_without_mappings_uses_the_user_namespace_or_fails(containers, runtime):
    needs_feature(runtime, "mountOptions", value="idmap")
    b = containers.bundle()
    source = bundle_dir(b, "idmap-src", {"marker": "owned by root\n"})
    linux = b.config["linux"]
    linux["namespaces"].append({"type": "user"})
    linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.config["mounts"].append(
        {"destination": "/mnt/i", "type": "bind", "source": source, "options": ["bind", "idmap"]}
    )
    b.config["process"]["args"] = probe_args("stat:/mnt/i/marker")
    c = containers.create(b)
    if not c.created:
        return  # the error the spec allows
    started = runtime.start(c.id)
    assert started.ok and containers.wait_status(c.id, "stopped"), "setup: the probe did not run"
    probe = parse_report(containers.output(c), ["stat:/mnt/i/marker"])
    st = probe.stat("/mnt/i/marker")
    assert st and (st["uid"], st["gid"]) == (0, 0), violation(
        "config.mounts.idmap-without-mappings-userns-or-error",
        wanted="create fails, or the mount uses the container's mapping: the host-root file "
        "shows as 0:0 inside (not as the overflow id)",
        seen=_owner(st),
        evidence=[c.create_result, started],
    )
