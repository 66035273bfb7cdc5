"""The busybox rootfs: built once from the target's busybox-static, cached, given to each
bundle as an overlay mount (or a copy).

Nothing is pulled: the rootfs is /usr/bin/busybox (Debian's busybox-static) plus one
symlink per applet, the few files a container expects (/etc/passwd, /etc/group,
mount points) and our probe, /ocitest/probe, compiled static from infra/images/probe.c
with the target's gcc. The cache key is the digests of the busybox binary and of the
probe's source, so an upgrade of either rebuilds.
Concurrent builders (xdist workers) serialise on a flock; the build lands with a rename.

Each bundle gets a private, writable rootfs (`provide_rootfs`), in one of two ways chosen
by `$OCITEST_ROOTFS` (`ROOTFS_MODES`):
- `overlay`: an overlay mount at BUNDLE/rootfs whose lower dir is the cached bundle rootfs
  (`CACHED/../NAME.bundle/rootfs`, never written) and whose upper and work dirs are in
  BUNDLE.overlay; one mount instead of a copy of some 400 files (about 0.02 s, not 0.44 s);
- `copy`: `cp -a` of the cached rootfs (what a user without CAP_SYS_ADMIN gets);
- `auto` (default): overlay, and copy from then on once a mount fails in this process.
`release_rootfs` unmounts and removes what `provide_rootfs` made; a killed run's overlay
mounts lie below the run's work directory, where the sweeper (infra/sweep.py) unmounts them.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from infra.targets import Target, TargetError

#: where the busybox-static package puts its binary
BUSYBOX = "/usr/bin/busybox"
#: bump when the layout below changes
LAYOUT_VERSION = "2"
#: the probe's source (read on the target: the local target is this checkout)
PROBE_SOURCE = str(Path(__file__).with_name("probe.c"))
#: where the probe lives inside the rootfs
PROBE_PATH = "/ocitest/probe"

_BUILD = r"""
set -eu
cache=$1; busybox=$2; layout=$3; probe=$4
mkdir -p "$cache"
key=$(cat "$busybox" "$probe" | sha256sum | cut -c1-16)
final="$cache/busybox-$key-v$layout"
exec 9>"$cache/.lock"
flock -w 120 9
if [ ! -e "$final/.complete" ]; then
  rm -rf "$final.tmp" "$final"
  r="$final.tmp"
  mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/etc" "$r/proc" "$r/sys" \
           "$r/dev" "$r/tmp" "$r/root" "$r/home" "$r/var" "$r/run" "$r/mnt"
  chmod 1777 "$r/tmp"; chmod 700 "$r/root"
  cp "$busybox" "$r/bin/busybox"
  for a in $("$busybox" --list); do
    [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  : > "$r/etc/hostname"
  mkdir -p "$r/ocitest"
  gcc -static -O2 -o "$r/ocitest/probe" "$probe"
  touch "$r/.complete"
  mv "$r" "$final"
fi
echo "$final"
"""


#: on a remote target: unpack the shipped rootfs under its cache name, once
_UNPACK = r"""
set -eu
cache=$1; name=$2
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -w 120 9 || true
if [ -e "$cache/$name/.complete" ]; then cat >/dev/null; exit 0; fi
rm -rf "$cache/$name.tmp"; mkdir -p "$cache/$name.tmp"
tar -x -C "$cache/$name.tmp" -f -
rm -rf "$cache/$name"; mv "$cache/$name.tmp" "$cache/$name"
"""


def cached_rootfs(target: Target, cache_dir: str) -> str:
    """Path of the cached busybox rootfs on `target`, building it if needed.

    A remote target (ssh, VMs) needs neither busybox-static nor gcc: the rootfs is
    built here (the local target's cache) and shipped once as a tar stream into the
    target's `cache_dir` under the same name (its key covers busybox and the probe).

    Raises:
        TargetError: busybox-static is missing or the build failed.
    """
    if target.remote:
        return _shipped_rootfs(target, cache_dir)
    res = target.run(
        ["sh", "-c", _BUILD, "build-rootfs", cache_dir, BUSYBOX, LAYOUT_VERSION, PROBE_SOURCE],
        timeout=180,
    )
    if res.exit_status != 0:
        raise TargetError(
            f"building the busybox rootfs in {cache_dir} failed "
            f"({res.exit_status}): {res.stderr.strip()[-500:]}; "
            f"are busybox-static ({BUSYBOX}) and gcc with libc6-dev installed?"
        )
    return res.stdout.strip().splitlines()[-1]


def copy_rootfs(target: Target, cached: str, dest: str) -> None:
    """Copy the cached rootfs to `dest` (a fresh, writable copy for one bundle)."""
    res = target.run(
        [
            "sh",
            "-c",
            f"cp -a {shlex.quote(cached)} {shlex.quote(dest)} "
            f"&& rm -f {shlex.quote(dest)}/.complete",
        ],
        timeout=120,
    )
    if res.exit_status != 0:
        raise TargetError(f"copying the rootfs to {dest} failed: {res.stderr.strip()}")


def _shipped_rootfs(target: Target, cache_dir: str) -> str:
    from infra.run import CACHE_DIR
    from infra.targets.local import LocalTarget

    local = cached_rootfs(LocalTarget(), CACHE_DIR)
    name = os.path.basename(local)
    final = f"{cache_dir}/{name}"
    if target.exists(f"{final}/.complete"):
        return final
    with subprocess.Popen(
        ["tar", "-C", local, "-c", "-f", "-", "."], stdout=subprocess.PIPE
    ) as tar:
        res = target.put_stream(
            f"set -- {shlex.quote(cache_dir)} {shlex.quote(name)}; {_UNPACK}", tar.stdout, 300
        )
        try:
            tar.wait(timeout=30)
        except subprocess.TimeoutExpired:
            tar.kill()
    if res.exit_status != 0 or not target.exists(f"{final}/.complete"):
        raise TargetError(
            f"shipping the busybox rootfs to {target.spec}:{final} failed "
            f"({res.exit_status}): {res.stderr.strip()[-500:]}"
        )
    return final


#: values of $OCITEST_ROOTFS: how a bundle gets its rootfs
ROOTFS_MODES = ("auto", "overlay", "copy")
#: the environment variable that chooses the mode
ROOTFS_ENV = "OCITEST_ROOTFS"
#: suffix of the directory, beside a bundle, that holds its overlay's upper and work dirs
OVERLAY_SUFFIX = ".overlay"

_BUNDLE_LOWER = r"""
set -eu
cached=$1; lower="$cached.bundle"
[ -e "$lower/.complete" ] && { echo "$lower/rootfs"; exit 0; }
exec 9>"$cached.bundle.lock"
flock -w 120 9
if [ ! -e "$lower/.complete" ]; then
  rm -rf "$lower.tmp" "$lower"
  mkdir -p "$lower.tmp"
  cp -a "$cached" "$lower.tmp/rootfs"
  rm -f "$lower.tmp/rootfs/.complete"
  touch "$lower.tmp/.complete"
  mv "$lower.tmp" "$lower"
fi
echo "$lower/rootfs"
"""

_MOUNT = r"""
lower=$1; dest=$2; ov=$3
mkdir -p "$ov/upper" "$ov/work" "$dest" &&
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$ov/upper,workdir=$ov/work" "$dest" && exit 0
rc=$?; rmdir "$dest" 2>/dev/null; rm -rf --one-file-system "$ov"; exit $rc
"""

_RELEASE = r"""
dest=$1; ov=$2
if [ -d "$ov" ]; then
  if awk -v d="$dest" '$5 == d {f=1} END {exit !f}' /proc/self/mountinfo; then
    umount "$dest" 2>/dev/null || umount -l "$dest" || exit 1
  fi
  rm -rf --one-file-system "$ov"
fi
"""


class RootfsModeError(ValueError):
    """$OCITEST_ROOTFS holds a value outside ROOTFS_MODES (a usage error)."""


def rootfs_mode(environ: dict[str, str] | None = None) -> str:
    """The rootfs mode chosen by $OCITEST_ROOTFS: "auto" (unset or empty), "overlay" or
    "copy". Raises RootfsModeError (one line) for any other value."""
    value = (os.environ if environ is None else environ).get(ROOTFS_ENV, "").strip() or "auto"
    if value not in ROOTFS_MODES:
        raise RootfsModeError(f"{ROOTFS_ENV}={value!r}: expected one of {', '.join(ROOTFS_MODES)}")
    return value


#: cached lower dir per (target, cached rootfs); targets where an overlay mount failed
_LOWER: dict[tuple[str, str], str] = {}
_NO_OVERLAY: set[str] = set()


def bundle_lower(target: Target, cached: str) -> str:
    """The overlay lower dir for `cached` (a copy of it without the build marker, made once
    per cache, under a flock). Raises TargetError when it cannot be made."""
    key = (target.spec, cached)
    if key not in _LOWER:
        res = target.run(["sh", "-c", _BUNDLE_LOWER, "bundle-lower", cached], timeout=120)
        if res.exit_status != 0:
            raise TargetError(
                f"making the overlay lower dir of {cached} failed: {res.stderr.strip()}"
            )
        _LOWER[key] = res.stdout.strip().splitlines()[-1]
    return _LOWER[key]


def overlay_dir(bundle_path: str) -> str:
    """Where a bundle's overlay keeps its upper and work dirs (beside the bundle)."""
    return bundle_path + OVERLAY_SUFFIX


def provide_rootfs(target: Target, cached: str, bundle_path: str, mode: str | None = None) -> bool:
    """Give the bundle at `bundle_path` a private writable rootfs at BUNDLE/rootfs.

    `mode`: "overlay", "copy" or "auto" (None: `rootfs_mode()`). Returns True when the
    rootfs is an overlay mount (release it with `release_rootfs`), False for a copy.
    Raises TargetError when the copy fails, or the mount fails in "overlay" mode.
    """
    mode = mode or rootfs_mode()
    dest = f"{bundle_path}/rootfs"
    if mode == "copy" or (mode == "auto" and target.spec in _NO_OVERLAY):
        copy_rootfs(target, cached, dest)
        return False
    try:
        lower = bundle_lower(target, cached)
        res = target.run(
            ["sh", "-c", _MOUNT, "overlay-rootfs", lower, dest, overlay_dir(bundle_path)],
            timeout=30,
        )
        problem = "" if res.exit_status == 0 else res.stderr.strip() or f"exit {res.exit_status}"
    except TargetError as exc:
        problem = str(exc)
    if not problem:
        return True
    if mode == "overlay":
        raise TargetError(
            f"{ROOTFS_ENV}=overlay: mounting the rootfs of {bundle_path} failed: {problem}"
        )
    _NO_OVERLAY.add(target.spec)  # auto: copy from now on in this process
    copy_rootfs(target, cached, dest)
    return False


def release_rootfs(target: Target, bundle_path: str) -> None:
    """Unmount the bundle's overlay rootfs (lazily when busy) and remove its upper and work
    dirs; nothing to do for a copied rootfs. Raises TargetError when the unmount fails."""
    res = target.run(
        ["sh", "-c", _RELEASE, "release-rootfs", f"{bundle_path}/rootfs", overlay_dir(bundle_path)],
        timeout=60,
    )
    if res.exit_status != 0:
        raise TargetError(f"unmounting the rootfs of {bundle_path} failed: {res.stderr.strip()}")


_REMOVE = r"""
rc=0
for b in "$@"; do
  dest="$b/rootfs"
  if [ -d "$b.overlay" ] && awk -v d="$dest" '$5 == d {f=1} END {exit !f}' /proc/self/mountinfo; then
    umount "$dest" 2>/dev/null || umount -l "$dest" || rc=1
  fi
  rm -rf --one-file-system "$b" "$b.stdio" "$b.overlay" || rc=1
done
exit $rc
"""


def remove_bundles(target: Target, bundle_paths: list[str]) -> None:
    """Unmount each bundle's overlay rootfs (if it has one; lazily when busy), then remove
    the bundle, its stdio directory (BUNDLE.stdio) and its overlay dirs: one command for
    all of them. Raises TargetError naming what could not be removed."""
    if not bundle_paths:
        return
    res = target.run(["sh", "-c", _REMOVE, "remove-bundles", *bundle_paths], timeout=120)
    if res.exit_status != 0:
        raise TargetError(f"removing bundles {bundle_paths} failed: {res.stderr.strip()[-500:]}")


def is_bundle_overlay(mountinfo_line: str, bundle_path: str) -> bool:
    """True when the /proc/PID/mountinfo line is the harness's own overlay mount of the
    bundle's rootfs (mount point BUNDLE/rootfs, type overlay, upper dir BUNDLE.overlay/upper),
    not a mount a runtime made."""
    fields = mountinfo_line.split()
    if len(fields) < 10 or fields[4] != f"{bundle_path}/rootfs" or " - " not in mountinfo_line:
        return False
    fstype, _source, options = ([*mountinfo_line.split(" - ", 1)[1].split(), "", "", ""])[:3]
    return fstype == "overlay" and f"upperdir={overlay_dir(bundle_path)}/upper" in options.split(
        ","
    )
