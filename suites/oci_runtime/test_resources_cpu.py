"""config-linux.md#cpu: linux.resources.cpu, read back from the container's cgroup
(v1 cpu.* and cpuset.*, v2 cpu.* and cpuset.*) and, for cpus, the process's affinity."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import cgroup_value, with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")

#: cgroup v2's cpu.weight when nothing is set
V2_DEFAULT_WEIGHT = "100"


def _check(host, containers, rid, cpu: dict, files: list, wanted: list[str]) -> None:
    """`files`: one (v1, v2) pair of (controller, file) per value of `wanted`."""
    c, report = with_resources(containers, host, rid, {"cpu": cpu})
    seen = [cgroup_value(host, report, v1, v2) for v1, v2 in files]
    assert [v for _, v in seen] == wanted, violation(
        rid,
        wanted=f"cpu {cpu} gives "
        + ", ".join(f"{n} {w!r}" for (n, _), w in zip(seen, wanted, strict=True)),
        seen=", ".join(f"{n} {v!r}" for n, v in seen),
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.cpu.shares")
def test_cpu_shares_become_the_cgroup_weight(containers, host):
    c, report = with_resources(
        containers, host, "config-linux.cpu.shares", {"cpu": {"shares": 512}}
    )
    name, value = cgroup_value(host, report, ("cpu", "cpu.shares"), ("cpu", "cpu.weight"))
    # v2 has weights, not shares; the conversion is the runtime's, the default is not it
    ok = value != V2_DEFAULT_WEIGHT and value != "" if name == "cpu.weight" else value == "512"
    assert ok, violation(
        "config-linux.cpu.shares",
        wanted="cpu.shares 512 gives cpu.shares '512' (v1) or a cpu.weight other than the "
        "default 100 (v2)",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.cpu.quota-period")
def test_cpu_quota_and_period_become_the_bandwidth_limit(containers, host):
    if host.cgroup_version() == 2:
        files, wanted = [(None, ("cpu", "cpu.max"))], ["50000 100000"]
    else:
        files = [(("cpu", "cpu.cfs_quota_us"), None), (("cpu", "cpu.cfs_period_us"), None)]
        wanted = ["50000", "100000"]
    _check(
        host,
        containers,
        "config-linux.cpu.quota-period",
        {"quota": 50000, "period": 100000},
        files,
        wanted,
    )


@pytest.mark.requirement("config-linux.cpu.burst")
def test_cpu_burst_becomes_the_cgroup_burst(containers, host):
    _check(
        host,
        containers,
        "config-linux.cpu.burst",
        {"quota": 50000, "period": 100000, "burst": 20000},
        [(("cpu", "cpu.cfs_burst_us"), ("cpu", "cpu.max.burst"))],
        ["20000"],
    )


@pytest.mark.requires("cgroup_v1")
@pytest.mark.requirement("config-linux.cpu.realtime")
def test_realtime_runtime_and_period_become_the_rt_bandwidth(containers, host):
    _check(
        host,
        containers,
        "config-linux.cpu.realtime",
        # a period other than the kernel's default (1000000), or a runtime that ignores
        # it would pass
        {"realtimeRuntime": 10000, "realtimePeriod": 500000},
        [(("cpu", "cpu.rt_runtime_us"), None), (("cpu", "cpu.rt_period_us"), None)],
        ["10000", "500000"],
    )


@pytest.mark.requirement("config-linux.cpu.cpus")
def test_cpus_restrict_the_container_to_the_listed_cpus(containers, host):
    c, report = with_resources(containers, host, "config-linux.cpu.cpus", {"cpu": {"cpus": "0"}})
    name, value = cgroup_value(host, report, ("cpuset", "cpuset.cpus"), ("cpuset", "cpuset.cpus"))
    assert value == "0" and report.cpus == [0], violation(
        "config-linux.cpu.cpus",
        wanted=f'cpu.cpus "0" gives {name} "0" and the process runs on CPU 0 only',
        seen=f"{name} {value!r}, sched_getaffinity {report.cpus}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.cpu.mems")
def test_mems_restrict_the_container_to_the_listed_memory_nodes(containers, host):
    nodes = _node_ids(host.read_text("/sys/devices/system/node/online") or "0")
    if len(nodes) < 2:
        pytest.skip(
            "needs a host with two or more NUMA memory nodes: with one, every cgroup's "
            "cpuset.mems is that node whatever the runtime does (a VM target with -numa)"
        )
    last = str(nodes[-1])  # not the parent's full set, which a runtime that ignores mems gets
    _check(
        host,
        containers,
        "config-linux.cpu.mems",
        {"mems": last},
        [(("cpuset", "cpuset.mems"), ("cpuset", "cpuset.mems"))],
        [last],
    )


def _node_ids(ranges: str) -> list[int]:
    """ "0-2,4" -> [0, 1, 2, 4] (the kernel's list format, /sys/devices/system/node/online)."""
    out: list[int] = []
    for part in ranges.strip().split(","):
        if part:
            lo, _, hi = part.partition("-")
            out += range(int(lo), int(hi or lo) + 1)
    return out


@pytest.mark.requirement("config-linux.cpu.idle")
def test_cpu_idle_makes_the_cgroup_sched_idle(containers, host):
    _check(
        host,
        containers,
        "config-linux.cpu.idle",
        {"idle": 1},
        [(("cpu", "cpu.idle"), ("cpu", "cpu.idle"))],
        ["1"],
    )
