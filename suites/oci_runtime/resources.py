"""What the linux.resources tests share (config-linux.md#control-groups): a running
probe with some resources set, and reading its cgroup's control files from the host."""

from __future__ import annotations

import json

import pytest

from infra.containers import Container, ContainerSession
from infra.drivers.host import HostInspector
from infra.probe import ProbeReport
from suites.messages import violation

#: memory values in bytes
MiB = 1 << 20


def with_resources(
    containers: ContainerSession, host: HostInspector, rid: str, resources: dict, *actions: str
) -> tuple[Container, ProbeReport]:
    """Run the probe (with `actions`) in a container whose linux.resources also holds
    `resources`; the container keeps running. Returns (container, report).

    A failed create is a violation of `rid` (create must apply linux.resources); cgroups
    the failed create left at cgroupsPath are named in the message and removed here, so
    that the run's leak check does not report them a second time."""
    b = containers.bundle()
    b.config["linux"]["resources"].update(resources)
    try:
        c, report = containers.probe_running(b, *actions)
    except AssertionError as exc:
        if not str(exc).startswith("setup: create failed"):
            raise
        left = host.cgroup_dirs(b.config["linux"]["cgroupsPath"])
        host.remove_cgroup(sorted(left, reverse=True))
        raise AssertionError(
            violation(
                rid,
                wanted=f"create applies linux.resources {json.dumps(resources)}",
                seen="create failed"
                + (f"; it left the cgroups {left} (removed by the test)" if left else ""),
            )
            + "\n"
            + str(exc).removeprefix("setup: create failed\n")
        ) from None
    return c, report


def cgroup_value(
    host: HostInspector,
    report: ProbeReport,
    v1: tuple[str, str] | None,
    v2: tuple[str, str] | None,
) -> tuple[str, str]:
    """(file name, stripped content) of a control file of the cgroup the probe reported
    itself in (/proc/self/cgroup; the baseline has no cgroup namespace, so these are the
    host's paths). `v1` and `v2` are (controller, file name) on each cgroup version (None:
    the field has no file there, and the test is skipped); content "" when unreadable."""
    version = host.cgroup_version()
    which = v2 if version == 2 else v1
    if which is None:
        pytest.skip(f"the field has no cgroup v{version} file")
    controller, name = which
    groups = report.cgroups
    if version == 2:
        path = groups.get("")
    else:
        path = next((p for k, p in groups.items() if controller in k.split(",")), None)
    if path is None:
        return name, ""
    return name, (host.cgroup_file_at(controller, path, name) or "").strip()
