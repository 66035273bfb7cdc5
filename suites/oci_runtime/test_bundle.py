"""bundle.md#container-format: config.json at the bundle's root; root.path names the rootfs."""

from __future__ import annotations

import pytest

from suites.messages import violation


@pytest.mark.requirement("bundle.config-json")
def test_a_bundle_without_config_json_cannot_be_created(containers, runtime, target):
    b = containers.bundle(args=["sh", "-c", "echo ocitest-started"])
    b.write()
    target.run(["mv", b.config_path, f"{b.path}/config.json.orig"], timeout=10)
    c = containers.create(b)
    assert not c.created, violation(
        "bundle.config-json",
        wanted="create fails: the bundle has no config.json",
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("bundle.root-path")
def test_root_path_names_the_rootfs_directory(containers, runtime, target):
    # a copied rootfs: an overlay mount point cannot be renamed
    b = containers.bundle(args=["sh", "-c", "cat /ocitest-marker"], rootfs_mode="copy")
    target.run(["mv", f"{b.path}/rootfs", f"{b.path}/another-root"], timeout=10)
    b.config["root"]["path"] = "another-root"
    target.write_text(f"{b.path}/another-root/ocitest-marker", "ocitest-root-path\n")
    c = containers.create(b)
    assert c.created, violation(
        "bundle.root-path",
        wanted="create succeeds with root.path 'another-root'",
        seen=f"exit status {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
    rr = runtime.start(c.id)
    got = containers.wait_output(c, "ocitest-root-path")
    assert rr.ok and got, violation(
        "bundle.root-path",
        wanted="the program reads /ocitest-marker from another-root",
        seen=f"stdout {containers.output(c)!r}",
        evidence=[rr],
    )
