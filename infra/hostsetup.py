"""Host setup for Debian 12: packages, the project's virtualenv, and host fixes.

Standard library only: it runs before the virtualenv exists, with the python3 that
started `./ocitest`. Idempotent: each step checks first and says what it does and why;
a machine that already has everything is left as it is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from infra import gobuild

ROOT = Path(__file__).resolve().parent.parent
#: True in a clone of the repository (./ocitest, its own .venv); False in an installed
#: wheel, where ROOT is site-packages/ocitest/harness and the user's environment has
#: every Python dependency already
CHECKOUT = (ROOT / "setup.py").is_file() and (ROOT / "pkg" / "ocitest").is_dir()
VENV = ROOT / ".venv"
STAMP = VENV / ".ocitest-installed"
#: the .pth file that puts the checkout on the virtualenv's sys.path (import infra, ...)
PTH_NAME = "ocitest-checkout.pth"

#: Debian packages the suites need (README: The two commands, The CRI suite)
PACKAGES = [
    "python3-venv",
    "runc",
    "crun",
    "busybox-static",
    "gcc",
    "libc6-dev",
    "uidmap",
    "iproute2",
    "util-linux",
    "containernetworking-plugins",
    "containerd",
    "docker-registry",
    "umoci",
    "skopeo",
    # a peer validator for `corpus compare` (benchmarks/peers/; 2.5 MB)
    "oci-image-tool",
    "golang-github-opencontainers-image-spec-dev",
    "golang-github-opencontainers-specs-dev",
    # runc's seccomp build tag (infra/gobuild.py) links libseccomp through pkg-config
    "libseccomp-dev",
    "pkg-config",
    # headless browser for the report's browser tests and benchmark (Selenium drives it)
    "chromium",
    "chromium-driver",
    # GNU time: the runtime benchmark's peak RSS of each runtime command (wait4's ru_maxrss)
    "time",
    # the ssh target's client, and the server its tests reach on 127.0.0.1
    "openssh-client",
    "openssh-server",
    # the qemu:debian target: the image builder and the emulator
    "mmdebstrap",
    "qemu-system-x86",
    "qemu-utils",
]
#: the vagrant:NAME target's stack, installed only with OCITEST_SETUP_VAGRANT=1: about 90
#: packages (Ruby, libvirt; 2.5 min here), which only that target uses
VAGRANT_PACKAGES = [
    "vagrant",
    "vagrant-libvirt",
    "libvirt-daemon-system",
    "libvirt-clients",
    "libvirt-daemon-driver-qemu",
    "dnsmasq-base",  # the DHCP of the machine's libvirt network
]
#: seconds allowed for apt-get and pip
INSTALL_TIMEOUT = 1800


class SetupError(Exception):
    """Setup cannot go on; the message is one line."""


class SetupUsageError(SetupError):
    """A bad setup option or environment value (one line; exit 4)."""


def say(msg: str) -> None:
    print(f"ocitest setup: {msg}", flush=True)


def missing_packages() -> list[str]:
    if shutil.which("dpkg-query") is None:
        raise SetupError(
            "this is not a Debian-like system (no dpkg-query); install by hand: "
            + " ".join(PACKAGES)
        )
    out = []
    wanted = PACKAGES + (VAGRANT_PACKAGES if os.environ.get("OCITEST_SETUP_VAGRANT") == "1" else [])
    for pkg in wanted:
        res = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in res.stdout:
            out.append(pkg)
    return out


def install_packages() -> None:
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise SetupError(
            f"missing Debian packages ({' '.join(missing)}) and not root: "
            "run as root or install them first"
        )
    say(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update", "-qq"], env)
    _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env)


def _run(argv: list[str], env: dict | None = None) -> None:
    try:
        res = subprocess.run(argv, env=env, timeout=INSTALL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise SetupError(f"{' '.join(argv[:3])} timed out after {INSTALL_TIMEOUT} s") from None
    except FileNotFoundError:
        raise SetupError(f"{argv[0]} not found") from None
    if res.returncode != 0:
        raise SetupError(f"{' '.join(argv[:4])} ... failed with exit status {res.returncode}")


def _requirements_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> Path:
    """The project's virtualenv with ocitest installed (editable, with dev extras) and
    the checkout on its sys.path; in an installed wheel, the running python."""
    if not CHECKOUT:
        return Path(sys.executable)
    python = VENV / "bin" / "python"
    if not python.exists():
        say(f"creating the virtualenv {VENV}")
        _run([sys.executable, "-m", "venv", str(VENV)])
    digest = _requirements_digest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        say("installing Python dependencies into the virtualenv (pip)")
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-e",
                f"{ROOT}[dev]",
            ]
        )
        STAMP.write_text(digest + "\n")
    _write_pth()
    return python


def _write_pth() -> None:
    """A .pth in the virtualenv's site-packages naming ROOT: the editable install gives
    the `ocitest` package, its console script and its pytest11 entry point; the harness
    imports itself as `infra`, `reports`, `suites`, ... from the checkout."""
    found = sorted(VENV.glob("lib/python3*/site-packages"))
    if not found:
        raise SetupError(f"no site-packages in {VENV} (remove it and run setup again)")
    pth = found[0] / PTH_NAME
    if not pth.exists() or pth.read_text().strip() != str(ROOT):
        pth.write_text(f"{ROOT}\n")


# --- host fixes: what this kind of host needs before the suites can run ------------------
def cgroup2_controllers() -> list[str]:
    """Controllers still held by the cgroup2 tree of a hybrid host ([] otherwise)."""
    f = Path("/sys/fs/cgroup/unified/cgroup.controllers")
    if Path("/sys/fs/cgroup/cgroup.controllers").exists() or not f.exists():
        return []
    return f.read_text().split()


def free_hybrid_cgroup2() -> None:
    """crun refuses hybrid mode while cgroup2 holds a controller: mount each such
    controller as a v1 hierarchy, which moves it off cgroup2. Idempotent."""
    held = cgroup2_controllers()
    if not held:
        return
    if os.geteuid() != 0:
        say(f"warning: cgroup2 holds {held}; crun will refuse hybrid mode (needs root to fix)")
        return
    for ctrl in held:
        where = Path("/sys/fs/cgroup") / ctrl
        say(
            f"host fix: cgroup2 holds the {ctrl} controller, which makes crun refuse "
            f"hybrid mode; mounting a v1 {ctrl} hierarchy at {where} frees it"
        )
        try:
            where.mkdir(exist_ok=True)
        except OSError as exc:
            say(f"warning: cannot create {where}: {exc.strerror}; crun tests will fail")
            continue
        res = subprocess.run(
            ["mount", "-t", "cgroup", "-o", ctrl, "cgroup", str(where)],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            say(f"warning: mounting {where} failed: {res.stderr.strip()}")


def setup(host_fixes: bool = True, go_builds: str | None = None) -> Path:
    """Run every step; return the virtualenv's python.

    `go_builds` selects the subjects built from Go modules (infra/gobuild.py): "none",
    "all", "default" or a comma list; None: $OCITEST_GO_BUILDS, else "default" (what the
    default suites use). A failed build is printed and does not stop setup.

    Raises:
        SetupError: a step that cannot go on (SetupUsageError: a bad selection).
    """
    try:
        gobuild.selection(go_builds)  # a bad selection fails before anything is installed
    except gobuild.SelectionError as exc:
        raise SetupUsageError(str(exc)) from None
    install_packages()
    python = ensure_venv()
    if host_fixes:
        free_hybrid_cgroup2()
    gobuild.setup(say, go_builds)
    return python
