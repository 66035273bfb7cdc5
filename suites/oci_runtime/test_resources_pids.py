"""config-linux.md#pids: linux.resources.pids, read back from the container's cgroup
(pids.max) and felt by the probe: a fork past the limit fails."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import cgroup_value, with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")

PIDS_MAX = ("pids", "pids.max")


@pytest.mark.requirement("config-linux.pids.limit")
def test_pids_limit_becomes_the_cgroup_pids_max(containers, host):
    c, report = with_resources(containers, host, "config-linux.pids.limit", {"pids": {"limit": 42}})
    name, value = cgroup_value(host, report, PIDS_MAX, PIDS_MAX)
    assert value == "42", violation(
        "config-linux.pids.limit",
        wanted=f"pids.limit 42 gives {name} '42'",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.pids.limit")
def test_a_fork_past_the_pids_limit_fails(containers):
    b = containers.bundle()
    b.config["linux"]["resources"]["pids"] = {"limit": 4}
    report = containers.probe(b, "fork:8")
    got = report.action("fork", "8") or {}
    # the probe is one task of the four: at most three children
    assert got.get("ok") is False and got.get("forked", 99) <= 3, violation(
        "config-linux.pids.limit",
        wanted="pids.limit 4: of 8 forks at most 3 succeed (the probe is the fourth task), "
        "then fork fails (EAGAIN)",
        seen=f"fork result {got}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config-linux.pids.unlimited")
def test_pids_limit_minus_one_means_no_limit(containers, host):
    c, report = with_resources(
        containers, host, "config-linux.pids.unlimited", {"pids": {"limit": -1}}
    )
    name, value = cgroup_value(host, report, PIDS_MAX, PIDS_MAX)
    assert value == "max", violation(
        "config-linux.pids.unlimited",
        wanted=f"pids.limit -1 gives {name} 'max'",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.pids.zero-limit")
def test_pids_limit_zero_allows_no_new_task(containers, host):
    b = containers.bundle()
    b.config["linux"]["resources"]["pids"] = {"limit": 0}
    report = containers.probe(b, "fork:1")
    got = report.action("fork", "1") or {}
    assert got.get("ok") is False and got.get("forked") == 0, violation(
        "config-linux.pids.zero-limit",
        wanted="pids.limit 0 is a limit: the probe's one fork fails",
        seen=f"fork result {got}",
        evidence=[report.evidence],
    )
