"""RuntimeService: Version, Status, RuntimeConfig, UpdateRuntimeConfig."""

from __future__ import annotations

import json

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_succeed
from suites.messages import violation


@pytest.mark.requirement("cri.version.fields")
def test_version_names_the_runtime_and_its_api(cri):
    res = must_succeed(cri.call("Version", version="v1"), "cri.version.fields")
    v = res.response
    missing = [
        f
        for f in ("version", "runtime_name", "runtime_version", "runtime_api_version")
        if not getattr(v, f)
    ]
    assert not missing, violation(
        "cri.version.fields",
        wanted="version, runtime_name, runtime_version and runtime_api_version set",
        seen=f"empty: {missing}",
        evidence=[res],
    )


@pytest.mark.requirement("cri.status.conditions")
def test_status_reports_runtime_and_network_ready(cri):
    res = must_succeed(cri.call("Status"), "cri.status.conditions")
    conds = {c.type: c.status for c in res.response.status.conditions}
    ready = conds.get("RuntimeReady") is True and conds.get("NetworkReady") is True
    assert ready, violation(
        "cri.status.conditions",
        wanted="RuntimeReady and NetworkReady conditions, both true",
        seen=f"conditions {conds}",
        evidence=[res],
    )


@pytest.mark.requirement("cri.status.verbose-info")
def test_verbose_status_info_holds_json_values(cri):
    res = must_succeed(cri.call("Status", verbose=True), "cri.status.verbose-info")
    bad = []
    for k, v in res.response.info.items():
        try:
            json.loads(v)
        except ValueError:
            bad.append(k)
    assert not bad, violation(
        "cri.status.verbose-info",
        wanted="every value of info is JSON",
        seen=f"not JSON: {bad}",
        evidence=[res],
    )


def _cgroup_driver_in_use(cgroup_file: str) -> int:
    """The driver that made a process's cgroups (the text of /proc/PID/cgroup): systemd
    names them as units (".slice", ".scope"), cgroupfs as plain directories."""
    paths = [ln.split(":", 2)[2] for ln in cgroup_file.splitlines() if ln.count(":") >= 2]
    systemd = any(p.endswith(".scope") or ".slice/" in p for p in paths)
    return pb.SYSTEMD if systemd else pb.CGROUPFS


@pytest.mark.requirement("cri.runtime-config.cgroup-driver")
def test_runtime_config_names_the_cgroup_driver_in_use(cri, pods, host):
    rid = "cri.runtime-config.cgroup-driver"
    res = must_succeed(cri.call("RuntimeConfig"), rid)
    driver = res.response.linux.cgroup_driver
    # the driver in use, read on the host from the cgroups of a container's process
    cid = pods.running()
    st = must_succeed(cri.call("ContainerStatus", container_id=cid, verbose=True), rid)
    pid = json.loads(st.response.info.get("info", "{}")).get("pid")
    if not pid:
        pytest.skip("ContainerStatus verbose info names no pid, so the driver in use is unknown")
    cgroups = host.read_text(f"/proc/{pid}/cgroup") or ""
    in_use = _cgroup_driver_in_use(cgroups)
    name = pb.CgroupDriver.Name
    assert res.response.HasField("linux") and driver == in_use, violation(
        rid,
        wanted=f"linux.cgroup_driver {name(in_use)}, the driver that made the container's cgroups",
        seen=f"linux set: {res.response.HasField('linux')}, cgroup_driver {name(driver)}; "
        f"/proc/{pid}/cgroup: {cgroups.strip()[:300]!r}",
        evidence=[res, st],
    )


@pytest.mark.requirement("cri.update-runtime-config.ok")
def test_update_runtime_config_accepts_a_pod_cidr(cri):
    cfg = pb.RuntimeConfig(network_config=pb.NetworkConfig(pod_cidr="10.231.255.0/24"))
    must_succeed(
        cri.call("UpdateRuntimeConfig", runtime_config=cfg), "cri.update-runtime-config.ok"
    )
