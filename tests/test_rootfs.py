"""The bundle rootfs (infra/images/rootfs.py): an overlay on the cached rootfs, or a copy;
each private and writable, the cached rootfs never changed, nothing left after release.

Real mounts on this host (root needed for the overlay); the fallback is exercised where
a mount really fails: a user namespace that does not own the host's mount namespace.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from infra.images.rootfs import (
    ROOTFS_ENV,
    RootfsModeError,
    is_bundle_overlay,
    overlay_dir,
    provide_rootfs,
    release_rootfs,
    remove_bundles,
    rootfs_mode,
)
from infra.targets import TargetError, open_target
from tests.conftest import ROOT

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: mounts an overlay")


@pytest.fixture
def cached(tmp_path):
    """A small stand-in for the cached rootfs: a build marker, a file, a symlink."""
    c = tmp_path / "cache" / "busybox-test-v2"
    (c / "bin").mkdir(parents=True)
    (c / "bin" / "busybox").write_text("not really busybox\n")
    (c / "bin" / "sh").symlink_to("busybox")
    (c / ".complete").write_text("")
    return c


def _mount_lines(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as fh:
        return [ln for ln in fh if ln.split()[4] == path]


def test_the_mode_comes_from_the_environment():
    assert rootfs_mode({}) == "auto"
    assert rootfs_mode({ROOTFS_ENV: ""}) == "auto"
    assert rootfs_mode({ROOTFS_ENV: "copy"}) == "copy"
    assert rootfs_mode({ROOTFS_ENV: "overlay"}) == "overlay"
    with pytest.raises(RootfsModeError, match="expected one of auto, overlay, copy"):
        rootfs_mode({ROOTFS_ENV: "hardlink"})


@needs_root
@pytest.mark.parametrize("mode", ["overlay", "auto"])
def test_an_overlay_rootfs_is_private_and_released(tmp_path, cached, mode):
    target = open_target("local")
    bundle = tmp_path / "b1"
    bundle.mkdir()
    assert provide_rootfs(target, str(cached), str(bundle), mode) is True
    rootfs = f"{bundle}/rootfs"
    lines = _mount_lines(rootfs)
    try:
        assert len(lines) == 1 and is_bundle_overlay(lines[0], str(bundle)), lines
        assert not is_bundle_overlay(lines[0], str(tmp_path / "b2"))
        assert (bundle / "rootfs" / "bin" / "busybox").read_text() == "not really busybox\n"
        assert os.readlink(bundle / "rootfs" / "bin" / "sh") == "busybox"
        assert not (bundle / "rootfs" / ".complete").exists(), "the build marker shows"
        (bundle / "rootfs" / "bin" / "busybox").write_text("changed by a test\n")
        (bundle / "rootfs" / "new").write_text("x")
        assert (cached / "bin" / "busybox").read_text() == "not really busybox\n"
        assert not (cached / "new").exists()
    finally:
        release_rootfs(target, str(bundle))
    assert _mount_lines(rootfs) == []
    assert not os.path.exists(overlay_dir(str(bundle)))
    release_rootfs(target, str(bundle))  # twice is harmless


def test_a_copied_rootfs_needs_no_release(tmp_path, cached):
    target = open_target("local")
    bundle = tmp_path / "b"
    bundle.mkdir()
    assert provide_rootfs(target, str(cached), str(bundle), "copy") is False
    assert _mount_lines(f"{bundle}/rootfs") == []
    assert (bundle / "rootfs" / "bin" / "busybox").read_text() == "not really busybox\n"
    assert not (bundle / "rootfs" / ".complete").exists()
    release_rootfs(target, str(bundle))
    assert (bundle / "rootfs" / "bin" / "busybox").exists()


_IN_USERNS = """
import sys
from infra.images.rootfs import provide_rootfs
from infra.targets import TargetError, open_target
cached, bundle, mode = sys.argv[1:]
try:
    print(provide_rootfs(open_target("local"), cached, bundle, mode))
except TargetError as exc:
    print("TargetError:", exc)
"""


@needs_root
@pytest.mark.parametrize("mode", ["auto", "overlay"])
def test_a_failing_mount_falls_back_to_a_copy_only_in_auto_mode(tmp_path, cached, mode):
    # in a user namespace of its own (root mapped to root) the process may not mount in
    # the host's mount namespace: the overlay mount really fails (EPERM)
    bundle = tmp_path / "b"
    bundle.mkdir()
    res = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            sys.executable,
            "-c",
            _IN_USERNS,
            str(cached),
            str(bundle),
            mode,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = res.stdout.strip()
    if mode == "auto":
        assert out == "False", res.stdout + res.stderr
        assert (bundle / "rootfs" / "bin" / "busybox").read_text() == "not really busybox\n"
    else:
        assert out.startswith(f"TargetError: {ROOTFS_ENV}=overlay: mounting the rootfs"), (
            res.stdout + res.stderr
        )
        assert not (bundle / "rootfs").exists()
    assert not os.path.exists(overlay_dir(str(bundle))), "the failed mount left its dirs"


def test_target_error_is_what_a_failed_copy_raises(tmp_path):
    target = open_target("local")
    with pytest.raises(TargetError, match="copying the rootfs"):
        provide_rootfs(target, str(tmp_path / "missing"), str(tmp_path / "b"), "copy")


@needs_root
def test_remove_bundles_unmounts_and_removes_overlay_and_copied_bundles(tmp_path, cached):
    target = open_target("local")
    paths = [str(tmp_path / n) for n in ("ov", "cp")]
    for p, mode in zip(paths, ("overlay", "copy"), strict=True):
        os.makedirs(p + ".stdio/1")
        os.makedirs(p)
        provide_rootfs(target, str(cached), p, mode)
    assert len(_mount_lines(f"{paths[0]}/rootfs")) == 1
    remove_bundles(target, paths)
    assert _mount_lines(f"{paths[0]}/rootfs") == []
    left = [p + s for p in paths for s in ("", ".stdio", ".overlay") if os.path.exists(p + s)]
    assert left == []
    assert (cached / "bin" / "busybox").exists(), "the cached rootfs went with a bundle"
