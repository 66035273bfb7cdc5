"""config-linux.md#masked-paths, #readonly-paths and #rootfs-mount-propagation.

Masked and read-only paths are files and directories the test puts in the bundle's own
rootfs copy, so what the probe reads there is known.
"""

from __future__ import annotations

import pytest

from infra.outcomes import unsupported
from suites.messages import violation
from suites.oci_runtime.helpers import rootfs_file

SECRET = "ocitest-secret\n"


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.masked-paths.unreadable")
def test_masked_file_cannot_be_read(containers):
    b = containers.bundle()
    rootfs_file(b, "/etc/ocitest-masked", SECRET)
    b.config["linux"]["maskedPaths"].append("/etc/ocitest-masked")
    probe = containers.probe(b, "read:/etc/ocitest-masked")
    content = probe.read("/etc/ocitest-masked")
    assert content in (None, ""), violation(
        "config-linux.masked-paths.unreadable",
        wanted="/etc/ocitest-masked reads nothing (empty, or the read fails)",
        seen=f"read {content!r}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.masked-paths.unreadable")
def test_masked_directory_shows_no_entries(containers):
    b = containers.bundle()
    rootfs_file(b, "/etc/ocitest-masked-dir/secret", SECRET)
    b.config["linux"]["maskedPaths"].append("/etc/ocitest-masked-dir")
    probe = containers.probe(b, "list:/etc/ocitest-masked-dir")
    listed = probe.action("list", "/etc/ocitest-masked-dir") or {}
    entries = listed.get("entries") if listed.get("ok") else None
    assert not entries, violation(
        "config-linux.masked-paths.unreadable",
        wanted="/etc/ocitest-masked-dir lists no entries (empty, or the listing fails)",
        seen=f"entries {entries}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.readonly-paths.read-only")
def test_readonly_file_refuses_writes(containers):
    b = containers.bundle()
    rootfs_file(b, "/etc/ocitest-ro-file", "unchanged\n")
    b.config["linux"]["readonlyPaths"].append("/etc/ocitest-ro-file")
    probe = containers.probe(b, "write:/etc/ocitest-ro-file")
    w = probe.action("write", "/etc/ocitest-ro-file") or {}
    assert w.get("error") == "EROFS", violation(
        "config-linux.readonly-paths.read-only",
        wanted="opening /etc/ocitest-ro-file for writing fails with EROFS",
        seen=f"{w or 'no report'}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.readonly-paths.read-only")
def test_readonly_directory_refuses_new_files(containers):
    b = containers.bundle()
    rootfs_file(b, "/ocitest-ro-dir/existing", "unchanged\n")
    b.config["linux"]["readonlyPaths"].append("/ocitest-ro-dir")
    probe = containers.probe(b, "create:/ocitest-ro-dir/new")
    c = probe.action("create", "/ocitest-ro-dir/new") or {}
    assert c.get("error") == "EROFS", violation(
        "config-linux.readonly-paths.read-only",
        wanted="creating /ocitest-ro-dir/new fails with EROFS",
        seen=f"{c or 'no report'}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.parametrize(
    "propagation",
    [
        pytest.param(
            p,
            marks=pytest.mark.requirement(f"config-linux.rootfs-propagation.{p}"),
            id=p,
        )
        for p in ("shared", "private", "unbindable")
    ],
)
def test_rootfs_has_the_requested_propagation(containers, propagation):
    # runtime.md#create: a property the runtime cannot apply is an error and no container
    # is created, and config.md#valid-values lets a runtime support a subset of the
    # values: a clean refusal is conformant (unsupported), a wrong propagation is not.
    # A copied rootfs: on an overlay mount runc 1.1.5 reports / private for unbindable.
    b = containers.bundle(rootfs_mode="copy")
    b.config["linux"]["rootfsPropagation"] = propagation
    try:
        probe = containers.probe(b)
    except AssertionError as exc:
        cid = b.path.rsplit("/", 1)[-1]
        if str(exc).startswith("setup: create failed") and containers.state(cid) is None:
            unsupported(
                f"create refused rootfsPropagation {propagation} and left no container "
                "(runtime.md#create: a property that cannot be applied is an error)"
            )
        raise
    root = probe.mount("/")
    assert root and root.propagation == propagation, violation(
        f"config-linux.rootfs-propagation.{propagation}",
        wanted=f"the container's / mount is {propagation}",
        seen=f"/ is {root.propagation if root else 'missing'} ({' '.join(root.optional) if root else ''})",
        evidence=[probe],
    )


@pytest.mark.requires("root", "shared_root")
@pytest.mark.requirement("config-linux.rootfs-propagation.slave")
def test_slave_rootfs_receives_mount_events_from_the_host(containers):
    b = containers.bundle(rootfs_mode="copy")  # the rootfs mount itself is the point
    b.config["linux"]["rootfsPropagation"] = "slave"
    probe = containers.probe(b)
    root = probe.mount("/")
    assert root and root.propagation == "slave", violation(
        "config-linux.rootfs-propagation.slave",
        wanted="the container's / is a slave (master:N) of the host's shared mount",
        seen=f"/ is {root.propagation if root else 'missing'} ({' '.join(root.optional) if root else ''})",
        evidence=[probe],
    )
