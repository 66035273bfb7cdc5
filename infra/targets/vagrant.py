"""A Vagrant machine as a target: `--target vagrant:NAME` (NAME: a machine of infra/Vagrantfile).

The controller (pytest_configure) makes sure libvirtd runs (`libvirtd -d`, with
`virtlogd -d`, when no daemon answers: there is no systemd here), that the harness's
storage pool `ocitest` (a directory under the cache) exists, and, for `ocitest-debian`,
that the box is packaged and added (infra/images/vagrant_box.py); then python-vagrant
runs `vagrant up NAME --provider libvirt` and reads `vagrant ssh-config`: the target is
the ssh target on the machine's address with the key Vagrant uses (infra/targets/ssh.py);
the xdist workers attach to it (`attach_spec`) and never run vagrant.

Vagrant runs with VAGRANT_HOME = CACHE/vagrant/home (the user's ~/.vagrant.d is not
touched), VAGRANT_CWD = infra/, VAGRANT_DOTFILE_PATH = the run's directory
`/run/ocitest-vagrant/RUN/` (owner.pid, the console log, vagrant's log; not the qemu
target's base, whose sweeper kills the QEMU of a dead run). The provider is libvirt
with the `qemu` driver (TCG) unless the KVM probe
of infra/targets/qemu.py passes. Every libvirt object of the run is named after the run
id (domain and volume `ocitest-RUN-NAME`, network `ocitest-RUN`): `close` runs
`vagrant destroy -f` and then removes whatever of those is still there (also after a
failed boot or a Ctrl-C), unless `keep` (`--keep-vm`); `sweep_libvirt` removes those of
runs whose owner is gone (each vagrant target's start, `python -m infra.sweep`).

Errors (one line, usage errors, exit 4): vagrant or virsh missing, an unknown machine,
libvirtd that cannot be started, a box that cannot be built, a guest that never answers
ssh (with the console's tail).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import threading
import time

from infra.cache import CACHE_DIR
from infra.images.vagrant_box import ocitest_debian_box, vagrant_env
from infra.images.vm import ImageError
from infra.targets.base import TargetError
from infra.targets.qemu import BOOT_TIMEOUT, _alive, _read_int, choose_accel, say  # fmt: skip
from infra.targets.ssh import SshTarget

#: per-run directories (owner.pid, console log, vagrant's log and machine state); not the
#: qemu target's VM_BASE, whose sweeper kills any QEMU naming a dead run's directory
VAGRANT_BASE = "/run/ocitest-vagrant"
INFRA_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAGRANTFILE = os.path.join(INFRA_DIR, "Vagrantfile")
#: the machine whose box the harness builds itself
LOCAL_BOX_MACHINE = "ocitest-debian"
#: the harness's libvirt storage pool (a directory pool under the cache)
POOL = "ocitest"
URI = "qemu:///system"
#: seconds for `vagrant status` and `vagrant destroy`
VAGRANT_TIMEOUT = 300
#: seconds `vagrant up` may take beyond the boot timeout (the base volume's first upload,
#: defining the domain and network: minutes on a loaded host)
UP_SLACK = float(os.environ.get("OCITEST_VAGRANT_UP_SLACK", "300"))
#: seconds for a virsh call
VIRSH_TIMEOUT = 60
INSTALL_HINT = "OCITEST_SETUP_VAGRANT=1 ./ocitest setup installs it"


def machines(vagrantfile: str = VAGRANTFILE) -> list[str]:
    """The machine names `vagrantfile` defines (`config.vm.define "NAME"` and the names
    of the public-box table), read without running Vagrant."""
    with open(vagrantfile) as fh:
        text = fh.read()
    names = re.findall(r'config\.vm\.define\s+"([\w.-]+)"', text)
    table = re.search(r"\{([^{}]*)\}\.each do \|name, box\|", text)
    if table:
        names += re.findall(r'"([\w.-]+)"\s*=>', table.group(1))
    return sorted(set(names))


def virsh(*args: str, timeout: float = VIRSH_TIMEOUT) -> subprocess.CompletedProcess:
    """`virsh -c qemu:///system ARGS` (never raises on a non-zero exit)."""
    try:
        return subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, "", f"virsh {args[0]}: timed out")


def ensure_libvirtd() -> None:
    """Start virtlogd and libvirtd (`-d`) unless libvirtd answers; wait up to 30 s.

    Raises:
        TargetError: virsh or libvirtd is missing, or the daemon does not answer."""
    if shutil.which("virsh") is None or shutil.which("libvirtd") is None:
        raise TargetError(f"libvirt is not installed ({INSTALL_HINT})")
    if virsh("version", timeout=20).returncode == 0:
        return
    for daemon in ("virtlogd", "libvirtd"):
        if subprocess.run(["pgrep", "-x", daemon], capture_output=True, check=False).returncode:
            res = subprocess.run([daemon, "-d"], capture_output=True, text=True, timeout=30,
                                 check=False)  # fmt: skip
            if res.returncode != 0:
                why = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
                raise TargetError(f"cannot start {daemon}: {why}")
            say(f"started {daemon} -d (no libvirt daemon was running)")
    deadline = time.monotonic() + 30
    while True:
        res = virsh("version", timeout=20)
        if res.returncode == 0:
            return
        if time.monotonic() > deadline:
            why = (res.stderr.strip().splitlines() or ["no answer"])[-1]
            raise TargetError(f"libvirtd does not answer on {URI}: {why}")
        time.sleep(1)


def ensure_pool(cache_dir: str) -> None:
    """Define and start the directory pool `ocitest` at CACHE/vagrant/pool (once)."""
    path = os.path.join(cache_dir, "vagrant", "pool")
    os.makedirs(path, exist_ok=True)
    if virsh("pool-info", POOL).returncode != 0:
        res = virsh("pool-define-as", POOL, "dir", "--target", path)
        if res.returncode != 0 and virsh("pool-info", POOL).returncode != 0:
            raise TargetError(f"cannot define the libvirt pool {POOL}: {res.stderr.strip()}")
    if "running" not in virsh("pool-info", POOL).stdout:
        virsh("pool-start", POOL)
    virsh("pool-refresh", POOL)


def run_objects(run_id: str) -> dict[str, list[str]]:
    """The libvirt objects named after `run_id`: domains, volumes (pool `ocitest`),
    networks."""
    prefix = f"ocitest-{run_id}"

    def names(*args: str) -> list[str]:
        out = virsh(*args).stdout.split()
        return [n for n in out if n == prefix or n.startswith(prefix + "-")]

    return {
        "domain": names("list", "--all", "--name"),
        "volume": names("vol-list", POOL, "--details") if _pool_exists() else [],
        "network": names("net-list", "--all", "--name"),
    }


def _pool_exists() -> bool:
    return virsh("pool-info", POOL).returncode == 0


def remove_run_objects(run_id: str) -> list[str]:
    """Remove every libvirt object of `run_id` (domains with their storage, volumes,
    networks); one line per thing removed."""
    removed = []
    objs = run_objects(run_id)
    for dom in objs["domain"]:
        virsh("destroy", dom)
        virsh("undefine", dom, "--remove-all-storage", "--nvram")
        removed.append(f"libvirt domain {dom}")
    for vol in run_objects(run_id)["volume"]:
        virsh("vol-delete", vol, "--pool", POOL)
        removed.append(f"libvirt volume {vol}")
    for net in objs["network"]:
        virsh("net-destroy", net)
        virsh("net-undefine", net)
        removed.append(f"libvirt network {net}")
    return removed


def sweep_libvirt() -> list[str]:
    """Remove the libvirt objects and the directory of every run whose owner is gone (its
    directory in VAGRANT_BASE has no live owner.pid, or is missing) and that was not kept
    (`keep` file, --keep-vm); one line per thing removed. Nothing for a user other than root."""
    if os.geteuid() != 0 or shutil.which("virsh") is None:
        return []
    runs = set(os.listdir(VAGRANT_BASE)) if os.path.isdir(VAGRANT_BASE) else set()
    if virsh("version", timeout=20).returncode == 0:
        names = virsh("list", "--all", "--name").stdout.split()
        names += virsh("net-list", "--all", "--name").stdout.split()
        if _pool_exists():
            names += virsh("vol-list", POOL).stdout.split()
        runs |= {m.group(1) for n in names if (m := re.match(r"ocitest-(oct[0-9A-Za-z]+)", n))}
    removed = []
    for run in sorted(r for r in runs if r.startswith("oct")):
        d = os.path.join(VAGRANT_BASE, run)
        owner = _read_int(f"{d}/owner.pid")
        if (owner and _alive(owner)) or os.path.exists(f"{d}/keep"):
            continue
        removed += [f"{line} of run {run}" for line in remove_run_objects(run)]
        if os.path.isdir(d):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(f"directory {d}")
    return removed


def subnet(run_id: str) -> str:
    """The run's management network, a /24 in 10.213.0.0/16 picked by the run id."""
    n = int(hashlib.sha256(run_id.encode()).hexdigest(), 16) % 250 + 2
    return f"10.213.{n}.0/24"


class VagrantTarget(SshTarget):
    """`vagrant:NAME`: brings the machine up (controller) and reaches it over ssh.
    `run_id` names its libvirt objects; `attach`: the `ssh://` spec of the machine the
    controller brought up (xdist workers); `keep`: leave the machine running at close."""

    kind = "vagrant"

    def __init__(self, spec: str, run_id: str = "", attach: str = "", key: str = "",
                 keep: bool = False) -> None:  # fmt: skip
        self.machine = spec.split(":", 1)[1] if ":" in spec else ""
        self.run_id, self.keep, self.vm_dir = run_id, keep, ""
        self.vagrant = None
        self.up_seconds = 0.0
        if attach:
            super().__init__(attach, key)
            self.spec = spec
            return
        if shutil.which("vagrant") is None:
            raise TargetError(f"--target {spec}: vagrant is not installed ({INSTALL_HINT})")
        known = machines()
        if self.machine not in known:
            raise TargetError(
                f"--target {spec!r}: unknown machine (infra/Vagrantfile has: {', '.join(known)})"
            )
        if not run_id:
            raise TargetError(f"--target {spec}: no run id")
        self.spec = spec
        try:
            ensure_libvirtd()
            for line in sweep_libvirt():
                say(f"swept {line}")
            self._up()
        except (TargetError, OSError) as exc:
            self.close()
            msg = str(exc)
            raise TargetError(
                msg if msg.startswith("--target") else f"--target {spec}: {msg}"
            ) from None
        except BaseException:
            self.close()
            raise

    def _up(self) -> None:
        import vagrant  # python-vagrant

        self.vm_dir = d = os.path.join(VAGRANT_BASE, self.run_id)
        os.makedirs(d, mode=0o755)
        with open(f"{d}/owner.pid", "w") as fh:
            fh.write(str(os.getpid()))
        open(f"{d}/console.log", "w").close()  # libvirt gives it to the guest's QEMU user
        env = vagrant_env(CACHE_DIR)
        env.update(
            VAGRANT_CWD=INFRA_DIR, VAGRANT_DOTFILE_PATH=f"{d}/dot-vagrant",
            OCITEST_RUN_ID=self.run_id, OCITEST_VAGRANT_POOL=POOL,
            OCITEST_VAGRANT_NET=subnet(self.run_id),
            OCITEST_VAGRANT_CONSOLE=f"{d}/console.log",
        )  # fmt: skip
        if self.machine == LOCAL_BOX_MACHINE:
            try:
                box, image, secs = ocitest_debian_box(CACHE_DIR)
            except ImageError as exc:
                raise TargetError(f"the box {LOCAL_BOX_MACHINE} cannot be built: {exc}") from None
            self.box_seconds = secs
            env["OCITEST_VAGRANT_BOX"] = box
            env["OCITEST_VAGRANT_CMDLINE"] = " ".join(
                w for w in image.cmdline.split() if w != "quiet"
            )
            env["OCITEST_VAGRANT_DRIVER"] = "kvm" if choose_accel(image) == "kvm" else "qemu"
        ensure_pool(CACHE_DIR)
        log = f"{d}/vagrant.log"
        self.vagrant = vagrant.Vagrant(
            root=INFRA_DIR, env=env,
            out_cm=vagrant.make_file_cm(log), err_cm=vagrant.make_file_cm(log),
        )  # fmt: skip
        say(f"vagrant up {self.machine} --provider libvirt (driver "
            f"{env.get('OCITEST_VAGRANT_DRIVER', 'qemu')}, console {d}/console.log)")  # fmt: skip
        start = time.monotonic()
        deadline = BOOT_TIMEOUT + UP_SLACK  # vagrant-libvirt's wait for the IP has none
        try:
            _with_deadline(lambda: self.vagrant.up(vm_name=self.machine, provider="libvirt"),
                           deadline, "vagrant up")  # fmt: skip
        except (subprocess.CalledProcessError, TimeoutError) as exc:
            said = _tail(log, 4)
            if "Timed out while waiting for the machine to boot" in said:
                waited = f"{BOOT_TIMEOUT:g} s (Vagrant's boot_timeout)"
            elif isinstance(exc, TimeoutError):
                waited = f"{deadline:g} s of vagrant up"
            else:
                raise TargetError(f"vagrant up {self.machine} failed: {said}") from None
            raise TargetError(
                f"the guest did not answer ssh within {waited} ({said}); "
                f"console: {_tail(f'{d}/console.log')}"
            ) from None
        conf = _with_deadline(lambda: self.vagrant.conf(vm_name=self.machine), 120, "ssh-config")
        user, host, port = conf.get("User", "root"), conf["HostName"], conf.get("Port", "22")
        self.attach_spec = f"ssh://{user}@{host}:{port}"
        key = conf.get("IdentityFile", "").strip('"')
        SshTarget.__init__(self, self.attach_spec, key, check=False)
        self.spec = f"vagrant:{self.machine}"
        self.check()
        self.up_seconds = time.monotonic() - start
        say(f"{self.spec} answered ssh on {host} after {self.up_seconds:.0f} s")

    def logs(self) -> dict[str, str]:
        """The guest's console log (controller), copied into the report as
        `console-vagrant-NAME.log` (see `Target.logs`)."""
        path = f"{self.vm_dir}/console.log" if self.vm_dir else ""
        if path and os.path.isfile(path):
            return {f"console-vagrant-{self.machine}.log": path}
        return {}

    def close(self) -> None:
        """Close the connections; then (the process that brought the machine up)
        `vagrant destroy -f` and removal of every libvirt object of the run still there,
        and of the run's directory; with `keep`, say how to reach the machine instead."""
        if getattr(self, "control_path", ""):
            super().close()
        if not self.vm_dir:
            return
        if self.keep and self.vagrant is not None:
            open(f"{self.vm_dir}/keep", "w").close()
            say(f"kept {self.spec}: VAGRANT_HOME={vagrant_env(CACHE_DIR)['VAGRANT_HOME']} "
                f"VAGRANT_CWD={INFRA_DIR} VAGRANT_DOTFILE_PATH={self.vm_dir}/dot-vagrant "
                f"OCITEST_RUN_ID={self.run_id} vagrant ssh {self.machine}")  # fmt: skip
            return
        if self.vagrant is not None:
            with contextlib.suppress(subprocess.CalledProcessError, TimeoutError):
                _with_deadline(lambda: self.vagrant.destroy(vm_name=self.machine),
                               VAGRANT_TIMEOUT, "vagrant destroy")  # fmt: skip
            self.vagrant = None
        for line in remove_run_objects(self.run_id):
            say(f"removed {line} (vagrant destroy had left it)")
        shutil.rmtree(self.vm_dir, ignore_errors=True)
        self.vm_dir = ""


def _tail(path: str, n: int = 3) -> str:
    try:
        with open(path, errors="replace") as fh:
            lines = [ln.strip() for ln in fh.read().splitlines()]
        skip = ("Progress:", "\x1b", "from /")  # progress bars, Ruby backtraces
        lines = [ln for ln in lines if ln and not ln.startswith(skip)]
    except OSError:
        return "(no log)"
    return " / ".join(lines[-n:]) or "(empty)"


def _with_deadline(call, timeout: float, what: str):
    """Run `call` (a python-vagrant call, which has no deadline of its own) in a thread;
    past `timeout` s kill the vagrant processes it started and raise TimeoutError."""
    result: dict = {}

    def body() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    before = _vagrant_children()
    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        for pid in _vagrant_children() - before:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        t.join(30)
        raise TimeoutError(f"{what} took more than {timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def _vagrant_children() -> set[int]:
    """Pids of our child processes running vagrant (ruby)."""
    me, out = str(os.getpid()), set()
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as fh:
                ppid = fh.read().rsplit(")", 1)[1].split()[1]
            with open(f"/proc/{p}/cmdline", "rb") as fh:
                cmd = fh.read()
        except (OSError, IndexError):
            continue
        if ppid == me and b"vagrant" in cmd:
            out.add(int(p))
    return out
