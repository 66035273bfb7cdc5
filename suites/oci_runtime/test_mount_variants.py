"""config.md#mounts, config-linux.md#masked-paths and #readonly-paths in the variants
where runtimes take a path of their own (CONVENTIONS.md, "Variants, the way bugs ship"):
long lists of mounts, options and paths, and a destination that is already there.

Every check reads the probe's mountinfo or a file through the mount; the files live in
the bundle's own rootfs copy (removed with it).
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import bundle_dir, mount_entry, rootfs_file

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
