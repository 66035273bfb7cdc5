"""Looks at the target host from outside the container: /proc, /sys/fs/cgroup, namespaces.

The tests judge; this only reports what it finds, each look recorded as evidence.
"""

from __future__ import annotations

import shlex

from infra.evidence import Evidence, EvidenceLog
from infra.targets import CommandResult, Target

LOOK_TIMEOUT = 15.0
#: host device nodes a runtime bind-mounts into containers (whose owner it must not change)
#: host ids from here up are what the suites' user namespaces map their root to
MAPPED_IDS = 100000
HOST_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty")


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

    # cgroups of a process (config-linux.md#control-groups) ----------------------------
    def cgroup_version(self) -> int:
        """2 on a unified (cgroup v2 only) host, 1 on a legacy or hybrid one."""
        return 2 if self._run("[ -e /sys/fs/cgroup/cgroup.controllers ]").exit_status == 0 else 1

    def cgroups_of(self, pid: int) -> dict[str, str]:
        """/proc/PID/cgroup: controller list ("memory", "cpu,cpuacct", "" for v2) -> path."""
        res = self._run('cat "/proc/$1/cgroup"', str(pid))
        out = {}
        for line in res.stdout.splitlines() if res.exit_status == 0 else []:
            _, ctrls, path = line.split(":", 2)
            out[ctrls] = path
        return out

    def cgroup_file(self, pid: int, controller: str, name: str) -> str | None:
        """Content of control file `name` (e.g. "memory.max") in PID's cgroup for
        `controller`: on v1 under /sys/fs/cgroup/CONTROLLER, on v2 in the unified tree.
        None when PID has no such cgroup or the file cannot be read."""
        res = self._run(
            "if [ -e /sys/fs/cgroup/cgroup.controllers ]; then "
            'p=$(sed -n "s/^0:://p" "/proc/$1/cgroup"); d="/sys/fs/cgroup$p"; '
            'else p=$(awk -F: -v c="$2" \'{n=split($2,a,","); for(i=1;i<=n;i++) '
            'if (a[i]==c) print $3}\' "/proc/$1/cgroup"); [ -n "$p" ] || exit 1; '
            'd="/sys/fs/cgroup/$2$p"; fi; cat -- "${d%/}/$3"',
            str(pid),
            controller,
            name,
        )
        return res.stdout if res.exit_status == 0 else None

    def make_cgroup(self, path: str, values: dict[str, str] | None = None) -> list[str]:
        """Make cgroup `path` (absolute, from the hierarchy's root) in every mounted
        hierarchy (the unified tree alone on v2) and write `values` ({"pids.max": "77"})
        into whichever of the new directories has that file. Returns the directories made,
        for `remove_cgroup`."""
        res = self._run(
            'P="$1"; shift; '
            "if [ -e /sys/fs/cgroup/cgroup.controllers ]; then roots=/sys/fs/cgroup; else "
            'roots=$(for d in /sys/fs/cgroup/*/; do [ -e "$d/cgroup.procs" ] && '
            'echo "${d%/}"; done); fi; '
            'for r in $roots; do mkdir "$r$P" && echo "$r$P"; done; '
            'for kv in "$@"; do for r in $roots; do [ -e "$r$P/${kv%%=*}" ] && '
            'echo "${kv#*=}" > "$r$P/${kv%%=*}"; done; done; true',
            path,
            *(f"{k}={v}" for k, v in (values or {}).items()),
        )
        return res.stdout.split()

    def remove_cgroup(self, dirs: list[str]) -> None:
        """Remove cgroup directories made by `make_cgroup` (those still there; empty)."""
        if dirs:
            self._run('for d in "$@"; do [ -d "$d" ] && rmdir "$d"; done; true', *dirs)

    def owner(self, path: str) -> int | None:
        """The uid owning `path`, or None when it does not exist."""
        res = self._run('stat -c %u -- "$1"', path)
        return int(res.stdout) if res.exit_status == 0 and res.stdout.strip() else None

    def file_size(self, path: str) -> int | None:
        """The size of file `path` in bytes, or None when it does not exist."""
        res = self._run('stat -c %s -- "$1"', path)
        return int(res.stdout) if res.exit_status == 0 and res.stdout.strip() else None

    def owners_in(self, directory: str) -> dict[str, int]:
        """file name -> owning uid, for the regular files directly in `directory`."""
        res = self._run(
            'for f in "$1"/*; do [ -f "$f" ] && echo "$(stat -c %u -- "$f") ${f##*/}"; done; true',
            directory,
        )
        return {
            name: int(uid) for uid, name in (ln.split(" ", 1) for ln in res.stdout.splitlines())
        }

    def list_dir(self, path: str) -> list[str]:
        """The names in directory `path`, sorted ([] when it cannot be listed)."""
        res = self._run('ls -1 -- "$1"', path)
        return sorted(res.stdout.split()) if res.exit_status == 0 else []

    def cgroup_file_at(self, controller: str, path: str, name: str) -> str | None:
        """Content of control file `name` in cgroup `path` (as /proc/PID/cgroup names it)
        of `controller`'s v1 hierarchy, or of the unified tree on v2 (`controller` ignored);
        None when it cannot be read."""
        res = self._run(
            'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then d="/sys/fs/cgroup$2"; '
            'else d="/sys/fs/cgroup/$1$2"; fi; cat -- "${d%/}/$3"',
            controller,
            path,
            name,
        )
        return res.stdout if res.exit_status == 0 else None

    # host device nodes (the run's leak check watches them) -----------------------------
    def device_owners(self, paths: tuple[str, ...] = HOST_DEVICES) -> dict[str, str]:
        """path -> "uid:gid mode" (mode in octal) of host device nodes."""
        res = self._run('stat -c "%n %u:%g %a" -- "$@"', *paths)
        return {
            p[0]: f"{p[1]} {p[2]}"
            for p in (ln.split() for ln in res.stdout.splitlines())
            if len(p) == 3
        }

    def make_null_device(self, path: str) -> CommandResult:
        """A null device node of a test's own at `path` on the target: char 1:3, mode
        666, owned by root (what a runtime does to one it is handed, it does to the
        host's /dev/null, without other runs' containers touching it meanwhile)."""
        return self._run('mknod -m 666 "$1" c 1 3 && chown 0:0 "$1"', path)

    def give_back_devices(self, owner: str) -> list[str]:
        """Give host device nodes now owned by `owner` ("uid:gid", a test's mapped root)
        back to root (a runtime must not chown them: crun 1.8.1 chowns host /dev/null to
        a user namespace's root). Keyed on the test's own ids, so a parallel test's
        container is never undone; "*" gives back every node owned by an id our tests
        map to (MAPPED_IDS and above). Returns the paths given back."""
        mine = [
            p
            for p, v in self.device_owners().items()
            if v.split()[0] == owner or (owner == "*" and int(v.split(":")[0]) >= MAPPED_IDS)
        ]
        if mine:
            self._run('chown 0:0 -- "$@"', *mine)
        return mine

    # --- network devices (config-linux.md#network-devices) -----------------------------
    def add_veth_device(self, name: str, address: str = "") -> CommandResult:
        """Create a veth pair `name` / `name`p (named after the run, so the sweeper knows
        it; `name` at most 14 characters) in the target's own namespace, with `address`
        ("192.0.2.7/32") on `name` if given. It carries no traffic: it exists only to be
        moved into a container. (A veth, not a dummy: kernels without the dummy module.)"""
        return self._run(
            'ip link add "$1" type veth peer name "$1"p && '
            '{ [ -z "$2" ] || ip addr add "$2" dev "$1"; }',
            name,
            address,
        )

    def delete_device(self, name: str) -> None:
        """Delete network device `name` (and a veth's peer `name`p) from the target's
        namespace where they are."""
        self._run(
            'for d in "$1" "$1"p; do ! ip link show "$d" >/dev/null 2>&1 || ip link del "$d"; done',
            name,
        )

    def device_exists(self, name: str) -> bool:
        """Whether network device `name` is in the target's own namespace."""
        return self._run('ip link show "$1" >/dev/null 2>&1', name).exit_status == 0
