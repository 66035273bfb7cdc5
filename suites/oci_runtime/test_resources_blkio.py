"""config-linux.md#block-io: linux.resources.blockIO, read back from the container's
cgroup (v1 blkio.*, v2 io.*). Weights need blkio weight files (BFQ or CFQ), which many
hosts lack; the throttles need only a block device of the host."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import cgroup_value, with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")

#: block devices that are not disks a throttle could name
VIRTUAL = ("loop", "ram", "zram", "nbd", "dm-", "md")


def _disk(host) -> tuple[int, int]:
    """(major, minor) of one real block device of the host (skips when there is none)."""
    for name in host.list_dir("/sys/block"):
        if not name.startswith(VIRTUAL):
            dev = (host.read_text(f"/sys/block/{name}/dev") or "").strip()
            if ":" in dev:
                major, minor = dev.split(":")
                return int(major), int(minor)
    pytest.skip("the host has no block device besides loop/ram/zram ones")


def _weight_files(host, report) -> tuple[str, str]:
    """(file, content) of the cgroup's default IO weight (BFQ's or the plain one)."""
    for v1, v2 in (
        ("blkio.bfq.weight", "io.bfq.weight"),
        ("blkio.weight", "io.weight"),
    ):
        name, value = cgroup_value(host, report, ("blkio", v1), ("io", v2))
        if value:
            return name, value
    return "blkio.weight / io.weight", ""


@pytest.mark.requires("blkio_weight")
@pytest.mark.requirement("config-linux.blkio.weight")
def test_blkio_weight_becomes_the_cgroup_io_weight(containers, host):
    c, report = with_resources(
        containers, host, "config-linux.blkio.weight", {"blockIO": {"weight": 333}}
    )
    name, value = _weight_files(host, report)
    # io.bfq.weight and io.weight read "default 333"; the v1 files read "333"
    assert value.split()[-1:] == ["333"] or "default 333" in value, violation(
        "config-linux.blkio.weight",
        wanted=f"blockIO.weight 333 gives {name} 333",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("blkio_weight")
@pytest.mark.requirement("config-linux.blkio.weight-device")
def test_blkio_weight_device_sets_a_per_device_weight(containers, host):
    major, minor = _disk(host)
    c, report = with_resources(
        containers,
        host,
        "config-linux.blkio.weight-device",
        {"blockIO": {"weightDevice": [{"major": major, "minor": minor, "weight": 444}]}},
    )
    name, value = _weight_files(host, report)
    assert f"{major}:{minor} 444" in value, violation(
        "config-linux.blkio.weight-device",
        wanted=f"weightDevice {major}:{minor} 444 listed in {name}",
        seen=f"{name} {value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requirement("config-linux.blkio.throttle")
def test_blkio_throttles_become_per_device_limits(containers, host):
    major, minor = _disk(host)
    dev = {"major": major, "minor": minor}
    rates = {
        "throttleReadBpsDevice": ("blkio.throttle.read_bps_device", "rbps", 1048576),
        "throttleWriteBpsDevice": ("blkio.throttle.write_bps_device", "wbps", 2097152),
        "throttleReadIOPSDevice": ("blkio.throttle.read_iops_device", "riops", 300),
        "throttleWriteIOPSDevice": ("blkio.throttle.write_iops_device", "wiops", 400),
    }
    blockio = {k: [{**dev, "rate": rate}] for k, (_, _, rate) in rates.items()}
    c, report = with_resources(
        containers, host, "config-linux.blkio.throttle", {"blockIO": blockio}
    )
    if host.cgroup_version() == 2:
        _, io_max = cgroup_value(host, report, None, ("io", "io.max"))
        wanted = {f"{key}={rate}" for _, key, rate in rates.values()}
        line = next((ln for ln in io_max.splitlines() if ln.startswith(f"{major}:{minor} ")), "")
        seen, ok = f"io.max {io_max!r}", wanted <= set(line.split())
    else:
        got = {f: cgroup_value(host, report, ("blkio", f), None)[1] for f, _, _ in rates.values()}
        seen = ", ".join(f"{f} {v!r}" for f, v in got.items())
        ok = all(got[f] == f"{major}:{minor} {rate}" for f, _, rate in rates.values())
    assert ok, violation(
        "config-linux.blkio.throttle",
        wanted=f"for device {major}:{minor}: read 1048576 B/s, write 2097152 B/s, "
        "read 300 IO/s, write 400 IO/s",
        seen=seen,
        evidence=[c.create_result, report.evidence],
    )
