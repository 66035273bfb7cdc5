"""config-linux.md#network and #rdma: linux.resources.network (net_cls, net_prio: cgroup
v1 controllers) and linux.resources.rdma, read back from the container's cgroup."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import cgroup_value, with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")


@pytest.mark.requires("cgroup_v1", "net_cls")
@pytest.mark.requirement("config-linux.network.class-id")
def test_network_class_id_tags_the_cgroup(containers, host):
    c, report = with_resources(
        containers, host, "config-linux.network.class-id", {"network": {"classID": 1048577}}
    )
    name, value = cgroup_value(host, report, ("net_cls", "net_cls.classid"), None)
    assert value == "1048577", violation(
        "config-linux.network.class-id",
        wanted=f"network.classID 1048577 (0x100001) gives {name} 1048577",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("cgroup_v1", "net_prio")
@pytest.mark.requirement("config-linux.network.priorities")
def test_network_priorities_set_per_interface_priorities(containers, host):
    c, report = with_resources(
        containers,
        host,
        "config-linux.network.priorities",
        {"network": {"priorities": [{"name": "lo", "priority": 7}]}},
    )
    name, value = cgroup_value(host, report, ("net_prio", "net_prio.ifpriomap"), None)
    assert "lo 7" in value.splitlines(), violation(
        "config-linux.network.priorities",
        wanted=f'network.priorities lo 7 gives the line "lo 7" in {name}',
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("rdma")
@pytest.mark.requirement("config-linux.rdma.limits")
def test_rdma_limits_become_the_cgroup_rdma_max(containers, host):
    device = host.list_dir("/sys/class/infiniband")[0]
    c, report = with_resources(
        containers,
        host,
        "config-linux.rdma.limits",
        {"rdma": {device: {"hcaHandles": 3, "hcaObjects": 100}}},
    )
    name, value = cgroup_value(host, report, ("rdma", "rdma.max"), ("rdma", "rdma.max"))
    line = next((ln for ln in value.splitlines() if ln.split()[:1] == [device]), "")
    assert {"hca_handle=3", "hca_object=100"} <= set(line.split()), violation(
        "config-linux.rdma.limits",
        wanted=f"rdma {device}: hcaHandles 3, hcaObjects 100 in {name}",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )
