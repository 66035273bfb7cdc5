"""config-linux.md#unified: linux.resources.unified (cgroup v2 files written as given),
and what a runtime on a v2 host does with a v1-only field."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")


def _unified(containers, host, rid, files: dict[str, str]):
    c, report = with_resources(containers, host, rid, {"unified": files})
    return (
        c,
        report,
        {k: (host.cgroup_file_at("", report.cgroups.get("", ""), k) or "").strip() for k in files},
    )


@pytest.mark.requires("cgroup_v2")
@pytest.mark.requirement("config-linux.unified.enables-controllers")
def test_unified_enables_the_controller_a_key_needs(containers, host):
    c, report, seen = _unified(
        containers, host, "config-linux.unified.enables-controllers", {"pids.max": "12"}
    )
    assert seen == {"pids.max": "12"}, violation(
        "config-linux.unified.enables-controllers",
        wanted="unified pids.max 12: the pids controller enabled and pids.max reading 12",
        seen=f"{seen}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("cgroup_v2")
@pytest.mark.requirement("config-linux.unified.unknown-keys-written")
def test_unified_keys_unknown_to_the_runtime_are_still_written(containers, host):
    # memory.oom.group has no field in linux.resources: no runtime maps it itself
    c, report, seen = _unified(
        containers, host, "config-linux.unified.unknown-keys-written", {"memory.oom.group": "1"}
    )
    assert seen == {"memory.oom.group": "1"}, violation(
        "config-linux.unified.unknown-keys-written",
        wanted="unified memory.oom.group 1 written to the cgroup",
        seen=f"{seen}",
        evidence=[c.create_result, report.evidence],
    )


def _refused(containers, host, resources: dict):
    """(created?, container, cgroups left behind) for a config create must refuse."""
    b = containers.bundle()
    b.config["linux"]["resources"].update(resources)
    c = containers.create(b)
    left = [] if c.created else host.cgroup_dirs(b.config["linux"]["cgroupsPath"])
    host.remove_cgroup(sorted(left, reverse=True))
    return c, left


@pytest.mark.requires("cgroup_v2")
@pytest.mark.requirement("config-linux.unified.missing-controller-errors")
def test_unified_key_of_an_absent_controller_fails_create(containers, host):
    c, left = _refused(containers, host, {"unified": {"ocitestnone.max": "1"}})
    assert not c.created and not left, violation(
        "config-linux.unified.missing-controller-errors",
        wanted="create fails (no controller 'ocitestnone') and leaves no cgroup",
        seen=f"exit status {c.create_result.exit_status}, cgroups left {left}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("cgroup_v2")
@pytest.mark.requirement("config-linux.unified.conversion-impossible-errors")
def test_a_v1_only_field_on_a_v2_host_fails_create(containers, host):
    # cgroup v2's cpu controller has no realtime bandwidth: nothing to convert to
    c, left = _refused(
        containers, host, {"cpu": {"realtimeRuntime": 10000, "realtimePeriod": 1000000}}
    )
    assert not c.created and not left, violation(
        "config-linux.unified.conversion-impossible-errors",
        wanted="create fails (cpu.realtimeRuntime has no cgroup v2 equivalent) and leaves "
        "no cgroup",
        seen=f"exit status {c.create_result.exit_status}, cgroups left {left}",
        evidence=[c.create_result],
    )
