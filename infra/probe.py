"""The probe's report, parsed: what the container process saw (infra/images/probe.c).

The probe runs as the container's process and prints JSON lines: its facts, then one
line per action. `parse_report()` turns that output into a `ProbeReport` whose
properties use the spec's vocabulary (capability names, rlimit names, mountinfo
fields); tests compare them with config.json. Nothing here judges: that is the tests'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from infra.evidence import Evidence
from infra.images.rootfs import PROBE_PATH

#: capability numbers (linux/capability.h) -> names, as config.json spells them
CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
]  # fmt: skip
_CAP_FIELDS = {
    "CapInh": "inheritable",
    "CapPrm": "permitted",
    "CapEff": "effective",
    "CapBnd": "bounding",
    "CapAmb": "ambient",
}
#: /proc/self/limits row titles -> config.json rlimit types
RLIMITS = {
    "Max cpu time": "RLIMIT_CPU",
    "Max file size": "RLIMIT_FSIZE",
    "Max data size": "RLIMIT_DATA",
    "Max stack size": "RLIMIT_STACK",
    "Max core file size": "RLIMIT_CORE",
    "Max resident set": "RLIMIT_RSS",
    "Max processes": "RLIMIT_NPROC",
    "Max open files": "RLIMIT_NOFILE",
    "Max locked memory": "RLIMIT_MEMLOCK",
    "Max address space": "RLIMIT_AS",
    "Max file locks": "RLIMIT_LOCKS",
    "Max pending signals": "RLIMIT_SIGPENDING",
    "Max msgqueue size": "RLIMIT_MSGQUEUE",
    "Max nice priority": "RLIMIT_NICE",
    "Max realtime priority": "RLIMIT_RTPRIO",
    "Max realtime timeout": "RLIMIT_RTTIME",
}
SCHED_POLICIES = {
    0: "SCHED_OTHER",
    1: "SCHED_FIFO",
    2: "SCHED_RR",
    3: "SCHED_BATCH",
    5: "SCHED_IDLE",
    6: "SCHED_DEADLINE",
}
IOPRIO_CLASSES = {
    0: "IOPRIO_CLASS_NONE",
    1: "IOPRIO_CLASS_RT",
    2: "IOPRIO_CLASS_BE",
    3: "IOPRIO_CLASS_IDLE",
}


def probe_args(*actions: str) -> list[str]:
    """process.args that run the probe with `actions` (see probe.c for the verbs)."""
    return [PROBE_PATH, *actions]


def cap_names(mask: int) -> set[str]:
    """Capability names of a bit mask (unknown bits as "CAP_<n>")."""
    return {
        CAPABILITIES[b] if b < len(CAPABILITIES) else f"CAP_{b}" for b in range(64) if mask >> b & 1
    }


@dataclass(frozen=True)
class MountInfo:
    """One line of /proc/self/mountinfo (proc(5)), as the container saw it."""

    mount_id: int
    parent_id: int
    major: int
    minor: int
    root: str
    mount_point: str
    options: frozenset[str]
    optional: tuple[str, ...]
    fstype: str
    source: str
    super_options: frozenset[str]

    @property
    def propagation(self) -> str:
        """shared, slave, shared+slave, unbindable or private (from the optional fields)."""
        tags = {o.split(":")[0] for o in self.optional}
        if "shared" in tags and "master" in tags:
            return "shared+slave"
        for tag, name in (("shared", "shared"), ("master", "slave"), ("unbindable", "unbindable")):
            if tag in tags:
                return name
        return "private"


def _unescape(s: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo."""
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 3 < len(s) and s[i + 1 : i + 4].isdigit():
            out.append(chr(int(s[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[MountInfo]:
    """Parse /proc/PID/mountinfo text into MountInfo records, in the file's order."""
    mounts = []
    for line in text.splitlines():
        parts = line.split(" ")
        if "-" not in parts or len(parts) < 10:
            continue
        sep = parts.index("-")
        major, minor = parts[2].split(":")
        mounts.append(
            MountInfo(
                mount_id=int(parts[0]),
                parent_id=int(parts[1]),
                major=int(major),
                minor=int(minor),
                root=_unescape(parts[3]),
                mount_point=_unescape(parts[4]),
                options=frozenset(parts[5].split(",")),
                optional=tuple(parts[6:sep]),
                fstype=parts[sep + 1],
                source=_unescape(parts[sep + 2]),
                super_options=frozenset(parts[sep + 3].split(","))
                if len(parts) > sep + 3
                else frozenset(),
            )
        )
    return mounts


def parse_limits(text: str) -> dict[str, tuple[int | None, int | None]]:
    """/proc/PID/limits -> {"RLIMIT_NOFILE": (soft, hard)}; None for unlimited."""
    out = {}
    for line in text.splitlines()[1:]:
        for title, name in RLIMITS.items():
            if line.startswith(title):
                soft, hard = line[len(title) :].split()[:2]
                out[name] = tuple(None if v == "unlimited" else int(v) for v in (soft, hard))
    return out


def parse_id_map(text: str | None) -> list[tuple[int, int, int]]:
    """/proc/PID/uid_map or gid_map -> [(inside, outside, count)]."""
    return [
        tuple(int(x) for x in line.split()) for line in (text or "").splitlines() if line.strip()
    ]


def parse_status(text: str | None) -> dict[str, str]:
    """/proc/PID/status -> {"CapEff": "00000000a80425fb", "Seccomp": "2", ...}."""
    out = {}
    for line in (text or "").splitlines():
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return out


@dataclass
class ProbeReport:
    """What the probe printed: `facts` (line 1) and `actions` (one dict per action that
    finished, in order). `raw` is the whole output; `evidence` one record naming the
    container and holding the action lines (for violation(..., evidence=[report])).
    `requested` is the actions asked for, so `died_in` can name the one that never reported.
    """

    facts: dict
    actions: list[dict]
    raw: str
    requested: list[str] = field(default_factory=list)
    evidence: Evidence | None = None

    # --- plain facts ---------------------------------------------------------------
    def _file(self, path: str) -> str | None:
        return (self.facts.get("files") or {}).get(path)

    @property
    def args(self) -> list[str]:
        return self.facts["args"]

    @property
    def env(self) -> dict[str, str]:
        return dict(e.split("=", 1) if "=" in e else (e, "") for e in self.facts["env"])

    @property
    def cwd(self) -> str | None:
        return self.facts["cwd"]

    @property
    def uid(self) -> int:
        return self.facts["uid"]

    @property
    def gid(self) -> int:
        return self.facts["gid"]

    @property
    def euid(self) -> int:
        return self.facts["euid"]

    @property
    def egid(self) -> int:
        return self.facts["egid"]

    @property
    def groups(self) -> list[int]:
        return self.facts["groups"]

    @property
    def umask(self) -> int:
        return self.facts["umask"]

    @property
    def hostname(self) -> str:
        return self.facts["hostname"]

    @property
    def domainname(self) -> str | None:
        return self.facts["domainname"]

    @property
    def no_new_privs(self) -> bool:
        return self.facts["no_new_privs"] == 1

    @property
    def personality(self) -> int:
        return self.facts["personality"]

    @property
    def sched_policy(self) -> str:
        p = self.facts["sched_policy"]
        return SCHED_POLICIES.get(p & ~0x40000000, str(p))  # without SCHED_RESET_ON_FORK

    @property
    def sched_priority(self) -> int:
        return self.facts["sched_priority"]

    @property
    def nice(self) -> int:
        return self.facts["nice"]

    @property
    def ioprio(self) -> tuple[str, int]:
        """(class name, level) of ioprio_get(2); ("error", -1) when the call failed."""
        v = self.facts["ioprio"]
        if v < 0:
            return ("error", -1)
        return (IOPRIO_CLASSES.get(v >> 13, str(v >> 13)), v & 0x1FFF)

    @property
    def cpus(self) -> list[int]:
        return self.facts["cpus"]

    @property
    def namespaces(self) -> dict[str, str | None]:
        return self.facts["namespaces"]

    # --- parsed /proc files --------------------------------------------------------
    @property
    def status(self) -> dict[str, str]:
        return parse_status(self._file("/proc/self/status"))

    @property
    def seccomp_mode(self) -> int:
        """0 off, 1 strict, 2 filter (from /proc/self/status); -1 when unknown."""
        return int(self.status.get("Seccomp", "-1"))

    @property
    def caps(self) -> dict[str, set[str]]:
        st = self.status
        return {name: cap_names(int(st.get(k, "0"), 16)) for k, name in _CAP_FIELDS.items()}

    @property
    def rlimits(self) -> dict[str, tuple[int | None, int | None]]:
        return parse_limits(self._file("/proc/self/limits") or "")

    @property
    def oom_score_adj(self) -> int | None:
        text = self._file("/proc/self/oom_score_adj")
        return int(text) if text and text.strip() else None

    @property
    def uid_map(self) -> list[tuple[int, int, int]]:
        return parse_id_map(self._file("/proc/self/uid_map"))

    @property
    def gid_map(self) -> list[tuple[int, int, int]]:
        return parse_id_map(self._file("/proc/self/gid_map"))

    @property
    def mounts(self) -> list[MountInfo]:
        return parse_mountinfo(self._file("/proc/self/mountinfo") or "")

    def mount(self, path: str) -> MountInfo | None:
        """The mount visible at `path` (the last one mounted there), or None."""
        found = [
            m
            for m in self.mounts
            if m.mount_point == path.rstrip("/") or (path == "/" and m.mount_point == "/")
        ]
        return found[-1] if found else None

    @property
    def cgroups(self) -> dict[str, str]:
        """controller list ("memory", "cpu,cpuacct", "" for v2) -> path, from /proc/self/cgroup."""
        out = {}
        for line in (self._file("/proc/self/cgroup") or "").splitlines():
            _, ctrls, path = line.split(":", 2)
            out[ctrls] = path
        return out

    @property
    def timens_offsets(self) -> str | None:
        return self._file("/proc/self/timens_offsets")

    @property
    def label(self) -> str | None:
        text = self._file("/proc/self/attr/current")
        return text.rstrip("\x00\n") if text is not None else None

    # --- actions -------------------------------------------------------------------
    def action(self, kind: str, arg: str = "") -> dict | None:
        """The result of the first action `kind:arg` that reported, or None."""
        for a in self.actions:
            if a.get("action") == kind and (not arg or a.get("arg") == arg):
                return {k: (bool(v) if k == "ok" else v) for k, v in a.items()}
        return None

    def read(self, path: str) -> str | None:
        """Content the probe read at `path` (a `read:` action), None when it could not."""
        a = self.action("read", path)
        return a.get("data") if a and a["ok"] else None

    def stat(self, path: str) -> dict | None:
        """lstat of `path` (a `stat:` action): type, mode, uid, gid, major, minor, size."""
        a = self.action("stat", path)
        return a if a and a["ok"] else None

    @property
    def died_in(self) -> str | None:
        """The requested action during which the probe stopped reporting, or None."""
        if len(self.actions) >= len(self.requested):
            return None
        return self.requested[len(self.actions)]


class ProbeOutputError(ValueError):
    """The probe's output has no facts line (it did not run, or was not the probe)."""


def parse_report(raw: str, requested: list[str], evidence: Evidence | None = None) -> ProbeReport:
    """Parse the probe's stdout. An incomplete last line (the probe died mid-action) is
    not an action result.

    Raises:
        ProbeOutputError: the first line is not the probe's facts object.
    """
    lines = raw.splitlines()
    try:
        facts = json.loads(lines[0]) if lines else None
    except ValueError:
        facts = None
    if not isinstance(facts, dict) or facts.get("probe") != 1:
        raise ProbeOutputError(f"no probe facts in the output: {raw[:200]!r}")
    actions = []
    for line in lines[1:]:
        try:
            actions.append(json.loads(line))
        except ValueError:
            break
    return ProbeReport(facts, actions, raw, list(requested), evidence)
