"""config-linux.md#intelrdt: the one rule this host can check (it has no resctrl).

Everything else in the section needs a resctrl filesystem, i.e. Intel RDT or AMD PQoS
hardware, which neither this VM nor a TCG guest offers; the catalogue says so per rule.
"""

from __future__ import annotations

import pytest

from suites.messages import violation


@pytest.mark.requires("root", "no_resctrl")
@pytest.mark.requirement("config-linux.intelrdt.no-resctrl-errors")
def test_intel_rdt_without_a_mounted_resctrl_fails_create(containers):
    b = containers.bundle()
    b.config["linux"]["intelRdt"] = {"closID": "ocitest"}
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.intelrdt.no-resctrl-errors",
        wanted="create fails: intelRdt is set and no resctrl filesystem is mounted",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
