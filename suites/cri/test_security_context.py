"""LinuxContainerSecurityContext: user and groups, read-only root, privileged,
capabilities, no_new_privs, masked and read-only paths, seccomp, AppArmor.

Each test starts a container with one field of the security context set, then reads
what its process got from /proc/1/status (Uid, Gid, Groups, CapEff, NoNewPrivs,
Seccomp) or tries the one write the field forbids, through ExecSync (an exec'd process
gets the container's user, capabilities and seccomp filter). The test image has user
`ocitest` (1234, primary group 1234) and group `extra` (5678) of which it is a member.
"""

from __future__ import annotations

import json

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_succeed
from suites.messages import violation

USER, GROUP, EXTRA_GROUP = 1234, 5678, 5678
#: capability bits (linux/capability.h)
CAP_CHOWN, CAP_NET_ADMIN = 0, 12
#: devices a container gets without privileged (runtime-spec default devices)
DEFAULT_DEVICES = {"null", "zero", "full", "random", "urandom", "tty", "console", "ptmx"}
#: host devices a privileged container must see, those of them the host has
HOST_DEVICES = ("kmsg", "fuse", "loop-control", "kvm", "mem")


def _sc(**fields):
    """An edit of a LinuxContainerSecurityContext: sets each field (wrappers' value,
    lists extended, messages copied)."""

    def edit(sc):
        for name, value in fields.items():
            f = getattr(sc, name)
            if isinstance(value, list):
                f.extend(value)
            elif hasattr(value, "CopyFrom"):
                f.CopyFrom(value)
            elif hasattr(f, "value"):  # Int64Value
                f.value = value
            else:
                setattr(sc, name, value)

    return edit


def _start(pods, rid: str, edit, pod=None) -> str:
    """A running container whose security context `edit(sc)` changed."""
    cfg = pods.container_config()
    edit(cfg.linux.security_context)
    res = must_succeed(pods.create(pod or pods.pod(), cfg), rid)
    cid = res.response.container_id
    must_succeed(pods.cri.call("StartContainer", container_id=cid), rid)
    return cid


def _exec(pods, cid: str, rid: str, cmd: list[str]):
    return must_succeed(pods.exec(cid, cmd), rid)


def _proc_status(pods, cid: str, rid: str) -> tuple[dict[str, str], object]:
    """/proc/1/status of the container's process: field -> value, and the ExecSync."""
    res = _exec(pods, cid, rid, ["cat", "/proc/1/status"])
    assert res.response.exit_code == 0, violation(
        rid, wanted="/proc/1/status readable", seen=res.response.stderr[:200], evidence=[res]
    )
    fields = {}
    for line in res.response.stdout.decode().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return fields, res


def _check(rid: str, good: bool, wanted: str, seen: str, res) -> None:
    assert good, violation(rid, wanted=wanted, seen=seen, evidence=[res])


@pytest.mark.requirement("cri.security.run-as-user")
def test_run_as_user_sets_the_uid(pods):
    rid = "cri.security.run-as-user"
    cid = _start(pods, rid, _sc(run_as_user=USER))
    st, res = _proc_status(pods, cid, rid)
    uids = st.get("Uid", "").split()
    _check(rid, set(uids) == {str(USER)}, f"every Uid {USER}", f"Uid: {st.get('Uid')}", res)


@pytest.mark.requirement("cri.security.run-as-group")
def test_run_as_group_sets_the_gid(pods):
    rid = "cri.security.run-as-group"
    cid = _start(pods, rid, _sc(run_as_user=USER, run_as_group=GROUP))
    st, res = _proc_status(pods, cid, rid)
    gids = st.get("Gid", "").split()
    _check(rid, set(gids) == {str(GROUP)}, f"every Gid {GROUP}", f"Gid: {st.get('Gid')}", res)


@pytest.mark.requirement("cri.security.run-as-username")
@pytest.mark.variant("provenance")
def test_run_as_username_is_resolved_in_the_image(pods):
    rid = "cri.security.run-as-username"
    cid = _start(pods, rid, _sc(run_as_username="ocitest"))
    st, res = _proc_status(pods, cid, rid)
    uids = st.get("Uid", "").split()
    _check(
        rid,
        set(uids) == {str(USER)},
        f"every Uid {USER} (user ocitest in the image's /etc/passwd)",
        f"Uid: {st.get('Uid')}",
        res,
    )


@pytest.mark.requirement("cri.security.supplemental-groups")
@pytest.mark.variant("provenance")
def test_supplemental_groups_are_added_to_the_image_groups(pods):
    rid = "cri.security.supplemental-groups"
    cid = _start(pods, rid, _sc(run_as_user=USER, supplemental_groups=[4242]))
    st, res = _proc_status(pods, cid, rid)
    groups = set(st.get("Groups", "").split())
    wanted = {"4242", str(EXTRA_GROUP)}
    _check(
        rid,
        wanted <= groups,
        f"Groups include 4242 (given) and {EXTRA_GROUP} (extra, the user's group in the image)",
        f"Groups: {st.get('Groups')!r}",
        res,
    )


@pytest.mark.requirement("cri.security.readonly-rootfs")
def test_readonly_rootfs_refuses_writes_to_the_root(pods):
    rid = "cri.security.readonly-rootfs"
    cid = _start(pods, rid, _sc(readonly_rootfs=True))
    res = _exec(pods, cid, rid, ["sh", "-c", "echo x > /ocitest-ro"])
    _check(
        rid,
        res.response.exit_code != 0,
        "writing /ocitest-ro fails (read-only file system)",
        f"exit_code {res.response.exit_code}, stderr {res.response.stderr[:200]!r}",
        res,
    )


@pytest.mark.requirement("cri.security.privileged")
def test_privileged_container_has_every_capability_and_the_host_devices(pods, target):
    rid = "cri.security.privileged"
    pod_cfg = pods.pod_config()
    pod_cfg.linux.security_context.privileged = True
    cid = _start(pods, rid, _sc(privileged=True), pods.pod(pod_cfg))
    st, res = _proc_status(pods, cid, rid)
    host = target.run(["grep", "^CapBnd:", "/proc/self/status"], timeout=10).stdout
    bounding = host.partition(":")[2].strip()
    _check(
        rid,
        int(st.get("CapEff", "0"), 16) == int(bounding, 16),
        f"CapEff {bounding} (every capability the host's bounding set has)",
        f"CapEff {st.get('CapEff')}",
        res,
    )
    have = target.run(["ls", "/dev"], timeout=10).stdout.split()
    wanted = sorted(set(HOST_DEVICES) & set(have))
    dev = _exec(pods, cid, rid, ["ls", "/dev"])
    seen = set(dev.response.stdout.decode().split())
    missing = [d for d in wanted if d not in seen]
    _check(
        rid,
        wanted and not missing,
        f"the host's devices {wanted} in the container's /dev",
        f"missing {missing}; /dev holds {sorted(seen)[:40]}",
        dev,
    )


@pytest.mark.requirement("cri.security.capabilities")
def test_capabilities_are_added_and_dropped(pods):
    rid = "cri.security.capabilities"
    caps = pb.Capability(add_capabilities=["NET_ADMIN"], drop_capabilities=["CHOWN"])
    st, res = _proc_status(pods, _start(pods, rid, _sc(capabilities=caps)), rid)
    eff = int(st.get("CapEff", "0"), 16)
    _check(
        rid,
        bool(eff >> CAP_NET_ADMIN & 1) and not eff >> CAP_CHOWN & 1,
        "CapEff with CAP_NET_ADMIN (added) and without CAP_CHOWN (dropped)",
        f"CapEff {st.get('CapEff')}: NET_ADMIN {eff >> CAP_NET_ADMIN & 1}, "
        f"CHOWN {eff >> CAP_CHOWN & 1}",
        res,
    )


@pytest.mark.requirement("cri.security.no-new-privs")
def test_no_new_privs_sets_the_flag(pods):
    rid = "cri.security.no-new-privs"
    cid = _start(pods, rid, _sc(no_new_privs=True))
    st, res = _proc_status(pods, cid, rid)
    _check(
        rid,
        st.get("NoNewPrivs") == "1",
        "NoNewPrivs: 1",
        f"NoNewPrivs: {st.get('NoNewPrivs')}",
        res,
    )


@pytest.mark.requirement("cri.security.masked-paths")
def test_masked_path_cannot_be_read(pods):
    rid = "cri.security.masked-paths"
    cid = _start(pods, rid, _sc(masked_paths=["/etc/ocitest-image"]))
    res = _exec(pods, cid, rid, ["cat", "/etc/ocitest-image"])
    _check(
        rid,
        b"ocitest busybox image" not in res.response.stdout,
        "/etc/ocitest-image reads as empty (masked)",
        f"exit_code {res.response.exit_code}, stdout {res.response.stdout[:100]!r}",
        res,
    )


@pytest.mark.requirement("cri.security.readonly-paths")
def test_readonly_path_cannot_be_written(pods):
    rid = "cri.security.readonly-paths"
    cid = _start(pods, rid, _sc(readonly_paths=["/home"]))
    res = _exec(pods, cid, rid, ["sh", "-c", "echo x > /home/ocitest-ro"])
    _check(
        rid,
        res.response.exit_code != 0,
        "writing under /home fails (read-only path)",
        f"exit_code {res.response.exit_code}, stderr {res.response.stderr[:200]!r}",
        res,
    )


# seccomp mode in /proc/PID/status: 0 none, 1 strict, 2 filter
@pytest.mark.requirement("cri.security.seccomp-runtime-default")
@pytest.mark.parametrize("profile, mode", [("RuntimeDefault", "2"), ("Unconfined", "0")])
def test_seccomp_profile_type_filters_or_not(pods, profile, mode):
    rid = "cri.security.seccomp-runtime-default"
    kind = getattr(pb.SecurityProfile.ProfileType, profile)
    cid = _start(pods, rid, _sc(seccomp=pb.SecurityProfile(profile_type=kind)))
    st, res = _proc_status(pods, cid, rid)
    _check(
        rid,
        st.get("Seccomp") == mode,
        f"Seccomp: {mode} ({'a filter' if mode == '2' else 'no filter'}) with {profile}",
        f"Seccomp: {st.get('Seccomp')}",
        res,
    )


#: a profile that allows everything but mkdir and mkdirat (EPERM)
_LOCALHOST_PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
}


@pytest.mark.requirement("cri.security.seccomp-localhost")
def test_seccomp_localhost_profile_is_applied(pods, target):
    rid = "cri.security.seccomp-localhost"
    pod_cfg = pods.pod_config()
    path = f"{pod_cfg.log_directory}/seccomp-localhost.json"  # removed with the pod's logs
    target.make_dirs(pod_cfg.log_directory)
    target.write_text(path, json.dumps(_LOCALHOST_PROFILE))
    profile = pb.SecurityProfile(
        profile_type=pb.SecurityProfile.ProfileType.Localhost, localhost_ref=path
    )
    cid = _start(pods, rid, _sc(seccomp=profile), pods.pod(pod_cfg))
    res = _exec(pods, cid, rid, ["mkdir", "/tmp/ocitest-seccomp"])
    _check(
        rid,
        res.response.exit_code != 0,
        f"mkdir fails with EPERM (the profile at {path} denies mkdir and mkdirat)",
        f"exit_code {res.response.exit_code}, stderr {res.response.stderr[:200]!r}",
        res,
    )


@pytest.mark.requirement("cri.security.apparmor")
@pytest.mark.requires("apparmor_docker_default")
def test_apparmor_runtime_default_confines_the_process(pods):
    rid = "cri.security.apparmor"
    kind = pb.SecurityProfile.ProfileType.RuntimeDefault
    cid = _start(pods, rid, _sc(apparmor=pb.SecurityProfile(profile_type=kind)))
    res = _exec(pods, cid, rid, ["cat", "/proc/1/attr/current"])
    label = res.response.stdout.decode().strip()
    _check(
        rid,
        label.startswith("cri-containerd.apparmor.d") or label.startswith("docker-default"),
        "the process confined by the runtime's default AppArmor profile",
        f"/proc/1/attr/current {label!r}",
        res,
    )
