"""Looks at the target host from outside the container: /proc, /sys/fs/cgroup, namespaces.

The tests judge; this only reports what it finds, each look recorded as evidence.
"""

from __future__ import annotations

import shlex

from infra.evidence import Evidence, EvidenceLog
from infra.targets import CommandResult, Target

LOOK_TIMEOUT = 15.0


class HostInspector:
    def __init__(self, target: Target, log: EvidenceLog) -> None:
        self.target = target
        self.log = log

    def _run(self, script: str, *args: str) -> CommandResult:
        res = self.target.run(["sh", "-c", script, "look", *args], timeout=LOOK_TIMEOUT)
        self.log.add(
            Evidence(
                command=f"sh -c {shlex.quote(script)} " + shlex.join(args),
                exit_status=res.exit_status,
                stdout=res.stdout,
                stderr=res.stderr,
                duration=round(res.duration, 4),
            )
        )
        return res

    def pid_alive(self, pid: int) -> bool:
        """True when /proc/PID exists and the process is not a zombie."""
        res = self._run('[ -d "/proc/$1" ] && ! grep -q "^State:.*Z" "/proc/$1/status"', str(pid))
        return res.exit_status == 0

    def cmdline(self, pid: int) -> list[str]:
        """argv of PID ([] when gone)."""
        res = self._run('tr "\\0" "\\n" < "/proc/$1/cmdline"', str(pid))
        return res.stdout.splitlines() if res.exit_status == 0 else []

    def open_fds(self, pid: int) -> list[int]:
        """The file descriptor numbers PID has open, sorted."""
        res = self._run('ls "/proc/$1/fd"', str(pid))
        return sorted(int(x) for x in res.stdout.split() if x.isdigit())

    def readlink(self, path: str) -> str | None:
        """The target of symlink `path`, or None when it is not a symlink."""
        res = self._run('[ -L "$1" ] && readlink "$1"', path)
        return res.stdout.strip() if res.exit_status == 0 else None

    def namespace(self, pid: int | str, ns: str) -> str:
        """The namespace identity ("uts:[4026531838]") of PID, or "self" for ours."""
        res = self._run('readlink "/proc/$1/ns/$2"', str(pid), ns)
        return res.stdout.strip()

    def hostname_in(self, pid: int) -> str | None:
        """The hostname seen in PID's UTS namespace (nsenter), or None on failure."""
        res = self._run('nsenter --target "$1" --uts hostname', str(pid))
        return res.stdout.strip() if res.exit_status == 0 else None

    def cgroup_dirs(self, cgroups_path: str) -> list[str]:
        """Directories for `cgroups_path` that exist under /sys/fs/cgroup (v1 and v2)."""
        res = self._run(
            'for d in /sys/fs/cgroup"$1" /sys/fs/cgroup/*"$1"; do '
            '[ -d "$d" ] && echo "$d"; done; true',
            cgroups_path,
        )
        return res.stdout.split()

    def read_text(self, path: str) -> str | None:
        """The content of file `path` on the target, or None when it cannot be read."""
        res = self._run('cat -- "$1"', path)
        return res.stdout if res.exit_status == 0 else None

    def exists(self, path: str) -> bool:
        return self._run('[ -e "$1" ] || [ -L "$1" ]', path).exit_status == 0
