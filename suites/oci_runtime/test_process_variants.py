"""config.md#posix-process and #posix-platform-user in the variants where runtimes take a
path of their own (CONVENTIONS.md, "Variants, the way bugs ship"): zero values, values
equal to what the process would have anyway, long lists, a user namespace.

Each test sets the field to the variant's value and checks the one fact it should give;
the starting state is made to differ from the wanted one first, so nothing passes by
accident.
"""

from __future__ import annotations

import pytest

from infra.probe import parse_limits
from suites.messages import violation
from suites.oci_runtime.helpers import with_identity_user_namespace

#: enough variables that a runtime copying a few into a fixed table loses some
MANY_ENV = [f"OCITEST_V{i:02d}=value {i}" for i in range(40)]


@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.process.env")
def test_a_long_environment_is_passed_whole(containers):
    b = containers.bundle()
    b.config["process"]["env"] += MANY_ENV
    report = containers.probe(b)
    wanted = dict(e.split("=", 1) for e in b.config["process"]["env"])
    missing = sorted(k for k in wanted if report.env.get(k) != wanted[k])
    assert not missing, violation(
        "config.process.env",
        wanted=f"all {len(wanted)} entries of process.env in the environment",
        seen=f"missing or different: {missing}",
        evidence=[report.evidence],
    )


def _caller_limits(host) -> dict:
    return parse_limits(host.read_text("/proc/self/limits") or "")


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.process.rlimits-soft", "config.process.rlimits-hard")
def test_a_zero_rlimit_is_applied(containers, host):
    soft_now, hard_now = _caller_limits(host).get("RLIMIT_CORE", (None, None))
    if hard_now == 0:
        pytest.skip("needs a caller whose RLIMIT_CORE hard limit is not 0")
    b = containers.bundle()
    b.config["process"]["rlimits"].append({"type": "RLIMIT_CORE", "soft": 0, "hard": 0})
    report = containers.probe(b)
    seen = report.rlimits.get("RLIMIT_CORE")
    assert seen == (0, 0), violation(
        "config.process.rlimits-soft" if seen and seen[0] != 0 else "config.process.rlimits-hard",
        wanted=f"RLIMIT_CORE soft and hard 0 (the caller's: {soft_now}, {hard_now})",
        seen=f"{seen}",
        evidence=[report.evidence],
    )


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.process.rlimits-soft", "config.process.rlimits-hard")
def test_an_rlimit_whose_soft_equals_its_hard_is_applied(containers, host):
    mine = _caller_limits(host)
    soft_now, hard_now = mine.get("RLIMIT_CORE", (0, None))
    value = 4096 if hard_now is None or hard_now > 4096 else max(hard_now - 1, 0)
    if value in (soft_now, hard_now):
        pytest.skip(f"needs a caller whose RLIMIT_CORE differs from {value}")
    b = containers.bundle()
    b.config["process"]["rlimits"].append({"type": "RLIMIT_CORE", "soft": value, "hard": value})
    report = containers.probe(b)
    seen = report.rlimits.get("RLIMIT_CORE")
    assert seen == (value, value), violation(
        "config.process.rlimits-soft"
        if seen and seen[0] != value
        else "config.process.rlimits-hard",
        wanted=f"RLIMIT_CORE soft and hard {value} (the caller's: {soft_now}, {hard_now})",
        seen=f"{seen}",
        evidence=[report.evidence],
    )


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.process.capabilities-bounding")
def test_an_empty_bounding_set_is_applied(containers):
    b = containers.bundle()
    caps = b.config["process"]["capabilities"]
    caps["bounding"], caps["effective"], caps["permitted"] = [], [], []
    report = containers.probe(b)
    seen = report.caps["bounding"]
    assert not seen, violation(
        "config.process.capabilities-bounding",
        wanted="an empty bounding set (capabilities.bounding is [])",
        seen=f"bounding set {sorted(seen)}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.hostname.applied")
def test_hostname_is_applied_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    b.config["hostname"] = "ocitest-userns"
    report = containers.probe(b)
    assert report.hostname == "ocitest-userns", violation(
        "config.hostname.applied",
        wanted='gethostname() returns "ocitest-userns" (with a user namespace)',
        seen=f"{report.hostname!r}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.root.readonly")
def test_readonly_root_refuses_writes_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    b.config["root"]["readonly"] = True
    path = "/ocitest-userns-write"
    report = containers.probe(b, f"create:{path}")
    made = report.action("create", path) or {}
    assert not made.get("ok") and made.get("error") == "EROFS", violation(
        "config.root.readonly",
        wanted=f"creating {path} fails with EROFS (root.readonly true, with a user namespace)",
        seen=f"create {made}",
        evidence=[report.evidence],
    )


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.process.env")
def test_an_env_entry_with_an_empty_value_is_set(containers):
    b = containers.bundle()
    b.config["process"]["env"].append("OCITEST_EMPTY=")
    report = containers.probe(b)
    assert report.env.get("OCITEST_EMPTY") == "", violation(
        "config.process.env",
        wanted="OCITEST_EMPTY set, to the empty string",
        seen=f"OCITEST_EMPTY {'unset' if 'OCITEST_EMPTY' not in report.env else repr(report.env['OCITEST_EMPTY'])}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.process.rlimits-soft", "config.process.rlimits-hard")
def test_rlimits_are_applied_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    b.config["process"]["rlimits"].append({"type": "RLIMIT_CORE", "soft": 4096, "hard": 8192})
    report = containers.probe(b)
    seen = report.rlimits.get("RLIMIT_CORE")
    assert seen == (4096, 8192), violation(
        "config.process.rlimits-soft"
        if seen and seen[0] != 4096
        else "config.process.rlimits-hard",
        wanted="RLIMIT_CORE soft 4096, hard 8192 (with a user namespace)",
        seen=f"{seen}",
        evidence=[report.evidence],
    )


#: HOST_NAME_MAX (64) characters: the longest hostname the kernel takes
LONGEST_HOSTNAME = "ocitest-" + "h" * 56


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.hostname.applied")
def test_the_longest_hostname_is_applied_whole(containers):
    b = containers.bundle()
    b.config["hostname"] = LONGEST_HOSTNAME
    report = containers.probe(b)
    assert report.hostname == LONGEST_HOSTNAME, violation(
        "config.hostname.applied",
        wanted=f"gethostname() returns the {len(LONGEST_HOSTNAME)}-character hostname whole",
        seen=f"{report.hostname!r} ({len(report.hostname)} characters)",
        evidence=[report.evidence],
    )
