"""What the linux.resources tests share (config-linux.md#control-groups): a running
probe with some resources set, and reading its cgroup's control files from the host."""

from __future__ import annotations

import pytest

from infra.containers import Container, ContainerSession
from infra.drivers.host import HostInspector
from infra.probe import ProbeReport

#: memory values in bytes
MiB = 1 << 20


def with_resources(
    containers: ContainerSession, resources: dict, *actions: str
) -> tuple[Container, int, ProbeReport]:
    """Run the probe (with `actions`) in a container whose linux.resources also holds
    `resources`; the container keeps running. Returns (container, pid, report)."""
    b = containers.bundle()
    b.config["linux"]["resources"].update(resources)
    c, report = containers.probe_running(b, *actions)
    doc = containers.state(c.id) or {}
    assert doc.get("pid"), "setup: state reports no pid for the running probe"
    return c, doc["pid"], report


def cgroup_value(
    host: HostInspector, pid: int, v1: tuple[str, str] | None, v2: tuple[str, str] | None
) -> tuple[str, str]:
    """(file name, stripped content) of PID's cgroup control file. `v1` and `v2` are
    (controller, file name) on each cgroup version (None: the field has no file there,
    and the test is skipped); content "" when the file cannot be read."""
    version = host.cgroup_version()
    which = v2 if version == 2 else v1
    if which is None:
        pytest.skip(f"the field has no cgroup v{version} file")
    controller, name = which
    return name, (host.cgroup_file(pid, controller, name) or "").strip()
