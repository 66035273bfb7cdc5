"""config.md#hostname and #domainname: the names of the container's UTS namespace.

test_create.py checks that the hostname is in place already after create (runtime.md);
these check what the program itself sees.
"""

from __future__ import annotations

import pytest

from suites.messages import violation


@pytest.mark.requirement("config.hostname.applied")
def test_the_program_sees_hostname(containers):
    b = containers.bundle()
    b.config["hostname"] = "ocitest-hostname"
    report = containers.probe(b)
    assert report.hostname == "ocitest-hostname", violation(
        "config.hostname.applied",
        wanted='gethostname() returns "ocitest-hostname"',
        seen=f"{report.hostname!r}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.domainname.applied")
def test_the_program_sees_domainname(containers):
    b = containers.bundle()
    b.config["domainname"] = "ocitest.example"
    report = containers.probe(b)
    assert report.domainname == "ocitest.example", violation(
        "config.domainname.applied",
        wanted='uname().domainname is "ocitest.example"',
        seen=f"{report.domainname!r}",
        evidence=[report.evidence],
    )
