"""The busybox rootfs: built once from the target's busybox-static, cached, copied per bundle.

Nothing is pulled: the rootfs is /usr/bin/busybox (Debian's busybox-static) plus one
symlink per applet, the few files a container expects (/etc/passwd, /etc/group,
mount points) and our probe, /ocitest/probe, compiled static from infra/images/probe.c
with the target's gcc. The cache key is the digests of the busybox binary and of the
probe's source, so an upgrade of either rebuilds.
Concurrent builders (xdist workers) serialise on a flock; the build lands with a rename.
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
