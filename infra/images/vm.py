"""VM images: a Debian 12 (bookworm) system for `--target qemu:debian`, built once and cached.

The image is made here, offline from Debian's packages: `mmdebstrap` (mode root, variant
apt plus the packages below: a kernel with its initramfs, systemd as PID 1, sshd, runc,
crun and the few tools the harness's shell snippets use), customised by a hook (host
name, fstab, DHCP through systemd-networkd, our public key for root, timers that would
compete for the CPU masked), then `mke2fs -d` turns the tree into an ext4 disk (raw,
sparse). The kernel and initramfs are copied out for a direct kernel boot.

Cache: `CACHE/vm/debian-KEY/` with `disk.raw`, `vmlinuz`, `initrd.img`, `id_ed25519`
(the key root's authorized_keys holds) and `.complete`; KEY is the digest of every input
(suite, mirrors, packages, the hook, `LAYOUT_VERSION`), so changing any rebuilds and a
cached image is reused as is. Concurrent builders serialise on `CACHE/vm/.lock`; the
build lands with a rename. Removing the directory forces a rebuild.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass

#: bump when the build below changes in a way the inputs do not show
LAYOUT_VERSION = "1"
SUITE = "bookworm"
MIRRORS = [
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
]
#: what the guest has besides the apt variant's essential set
PACKAGES = [
    "linux-image-amd64",
    "initramfs-tools",
    "systemd-sysv",
    "dbus",
    "udev",
    "openssh-server",
    "runc",
    "crun",
    "iproute2",
    "iptables",
    "procps",
    "kmod",
    "mawk",
    "uidmap",
]
#: runs on the host with the tree as $1 and the public key as $2 (mmdebstrap hook)
HOOK = r"""
set -eu
r=$1; pub=$2
echo ocitest-vm > "$r/etc/hostname"
printf '127.0.1.1 ocitest-vm\n' >> "$r/etc/hosts"
printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' > "$r/etc/fstab"
mkdir -p "$r/etc/systemd/network"
printf '[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n' > "$r/etc/systemd/network/20-wired.network"
chroot "$r" systemctl enable systemd-networkd ssh >/dev/null 2>&1
for u in apt-daily.timer apt-daily-upgrade.timer systemd-networkd-wait-online.service \
         e2scrub_all.timer fstrim.timer man-db.timer systemd-timesyncd.service; do
  ln -sf /dev/null "$r/etc/systemd/system/$u"
done
mkdir -p -m 700 "$r/root/.ssh"
cp "$pub" "$r/root/.ssh/authorized_keys"; chmod 600 "$r/root/.ssh/authorized_keys"
# every harness command is one ssh session: no PAM session, dash rather than bash as
# root's shell (each saves a process start, slow under TCG)
printf 'UseDNS no\nUsePAM no\nPrintMotd no\nPrintLastLog no\nMaxSessions 64\nMaxStartups 64\n' \
  > "$r/etc/ssh/sshd_config.d/ocitest.conf"
sed -i '1s|:/bin/bash$|:/bin/sh|' "$r/etc/passwd"
rm -f "$r/etc/machine-id"; : > "$r/etc/machine-id"
"""
#: seconds allowed for mmdebstrap and for making the disk
BUILD_TIMEOUT = 1200
DISK_SIZE = "4G"


class ImageError(Exception):
    """An image cannot be built (one line)."""


@dataclass(frozen=True)
class VmImage:
    """A built image. Paths are absolute, on this machine."""

    name: str
    directory: str
    #: the kernel command line
    cmdline: str = "root=/dev/vda rw console=ttyS0 quiet systemd.show_status=0 panic=-1"
    #: True: the system is the initramfs alone (no disk.raw)
    disk_less: bool = False

    @property
    def disk(self) -> str:
        return f"{self.directory}/disk.raw"

    @property
    def kernel(self) -> str:
        return f"{self.directory}/vmlinuz"

    @property
    def initrd(self) -> str:
        return f"{self.directory}/initrd.img"

    @property
    def key(self) -> str:
        return f"{self.directory}/id_ed25519"


def say(msg: str) -> None:
    print(f"ocitest: {msg}", file=sys.stderr, flush=True)


def image_key() -> str:
    """The digest of every input of the debian image (16 hex digits)."""
    inputs = json.dumps([LAYOUT_VERSION, SUITE, MIRRORS, PACKAGES, HOOK, DISK_SIZE])
    return hashlib.sha256(inputs.encode()).hexdigest()[:16]


def debian_image(cache_dir: str) -> VmImage:
    """The cached debian image under `cache_dir`/vm, built first when missing.

    Raises:
        ImageError: mmdebstrap or mke2fs is missing, the disk is full, or the build failed.
    """
    base = os.path.join(cache_dir, "vm")
    name = f"debian-{image_key()}"
    image = VmImage(name, os.path.join(base, name))
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(f"{image.directory}/.complete"):
            _build(image)
    return image


def _run(argv: list[str], what: str, timeout: float = BUILD_TIMEOUT) -> None:
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise ImageError(
            f"{what}: {argv[0]} is not installed (./ocitest setup installs it)"
        ) from None
    except subprocess.TimeoutExpired:
        raise ImageError(f"{what}: {argv[0]} took more than {timeout:g} s") from None
    if res.returncode != 0:
        tail = (res.stderr.strip() or res.stdout.strip()).splitlines()[-3:]
        if any("No space left" in ln for ln in tail):
            raise ImageError(f"{what}: the disk is full ({' / '.join(tail)})")
        raise ImageError(f"{what} failed ({res.returncode}): {' / '.join(tail)}")


def _build(image: VmImage) -> None:
    tmp = image.directory + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(image.directory, ignore_errors=True)
    tree = f"{tmp}/tree"
    os.makedirs(tmp)
    start = time.monotonic()
    say(f"building the qemu:debian image {image.name} with mmdebstrap (about 2 min, once)")
    try:
        _run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "ocitest-vm",
                "-f",
                f"{tmp}/id_ed25519",
            ],
            "making the VM's ssh key",
            timeout=30,
        )
        hook = f"{tmp}/hook.sh"
        with open(hook, "w") as fh:
            fh.write(HOOK)
        _run(
            [
                "mmdebstrap",
                "--mode=root",
                "--variant=apt",
                "--format=directory",
                '--aptopt=Acquire::Check-Valid-Until "false"',
                '--aptopt=Acquire::Check-Date "false"',
                "--dpkgopt=path-exclude=/usr/share/doc/*",
                "--dpkgopt=path-exclude=/usr/share/man/*",
                "--dpkgopt=path-exclude=/usr/share/locale/*",
                f"--include={','.join(PACKAGES)}",
                f'--customize-hook=sh {hook} "$1" {tmp}/id_ed25519.pub',
                SUITE,
                tree,
                *MIRRORS,
            ],
            "mmdebstrap",
        )
        boot = os.path.join(tree, "boot")
        kernels = sorted(f for f in os.listdir(boot) if f.startswith("vmlinuz-"))
        initrds = sorted(f for f in os.listdir(boot) if f.startswith("initrd.img-"))
        if not kernels or not initrds:
            raise ImageError(f"the image has no kernel or initramfs in /boot ({os.listdir(boot)})")
        shutil.copy(os.path.join(boot, kernels[-1]), f"{tmp}/vmlinuz")
        shutil.copy(os.path.join(boot, initrds[-1]), f"{tmp}/initrd.img")
        built = time.monotonic() - start
        _run(
            [
                "mke2fs",
                "-q",
                "-F",
                "-t",
                "ext4",
                "-L",
                "ocitest",
                "-d",
                tree,
                f"{tmp}/disk.raw",
                DISK_SIZE,
            ],
            "mke2fs",
        )
        shutil.rmtree(tree)
        with open(f"{tmp}/.complete", "w") as fh:
            json.dump(
                {"mmdebstrap_s": round(built, 1), "total_s": round(time.monotonic() - start, 1)}, fh
            )
        os.replace(tmp, image.directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"built {image.name} in {time.monotonic() - start:.0f} s")
