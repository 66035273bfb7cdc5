"""config.md#root: the container's root filesystem (root.path, root.readonly).

A relative root.path is bundle.root-path (test_bundle.py); this file adds the rest.
"""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation

#: a file the probe creates (and removes) at the root of the container's filesystem
ROOT_FILE = "/ocitest-root-write"


@pytest.mark.requirement("config.root.readonly")
def test_readonly_root_refuses_writes(containers):
    b = containers.bundle()
    b.config["root"]["readonly"] = True
    report = containers.probe(b, f"create:{ROOT_FILE}")
    made = report.action("create", ROOT_FILE) or {}
    root = report.mount("/")
    assert not made.get("ok") and made.get("error") == "EROFS", violation(
        "config.root.readonly",
        wanted=f"creating {ROOT_FILE} fails with EROFS (root.readonly true)",
        seen=f"create {made}, / mounted with {sorted(root.options) if root else None}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.root.readonly-default")
def test_root_without_readonly_is_writable(containers):
    b = containers.bundle()
    b.config["root"].pop("readonly", None)
    report = containers.probe(b, f"create:{ROOT_FILE}")
    made = report.action("create", ROOT_FILE) or {}
    assert made.get("ok"), violation(
        "config.root.readonly-default",
        wanted=f"creating {ROOT_FILE} succeeds (readonly defaults to false)",
        seen=f"create {made}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.root.path-absolute")
def test_an_absolute_root_path_names_the_rootfs(containers, target):
    b = containers.bundle()
    b.config["root"]["path"] = f"{b.path}/rootfs"
    target.write_text(f"{b.path}/rootfs/ocitest-marker", "ocitest-absolute-root\n")
    report = containers.probe(b, "read:/ocitest-marker")
    seen = report.read("/ocitest-marker")
    assert seen == "ocitest-absolute-root\n", violation(
        "config.root.path-absolute",
        wanted=f"/ocitest-marker of {b.path}/rootfs (root.path absolute)",
        seen=f"content {seen!r}",
        evidence=[report.evidence],
    )


@pytest.mark.parametrize("kind", ["missing", "a regular file"])
@pytest.mark.requirement("config.root.path-exists")
def test_root_path_that_is_not_a_directory_is_rejected(containers, target, kind):
    b = containers.bundle(args=probe_args())
    b.config["root"]["path"] = "not-a-rootfs"
    if kind == "a regular file":
        target.write_text(f"{b.path}/not-a-rootfs", "not a directory\n")
    c = containers.create(b)
    assert not c.created, violation(
        "config.root.path-exists",
        wanted=f"create fails: root.path names {kind}, not a directory",
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.root.required")
def test_a_config_without_root_is_rejected(containers):
    b = containers.bundle(args=probe_args())
    del b.config["root"]
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config.root.required",
        wanted="create fails: config.json has no root",
        seen="exit status 0",
        evidence=[c.create_result],
    )
