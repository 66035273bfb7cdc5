"""config-linux.md#memory: linux.resources.memory, read back from the container's cgroup
(v1 memory.*, v2 memory.*) and, for the limit, felt by the process itself.

Memory stays small: limits of a few MiB and at most 48 MiB touched by the probe, so a
runtime that ignores the limit cannot exhaust the machine.
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import MiB, cgroup_value, with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")

#: v1 reports "no limit" as PAGE_COUNTER_MAX pages; any value this large is unlimited
V1_UNLIMITED_FLOOR = 1 << 62


def _check(host, containers, rid, memory: dict, v1, v2, wanted: str) -> None:
    c, report = with_resources(containers, host, rid, {"memory": memory})
    name, value = cgroup_value(host, report, v1, v2)
    assert value == wanted, violation(
        rid,
        wanted=f"memory {memory} gives {name} {wanted!r}",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.memory.limit")
def test_memory_limit_becomes_the_cgroup_limit(containers, host):
    _check(
        host,
        containers,
        "config-linux.memory.limit",
        {"limit": 40 * MiB},
        ("memory", "memory.limit_in_bytes"),
        ("memory", "memory.max"),
        str(40 * MiB),
    )


@pytest.mark.requirement("config-linux.memory.limit-enforced")
def test_a_process_over_the_memory_limit_is_killed(containers, host):
    memory = {"limit": 24 * MiB}
    if host.exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes") or (
        host.cgroup_version() == 2
    ):
        memory["swap"] = 24 * MiB  # no escape into swap where swap is accounted
    b = containers.bundle()
    b.config["linux"]["resources"]["memory"] = memory
    report = containers.probe(b, "alloc:48")
    got = report.action("alloc", "48")
    assert got is None or not got["ok"], violation(
        "config-linux.memory.limit-enforced",
        wanted=f"memory {memory}: touching 48 MiB ends the probe (OOM) or fails",
        seen=f"the probe allocated {got and got.get('allocated_mb')} MiB and carried on",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config-linux.memory.unlimited")
def test_memory_limit_minus_one_means_no_limit(containers, host):
    c, report = with_resources(
        containers, host, "config-linux.memory.unlimited", {"memory": {"limit": -1}}
    )
    name, value = cgroup_value(
        host, report, ("memory", "memory.limit_in_bytes"), ("memory", "memory.max")
    )
    unlimited = value == "max" or (value.isdigit() and int(value) >= V1_UNLIMITED_FLOOR)
    assert unlimited, violation(
        "config-linux.memory.unlimited",
        wanted=f'memory.limit -1 gives {name} "max" (v2) or the largest value (v1)',
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.memory.reservation")
def test_memory_reservation_becomes_the_soft_limit(containers, host):
    _check(
        host,
        containers,
        "config-linux.memory.reservation",
        {"reservation": 12 * MiB},
        ("memory", "memory.soft_limit_in_bytes"),
        ("memory", "memory.low"),
        str(12 * MiB),
    )


@pytest.mark.requires("swap_accounting")
@pytest.mark.requirement("config-linux.memory.swap")
def test_memory_swap_becomes_the_memory_and_swap_limit(containers, host):
    # v2 has no memory+swap file: memory.swap.max holds swap - limit
    c, report = with_resources(
        containers,
        host,
        "config-linux.memory.swap",
        {"memory": {"limit": 32 * MiB, "swap": 48 * MiB}},
    )
    v2 = host.cgroup_version() == 2
    name, value = cgroup_value(
        host, report, ("memory", "memory.memsw.limit_in_bytes"), ("memory", "memory.swap.max")
    )
    wanted = str(16 * MiB if v2 else 48 * MiB)
    assert value == wanted, violation(
        "config-linux.memory.swap",
        wanted=f"memory limit 32 MiB, swap 48 MiB give {name} {wanted!r}",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("cgroup_v1")
@pytest.mark.requirement("config-linux.memory.swappiness")
def test_memory_swappiness_becomes_the_cgroup_swappiness(containers, host):
    _check(
        host,
        containers,
        "config-linux.memory.swappiness",
        {"swappiness": 37},
        ("memory", "memory.swappiness"),
        None,
        "37",
    )


@pytest.mark.requires("cgroup_v1")
@pytest.mark.requirement("config-linux.memory.disable-oom-killer")
def test_disable_oom_killer_turns_the_oom_killer_off(containers, host):
    c, report = with_resources(
        containers,
        host,
        "config-linux.memory.disable-oom-killer",
        {"memory": {"disableOOMKiller": True}},
    )
    name, value = cgroup_value(host, report, ("memory", "memory.oom_control"), None)
    assert "oom_kill_disable 1" in value.splitlines(), violation(
        "config-linux.memory.disable-oom-killer",
        wanted=f'disableOOMKiller true gives "oom_kill_disable 1" in {name}',
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("cgroup_v1")
@pytest.mark.requirement("config-linux.memory.use-hierarchy")
def test_use_hierarchy_turns_on_hierarchical_accounting(containers, host):
    if _kernel_at_least(host, (5, 16)):
        pytest.skip(
            "needs a kernel before 5.16 (a VM target): from 5.16 memory.use_hierarchy is "
            "always 1, so a runtime that ignores useHierarchy passes too"
        )
    _check(
        host,
        containers,
        "config-linux.memory.use-hierarchy",
        {"useHierarchy": True},
        ("memory", "memory.use_hierarchy"),
        None,
        "1",
    )


def _kernel_at_least(host, version: tuple[int, int]) -> bool:
    """The target's kernel release (/proc/sys/kernel/osrelease) is `version` or later."""
    release = (host.read_text("/proc/sys/kernel/osrelease") or "0.0").strip()
    try:
        major, minor = (int(x) for x in release.split("-")[0].split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= version
