"""Named conditions for `@pytest.mark.requires(...)`, evaluated once per target.

Each condition is a small shell test run on the target (exit 0: met). Names follow
runc's bats `requires` list where one exists. A condition not met skips the test with
"needs NAME: DESCRIPTION".
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.targets import Target


@dataclass(frozen=True)
class Condition:
    name: str
    description: str
    check: str  # a sh script; exit 0 when the condition holds


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in [
        Condition("root", "running as root (uid 0) on the target", '[ "$(id -u)" = 0 ]'),
        Condition(
            "rootless", "running as a user other than root on the target", '[ "$(id -u)" != 0 ]'
        ),
        Condition(
            "cgroup_v1",
            "cgroup v1 controllers mounted (legacy or hybrid host)",
            "[ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ -d /sys/fs/cgroup/memory ]",
        ),
        Condition(
            "cgroup_v2", "a cgroup v2 (unified) host", "[ -e /sys/fs/cgroup/cgroup.controllers ]"
        ),
        Condition(
            "cgroup_hybrid",
            "a hybrid cgroup host (v1 controllers plus a cgroup2 tree)",
            "[ -d /sys/fs/cgroup/unified ] && [ ! -e /sys/fs/cgroup/cgroup.controllers ]",
        ),
        Condition(
            "systemd", "systemd as PID 1 on the target", '[ "$(cat /proc/1/comm)" = systemd ]'
        ),
        Condition(
            "userns",
            "user namespaces enabled (user.max_user_namespaces > 0)",
            '[ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ]',
        ),
        Condition(
            "timens",
            "time namespaces in the kernel (/proc/self/ns/time)",
            "[ -e /proc/self/ns/time ]",
        ),
        Condition("nsenter", "util-linux nsenter on the target", "command -v nsenter >/dev/null"),
        Condition(
            "selinux",
            "SELinux enabled on the target (selinuxfs mounted)",
            "[ -e /sys/fs/selinux/enforce ]",
        ),
        Condition(
            "shared_root",
            "the target's / is a shared mount (as systemd makes it), so mounts can propagate",
            "grep -q '^[0-9]* [0-9]* [0-9:]* / / .* shared:' /proc/self/mountinfo",
        ),
        Condition(
            "blkio_weight",
            "blkio weight files (blkio.weight or blkio.bfq.weight) on a v1 host, io.weight on v2",
            "ls /sys/fs/cgroup/blkio/blkio.weight /sys/fs/cgroup/blkio/blkio.bfq.weight "
            "/sys/fs/cgroup/io.weight 2>/dev/null | grep -q .",
        ),
        Condition(
            "net_cls",
            "the net_cls cgroup controller (cgroup v1 only)",
            "[ -e /sys/fs/cgroup/net_cls/net_cls.classid ]",
        ),
        Condition(
            "net_prio",
            "the net_prio cgroup controller (cgroup v1 only)",
            "[ -e /sys/fs/cgroup/net_prio/net_prio.ifpriomap ]",
        ),
        Condition(
            "rdma",
            "the rdma cgroup controller and an RDMA device",
            "grep -qw rdma /proc/cgroups && ls /sys/class/infiniband 2>/dev/null | grep -q .",
        ),
        Condition(
            "hugetlb_2mb",
            "2 MiB huge pages and the hugetlb cgroup controller",
            "[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] && grep -qw hugetlb /proc/cgroups",
        ),
        Condition(
            "swap_accounting",
            "memory+swap accounting (memory.memsw.* on v1, memory.swap.max on v2)",
            "[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] || "
            "grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null",
        ),
        Condition(
            "no_resctrl",
            "no resctrl filesystem mounted (the host has no Intel RDT in use)",
            "! grep -qw resctrl /proc/mounts",
        ),
        Condition(
            "numa",
            "a NUMA kernel: node 0 and /proc/self/numa_maps",
            "[ -d /sys/devices/system/node/node0 ] && [ -r /proc/self/numa_maps ]",
        ),
        Condition(
            "cap_sys_resource",
            "CAP_SYS_RESOURCE for the runtime (negative oom_score_adj, raising hard rlimits)",
            "sh -c 'echo -1 > /proc/self/oom_score_adj' 2>/dev/null",
        ),
        Condition(
            "apparmor_docker_default",
            "AppArmor enabled with the docker-default profile loaded",
            "grep -q '^docker-default ' /sys/kernel/security/apparmor/profiles 2>/dev/null",
        ),
        Condition(
            "selinux_container_t",
            "SELinux with a policy that knows container_t (container-selinux)",
            "printf system_u:system_r:container_t:s0:c111,c222 > /sys/fs/selinux/context",
        ),
        Condition(
            "multi_cpu",
            "two or more CPUs for this process (sched_getaffinity)",
            '[ "$(nproc)" -ge 2 ]',
        ),
        Condition(
            "rt_scheduling",
            "real-time scheduling in a new cgroup (no cgroup v1 RT budget to grant first)",
            "[ ! -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] && [ ! -e /sys/fs/cgroup/cpu.rt_runtime_us ]",
        ),
    ]
}


class ConditionError(Exception):
    """A marker names a condition that is not in CONDITIONS (a suite bug)."""


class ConditionCache:
    """Evaluates conditions on one target, each at most once."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._met: dict[str, bool] = {}

    def met(self, name: str) -> bool:
        if name not in CONDITIONS:
            raise ConditionError(
                f"unknown condition {name!r} (known: {', '.join(sorted(CONDITIONS))})"
            )
        if name not in self._met:
            res = self.target.run(["sh", "-c", CONDITIONS[name].check], timeout=15)
            self._met[name] = res.exit_status == 0
        return self._met[name]

    def unmet(self, names: list[str]) -> list[str]:
        """The conditions of `names` that do not hold, as "NAME: description"."""
        return [f"{n}: {CONDITIONS[n].description}" for n in names if not self.met(n)]
