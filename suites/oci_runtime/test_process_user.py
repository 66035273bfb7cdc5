"""config.md#posix-platform-user: the user, groups and umask the program runs with."""

from __future__ import annotations

import pytest

from suites.messages import requirement_headers, violation


@pytest.mark.requires("root")  # rootless maps only container uid 0
@pytest.mark.requirement("config.user.uid", "config.user.gid")
def test_the_program_runs_as_user_uid_and_gid(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345}
    report = containers.probe(b)
    ids = {"uid": report.uid, "euid": report.euid, "gid": report.gid, "egid": report.egid}
    wanted = {"uid": 1234, "euid": 1234, "gid": 2345, "egid": 2345}
    broken = [
        rid
        for rid, keys in (
            ("config.user.uid", ("uid", "euid")),
            ("config.user.gid", ("gid", "egid")),
        )
        if any(ids[k] != wanted[k] for k in keys)
    ]
    assert ids == wanted, violation(
        broken[0],
        wanted=f"{wanted}",
        seen=f"{ids}",
        evidence=[report.evidence],
    ) + ("\n" + requirement_headers(broken[1:]) if broken[1:] else "")


@pytest.mark.requires("root")  # rootless maps only container uid 0
@pytest.mark.requirement("config.user.additional-gids")
def test_the_supplementary_groups_are_additional_gids(containers):
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 2345, "additionalGids": [5, 3456]}
    report = containers.probe(b)
    assert sorted(report.groups) == [5, 3456], violation(
        "config.user.additional-gids",
        wanted="getgroups() returns [5, 3456]",
        seen=f"getgroups() returns {report.groups}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.user.umask")
def test_the_program_runs_with_user_umask(containers):
    b = containers.bundle()
    b.config["process"]["user"]["umask"] = 0o027
    report = containers.probe(b)
    assert report.umask == 0o027, violation(
        "config.user.umask",
        wanted="umask 0o027",
        seen=f"umask {report.umask:#o}",
        evidence=[report.evidence],
    )
