"""A LinuxKit-style minimal guest for `--target qemu:linuxkit`, built here and cached.

The system is a kernel and one initramfs, nothing else: Debian 12's kernel
(`linux-image-amd64`, with the few modules the guest needs), busybox-static as the shell,
the tools and init, runc, containerd, OpenSSH's sshd, and the shared
libraries those need, all taken from Debian's packages (`apt-get download`, unpacked
with `dpkg-deb -x`; nothing of the host's own files goes in). What the system does is
read from `linuxkit/ocitest.yml` (LinuxKit's format): the kernel command line, the onboot
steps (run once, in order, by `/etc/init.d/rcS`) and the services (respawned by busybox
init). The initramfs is written by our own code (`cpio_newc`), uncompressed (under TCG
the guest decompresses slowly). At boot `/init` copies the initramfs into a tmpfs and
switch_roots to it (runc cannot pivot_root out of the initial rootfs), then busybox init
runs the onboot steps and starts the services. The root is a tmpfs: nothing persists.

Cache: `CACHE/vm/linuxkit-KEY/` with `vmlinuz`, `initrd.img`, `id_ed25519` (root's
authorized key) and `.complete` (build times); KEY is the digest of every input (the
packages and their candidate versions, the spec file, the scripts below, the modules,
`LAYOUT_VERSION`). Concurrent builders serialise on `CACHE/vm/.lock`; the build lands
with a rename; `./ocitest cache clear` removes it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import time

import yaml

from infra.images.vm import ImageError, VmImage, _run, say

LAYOUT_VERSION = "1"
SPEC_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linuxkit", "ocitest.yml")
#: the kernel's meta package (its dependency names the real one)
KERNEL_META = "linux-image-amd64"
#: everything else the guest is made of (user space), with the libraries they link
PACKAGES = [
    "busybox-static", "runc", "containerd", "openssh-server", "coreutils", "util-linux", "dash",
    "libc6", "libseccomp2",
    # what sshd links (ldd /usr/sbin/sshd, each library's package)
    "libaudit1", "libcap-ng0", "libcap2", "libcom-err2", "libcrypt1", "libgcrypt20",
    "libgpg-error0", "libgssapi-krb5-2", "libk5crypto3", "libkeyutils1", "libkrb5-3",
    "libkrb5support0", "liblz4-1", "liblzma5", "libnsl2", "libpam0g", "libpcre2-8-0",
    "libselinux1", "libssl3", "libsystemd0", "libtirpc3", "libwrap0", "libzstd1", "zlib1g",
]  # fmt: skip
#: the programs kept from those packages (every other program in them is left out)
#: (and what the harness's commands need that busybox cannot give: GNU rm, for `rm
#: --one-file-system`, and flock, which serialises the shared rootfs's build; Debian's
#: static busybox runs its own applets in place of any program of the same name, in its
#: shell and in its `timeout`, so /bin/sh is dash and `timeout` is GNU's)
PROGRAMS = {"busybox", "runc", "containerd", "containerd-shim-runc-v2", "sshd",
            "rm", "timeout", "flock", "dash"}  # fmt: skip
#: kernel modules loaded at boot (their dependencies are found and loaded first)
MODULES = ["virtio_pci", "virtio_net", "virtio_rng", "overlay", "veth"]
#: stage one (rdinit): the initramfs is the initial rootfs, which runc cannot
#: pivot_root from; copy it into a tmpfs and switch_root there
INIT = """#!/bin/busybox sh
/bin/busybox mount -t tmpfs -o mode=0755 root /newroot
for e in /*; do [ "$e" = /newroot ] || /bin/busybox cp -a "$e" /newroot/; done
/bin/busybox mount -t devtmpfs dev /newroot/dev
exec /bin/busybox switch_root /newroot /sbin/init
"""
#: every harness command is one session of a shared connection: many sessions, no PAM
SSHD_CONFIG = """Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
PrintLastLog no
MaxSessions 64
MaxStartups 64
PidFile /run/sshd.pid
"""
RCS_HEAD = "#!/bin/sh\n# the onboot steps of ocitest.yml, in order\n"
BUILD_TIMEOUT = 900
DIRS = ["newroot", "proc", "sys", "dev", "run", "tmp", "root/.ssh", "etc/ssh",
        "etc/ocitest", "etc/init.d", "var/lib", "var/log", "var/cache", "sbin", "usr/sbin"]  # fmt: skip


def load_spec(path: str = SPEC_FILE) -> dict:
    """The LinuxKit spec as a dict. Raises ImageError (one line) when unreadable."""
    try:
        with open(path) as fh:
            return yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ImageError(f"{path}: {str(exc).splitlines()[0]}") from None


def _apt(*args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            ["apt-cache", *args], capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise ImageError(
            "apt-cache is not installed: the image is made of Debian's packages"
        ) from None


def _apt_versions(packages: list[str]) -> dict[str, str]:
    res = _apt("show", "--no-all-versions", *packages)
    versions: dict[str, str] = {}
    name = ""
    for line in res.stdout.splitlines():
        if line.startswith("Package: "):
            name = line.split()[1]
        elif line.startswith("Version: ") and name:
            versions.setdefault(name, line.split()[1])
    missing = [p for p in packages if p not in versions]
    if missing:
        raise ImageError(
            f"apt knows no candidate for {', '.join(missing)} (run apt-get update): "
            + res.stderr.strip()[-200:]
        )
    return versions


def _kernel_package() -> str:
    res = subprocess.run(
        ["apt-cache", "depends", KERNEL_META],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    m = re.search(r"Depends: (linux-image-[0-9]\S*)", res.stdout)
    if not m:
        raise ImageError(
            f"apt cannot resolve {KERNEL_META} to a kernel package (run apt-get update)"
        )
    return m.group(1)


def inputs() -> dict:
    """Every input of the image: the packages with their versions, the spec, and this
    module's source (its scripts, configuration files and build steps)."""
    with open(SPEC_FILE) as fh:
        spec = fh.read()
    with open(__file__, "rb") as fh:
        source = hashlib.sha256(fh.read()).hexdigest()
    kernel = _kernel_package()
    return {
        "layout": LAYOUT_VERSION,
        "kernel": kernel,
        "packages": _apt_versions([kernel, *PACKAGES]),
        "programs": sorted(PROGRAMS),
        "modules": MODULES,
        "source": source,
        "spec": spec,
    }


def image_key(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def linuxkit_image(cache_dir: str) -> VmImage:
    """The cached linuxkit image under `cache_dir`/vm, built first when missing.

    Raises:
        ImageError: apt cannot resolve or download a package, or the build failed.
    """
    spec = load_spec()
    data = inputs()
    base = os.path.join(cache_dir, "vm")
    name = f"linuxkit-{image_key(data)}"
    image = VmImage(
        name, os.path.join(base, name), cmdline=spec["kernel"]["cmdline"], disk_less=True
    )
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(f"{image.directory}/.complete"):
            _build(image, data, spec)
    return image


def _build(image: VmImage, data: dict, spec: dict) -> None:
    tmp = image.directory + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(image.directory, ignore_errors=True)
    os.makedirs(f"{tmp}/debs")
    start = time.monotonic()
    say(f"building the qemu:linuxkit image {image.name} from Debian's packages (once)")
    try:
        pins = [f"{p}={v}" for p, v in data["packages"].items()]
        _run(["sh", "-c", 'cd "$1" && shift && apt-get -q download "$@"', "dl", f"{tmp}/debs", *pins],
             "apt-get download", timeout=BUILD_TIMEOUT)  # fmt: skip
        fetched = time.monotonic() - start
        kernel_tree, tree = f"{tmp}/kernel", f"{tmp}/unpacked"
        for deb in sorted(os.listdir(f"{tmp}/debs")):
            dest = kernel_tree if deb.startswith(data["kernel"] + "_") else tree
            _run(["dpkg-deb", "-x", f"{tmp}/debs/{deb}", dest], f"unpacking {deb}", timeout=300)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ocitest-vm", "-f",
              f"{tmp}/id_ed25519"], "making the VM's ssh key", timeout=30)  # fmt: skip
        release = os.listdir(f"{kernel_tree}/lib/modules")[0]
        shutil.copy(f"{kernel_tree}/boot/vmlinuz-{release}", f"{tmp}/vmlinuz")
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ocitest-vm-host", "-f",
              f"{tmp}/host_key"], "making the VM's host key", timeout=30)  # fmt: skip
        keys = {}
        for name in ("id_ed25519.pub", "host_key", "host_key.pub"):
            with open(f"{tmp}/{name}") as fh:
                keys[name] = fh.read()
        os.remove(f"{tmp}/host_key")
        entries = _root_entries(tree, kernel_tree, release, spec, keys)
        with open(f"{tmp}/initrd.img", "wb") as out:
            cpio_newc(entries, out)
        shutil.rmtree(f"{tmp}/debs")
        shutil.rmtree(kernel_tree)
        shutil.rmtree(tree)
        with open(f"{tmp}/.complete", "w") as fh:
            json.dump({"download_s": round(fetched, 1), "total_s": round(time.monotonic() - start, 1),
                       "inputs": data["packages"]}, fh)  # fmt: skip
        os.replace(tmp, image.directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"built {image.name} in {time.monotonic() - start:.0f} s")


# --- the root file system -------------------------------------------------------------

#: (path in the image, mode, content: bytes for a file, str for a symlink target,
#:  None for a directory, (major, minor) for a character device)
Entry = tuple


def _kept(rel: str) -> bool:
    parts = rel.split("/")
    if parts[0] in ("bin", "sbin") or rel.startswith(("usr/bin/", "usr/sbin/")):
        return parts[-1] in PROGRAMS
    if parts[0] in ("lib", "lib64") or rel.startswith("usr/lib/"):
        return "gconv" not in parts and bool(re.search(r"\.so(\.[0-9.]+)?$", parts[-1]))
    return False


def _root_entries(
    tree: str, kernel_tree: str, release: str, spec: dict, keys: dict[str, str]
) -> list[Entry]:
    files: dict[str, Entry] = {}
    for d in DIRS:
        files[d] = (d, 0o700 if d.startswith("root") else 0o755, None)
    for dirpath, _, names in os.walk(tree):
        for n in names:
            full = os.path.join(dirpath, n)
            rel = os.path.relpath(full, tree)
            if not _kept(rel):
                continue
            st = os.lstat(full)
            content = os.readlink(full) if stat.S_ISLNK(st.st_mode) else open(full, "rb").read()  # noqa: SIM115
            files[rel] = (rel, stat.S_IMODE(st.st_mode), content)
    applets = subprocess.run([f"{tree}/bin/busybox", "--list-full"], capture_output=True,
                             text=True, timeout=30, check=True).stdout.split()  # fmt: skip
    for path in applets:
        files.setdefault(path, (path, 0o777, "/bin/busybox"))
    files["sbin/init"] = ("sbin/init", 0o777, "/bin/busybox")
    files["bin/sh"] = ("bin/sh", 0o777, "dash")
    for rel, content in _modules(kernel_tree, release).items():
        files[rel] = (rel, 0o644, content)
    order = " ".join(shlex.quote("/" + p) for p in _modules(kernel_tree, release))
    config = {
        "init": INIT,
        "etc/ocitest/modules.sh": f'for m in {order}; do insmod "$m"; done\n',
        "etc/init.d/rcS": _rcs(spec),
        "etc/inittab": _inittab(spec),
        "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n",
        "etc/shadow": "root:*:19000:0:99999:7:::\n",
        "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
        "etc/shells": "/bin/sh\n",
        "etc/hostname": "ocitest-linuxkit\n",
        "etc/hosts": "127.0.0.1 localhost\n127.0.1.1 ocitest-linuxkit\n",
        "etc/os-release": 'ID=ocitest-linuxkit\nPRETTY_NAME="ocitest linuxkit (Debian 12 packages)"\n',
        "root/.ssh/authorized_keys": keys["id_ed25519.pub"],
        "etc/ssh/ssh_host_ed25519_key": keys["host_key"],
        "etc/ssh/ssh_host_ed25519_key.pub": keys["host_key.pub"],
        "etc/ssh/sshd_config": SSHD_CONFIG,
    }
    for rel, text in config.items():
        mode = (
            0o755
            if rel in ("init", "etc/init.d/rcS")
            else 0o600
            if "ssh" in rel or "shadow" in rel
            else 0o644
        )
        files[rel] = (rel, mode, text.encode())
    files["dev/console"] = ("dev/console", 0o600, (5, 1))
    for path in list(files):  # the kernel creates no parent directories
        parent = os.path.dirname(path)
        while parent and parent not in files:
            files[parent] = (parent, 0o755, None)
            parent = os.path.dirname(parent)
    return [files[k] for k in sorted(files)]


def _modules(kernel_tree: str, release: str) -> dict[str, bytes]:
    """The .ko files of MODULES and their dependencies, in load order (dependencies first)."""
    root = f"{kernel_tree}/lib/modules/{release}"
    paths: dict[str, str] = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            if n.endswith(".ko"):
                paths[n[:-3].replace("-", "_")] = os.path.join(dirpath, n)
    ordered: dict[str, bytes] = {}

    def add(name: str, seen: tuple[str, ...] = ()) -> None:
        rel_key = name.replace("-", "_")
        if rel_key not in paths:
            raise ImageError(f"module {name} is not in {release} (built in, or misnamed?)")
        rel = os.path.relpath(paths[rel_key], kernel_tree)
        if rel in ordered or rel_key in seen:
            return
        data = open(paths[rel_key], "rb").read()  # noqa: SIM115
        m = re.search(rb"\x00depends=([^\x00]*)\x00", data)
        for dep in m.group(1).decode().split(",") if m and m.group(1) else []:
            add(dep, (*seen, rel_key))
        ordered[rel] = data

    for name in MODULES:
        add(name)
    return ordered


def _rcs(spec: dict) -> str:
    lines = [RCS_HEAD]
    for step in spec.get("onboot") or []:
        cmd = shlex.join(step["command"])
        lines.append(f"{cmd} || echo 'ocitest onboot: {step['name']} failed' >&2\n")
    names = " ".join(s["name"] for s in spec.get("services") or [])
    lines.append(f"echo 'ocitest onboot: done; starting {names}'\n")
    return "".join(lines)


def _inittab(spec: dict) -> str:
    lines = ["::sysinit:/etc/init.d/rcS\n"]
    for svc in spec.get("services") or []:  # each service's output in /var/log/NAME.log
        line = f"exec {shlex.join(svc['command'])} >>/var/log/{svc['name']}.log 2>&1"
        lines.append(f"::respawn:/bin/sh -c {shlex.quote(line)}\n")
    lines.append("::ctrlaltdel:/bin/poweroff -f\n")
    return "".join(lines)


def cpio_newc(entries: list[Entry], out) -> None:
    """Write `entries` (path, mode, content; see `Entry`) to the file `out` as a cpio
    archive in the "newc" format the kernel unpacks (uid and gid 0, mtime 0)."""
    ino = 1
    for path, mode, content in entries:
        rdev = (0, 0)
        if content is None:
            kind, data = stat.S_IFDIR, b""
        elif isinstance(content, str):
            kind, data = stat.S_IFLNK, content.encode()
        elif isinstance(content, tuple):
            kind, data, rdev = stat.S_IFCHR, b"", content
        else:
            kind, data = stat.S_IFREG, content
        _cpio_record(out, path, kind | mode, data, ino, rdev)
        ino += 1
    _cpio_record(out, "TRAILER!!!", 0, b"", 0, (0, 0))


def _cpio_record(out, name: str, mode: int, data: bytes, ino: int, rdev: tuple[int, int]) -> None:
    raw = name.encode() + b"\x00"
    nlink = 2 if stat.S_ISDIR(mode) else 1
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(raw), 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(head + raw + b"\x00" * (-(len(head) + len(raw)) % 4))
    out.write(data + b"\x00" * (-len(data) % 4))
