"""Bundles (runtime-spec bundle.md): a directory with config.json and a rootfs.

`baseline_config()` is our own starting point, not a runtime's `spec` output (which
differs between runtimes and asks for a terminal). A test changes one or two fields of
`Bundle.config` (a plain dict) and calls `write()`, which validates against the
runtime-spec config schema; `write_unvalidated()` is for negative tests that need a
broken config.json.

When the harness runs as a user other than root, bundles get the rootless variant of the
baseline (`rootless_config`), as runc's `spec --rootless` does and for the same reasons.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from infra import schemas
from infra.images.rootfs import provide_rootfs
from infra.targets import Target, TargetError

#: the ociVersion our baseline declares: it uses nothing newer than 1.0.2
BASELINE_OCI_VERSION = "1.0.2"

DEFAULT_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]

_BASELINE = {
    "ociVersion": BASELINE_OCI_VERSION,
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", "true"],
        "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
        "cwd": "/",
        "capabilities": {k: DEFAULT_CAPS for k in ("bounding", "effective", "permitted")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": False},
    "hostname": "ocitest",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
    ],
    "linux": {
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
}


@dataclass(frozen=True)
class RootlessUser:
    """The user a rootless runtime runs as: ids and the hard RLIMIT_NOFILE it may not exceed."""

    uid: int
    gid: int
    nofile_hard: int | None = None  # None: unlimited


def baseline_config(args: list[str] | None = None, user: RootlessUser | None = None) -> dict:
    """A fresh copy of our baseline config.json (a plain dict; change it freely).

    `args` replaces process.args. `user`: the unprivileged user the runtime runs as
    (rootless mode), which gives the rootless variant (see `rootless_config`). The
    cgroupsPath is set by the bundle factory (root only).
    """
    cfg = copy.deepcopy(_BASELINE)
    if args is not None:
        cfg["process"]["args"] = list(args)
    return rootless_config(cfg, user) if user is not None else cfg


def rootless_config(cfg: dict, user: RootlessUser) -> dict:
    """Turn a baseline config into what an unprivileged user can run, in place.

    - a user namespace mapping container 0 to the user's own ids (size 1: newuidmap and
      a /etc/subuid range are not needed);
    - /sys as a read-only rbind of the host's: the kernel lets a user namespace mount a
      new sysfs only where no part of the host's /sys is hidden (not so in many CI
      containers) and only with a network namespace of its own, which a test may drop;
    - linux.resources empty (the device allowlist and every limit are cgroup writes,
      which an unprivileged user cannot make on a cgroup v1 or hybrid host without
      systemd; runc and crun ignore what they cannot apply); the factory sets no
      cgroupsPath either;
    - rlimits no higher than the user's own hard limits (raising one needs
      CAP_SYS_RESOURCE in the initial user namespace).
    The network namespace stays: an unprivileged user may create one inside its userns.
    """
    lx = cfg["linux"]
    lx["namespaces"].append({"type": "user"})
    lx["uidMappings"] = [{"containerID": 0, "hostID": user.uid, "size": 1}]
    lx["gidMappings"] = [{"containerID": 0, "hostID": user.gid, "size": 1}]
    lx["resources"] = {}
    for m in cfg["mounts"]:
        if m["destination"] == "/sys":
            m.update(
                type="none", source="/sys", options=["rbind", "nosuid", "noexec", "nodev", "ro"]
            )
    if user.nofile_hard is not None:
        for rl in cfg["process"]["rlimits"]:
            if rl["type"] == "RLIMIT_NOFILE":
                rl["hard"] = min(rl["hard"], user.nofile_hard)
                rl["soft"] = min(rl["soft"], rl["hard"])
    return cfg


_USERS: dict[str, RootlessUser | None] = {}


def rootless_user(target: Target) -> RootlessUser | None:
    """The unprivileged user the harness runs as on `target`, None for root (cached)."""
    if target.spec not in _USERS:
        res = target.run(["sh", "-c", "id -u; id -g; ulimit -Hn"], timeout=15)
        uid, gid, nofile = ([*res.stdout.split(), "", "", ""])[:3]
        if res.exit_status != 0 or not uid.isdigit() or not gid.isdigit():
            raise TargetError(f"cannot tell the target's user: {res.stderr.strip()}")
        _USERS[target.spec] = (
            None
            if uid == "0"
            else RootlessUser(int(uid), int(gid), int(nofile) if nofile.isdigit() else None)
        )
    return _USERS[target.spec]


class ConfigInvalid(Exception):
    """`Bundle.write()` was asked to write a config the schema rejects (a test bug)."""


@dataclass
class Bundle:
    """A bundle on a target.

    Attributes:
        path: absolute bundle directory.
        config: the config.json to write, as a dict.
        schema_dir: runtime-spec schema directory used by `write()`.
        overlay: True when BUNDLE/rootfs is the harness's overlay mount (released by the
            session's teardown), False for a private copy (infra/images/rootfs.py).
    """

    target: Target
    path: str
    config: dict
    schema_dir: str
    written: list[str] = field(default_factory=list)
    overlay: bool = False

    @property
    def config_path(self) -> str:
        return f"{self.path}/config.json"

    @property
    def rootfs(self) -> str:
        """The rootfs directory named by root.path (relative to the bundle)."""
        root = self.config.get("root", {}).get("path", "rootfs")
        return root if root.startswith("/") else f"{self.path}/{root}"

    def write(self) -> str:
        """Validate `config` against config-schema.json and write config.json.

        Raises:
            ConfigInvalid: with the schema violations.
        """
        problems = schemas.errors(self.schema_dir, "config-schema.json", self.config)
        if problems:
            raise ConfigInvalid(
                "baseline config no longer matches config-schema.json: " + "; ".join(problems[:5])
            )
        return self.write_unvalidated(self.config)

    def write_unvalidated(self, config: dict | str) -> str:
        """Write config.json as given (a dict, or raw text for malformed JSON)."""
        text = config if isinstance(config, str) else json.dumps(config, indent=2)
        self.target.write_text(self.config_path, text)
        self.written.append(text)
        return self.config_path


def make_bundle(
    target: Target,
    path: str,
    cached_rootfs: str,
    schema_dir: str,
    cgroups_path: str,
    args: list[str] | None = None,
    rootfs_mode: str | None = None,
) -> Bundle:
    """Create a bundle directory at `path` with a private writable rootfs: an overlay on
    the cached rootfs or a copy of it (`rootfs_mode`: "overlay", "copy", "auto"; None
    for $OCITEST_ROOTFS; see infra/images/rootfs.py). The caller releases an overlay
    (`release_rootfs`) before removing the bundle.

    config.json is not written yet: the test changes `bundle.config`, then `write()`s.
    """
    user = rootless_user(target)
    cfg = baseline_config(args, user)
    if user is None:  # rootless: no cgroup of our own on a v1/hybrid host (rootless_config)
        cfg["linux"]["cgroupsPath"] = cgroups_path
    target.make_dirs(path)
    overlay = provide_rootfs(
        target, cached_rootfs, path, rootfs_mode
    )  # last: nothing can fail after
    return Bundle(target=target, path=path, config=cfg, schema_dir=schema_dir, overlay=overlay)
