"""config.md#posix-platform-user in the variants where runtimes take a path of their own
(CONVENTIONS.md, "Variants, the way bugs ship"): zero ids and umask, a gid or group equal
to what the process would have anyway, long and duplicate group lists, a non-root user,
a user namespace.

Each test sets the field to the variant's value and checks the one fact it should give.
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import with_identity_user_namespace


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
