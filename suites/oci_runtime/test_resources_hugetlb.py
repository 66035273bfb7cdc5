"""config-linux.md#huge-page-limits: linux.resources.hugepageLimits, read back from the
container's cgroup (v1 hugetlb.2MB.*limit_in_bytes, v2 hugetlb.2MB.*max)."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.resources import MiB, cgroup_value, with_resources

#: cgroups of their own need root here (a rootless runtime cannot create them on
#: a cgroup v1 or hybrid host without systemd)
pytestmark = pytest.mark.requires("root")

LIMIT = 4 * MiB  # two 2 MiB pages


def _limits(containers, host, rid):
    return with_resources(
        containers, host, rid, {"hugepageLimits": [{"pageSize": "2MB", "limit": LIMIT}]}
    )


@pytest.mark.requires("hugetlb_2mb")
@pytest.mark.requirement("config-linux.hugepages.limit")
def test_hugepage_limit_becomes_the_hugetlb_limit(containers, host):
    c, report = _limits(containers, host, "config-linux.hugepages.limit")
    name, value = cgroup_value(
        host, report, ("hugetlb", "hugetlb.2MB.limit_in_bytes"), ("hugetlb", "hugetlb.2MB.max")
    )
    rsvd, rsvd_value = cgroup_value(
        host,
        report,
        ("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes"),
        ("hugetlb", "hugetlb.2MB.rsvd.max"),
    )
    # either accounting satisfies this one; hugepages.reservation asks for the rsvd one
    assert str(LIMIT) in (value, rsvd_value), violation(
        "config-linux.hugepages.limit",
        wanted=f"hugepageLimits 2MB {LIMIT} gives {name} or {rsvd} {LIMIT}",
        seen=f"{name} {value!r}, {rsvd} {rsvd_value!r}",
        evidence=[c.create_result, report.evidence],
    )


@pytest.mark.requires("hugetlb_2mb")
@pytest.mark.requirement("config-linux.hugepages.reservation")
def test_hugepage_limit_applies_to_reservations_where_supported(containers, host):
    c, report = _limits(containers, host, "config-linux.hugepages.reservation")
    rsvd, value = cgroup_value(
        host,
        report,
        ("hugetlb", "hugetlb.2MB.rsvd.limit_in_bytes"),
        ("hugetlb", "hugetlb.2MB.rsvd.max"),
    )
    if not value:
        pytest.skip(f"the kernel has no {rsvd} (no reservation accounting)")
    assert value == str(LIMIT), violation(
        "config-linux.hugepages.reservation",
        wanted=f"hugepageLimits 2MB {LIMIT} gives {rsvd} {LIMIT} (reservation accounting)",
        seen=f"{rsvd} {value!r}",
        evidence=[c.create_result, report.evidence],
    )
