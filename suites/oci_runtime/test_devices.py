"""config-linux.md#devices and #default-devices: the device nodes a container has."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import rootfs_file

#: linux.devices entries of the tests: the null device under other names, a loop block
#: device, a fifo, and an unbuffered character device (type u is a character node)
DEVICES = {
    "c": {"path": "/dev/ocitest-c", "type": "c", "major": 1, "minor": 3},
    "b": {"path": "/dev/ocitest-b", "type": "b", "major": 7, "minor": 0},
    "p": {"path": "/dev/ocitest-p", "type": "p"},
    "u": {"path": "/dev/ocitest-u", "type": "u", "major": 1, "minor": 5},
}
#: stat type the probe reports for each device type
STAT_TYPE = {"c": "chr", "b": "blk", "p": "fifo", "u": "chr"}


def _with_device(containers, device: dict):
    b = containers.bundle()
    b.config["linux"]["devices"] = [device]
    return containers.probe(b, f"stat:{device['path']}")


def _node(st: dict | None) -> str:
    if st is None:
        return "no file there"
    return (
        f"{st['type']} {st['major']}:{st['minor']} mode {oct(st['mode'])} "
        f"owner {st['uid']}:{st['gid']}"
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.devices.available")
@pytest.mark.parametrize("kind", list(DEVICES))
def test_device_is_created_with_its_type_and_numbers(containers, kind):
    device = DEVICES[kind]
    probe = _with_device(containers, device)
    st = probe.stat(device["path"])
    wanted = (STAT_TYPE[kind], device.get("major", 0), device.get("minor", 0))
    seen = (st["type"], st["major"], st["minor"]) if st else None
    assert seen == wanted, violation(
        "config-linux.devices.available",
        wanted=f"{device['path']}: {wanted[0]} {wanted[1]}:{wanted[2]}",
        seen=_node(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.devices.file-mode")
def test_device_has_its_file_mode(containers):
    device = dict(DEVICES["c"], fileMode=0o640)  # 416: a decimal number in config.json
    probe = _with_device(containers, device)
    st = probe.stat(device["path"])
    assert st and st["mode"] == 0o640, violation(
        "config-linux.devices.file-mode",
        wanted=f"{device['path']} of mode 0o640 (fileMode 416)",
        seen=_node(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.devices.owner")
def test_device_is_owned_by_its_uid_and_gid(containers):
    device = dict(DEVICES["c"], uid=1234, gid=5678)
    probe = _with_device(containers, device)
    st = probe.stat(device["path"])
    assert st and (st["uid"], st["gid"]) == (1234, 5678), violation(
        "config-linux.devices.owner",
        wanted=f"{device['path']} owned by 1234:5678",
        seen=_node(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.devices.any-path")
def test_device_may_live_outside_dev(containers):
    device = dict(DEVICES["c"], path="/ocitest-dev-null")
    probe = _with_device(containers, device)
    st = probe.stat(device["path"])
    assert st and (st["type"], st["major"], st["minor"]) == ("chr", 1, 3), violation(
        "config-linux.devices.any-path",
        wanted="/ocitest-dev-null: chr 1:3",
        seen=_node(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.devices.existing-mismatch-errors")
@pytest.mark.variant("state-present")
def test_create_fails_when_a_regular_file_sits_at_the_device_path(containers):
    b = containers.bundle()
    rootfs_file(b, "/etc/ocitest-not-a-device", "a regular file\n")
    b.config["linux"]["devices"] = [dict(DEVICES["c"], path="/etc/ocitest-not-a-device")]
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.devices.existing-mismatch-errors",
        wanted="create fails: a regular file is at /etc/ocitest-not-a-device, not chr 1:3",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


#: config-linux.md#default-devices: path -> (major, minor)
DEFAULT_DEVICES = {
    "null": (1, 3),
    "zero": (1, 5),
    "full": (1, 7),
    "random": (1, 8),
    "urandom": (1, 9),
    "tty": (5, 0),
}


@pytest.mark.requires("root")
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.requirement(f"config-linux.default-devices.{n}"), id=n)
        for n in DEFAULT_DEVICES
    ],
)
def test_default_device_is_supplied(containers, name):
    path = f"/dev/{name}"
    b = containers.bundle()
    b.config["linux"]["devices"] = []
    probe = containers.probe(b, f"stat:{path}")
    st = probe.stat(path)
    major, minor = DEFAULT_DEVICES[name]
    seen = (st["type"], st["major"], st["minor"]) if st else None
    assert seen == ("chr", major, minor), violation(
        f"config-linux.default-devices.{name}",
        wanted=f"{path}: chr {major}:{minor} (linux.devices empty)",
        seen=_node(st),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.default-devices.ptmx")
def test_dev_ptmx_is_the_containers_own_pts_ptmx(containers):
    probe = containers.probe("stat:/dev/ptmx", "stat:/dev/pts/ptmx")
    ptmx, pts = probe.stat("/dev/ptmx"), probe.stat("/dev/pts/ptmx")
    symlink = (
        ptmx is not None
        and ptmx["type"] == "lnk"
        and ptmx.get("target")
        in (
            "pts/ptmx",
            "/dev/pts/ptmx",
        )
    )
    m = probe.mount("/dev/ptmx")
    bind = (
        ptmx is not None
        and pts is not None
        and m is not None
        and m.fstype == "devpts"
        and (ptmx["major"], ptmx["minor"]) == (pts["major"], pts["minor"])
    )
    assert symlink or bind, violation(
        "config-linux.default-devices.ptmx",
        wanted="/dev/ptmx a symlink to pts/ptmx, or a bind mount of the container's /dev/pts/ptmx",
        seen=f"/dev/ptmx: {ptmx}; /dev/pts/ptmx: {_node(pts)}; mount at /dev/ptmx: {m}",
        evidence=[probe],
    )
