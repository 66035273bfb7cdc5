"""config.md#linux-mount-options: each option string of the table, seen in mountinfo.

Three layouts, all tmpfs (nothing of the host is mounted or bound):
- fresh: one tmpfs at /mnt/o with the option (a clearing option such as `suid` comes
  after its opposite, `nosuid`, as in mount(8) the later one wins);
- rbind: tmpfs at /a, tmpfs at /a/sub, then /b a bind mount of the bundle's rootfs/a with
  the option. The source is resolved where the runtime mounts, i.e. in the container's
  mount namespace after the earlier entries (as runc and crun do), so /b carries /a/sub
  along when the bind is recursive. Recursive (`r*`) options are judged on /b/sub;
- propagation: the rbind layout with /a and /a/sub shared (or private, for `shared` and
  `rshared`), under rootfsPropagation private so the runtime's own default for / cannot
  undo the option.
The table holds since runtime-spec 1.1.0 (before, options were "those of mount(8)").
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.features import needs_feature
from suites.oci_runtime.helpers import mount_entry, rootfs_file

#: (field, flag, present): "options" are per-mount flags, "super" superblock options
Check = tuple[str, str, bool]

#: option -> (options of the fresh tmpfs, checks on /mnt/o)
FRESH: dict[str, tuple[list[str], list[Check]]] = {
    "ro": (["ro"], [("options", "ro", True)]),
    "rw": (["ro", "rw"], [("options", "rw", True)]),
    "nosuid": (["nosuid"], [("options", "nosuid", True)]),
    "suid": (["nosuid", "suid"], [("options", "nosuid", False)]),
    "nodev": (["nodev"], [("options", "nodev", True)]),
    "dev": (["nodev", "dev"], [("options", "nodev", False)]),
    "noexec": (["noexec"], [("options", "noexec", True)]),
    "exec": (["noexec", "exec"], [("options", "noexec", False)]),
    "noatime": (["noatime"], [("options", "noatime", True)]),
    "atime": (["noatime", "atime"], [("options", "noatime", False)]),
    "nodiratime": (["nodiratime"], [("options", "nodiratime", True)]),
    "diratime": (["nodiratime", "diratime"], [("options", "nodiratime", False)]),
    "relatime": (["relatime"], [("options", "relatime", True)]),
    "strictatime": (
        ["strictatime"],
        [("options", "relatime", False), ("options", "noatime", False)],
    ),
    "nostrictatime": (["strictatime", "nostrictatime"], [("options", "relatime", True)]),
    "nosymfollow": (["nosymfollow"], [("options", "nosymfollow", True)]),
    "symfollow": (["nosymfollow", "symfollow"], [("options", "nosymfollow", False)]),
    "sync": (["sync"], [("super", "sync", True)]),
    "async": (["sync", "async"], [("super", "sync", False)]),
    "dirsync": (["dirsync"], [("super", "dirsync", True)]),
    "lazytime": (["lazytime"], [("super", "lazytime", True)]),
    "nolazytime": (["lazytime", "nolazytime"], [("super", "lazytime", False)]),
    "mand": (["mand"], [("super", "mand", True)]),
    "nomand": (["mand", "nomand"], [("super", "mand", False)]),
    # accepted, with no effect mountinfo shows (a runtime that does not know them hands
    # them to tmpfs as data, which tmpfs refuses, so create fails)
    "defaults": (["defaults"], [("options", "rw", True), ("options", "nosuid", False)]),
    "iversion": (["iversion"], []),
    "noiversion": (["noiversion"], []),
    "silent": (["silent"], []),
    "loud": (["loud"], []),
    # norelatime names no atime mode of its own: the mount keeps the kernel's default
    # (relatime), neither strict nor noatime
    "norelatime": (["norelatime"], [("options", "relatime", True), ("options", "noatime", False)]),
}

#: option -> (options of the /a/sub tmpfs, options of the /b bind after "rbind", checks on /b/sub)
RECURSIVE: dict[str, tuple[list[str], list[str], list[Check]]] = {
    "rro": ([], ["rro"], [("options", "ro", True)]),
    "rrw": ([], ["rro", "rrw"], [("options", "rw", True)]),
    "rnosuid": ([], ["rnosuid"], [("options", "nosuid", True)]),
    "rsuid": (["nosuid"], ["rsuid"], [("options", "nosuid", False)]),
    "rdev": (["nodev"], ["rdev"], [("options", "nodev", False)]),
    "rnoexec": ([], ["rnoexec"], [("options", "noexec", True)]),
    "rexec": (["noexec"], ["rexec"], [("options", "noexec", False)]),
    "rnoatime": ([], ["rnoatime"], [("options", "noatime", True)]),
    "ratime": (["noatime"], ["ratime"], [("options", "noatime", False)]),
    "rnodiratime": ([], ["rnodiratime"], [("options", "nodiratime", True)]),
    "rdiratime": (["nodiratime"], ["rdiratime"], [("options", "nodiratime", False)]),
    "rstrictatime": (
        [],
        ["rstrictatime"],
        [("options", "relatime", False), ("options", "noatime", False)],
    ),
    "rrelatime": (["strictatime"], ["rrelatime"], [("options", "relatime", True)]),
    "rnostrictatime": (["strictatime"], ["rnostrictatime"], [("options", "relatime", True)]),
    "rnorelatime": (
        [],
        ["rnorelatime"],
        [("options", "relatime", True), ("options", "noatime", False)],
    ),
    "rnosymfollow": ([], ["rnosymfollow"], [("options", "nosymfollow", True)]),
    "rsymfollow": (["nosymfollow"], ["rsymfollow"], [("options", "nosymfollow", False)]),
}

#: option -> (source mounts shared?, propagation of /b, propagation of /b/sub)
PROPAGATION: dict[str, tuple[bool, str, str]] = {
    "private": (True, "private", "shared"),
    "rprivate": (True, "private", "private"),
    "slave": (True, "slave", "shared"),
    "rslave": (True, "slave", "slave"),
    "unbindable": (True, "unbindable", "shared"),
    "runbindable": (True, "unbindable", "unbindable"),
    "shared": (False, "shared", "private"),
    "rshared": (False, "shared", "shared"),
}


def _params(table: dict) -> list:
    return [
        pytest.param(o, marks=pytest.mark.requirement(f"config.mounts.option-{o}"), id=o)
        for o in table
    ]


def _describe(m) -> str:
    if m is None:
        return "no mount"
    return (
        f"{m.mount_point}: {','.join(sorted(m.options))} "
        f"(super {','.join(sorted(m.super_options))}) {' '.join(m.optional) or 'private'}"
    )


def _judge(rid: str, probe, path: str, checks: list[Check], what: str) -> None:
    m = probe.mount(path)
    ok = m is not None and all(
        (flag in (m.options if field == "options" else m.super_options)) == present
        for field, flag, present in checks
    )
    wanted = ", ".join(f"{field} {'with' if p else 'without'} {flag}" for field, flag, p in checks)
    assert ok, violation(
        rid,
        wanted=f"{what}: a mount at {path}" + (f" with {wanted}" if wanted else ""),
        seen=_describe(m),
        evidence=[probe],
    )


def _rbind_layout(b, sub_options: list[str], bind_options: list[str], shared: bool) -> None:
    extra = ["shared"] if shared else []
    b.config["mounts"] += [
        mount_entry("/a", extra or None),
        mount_entry("/a/sub", [*extra, *sub_options] or None),
        {"destination": "/b", "type": "bind", "source": "rootfs/a", "options": bind_options},
    ]


@pytest.mark.requires("root")
@pytest.mark.parametrize("option", _params(FRESH))
def test_mount_option_is_applied(containers, runtime, option):
    needs_feature(runtime, "mountOptions", value=option)
    options, checks = FRESH[option]
    b = containers.bundle()
    b.config["mounts"].append(mount_entry("/mnt/o", options))
    probe = containers.probe(b)
    _judge(f"config.mounts.option-{option}", probe, "/mnt/o", checks, f"options {options}")


@pytest.mark.requires("root")
@pytest.mark.parametrize("option", _params(RECURSIVE))
def test_recursive_mount_option_reaches_submounts(containers, runtime, option):
    needs_feature(runtime, "mountOptions", value=option)
    sub_options, bind_options, checks = RECURSIVE[option]
    b = containers.bundle()
    _rbind_layout(b, sub_options, ["rbind", *bind_options], shared=False)
    probe = containers.probe(b)
    what = f"/a/sub with {sub_options}, /b = rbind of /a with {bind_options}"
    _judge(f"config.mounts.option-{option}", probe, "/b/sub", checks, what)


@pytest.mark.requires("root")
@pytest.mark.parametrize("option", _params(PROPAGATION))
def test_propagation_mount_option_is_applied(containers, runtime, option):
    needs_feature(runtime, "mountOptions", value=option)
    shared, top, sub = PROPAGATION[option]
    b = containers.bundle()
    b.config["linux"]["rootfsPropagation"] = "private"
    _rbind_layout(b, [], ["rbind", option], shared=shared)
    probe = containers.probe(b)
    seen = {p: probe.mount(p) for p in ("/b", "/b/sub")}
    got = {p: m.propagation if m else None for p, m in seen.items()}
    assert got == {"/b": top, "/b/sub": sub}, violation(
        f"config.mounts.option-{option}",
        wanted=f"rbind of {'shared' if shared else 'private'} /a with {option}: "
        f"/b {top}, /b/sub {sub}",
        seen="; ".join(_describe(m) for m in seen.values()),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.option-shared")
def test_shared_mount_option_holds_under_the_default_rootfs_propagation(containers, runtime):
    needs_feature(runtime, "mountOptions", value="shared")
    b = containers.bundle()
    b.config["mounts"].append(mount_entry("/mnt/o", ["shared"]))
    probe = containers.probe(b)
    m = probe.mount("/mnt/o")
    assert m and m.propagation == "shared", violation(
        "config.mounts.option-shared",
        wanted="a shared tmpfs at /mnt/o (rootfsPropagation not set)",
        seen=_describe(m),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.parametrize("option", _params(["bind", "rbind"]))
def test_bind_mount_carries_submounts_only_when_recursive(containers, runtime, option):
    needs_feature(runtime, "mountOptions", value=option)
    b = containers.bundle()
    _rbind_layout(b, [], [option], shared=False)
    probe = containers.probe(b)
    top, sub = probe.mount("/b"), probe.mount("/b/sub")
    ok = top is not None and (sub is not None) == (option == "rbind")
    assert ok, violation(
        f"config.mounts.option-{option}",
        wanted=f"/b a bind mount of /a, {'with' if option == 'rbind' else 'without'} "
        "/a/sub's mount at /b/sub",
        seen=f"{_describe(top)}; {_describe(sub)}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.option-remount")
def test_remount_option_changes_the_mount_already_there(containers, runtime):
    needs_feature(runtime, "mountOptions", value="remount")
    b = containers.bundle()
    b.config["mounts"] += [
        mount_entry("/mnt/o", ["nosuid"]),
        mount_entry("/mnt/o", ["remount", "ro"]),
    ]
    probe = containers.probe(b)
    at = [m for m in probe.mounts if m.mount_point == "/mnt/o"]
    assert len(at) == 1 and "ro" in at[0].options, violation(
        "config.mounts.option-remount",
        wanted="one tmpfs at /mnt/o, made read-only by the second entry (remount, ro)",
        seen="; ".join(_describe(m) for m in at) or "no mount",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.option-tmpcopyup")
def test_tmpcopyup_fills_the_tmpfs_with_the_directory_content(containers, runtime):
    needs_feature(runtime, "mountOptions", value="tmpcopyup")
    b = containers.bundle()
    rootfs_file(b, "/ocitest-copyup/kept", "kept\n")
    b.config["mounts"].append(mount_entry("/ocitest-copyup", ["tmpcopyup"]))
    probe = containers.probe(b, "read:/ocitest-copyup/kept")
    m = probe.mount("/ocitest-copyup")
    ok = m is not None and m.fstype == "tmpfs" and probe.read("/ocitest-copyup/kept") == "kept\n"
    assert ok, violation(
        "config.mounts.option-tmpcopyup",
        wanted="a tmpfs at /ocitest-copyup holding the file kept ('kept\\n') copied up",
        seen=f"{_describe(m)}; {probe.action('read', '/ocitest-copyup/kept')}",
        evidence=[probe],
    )
