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

#: a user namespace that maps every id to itself: the variant is the namespace, not the ids
IDENTITY = [{"containerID": 0, "hostID": 0, "size": 65536}]


def with_identity_user_namespace(bundle) -> None:
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = IDENTITY
    bundle.config["linux"]["gidMappings"] = IDENTITY


@pytest.mark.requires("root")
@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.user.gid")
def test_gid_zero_is_applied_for_a_non_root_uid(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 0}
    report = containers.probe(b)
    seen = {"gid": report.gid, "egid": report.egid}
    assert seen == {"gid": 0, "egid": 0}, violation(
        "config.user.gid",
        wanted="gid 0 (user.gid 0 is a value, not 'unset'; uid 1234)",
        seen=f"{seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.user.additional-gids")
def test_additional_gid_zero_is_a_supplementary_group(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [0, 5]}
    report = containers.probe(b)
    assert sorted(report.groups) == [0, 5], violation(
        "config.user.additional-gids",
        wanted="getgroups() returns [0, 5]",
        seen=f"getgroups() returns {report.groups}",
        evidence=[report.evidence],
    )


#: more supplementary groups than a fixed-size table of a few entries holds
MANY_GIDS = [3000 + 7 * i for i in range(24)]


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.user.additional-gids")
def test_many_additional_gids_are_all_supplementary_groups(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": MANY_GIDS}
    report = containers.probe(b)
    missing = sorted(set(MANY_GIDS) - set(report.groups))
    assert not missing, violation(
        "config.user.additional-gids",
        wanted=f"getgroups() holds all {len(MANY_GIDS)} additionalGids",
        seen=f"missing {missing}; getgroups() returns {report.groups}",
        evidence=[report.evidence],
    )


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.user.umask")
def test_umask_zero_is_applied(containers):
    b = containers.bundle()
    b.config["process"]["user"]["umask"] = 0
    report = containers.probe(b)
    assert report.umask == 0, violation(
        "config.user.umask",
        wanted="umask 0 (a zero umask is a value, not 'unset')",
        seen=f"umask {report.umask:#o}",
        evidence=[report.evidence],
    )


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


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.user.umask")
def test_umask_is_applied_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    b.config["process"]["user"]["umask"] = 0o077
    report = containers.probe(b)
    assert report.umask == 0o077, violation(
        "config.user.umask",
        wanted="umask 0o077 (with a user namespace)",
        seen=f"umask {report.umask:#o}",
        evidence=[report.evidence],
    )


def _ids(report) -> dict:
    return {"uid": report.uid, "gid": report.gid, "groups": sorted(report.groups)}


@pytest.mark.requires("root")
@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.user.gid")
def test_a_non_zero_gid_is_applied_for_uid_zero(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 0, "gid": 2345}
    report = containers.probe(b)
    assert (report.gid, report.egid) == (2345, 2345), violation(
        "config.user.gid",
        wanted="gid 2345 (uid 0 does not imply gid 0)",
        seen=f"{_ids(report)}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.user.additional-gids")
def test_an_additional_gid_equal_to_gid_is_kept(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [2345, 5]}
    report = containers.probe(b)
    assert sorted(report.groups) == [5, 2345], violation(
        "config.user.additional-gids",
        wanted="getgroups() returns [5, 2345] (the primary gid listed too is a group)",
        seen=f"getgroups() returns {report.groups}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.user.additional-gids")
def test_duplicate_additional_gids_still_set_the_groups(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [5, 5, 3456]}
    report = containers.probe(b)
    assert sorted(set(report.groups)) == [5, 3456], violation(
        "config.user.additional-gids",
        wanted="getgroups() holds 5 and 3456 (additionalGids [5, 5, 3456])",
        seen=f"getgroups() returns {report.groups}",
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


@pytest.mark.requires("root")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.user.umask")
def test_umask_is_applied_for_a_non_root_user(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "umask": 0o077}
    report = containers.probe(b)
    assert report.umask == 0o077, violation(
        "config.user.umask",
        wanted="umask 0o077 (uid 1234)",
        seen=f"umask {report.umask:#o}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.user.uid", "config.user.gid", "config.user.additional-gids")
def test_user_and_groups_are_applied_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [5, 3456]}
    report = containers.probe(b)
    wanted = {"uid": 1234, "gid": 2345, "groups": [5, 3456]}
    seen = _ids(report)
    broken = [
        rid
        for rid, key in (
            ("config.user.uid", "uid"),
            ("config.user.gid", "gid"),
            ("config.user.additional-gids", "groups"),
        )
        if seen[key] != wanted[key]
    ]
    assert seen == wanted, violation(
        broken[0],
        wanted=f"{wanted} (with a user namespace)",
        seen=f"{seen}",
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


@pytest.mark.requires("root")
@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.user.additional-gids")
def test_empty_additional_gids_leave_no_supplementary_group(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": []}
    report = containers.probe(b)
    assert set(report.groups) <= {2345}, violation(
        "config.user.additional-gids",
        wanted="no supplementary group but the primary gid 2345 (additionalGids is [], uid "
        "1234 is in no group of the image)",
        seen=f"getgroups() returns {report.groups}",
        evidence=[report.evidence],
    )
