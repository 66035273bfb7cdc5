"""config-linux.md#offset-for-time-namespace: timeOffsets in a new time namespace."""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.features import needs_feature

#: clock -> offset; the kernel names CLOCK_MONOTONIC "monotonic", CLOCK_BOOTTIME "boottime"
OFFSETS = {"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 7200, "nanosecs": 500}}


def parse_offsets(text: str | None) -> dict[str, tuple[int, int]]:
    """/proc/self/timens_offsets ("monotonic 86400 0" per line) -> clock -> (secs, nanosecs)."""
    out = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


@pytest.mark.requires("root", "timens")
@pytest.mark.requirement("config-linux.timens.offsets-applied")
def test_time_offsets_are_those_of_the_container_time_namespace(containers, runtime):
    needs_feature(runtime, "linux", "namespaces", value="time")
    b = containers.bundle()
    b.config["ociVersion"] = "1.1.0"
    b.config["linux"]["namespaces"].append({"type": "time"})
    b.config["linux"]["timeOffsets"] = OFFSETS
    b.config["process"]["args"] = probe_args()
    b.write_unvalidated(b.config)  # the packaged 1.0.2 schema predates timeOffsets
    report = containers.probe(b)
    seen = parse_offsets(report.timens_offsets)
    wanted = {k: (v["secs"], v["nanosecs"]) for k, v in OFFSETS.items()}
    assert seen == wanted, violation(
        "config-linux.timens.offsets-applied",
        wanted=f"/proc/self/timens_offsets: {wanted}",
        seen=f"{report.timens_offsets!r}",
        evidence=[report.evidence],
    )
