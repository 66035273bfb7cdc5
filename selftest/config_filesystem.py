"""Mutants of area "filesystem": runtimes that build the container's filesystem wrongly.

Each one edits config.json just before create (see declare.py), as a runtime that
ignored or misread that part of the config would. Mounts of the baseline config (/proc,
/dev, ...) are left alone unless the mutant is about them, so the probe still runs.
"""

from __future__ import annotations

from selftest.declare import edit_mutant

#: destinations of the baseline config's mounts (infra/images/bundle.py)
BASELINE_MOUNTS = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}


def _test_mounts(cfg: dict) -> list[dict]:
    """The mounts a test added to the baseline ones."""
    return [m for m in cfg.get("mounts") or [] if m.get("destination") not in BASELINE_MOUNTS]


@edit_mutant(
    "drops-ro-mount-option",
    breaks="the ro option of a mount is not applied (dropped from the test's mounts)",
    fails=["test_mounts.py::test_tmpfs_mount_has_its_type_and_options"],
    requirements=["config.mounts.mounted-as-asked"],
)
def _(cfg: dict) -> bool:
    hit = False
    for m in _test_mounts(cfg):
        if "ro" in (m.get("options") or []):
            m["options"] = [o for o in m["options"] if o != "ro"]
            hit = True
    return hit


@edit_mutant(
    "drops-fs-data-options",
    breaks="filesystem-specific options (size=, mode=) never reach mount(2)'s data",
    fails=["test_mounts.py::test_filesystem_specific_options_reach_the_filesystem"],
    requirements=["config.mounts.unknown-options-as-data"],
)
def _(cfg: dict) -> bool:
    hit = False
    for m in _test_mounts(cfg):
        kept = [o for o in m.get("options") or [] if "=" not in o]
        if kept != (m.get("options") or []):
            m["options"] = kept
            hit = True
    return hit


@edit_mutant(
    "reverses-mounts",
    breaks="mounts are mounted in reverse order (the test's entries only)",
    fails=["test_mounts.py::test_mounts_are_mounted_in_the_listed_order"],
    requirements=["config.mounts.in-order"],
)
def _(cfg: dict) -> bool:
    extra = _test_mounts(cfg)
    if len(extra) < 2:
        return False
    base = [m for m in cfg["mounts"] if m not in extra]
    cfg["mounts"] = base + extra[::-1]
    return True


@edit_mutant(
    "drops-bind-mounts",
    breaks="bind mounts are left out",
    fails=[
        "test_mounts.py::test_bind_mount_shows_the_source_directory",
        "test_mounts.py::test_relative_bind_source_is_taken_from_the_bundle",
    ],
    requirements=["config.mounts.mounted-as-asked", "config.mounts.bind-source-from-bundle"],
)
def _(cfg: dict) -> bool:
    binds = [m for m in _test_mounts(cfg) if {"bind", "rbind"} & set(m.get("options") or [])]
    cfg["mounts"] = [m for m in cfg.get("mounts") or [] if m not in binds]
    return bool(binds)


@edit_mutant(
    "bind-source-from-rootfs",
    breaks="a relative bind-mount source is taken from the rootfs, not from the bundle",
    fails=["test_mounts.py::test_relative_bind_source_is_taken_from_the_bundle"],
    requirements=["config.mounts.bind-source-from-bundle"],
)
def _(cfg: dict) -> bool:
    hit = False
    for m in _test_mounts(cfg):
        src = m.get("source", "")
        if {"bind", "rbind"} & set(m.get("options") or []) and src and src[0] != "/":
            m["source"] = "rootfs/" + src
            hit = True
    return hit


@edit_mutant(
    "drops-default-filesystems",
    breaks="/dev/pts and /dev/shm are not mounted",
    fails=[
        "test_mounts.py::test_default_filesystem_is_mounted[dev-pts]",
        "test_mounts.py::test_default_filesystem_is_mounted[dev-shm]",
    ],
    requirements=[
        "config-linux.default-filesystems.dev-pts",
        "config-linux.default-filesystems.dev-shm",
    ],
)
def _(cfg: dict) -> bool:
    drop = {"/dev/pts", "/dev/shm"}
    before = len(cfg.get("mounts") or [])
    cfg["mounts"] = [m for m in cfg.get("mounts") or [] if m.get("destination") not in drop]
    return len(cfg["mounts"]) != before


@edit_mutant(
    "drops-masked-paths",
    breaks="maskedPaths are not masked",
    fails=[
        "test_masked_readonly_paths.py::test_masked_file_cannot_be_read",
        "test_masked_readonly_paths.py::test_masked_directory_shows_no_entries",
    ],
    requirements=["config-linux.masked-paths.unreadable"],
)
def _(cfg: dict) -> bool:
    return bool(cfg.get("linux", {}).pop("maskedPaths", None))


@edit_mutant(
    "ignores-readonly-paths",
    breaks="readonlyPaths stay writable",
    fails=[
        "test_masked_readonly_paths.py::test_readonly_file_refuses_writes",
        "test_masked_readonly_paths.py::test_readonly_directory_refuses_new_files",
    ],
    requirements=["config-linux.readonly-paths.read-only"],
)
def _(cfg: dict) -> bool:
    return bool(cfg.get("linux", {}).pop("readonlyPaths", None))


@edit_mutant(
    "wrong-device-numbers",
    breaks="devices are made with the minor number plus one",
    fails=[
        "test_devices.py::test_device_is_created_with_its_type_and_numbers[c]",
        "test_devices.py::test_device_is_created_with_its_type_and_numbers[b]",
        "test_devices.py::test_device_is_created_with_its_type_and_numbers[u]",
    ],
    requirements=["config-linux.devices.available"],
)
def _(cfg: dict) -> bool:
    hit = False
    for d in cfg.get("linux", {}).get("devices") or []:
        if "minor" in d:
            d["minor"] += 1
            hit = True
    return hit


@edit_mutant(
    "ignores-device-mode-and-owner",
    breaks="a device's fileMode, uid and gid are ignored (0666, root-owned)",
    fails=[
        "test_devices.py::test_device_has_its_file_mode",
        "test_devices.py::test_device_is_owned_by_its_uid_and_gid",
    ],
    requirements=["config-linux.devices.file-mode", "config-linux.devices.owner"],
)
def _(cfg: dict) -> bool:
    hit = False
    for d in cfg.get("linux", {}).get("devices") or []:
        for key in ("fileMode", "uid", "gid"):
            hit = d.pop(key, None) is not None or hit
    return hit


@edit_mutant(
    "wrong-dev-zero",
    breaks="the default /dev/zero is the null device (1:3)",
    fails=["test_devices.py::test_default_device_is_supplied[zero]"],
    requirements=["config-linux.default-devices.zero"],
)
def _(cfg: dict) -> bool:
    devices = cfg.setdefault("linux", {}).setdefault("devices", [])
    devices.append({"path": "/dev/zero", "type": "c", "major": 1, "minor": 3, "fileMode": 438})
    return True


#: default device -> the numbers the mutant below gives it (another default's)
SWAPPED_DEFAULT_DEVICES = {
    "/dev/null": (1, 7),
    "/dev/full": (1, 3),
    "/dev/random": (1, 9),
    "/dev/urandom": (1, 8),
    "/dev/tty": (1, 5),
}


@edit_mutant(
    "wrong-default-devices",
    breaks="the default devices get each other's numbers (null, full, random, urandom, tty)",
    fails=[
        f"test_devices.py::test_default_device_is_supplied[{n}]"
        for n in ("null", "full", "random", "urandom", "tty")
    ],
    requirements=[
        f"config-linux.default-devices.{n}" for n in ("null", "full", "random", "urandom", "tty")
    ],
)
def _(cfg: dict) -> bool:
    # only the devices the program looks at (the probe's stat: actions), so the
    # container's other work (the probe's own stdio) is not disturbed
    args = " ".join((cfg.get("process") or {}).get("args") or [])
    devices = cfg.setdefault("linux", {}).setdefault("devices", [])
    listed = {d.get("path") for d in devices}
    added = [
        {"path": p, "type": "c", "major": ma, "minor": mi, "fileMode": 438}
        for p, (ma, mi) in SWAPPED_DEFAULT_DEVICES.items()
        if p not in listed and p in args
    ]
    devices.extend(added)
    return bool(added)


@edit_mutant(
    "wrong-rootfs-propagation",
    breaks="rootfsPropagation is applied as another value (shared->private->unbindable->shared)",
    fails=[
        "test_masked_readonly_paths.py::test_rootfs_has_the_requested_propagation[shared]",
        "test_masked_readonly_paths.py::test_rootfs_has_the_requested_propagation[private]",
        "test_masked_readonly_paths.py::test_rootfs_has_the_requested_propagation[unbindable]",
    ],
    requirements=[
        "config-linux.rootfs-propagation.shared",
        "config-linux.rootfs-propagation.private",
        "config-linux.rootfs-propagation.unbindable",
    ],
    base="crun",
)
def _(cfg: dict) -> bool:
    rotate = {"shared": "private", "private": "unbindable", "unbindable": "shared"}
    linux = cfg.get("linux", {})
    if linux.get("rootfsPropagation") not in rotate:
        return False
    linux["rootfsPropagation"] = rotate[linux["rootfsPropagation"]]
    return True


#: mount options that set a per-mount or superblock flag (config.md#linux-mount-options)
SETTING_OPTIONS = {
    "ro",
    "nosuid",
    "nodev",
    "noexec",
    "noatime",
    "nodiratime",
    "relatime",
    "strictatime",
    "nosymfollow",
    "sync",
    "dirsync",
    "lazytime",
    "mand",
}
#: options that clear a flag an earlier option set
CLEARING_OPTIONS = {
    "rw",
    "suid",
    "dev",
    "exec",
    "atime",
    "diratime",
    "nostrictatime",
    "symfollow",
    "async",
    "nolazytime",
    "nomand",
}
#: propagation options
PROPAGATION_OPTIONS = {
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
}
MO = "test_mount_options.py::"
#: the options whose tests each mutant below fails (the others have no check it can break,
#: or the base runtime already fails them)
SET_IN_TESTS = [
    "dirsync",
    "lazytime",
    "mand",
    "noatime",
    "nodev",
    "nodiratime",
    "noexec",
    "nosuid",
    "nosymfollow",
    "ro",
    "strictatime",
    "sync",
]
CLEARED_IN_TESTS = [
    "async",
    "atime",
    "dev",
    "diratime",
    "exec",
    "nolazytime",
    "nomand",
    "nostrictatime",
    "rw",
    "suid",
    "symfollow",
]
PROPAGATED_IN_TESTS = [
    "private",
    "rshared",
    "rslave",
    "runbindable",
    "shared",
    "slave",
    "unbindable",
]
RECURSIVE_IN_TESTS = [
    "rdev",
    "rdiratime",
    "rexec",
    "rnoatime",
    "rnodiratime",
    "rnoexec",
    "rnosuid",
    "rnosymfollow",
    "rrelatime",
    "rro",
    "rstrictatime",
    "rsuid",
    "rsymfollow",
]


def _drop_options(cfg: dict, drop: set[str]) -> bool:
    hit = False
    for m in _test_mounts(cfg):
        kept = [o for o in m.get("options") or [] if o not in drop]
        if kept != (m.get("options") or []):
            m["options"] = kept
            hit = True
    return hit


@edit_mutant(
    "ignores-mount-flags",
    breaks="mount options that set a flag (nosuid, noexec, noatime, sync, ...) are dropped",
    fails=[MO + f"test_mount_option_is_applied[{o}]" for o in SET_IN_TESTS]
    + [MO + "test_remount_option_changes_the_mount_already_there"],
    requirements=[f"config.mounts.option-{o}" for o in (*SET_IN_TESTS, "remount")],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _drop_options(cfg, SETTING_OPTIONS)


@edit_mutant(
    "ignores-clearing-mount-options",
    breaks="mount options that clear a flag (rw, suid, exec, atime, async, ...) are dropped",
    fails=[MO + f"test_mount_option_is_applied[{o}]" for o in CLEARED_IN_TESTS],
    requirements=[f"config.mounts.option-{o}" for o in CLEARED_IN_TESTS],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _drop_options(cfg, CLEARING_OPTIONS)


@edit_mutant(
    "recursive-options-not-recursive",
    breaks="recursive mount options (rro, rnosuid, ...) apply to the mount only, not its submounts",
    fails=[MO + f"test_recursive_mount_option_reaches_submounts[{o}]" for o in RECURSIVE_IN_TESTS],
    requirements=[f"config.mounts.option-{o}" for o in RECURSIVE_IN_TESTS],
    also_passes=[MO + "test_recursive_mount_option_reaches_submounts[rrw]"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    hit = False
    for m in _test_mounts(cfg):
        opts = m.get("options") or []
        flat = [
            o[1:]
            if o.startswith("r")
            and o not in ("rw", "rbind", "relatime")
            and o[1:] in SETTING_OPTIONS | CLEARING_OPTIONS | {"norelatime"}
            else o
            for o in opts
        ]
        if flat != opts:
            m["options"] = flat
            hit = True
    return hit


@edit_mutant(
    "ignores-propagation-options",
    breaks="propagation options of mounts (private, shared, slave, unbindable, r*) are dropped",
    fails=[MO + f"test_propagation_mount_option_is_applied[{o}]" for o in PROPAGATED_IN_TESTS]
    + [MO + "test_shared_mount_option_holds_under_the_default_rootfs_propagation"],
    requirements=[f"config.mounts.option-{o}" for o in PROPAGATED_IN_TESTS],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _drop_options(cfg, PROPAGATION_OPTIONS)


@edit_mutant(
    "norelatime-means-strictatime",
    breaks="norelatime and rnorelatime are taken for strictatime and rstrictatime",
    fails=[
        MO + "test_mount_option_is_applied[norelatime]",
        MO + "test_recursive_mount_option_reaches_submounts[rnorelatime]",
    ],
    requirements=["config.mounts.option-norelatime", "config.mounts.option-rnorelatime"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    swap = {"norelatime": "strictatime", "rnorelatime": "rstrictatime"}
    hit = False
    for m in _test_mounts(cfg):
        opts = m.get("options") or []
        new = [swap.get(o, o) for o in opts]
        if new != opts:
            m["options"], hit = new, True
    return hit


@edit_mutant(
    "relative-destination-from-cwd",
    breaks="a relative mount destination is taken from the process's cwd, not the root",
    fails=[
        "test_mounts.py::test_relative_destination_is_taken_from_the_container_root",
        "test_config_errors.py::test_a_relative_mount_destination_is_taken_from_the_root",
    ],
    requirements=[
        "config.mounts.destination-relative-from-root",
        "config.errors.mount-destination-relative-from-root",
    ],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    cwd = (cfg.get("process") or {}).get("cwd") or "/"
    hit = False
    for m in _test_mounts(cfg):
        dest = m.get("destination") or ""
        if dest and not dest.startswith("/"):
            m["destination"], hit = cwd.rstrip("/") + "/" + dest, True
    return hit
