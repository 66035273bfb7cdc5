"""The Vagrant box `ocitest-debian`: the cached qemu:debian image as a libvirt box.

A libvirt box (vagrant-libvirt's format) is a tar of `box.img` (a qcow2 disk),
`metadata.json` (`{"provider": "libvirt", "format": "qcow2", "virtual_size": GB}`) and a
`Vagrantfile` merged into every machine that uses the box. Ours also carries the image's
kernel, initramfs and private key: the image's disk is a bare ext4 file system with no
boot loader, so the box's Vagrantfile boots the kernel directly (libvirt `kernel`,
`initrd`, `cmd_line`, paths relative to the box's own directory) and logs in as root
with that key.

Packaging: `qemu-img convert` of `disk.raw` to qcow2, the tar, then `vagrant box add`
into the harness's own Vagrant home `CACHE/vagrant/home` (VAGRANT_HOME; the user's
~/.vagrant.d is never read or written). The box is named `ocitest-debian-KEY` (KEY: the
debian image's key and `BOX_VERSION`), so a changed image is a new box; `CACHE/vagrant/
box-KEY.added` marks a box that was added. Builders serialise on `CACHE/vagrant/.lock`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time

from infra.images.vm import ImageError, VmImage, _run, debian_image, say

#: bump when the box's layout below changes
BOX_VERSION = "1"
#: the box's Vagrantfile: direct kernel boot, root with the image's key
BOX_VAGRANTFILE = """\
# ocitest-debian: the qemu:debian image of ocitest as a libvirt box (infra/images/vagrant_box.py)
box_dir = File.expand_path(File.dirname(__FILE__))
Vagrant.configure("2") do |config|
  config.ssh.username = "root"
  config.ssh.private_key_path = File.join(box_dir, "id_ed25519")
  config.ssh.insert_key = false
  config.ssh.shell = "sh"
  config.vm.synced_folder ".", "/vagrant", disabled: true
  config.vm.provider :libvirt do |lv|
    lv.kernel = File.join(box_dir, "vmlinuz")
    lv.initrd = File.join(box_dir, "initrd.img")
    lv.cmd_line = "%(cmdline)s"
    lv.disk_bus = "virtio"
  end
end
"""
#: seconds for `vagrant box add` (it unpacks the tar: about the disk's used size)
ADD_TIMEOUT = 900


def vagrant_home(cache_dir: str) -> str:
    """The harness's VAGRANT_HOME under `cache_dir`."""
    return os.path.join(cache_dir, "vagrant", "home")


def box_name(image: VmImage) -> str:
    """`ocitest-debian-KEY` for the debian image `image` (KEY: 12 hex digits)."""
    key = hashlib.sha256(f"{image.name}/{BOX_VERSION}/{BOX_VAGRANTFILE}".encode()).hexdigest()
    return f"ocitest-debian-{key[:12]}"


def vagrant_env(cache_dir: str) -> dict[str, str]:
    """The environment of every vagrant command of ours: our VAGRANT_HOME, no checks
    against Vagrant Cloud, the libvirt provider."""
    return dict(
        os.environ,
        VAGRANT_HOME=vagrant_home(cache_dir),
        VAGRANT_DEFAULT_PROVIDER="libvirt",
        VAGRANT_CHECKPOINT_DISABLE="1",
        VAGRANT_BOX_UPDATE_CHECK_DISABLE="1",
        VAGRANT_NO_COLOR="1",
    )


def ocitest_debian_box(cache_dir: str) -> tuple[str, VmImage, float]:
    """Build (first) and add the box; return (box name, the image it holds, seconds spent
    here, 0-ish when cached).

    Raises:
        ImageError: the image cannot be built, qemu-img or vagrant is missing or fails,
            or the disk is full (one line).
    """
    start = time.monotonic()
    try:
        image = debian_image(cache_dir)
        name = box_name(image)
        base = os.path.join(cache_dir, "vagrant")
        os.makedirs(base, exist_ok=True)
        marker = os.path.join(base, f"{name}.added")
        with open(os.path.join(base, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.exists(marker) or not _box_listed(cache_dir, name):
                _package_and_add(cache_dir, image, name, base)
                with open(marker, "w") as fh:
                    json.dump({"seconds": round(time.monotonic() - start, 1)}, fh)
    except OSError as exc:  # an unusable cache directory, a full disk
        raise ImageError(f"{exc.strerror or exc}: {exc.filename or cache_dir}") from None
    return name, image, time.monotonic() - start


def _box_listed(cache_dir: str, name: str) -> bool:
    try:
        res = subprocess.run(
            ["vagrant", "box", "list", "--machine-readable"],
            capture_output=True, text=True, timeout=120, check=False,
            env=vagrant_env(cache_dir),
        )  # fmt: skip
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return f",box-name,{name}" in res.stdout


def _package_and_add(cache_dir: str, image: VmImage, name: str, base: str) -> None:
    tmp = os.path.join(base, f"{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    start = time.monotonic()
    say(f"packaging the vagrant box {name} from {image.name} (once)")
    try:
        _run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", image.disk, f"{tmp}/box.img"],
             "qemu-img convert", timeout=600)  # fmt: skip
        size_gb = -(-os.path.getsize(image.disk) // 2**30)  # the raw disk's virtual size
        with open(f"{tmp}/metadata.json", "w") as fh:
            json.dump({"provider": "libvirt", "format": "qcow2", "virtual_size": size_gb}, fh)
        with open(f"{tmp}/Vagrantfile", "w") as fh:
            fh.write(BOX_VAGRANTFILE % {"cmdline": image.cmdline})
        for f in ("vmlinuz", "initrd.img", "id_ed25519"):
            shutil.copy2(os.path.join(image.directory, f), os.path.join(tmp, f))
        os.chmod(f"{tmp}/id_ed25519", 0o600)
        box = f"{tmp}.box"
        files = ["metadata.json", "Vagrantfile", "box.img", "vmlinuz", "initrd.img", "id_ed25519"]
        _run(["tar", "-C", tmp, "-cf", box, *files], "tar of the box", timeout=600)
        shutil.rmtree(tmp)
        env = vagrant_env(cache_dir)
        try:
            res = subprocess.run(
                ["vagrant", "box", "add", "--force", "--name", name, box],
                capture_output=True, text=True, timeout=ADD_TIMEOUT, check=False, env=env,
            )  # fmt: skip
        except FileNotFoundError:
            raise ImageError(
                "vagrant is not installed (OCITEST_SETUP_VAGRANT=1 ./ocitest setup)"
            ) from None
        except subprocess.TimeoutExpired:
            raise ImageError(f"vagrant box add took more than {ADD_TIMEOUT} s") from None
        if res.returncode != 0:
            tail = (res.stderr.strip() or res.stdout.strip()).splitlines()[-2:]
            raise ImageError(
                f"vagrant box add {name} failed ({res.returncode}): {' / '.join(tail)}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(f"{tmp}.box"):
            os.unlink(f"{tmp}.box")
    say(f"added the vagrant box {name} in {time.monotonic() - start:.0f} s")
