"""config-linux.md#personality: the execution domain of the container process."""

from __future__ import annotations

import pytest

from suites.messages import violation

#: personality(2) domain values (linux/personality.h)
PER_LINUX, PER_LINUX32 = 0x0000, 0x0008
PER_MASK = 0x00FF


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.personality.domain-applied")
def test_personality_linux32_is_the_process_execution_domain(containers):
    b = containers.bundle()
    b.config["linux"]["personality"] = {"domain": "LINUX32"}
    report = containers.probe(b)
    domain = report.personality & PER_MASK
    assert domain == PER_LINUX32, violation(
        "config-linux.personality.domain-applied",
        wanted=f"execution domain PER_LINUX32 ({PER_LINUX32:#06x}) for domain LINUX32",
        seen=f"personality {report.personality:#06x} (domain {domain:#06x})",
        evidence=[report.evidence],
    )
