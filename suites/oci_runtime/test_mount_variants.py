"""config.md#mounts, config-linux.md#masked-paths and #readonly-paths in the variants
where runtimes take a path of their own (CONVENTIONS.md, "Variants, the way bugs ship"):
long lists of mounts, options and paths, and a destination that is already there.

Every check reads the probe's mountinfo or a file through the mount; the files live in
the bundle's own rootfs copy (removed with it).
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import (
    bundle_dir,
    mount_entry,
    rootfs_file,
    with_identity_user_namespace,
)

SECRET = "ocitest-secret\n"
#: more entries than the baseline's lists (4 masked, 5 read-only paths, 6 mounts) by far
MANY = 10


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config-linux.masked-paths.unreadable")
def test_every_path_of_a_long_masked_list_is_unreadable(containers):
    b = containers.bundle()
    paths = [f"/etc/ocitest-masked-{i}" for i in range(MANY)]
    for p in paths:
        rootfs_file(b, p, SECRET)
    b.config["linux"]["maskedPaths"] += paths
    probe = containers.probe(b, *(f"read:{p}" for p in paths))
    readable = {p: probe.read(p) for p in paths if probe.read(p) not in (None, "")}
    assert not readable, violation(
        "config-linux.masked-paths.unreadable",
        wanted=f"each of the {len(b.config['linux']['maskedPaths'])} maskedPaths reads nothing",
        seen=f"readable: {sorted(readable)}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config-linux.readonly-paths.read-only")
def test_every_path_of_a_long_readonly_list_refuses_writes(containers):
    b = containers.bundle()
    paths = [f"/etc/ocitest-ro-{i}" for i in range(MANY)]
    for p in paths:
        rootfs_file(b, p, "unchanged\n")
    b.config["linux"]["readonlyPaths"] += paths
    probe = containers.probe(b, *(f"write:{p}" for p in paths))
    errors = {p: (probe.action("write", p) or {}).get("error") for p in paths}
    writable = sorted(p for p, e in errors.items() if e != "EROFS")
    assert not writable, violation(
        "config-linux.readonly-paths.read-only",
        wanted=f"opening each of the {len(b.config['linux']['readonlyPaths'])} readonlyPaths "
        "for writing fails with EROFS",
        seen=f"not EROFS: {[(p, errors[p]) for p in writable]}",
        evidence=[probe],
    )


#: mount flags after data options: a runtime that keeps only the first few loses the flags
OPTIONS = ["mode=700", "size=1m", "nosuid", "nodev", "noexec", "noatime", "ro"]


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.mounts.mounted-as-asked")
def test_a_mount_with_many_options_has_every_flag(containers):
    b = containers.bundle()
    b.config["mounts"].append(mount_entry("/mnt/many-options", options=OPTIONS))
    probe = containers.probe(b)
    m = probe.mount("/mnt/many-options")
    wanted = {"nosuid", "nodev", "noexec", "noatime", "ro"}
    seen = sorted(m.options) if m else None
    assert m and wanted <= m.options, violation(
        "config.mounts.mounted-as-asked",
        wanted=f"a tmpfs at /mnt/many-options with mount flags {sorted(wanted)} "
        f"(options {OPTIONS})",
        seen=f"mount flags {seen}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.mounts.mounted-as-asked")
def test_every_mount_of_a_long_list_is_mounted(containers):
    b = containers.bundle()
    wanted = [f"/mnt/many-{i:02d}" for i in range(2 * MANY)]
    b.config["mounts"] += [mount_entry(d) for d in wanted]
    probe = containers.probe(b)
    missing = [d for d in wanted if probe.mount(d) is None]
    assert not missing, violation(
        "config.mounts.mounted-as-asked",
        wanted=f"all {len(b.config['mounts'])} mounts in place",
        seen=f"not mounted: {missing}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("state-present")
@pytest.mark.requirement("config.mounts.mounted-as-asked")
def test_a_bind_mount_over_an_existing_file_shows_the_source(containers):
    b = containers.bundle()
    source = bundle_dir(b, "ocitest-bind-src", {"marker": "ocitest-from-source\n"})
    rootfs_file(b, "/etc/ocitest-present", "ocitest-already-there\n")
    b.config["mounts"].append(
        mount_entry(
            "/etc/ocitest-present", type="none", source=f"{source}/marker", options=["bind"]
        )
    )
    probe = containers.probe(b, "read:/etc/ocitest-present")
    content = probe.read("/etc/ocitest-present")
    assert content == "ocitest-from-source\n", violation(
        "config.mounts.mounted-as-asked",
        wanted="/etc/ocitest-present (a file already in the rootfs) reads the bind source: "
        "'ocitest-from-source'",
        seen=f"read {content!r}",
        evidence=[probe],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config-linux.masked-paths.unreadable")
def test_a_masked_path_is_unreadable_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    rootfs_file(b, "/etc/ocitest-masked-userns", SECRET)
    b.config["linux"]["maskedPaths"].append("/etc/ocitest-masked-userns")
    probe = containers.probe(b, "read:/etc/ocitest-masked-userns")
    content = probe.read("/etc/ocitest-masked-userns")
    assert content in (None, ""), violation(
        "config-linux.masked-paths.unreadable",
        wanted="/etc/ocitest-masked-userns reads nothing (with a user namespace)",
        seen=f"read {content!r}",
        evidence=[probe],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config-linux.readonly-paths.read-only")
def test_a_readonly_path_refuses_writes_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    rootfs_file(b, "/etc/ocitest-ro-userns", "unchanged\n")
    b.config["linux"]["readonlyPaths"].append("/etc/ocitest-ro-userns")
    probe = containers.probe(b, "write:/etc/ocitest-ro-userns")
    w = probe.action("write", "/etc/ocitest-ro-userns") or {}
    assert w.get("error") == "EROFS", violation(
        "config-linux.readonly-paths.read-only",
        wanted="opening /etc/ocitest-ro-userns for writing fails with EROFS (with a user namespace)",
        seen=f"{w or 'no report'}",
        evidence=[probe],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.mounts.mounted-as-asked")
def test_a_readonly_mount_is_read_only_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    b.config["mounts"].append(mount_entry("/mnt/ro-userns", options=["nosuid", "ro"]))
    probe = containers.probe(b)
    m = probe.mount("/mnt/ro-userns")
    assert m and "ro" in m.options, violation(
        "config.mounts.mounted-as-asked",
        wanted="a tmpfs at /mnt/ro-userns mounted ro (with a user namespace)",
        seen=f"mount flags {sorted(m.options) if m else None}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.mounts.in-order")
def test_a_long_list_of_nested_mounts_is_mounted_in_order(containers):
    b = containers.bundle()
    chain = ["/mnt/n"]
    for i in range(MANY - 1):
        chain.append(f"{chain[-1]}/{i}")
    b.config["mounts"] += [mount_entry(d) for d in chain]
    probe = containers.probe(b)
    mounts = [probe.mount(d) for d in chain]
    wrong = [
        chain[i]
        for i in range(1, len(chain))
        if not (mounts[i] and mounts[i - 1] and mounts[i].parent_id == mounts[i - 1].mount_id)
    ]
    assert mounts[0] and not wrong, violation(
        "config.mounts.in-order",
        wanted=f"{len(chain)} nested tmpfs mounts, each on top of the one listed before it",
        seen=f"not on top of its predecessor: {wrong}" if mounts[0] else f"no mount at {chain[0]}",
        evidence=[probe],
    )
