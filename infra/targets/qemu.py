"""A QEMU virtual machine as a target: `--target qemu:debian`.

The controller (pytest_configure) builds or reuses the cached image (infra/images/vm.py),
makes a qcow2 overlay of its disk in `VM_BASE/RUN_ID/` (the image stays untouched), and
boots it: direct kernel boot, 2 vCPUs, 2 GiB, virtio disk and network, QEMU's user-mode
networking with the guest's port 22 forwarded to a free port on 127.0.0.1. KVM is probed
once per host boot (a kernel that must panic within `KVM_PROBE_TIMEOUT` s; guests hang
under KVM on some hosts) and TCG is used when it fails, said on the terminal;
OCITEST_VM_ACCEL=kvm|tcg skips the probe. When ssh answers, the target is an ssh
target on that port (infra/targets/ssh.py) with the image's key; the xdist workers
attach to it (`attach_spec`) and never boot. `close` (pytest_unconfigure) powers the VM
off and removes the overlay. QEMU runs in a session of its own (a Ctrl-C reaches the
harness, which sweeps the guest, then stops the VM) with PR_SET_PDEATHSIG, so it dies
with a harness that is killed; `sweep_vms` (run at every qemu target's start) kills the
QEMU of any dead run left in VM_BASE and removes its directory.

Errors (one line, the plugin makes them usage errors, exit 4): no qemu, an image build
that failed or a full disk, a guest that never answers ssh (with its console's tail).
The guest's console (kernel messages, init's output) goes to `console.log` in the VM's
directory; the report copies it (`logs`, as `console-qemu-IMAGE.log`) before the VM is
removed, and a command whose ssh connection fails (exit 255, after the retry) gets the
console's last lines in its stderr, so a guest that hung or lost its sshd mid-run can
be diagnosed from the report.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from infra.cache import CACHE_DIR
from infra.images.vm import ImageError, VmImage, debian_image
from infra.images.vm_linuxkit import linuxkit_image
from infra.targets.base import CommandResult, TargetError
from infra.targets.ssh import SSH_ERROR, SshTarget

#: per-run VM directories (overlay, console log, pids)
VM_BASE = "/run/ocitest-vm"
QEMU = "qemu-system-x86_64"
#: images this kind can boot -> builder(cache dir)
IMAGES = {"debian": debian_image, "linuxkit": linuxkit_image}
#: seconds a booting guest gets to answer ssh (TCG on a loaded host is slow)
BOOT_TIMEOUT = float(os.environ.get("OCITEST_VM_BOOT_TIMEOUT", "420"))
#: lines of the console that a failed ssh command's stderr gets
CONSOLE_TAIL = 15
#: seconds the KVM probe may take
KVM_PROBE_TIMEOUT = 8
MEMORY = "2048"
CPUS = "2"
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def say(msg: str) -> None:
    print(f"ocitest: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_vms() -> list[str]:
    """Kill the QEMU of every run in VM_BASE whose owner (harness pid) is gone and remove
    its directory; one line per thing removed. Nothing for a user other than root."""
    removed: list[str] = []
    if os.geteuid() != 0 or not os.path.isdir(VM_BASE):  # VM_BASE is root's
        return removed
    for run in sorted(os.listdir(VM_BASE)):
        d = os.path.join(VM_BASE, run)
        if not run.startswith("oct") or not os.path.isdir(d):
            continue
        owner = _read_int(f"{d}/owner.pid")
        if owner and _alive(owner):
            continue
        qemu = _read_int(f"{d}/qemu.pid")
        if qemu and _is_our_qemu(qemu, d):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(qemu, signal.SIGKILL)
            removed.append(f"qemu process {qemu} of run {run}")
        shutil.rmtree(d, ignore_errors=True)
        removed.append(f"VM directory {d}")
    return removed


def _read_int(path: str) -> int:
    try:
        with open(path) as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _is_our_qemu(pid: int, directory: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return directory.encode() in fh.read()
    except OSError:
        return False


def choose_accel(image: VmImage) -> str:
    """`kvm` when a guest runs under KVM here, else `tcg` (probe cached per host boot)."""
    forced = os.environ.get("OCITEST_VM_ACCEL", "")
    if forced in ("kvm", "tcg"):
        return forced
    if forced:
        raise TargetError(f"OCITEST_VM_ACCEL={forced!r}: expected kvm or tcg (or unset: probe)")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    cache = os.path.join(VM_BASE, "kvm-probe.json")
    try:
        with open(cache) as fh:
            return json.load(fh)["accel"]
    except (OSError, ValueError, KeyError):
        pass
    # a kernel without a root file system panics at once; -no-reboot turns that into exit
    argv = [
        QEMU, "-accel", "kvm", "-M", "pc", "-m", "256", "-nodefaults", "-display", "none",
        "-no-reboot", "-serial", "stdio", "-kernel", image.kernel,
        "-append", "console=ttyS0 panic=-1 root=/dev/nonexistent rootwait=0",
    ]  # fmt: skip
    try:
        res = subprocess.run(argv, capture_output=True, timeout=KVM_PROBE_TIMEOUT, check=False)
        ok = b"Kernel panic" in res.stdout or b"VFS:" in res.stdout
    except subprocess.TimeoutExpired:
        ok = False
    accel = "kvm" if ok else "tcg"
    if not ok:
        say(
            f"KVM is unusable here (a probe guest did not finish in {KVM_PROBE_TIMEOUT} s): using TCG"
        )
    os.makedirs(VM_BASE, exist_ok=True)
    with open(cache, "w") as fh:
        json.dump({"accel": accel}, fh)
    return accel


class QemuTarget(SshTarget):
    """`qemu:IMAGE`: boots a VM (controller) and reaches it over ssh. `run_id` names the
    VM's directory; `attach`: an `ssh://` spec of a VM already booted (xdist workers)."""

    kind = "qemu"
    #: TCG here (KVM guests hang): a runtime call in the guest takes 5-20x the host's
    call_slowdown = 4.0

    def __init__(self, spec: str, run_id: str = "", attach: str = "", key: str = "") -> None:
        image_name = spec.split(":", 1)[1] if ":" in spec else ""
        if image_name not in IMAGES:
            raise TargetError(
                f"--target {spec!r}: unknown image (known: {', '.join(sorted(IMAGES))})"
            )
        self.vm_dir = ""
        self.proc: subprocess.Popen | None = None
        self.accel = ""
        self.boot_seconds = 0.0
        #: the guest's console log (on this machine; the VM's directory is named by run id)
        self.console = os.path.join(VM_BASE, run_id, "console.log") if run_id else ""
        if attach:
            super().__init__(attach, key)
            self.spec = spec
            return
        if shutil.which(QEMU) is None:
            raise TargetError(
                f"--target {spec}: {QEMU} is not installed (./ocitest setup installs it)"
            )
        if not run_id:
            raise TargetError(f"--target {spec}: no run id")
        for line in sweep_vms():
            say(f"swept {line}")
        try:
            image = IMAGES[image_name](CACHE_DIR)
        except ImageError as exc:
            raise TargetError(f"--target {spec}: {exc}") from None
        port = free_port()
        super().__init__(f"ssh://root@127.0.0.1:{port}", image.key, check=False)
        self.attach_spec = f"ssh://root@127.0.0.1:{port}"
        self.spec = spec
        try:
            self._boot(image, run_id, port)
        except BaseException:
            self.close()
            raise

    def _boot(self, image: VmImage, run_id: str, port: int) -> None:
        self.vm_dir = d = os.path.join(VM_BASE, run_id)
        os.makedirs(d)
        with open(f"{d}/owner.pid", "w") as fh:
            fh.write(str(os.getpid()))
        disk = []
        if not image.disk_less:
            res = subprocess.run(
                ["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", image.disk, f"{d}/disk.qcow2"],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            if res.returncode != 0:
                raise TargetError(
                    f"--target {self.spec}: qemu-img create failed: {res.stderr.strip()}"
                )
            disk = ["-drive", f"file={d}/disk.qcow2,if=virtio,format=qcow2,cache=unsafe"]
        self.accel = choose_accel(image)
        argv = [
            QEMU, "-name", f"ocitest-{run_id}", "-accel", self.accel, "-M", "pc",
            "-cpu", "max" if self.accel == "tcg" else "host", "-smp", CPUS, "-m", MEMORY,
            "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", image.kernel, "-initrd", image.initrd,
            "-append", image.cmdline, *disk,
            "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net-pci,netdev=n0",
            "-device", "virtio-rng-pci",
            "-serial", f"file:{d}/console.log",
            "-pidfile", f"{d}/qemu.pid",
        ]  # fmt: skip
        say(
            f"booting {self.spec} ({self.accel.upper()}, ssh on 127.0.0.1:{port}, console {d}/console.log)"
        )
        start = time.monotonic()
        self._log = open(f"{d}/qemu.log", "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        while True:
            if self.proc.poll() is not None:
                raise TargetError(
                    f"--target {self.spec}: qemu exited ({self.proc.returncode}) while booting: "
                    + self._tail(f"{d}/qemu.log")
                    + " "
                    + self._tail(f"{d}/console.log")
                )
            rc, _, _ = self._ssh("true", 10)
            if rc == 0:
                break
            if time.monotonic() - start > BOOT_TIMEOUT:
                raise TargetError(
                    f"--target {self.spec}: the guest did not answer ssh within {BOOT_TIMEOUT:g} s; "
                    f"console: {self._tail(f'{d}/console.log')}"
                )
            time.sleep(2)
        self.boot_seconds = time.monotonic() - start
        say(f"{self.spec} answered ssh after {self.boot_seconds:.0f} s")

    def run(self, argv: list[str], timeout: float, *, shell_suffix: str = "") -> CommandResult:
        """See `SshTarget.run`; when ssh itself fails (255), stderr gets the console's tail."""
        res = super().run(argv, timeout, shell_suffix=shell_suffix)
        if res.exit_status == SSH_ERROR and self.console:
            res.stderr += (
                f"\nocitest: ssh to the {self.spec} guest failed; its console "
                f"(the report keeps it as {self.console_name}) ends: "
                + self._tail(self.console, CONSOLE_TAIL)
            )
        return res

    @property
    def console_name(self) -> str:
        """The console log's file name in the report directory."""
        return "console-" + self.spec.replace(":", "-") + ".log"

    def logs(self) -> dict[str, str]:
        if self.console and os.path.isfile(self.console):
            return {self.console_name: self.console}
        return {}

    @staticmethod
    def _tail(path: str, n: int = 3) -> str:
        try:
            with open(path, errors="replace") as fh:
                lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip()]
        except OSError:
            return "(no log)"
        return " / ".join(lines[-n:]) or "(empty)"

    def close(self) -> None:
        """Close the connections, stop QEMU (SIGTERM, SIGKILL after 15 s) and remove the
        VM's directory (overlay, logs). Only the process that booted it does anything here."""
        super().close()
        if self.proc is not None:
            if self.proc.poll() is None:  # the overlay is thrown away: no clean shutdown
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
            self._log.close()
        if self.vm_dir:
            shutil.rmtree(self.vm_dir, ignore_errors=True)
            self.vm_dir = ""
