"""config-linux.md#cgroups-path and #cgroup-ownership: where the container's cgroup is,
and who owns it.

The host reads /proc/PID/cgroup of the container process (the host's view, whatever
cgroup namespace the container has) and the cgroup directories themselves.
"""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.helpers import assert_created, state_of

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")

#: v1 hierarchies a runtime must place the container in to apply linux.resources
V1_CONTROLLERS = ("cpu", "cpuset", "devices", "memory", "pids")


def _placed(host, report) -> dict[str, str]:
    """controller -> cgroup path the probe reported itself in (/proc/self/cgroup; no
    cgroup namespace, so the host's paths), for the controllers that matter here (v1),
    or {"": path} on a v2 host."""
    groups = report.cgroups
    if host.cgroup_version() == 2:
        return {"": groups.get("", "")}
    out = {}
    for ctrls, path in groups.items():
        for c in ctrls.split(","):
            if c in V1_CONTROLLERS:
                out[c] = path
    return out


def _pid(runtime, c, rid: str) -> int:
    doc, _ = state_of(runtime, c.id, rid)
    return doc["pid"]


@pytest.mark.requirement(
    "config-linux.cgroups.path-absolute-from-mount", "config-linux.cgroups.created-if-missing"
)
def test_absolute_cgroups_path_is_taken_from_the_cgroup_mount(containers, runtime, host):
    b = containers.bundle()
    path = "/" + containers.new_id()
    b.config["linux"]["cgroupsPath"] = path
    report = containers.probe(b)
    placed = _placed(host, report)
    wrong = {k: v for k, v in placed.items() if v != path}
    assert placed and not wrong, violation(
        "config-linux.cgroups.path-absolute-from-mount",
        wanted=f"the container process in cgroup {path} of every hierarchy "
        f"({', '.join(V1_CONTROLLERS)} on v1; the unified tree on v2)",
        seen=f"/proc/PID/cgroup: {placed}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config-linux.cgroups.path-consistent")
def test_the_same_cgroups_path_attaches_to_the_same_place(containers, runtime, host):
    path = "/" + containers.new_id()
    seen = []
    for _ in range(2):
        b = containers.bundle()
        b.config["linux"]["cgroupsPath"] = path
        seen.append(_placed(host, containers.probe(b)))
        cid = b.path.rsplit("/", 1)[-1]
        assert runtime.delete(cid).ok, "setup: delete of the stopped probe failed"
    assert seen[0] and seen[0] == seen[1], violation(
        "config-linux.cgroups.path-consistent",
        wanted=f"both containers with cgroupsPath {path} in the same cgroups",
        seen=f"first {seen[0]}, second {seen[1]}",
    )


@pytest.fixture
def existing_cgroup(containers, host):
    """An absolute cgroup path made on the host before the container (pids.max set to
    77 in it); removed at teardown if the runtime left it."""
    path = "/" + containers.new_id()
    dirs = host.make_cgroup(path, {"pids.max": "77"})
    yield path, dirs
    host.remove_cgroup(dirs)


@pytest.mark.requirement("config-linux.cgroups.created-if-missing")
def test_an_existing_cgroup_at_cgroups_path_is_joined(containers, runtime, host, existing_cgroup):
    path, dirs = existing_cgroup
    assert dirs, "setup: could not make a cgroup on the host"
    b = containers.bundle()
    b.config["linux"]["cgroupsPath"] = path
    report = containers.probe(b)
    placed = _placed(host, report)
    pids_max = (host.cgroup_file_at("pids", path, "pids.max") or "").strip()
    assert placed.get("pids", placed.get("")) == path and pids_max == "77", violation(
        "config-linux.cgroups.created-if-missing",
        wanted=f"the container joins the existing cgroup {path} (pids.max 77, set before "
        "create, unchanged)",
        seen=f"/proc/self/cgroup {placed}, pids.max {pids_max!r}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config-linux.cgroups.path-relative")
def test_relative_cgroups_path_is_placed_by_the_runtime(containers, runtime, host):
    b = containers.bundle()
    name = containers.new_id()
    b.config["linux"]["cgroupsPath"] = name
    report = containers.probe(b)
    placed = _placed(host, report)
    wrong = {k: v for k, v in placed.items() if not v.endswith("/" + name)}
    assert placed and not wrong, violation(
        "config-linux.cgroups.path-relative",
        wanted=f"the container in a cgroup .../{name} under a place the runtime chose",
        seen=f"/proc/self/cgroup: {placed}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("systemd")
@pytest.mark.requirement("config-linux.cgroups.path-relative")
def test_systemd_cgroups_path_names_slice_prefix_and_unit(containers, runtime, host):
    """runc's and crun's systemd driver read cgroupsPath as "slice:prefix:name"."""
    if not any("systemd" in a for a in runtime.subject.args):
        pytest.skip("the runtime runs without its systemd cgroup driver (--systemd-cgroup)")
    b = containers.bundle()
    name = containers.new_id()
    b.config["linux"]["cgroupsPath"] = f"system.slice:ocitest:{name}"
    report = containers.probe(b)
    placed = _placed(host, report)
    unit = f"/system.slice/ocitest-{name}.scope"
    wrong = {k: v for k, v in placed.items() if v != unit}
    assert placed and not wrong, violation(
        "config-linux.cgroups.path-relative",
        wanted=f"the container in the systemd unit {unit}",
        seen=f"/proc/self/cgroup: {placed}",
        evidence=[report.evidence],
    )


# --- ownership (since 1.1.0-rc.1) ------------------------------------------------------
UID = 1000
RW_CGROUP_MOUNT = {
    "destination": "/sys/fs/cgroup",
    "type": "cgroup",
    "source": "cgroup",
    "options": ["nosuid", "noexec", "nodev", "rw"],
}


def _delegation_bundle(containers, cgroupns: bool, rw_mount: bool):
    b = containers.bundle(args=probe_args())
    b.config["process"]["user"] = {"uid": UID, "gid": UID}
    if cgroupns:
        b.config["linux"]["namespaces"].append({"type": "cgroup"})
    if rw_mount:
        b.config["mounts"].append(dict(RW_CGROUP_MOUNT))
    return b


def _cgroup_dir(host, pid: int) -> str:
    groups = host.cgroups_of(pid)
    if host.cgroup_version() == 2:
        return "/sys/fs/cgroup" + groups.get("", "")
    return "/sys/fs/cgroup/memory" + next(
        (p for k, p in groups.items() if "memory" in k.split(",")), ""
    )


@pytest.mark.requires("cgroup_v1")
@pytest.mark.requirement("config-linux.cgroups.owner-not-on-v1")
def test_cgroup_v1_ownership_is_left_to_root(containers, runtime, host):
    b = _delegation_bundle(containers, cgroupns=True, rw_mount=True)
    c = containers.create(b)
    assert_created(c, "config-linux.cgroups.owner-not-on-v1")
    d = _cgroup_dir(host, _pid(runtime, c, "config-linux.cgroups.owner-not-on-v1"))
    owner = host.owner(d)
    assert owner == 0, violation(
        "config-linux.cgroups.owner-not-on-v1",
        wanted=f"{d} still owned by uid 0 (cgroup v1; process.user.uid {UID})",
        seen=f"owner {owner}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("cgroup_v2")
@pytest.mark.parametrize(
    "cgroupns, rw_mount, rid",
    [
        pytest.param(
            False,
            True,
            "config-linux.cgroups.owner-needs-cgroupns",
            marks=pytest.mark.requirement("config-linux.cgroups.owner-needs-cgroupns"),
            id="no-cgroupns",
        ),
        pytest.param(
            True,
            False,
            "config-linux.cgroups.owner-not-without-mount",
            marks=pytest.mark.requirement("config-linux.cgroups.owner-not-without-mount"),
            id="no-rw-mount",
        ),
    ],
)
def test_cgroup_ownership_is_kept_unless_delegated(
    containers, runtime, host, cgroupns, rw_mount, rid
):
    b = _delegation_bundle(containers, cgroupns=cgroupns, rw_mount=rw_mount)
    c = containers.create(b)
    assert_created(c, rid)
    d = _cgroup_dir(host, _pid(runtime, c, rid))
    owner = host.owner(d)
    assert owner == 0, violation(
        rid,
        wanted=f"{d} still owned by uid 0 (cgroup namespace: {cgroupns}, "
        f"read-write cgroup mount: {rw_mount})",
        seen=f"owner {owner}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("cgroup_v2")
@pytest.mark.requirement(
    "config-linux.cgroups.owner-when-rw-mount",
    "config-linux.cgroups.owner-delegated-files-only",
    "config-linux.cgroups.owner-missing-delegated-ok",
)
def test_a_delegated_cgroup_is_handed_to_the_process_user(containers, runtime, host):
    b = _delegation_bundle(containers, cgroupns=True, rw_mount=True)
    c = containers.create(b)
    assert_created(c, "config-linux.cgroups.owner-missing-delegated-ok")
    d = _cgroup_dir(host, _pid(runtime, c, "config-linux.cgroups.owner-when-rw-mount"))
    owner = host.owner(d)
    assert owner == UID, violation(
        "config-linux.cgroups.owner-when-rw-mount",
        wanted=f"{d} owned by uid {UID} (cgroup namespace and a read-write cgroup mount)",
        seen=f"owner {owner}",
        evidence=[c.create_result],
    )
    delegate = set((host.read_text("/sys/kernel/cgroup/delegate") or "").split())
    owners = host.owners_in(d)
    wrong = {f: o for f, o in owners.items() if (o == UID) != (f in delegate)}
    assert delegate and not wrong, violation(
        "config-linux.cgroups.owner-delegated-files-only",
        wanted=f"exactly the files of /sys/kernel/cgroup/delegate {sorted(delegate)} owned "
        f"by uid {UID}, every other file by root",
        seen=f"files with the wrong owner: {wrong}",
        evidence=[c.create_result],
    )


# --- the device allowlist --------------------------------------------------------------
#: /dev/kmsg (char 1:11) is in no runtime's default allowlist; opening it write-only
#: needs no privilege and writing nothing has no effect
KMSG = {"type": "c", "major": 1, "minor": 11}
KMSG_NODE = "/dev/ocitest-kmsg"


def _kmsg_bundle(containers, rules: list[dict]):
    b = containers.bundle()
    b.config["mounts"].append(
        {"destination": KMSG_NODE, "type": "bind", "source": "/dev/kmsg", "options": ["bind"]}
    )
    b.config["linux"]["resources"]["devices"] = [{"allow": False, "access": "rwm"}, *rules]
    return b


@pytest.mark.requirement("config-linux.devices-cgroup.applied")
def test_a_denied_device_cannot_be_opened_even_if_its_node_exists(containers):
    allowed = containers.probe(
        _kmsg_bundle(containers, [{"allow": True, **KMSG, "access": "w"}]), f"write:{KMSG_NODE}"
    )
    denied = containers.probe(_kmsg_bundle(containers, []), f"write:{KMSG_NODE}")
    a, d = allowed.action("write", KMSG_NODE), denied.action("write", KMSG_NODE)
    assert a and a["ok"] and d and not d["ok"] and d.get("error") == "EPERM", violation(
        "config-linux.devices-cgroup.applied",
        wanted=f"{KMSG_NODE} (c 1:11) opens for writing when the allowlist allows it and "
        "fails with EPERM when it only denies",
        seen=f"allowed: {a}; denied: {d}",
        evidence=[allowed.evidence, denied.evidence],
    )


@pytest.mark.requirement("config-linux.devices-cgroup.listed-order")
def test_device_allowlist_entries_apply_in_the_listed_order(containers):
    allow, deny = (
        {"allow": True, **KMSG, "access": "rwm"},
        {"allow": False, **KMSG, "access": "rwm"},
    )
    last_deny = containers.probe(_kmsg_bundle(containers, [allow, deny]), f"write:{KMSG_NODE}")
    last_allow = containers.probe(_kmsg_bundle(containers, [deny, allow]), f"write:{KMSG_NODE}")
    d, a = last_deny.action("write", KMSG_NODE), last_allow.action("write", KMSG_NODE)
    assert d and not d["ok"] and a and a["ok"], violation(
        "config-linux.devices-cgroup.listed-order",
        wanted="[allow c 1:11, deny c 1:11]: the open fails; [deny c 1:11, allow c 1:11]: "
        "it succeeds (the later entry wins)",
        seen=f"allow-then-deny: {d}; deny-then-allow: {a}",
        evidence=[last_deny.evidence, last_allow.evidence],
    )
