"""Unit tests of small pieces: spec versions, subject ids, known failures, records."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infra import specversion
from infra.subjects import Subject, assign_ids, parse_version_output
from reports.known_failures import KnownFailure
from reports.records import PROP, RecordBook


@pytest.mark.parametrize(
    "version, floor, expected",
    [
        ("1.0.2-dev", "1.0.2", True),
        ("1.0.0", "1.0.2", False),
        ("1.1.0-rc.1", "1.1.0", False),
        ("1.3.0", "1.3.0", True),
        ("v1.2.1", "1.2.0", True),
        ("1.0.2-dev", "1.1.0", False),
    ],
)
def test_spec_versions_compare_with_dev_after_the_release(version, floor, expected):
    assert specversion.at_least(version, floor) is expected


def test_a_malformed_spec_version_raises():
    with pytest.raises(ValueError):
        specversion.parse("one point oh")


def test_version_output_of_runc_and_crun():
    assert parse_version_output("runc version 1.1.5+ds1\ncommit: x\nspec: 1.0.2-dev\n") == (
        "1.1.5+ds1",
        "1.0.2-dev",
    )
    assert parse_version_output("crun version 1.8.1\nspec: 1.0.0\n+SYSTEMD") == ("1.8.1", "1.0.0")
    assert parse_version_output("nothing here") == ("", "")


def test_subject_ids_are_unique_and_stable():
    subs = [
        Subject("runtime", "", "runc", path="/usr/sbin/runc"),
        Subject("runtime", "", "runc", path="/usr/local/bin/runc"),
        Subject("runtime", "", "crun", path="/usr/bin/crun"),
        Subject("runtime", "", "crun", path="/usr/bin/crun", args=["--cgroup-manager=cgroupfs"]),
    ]
    assign_ids(subs)
    assert [s.id for s in subs] == [
        "runc@usr-sbin",
        "runc@usr-local-bin",
        "crun",
        "crun+cgroup-manager=cgroupfs",
    ]


def test_known_failure_matches_test_with_or_without_param_and_by_requirement():
    by_test = KnownFailure(subject="runc", reason="because", test="a.py::test_x")
    by_full = KnownFailure(subject="runc", reason="because", test="a.py::test_x[runc-created]")
    by_req = KnownFailure(subject="*", reason="because", requirement="r.one")
    assert by_test.matches("a.py::test_x[runc-created]", "runc", [])
    assert not by_test.matches("a.py::test_x[crun]", "crun", [])
    assert by_full.matches("a.py::test_x[runc-created]", "runc", [])
    assert not by_full.matches("a.py::test_x[runc-running]", "runc", [])
    assert by_req.matches("b.py::test_y[crun]", "crun", ["r.one"])


def test_a_known_failure_with_a_target_holds_only_on_that_target():
    """`target` narrows an entry to one `--target`; `subject` and a test's [subject] part
    may leave out the `@TARGET` that ids carry in a run with several targets."""
    vm = KnownFailure(
        subject="runc", reason="because", test="a.py::test_x[runc-created]", target="qemu:debian"
    )
    anywhere = KnownFailure(subject="runc", reason="because", requirement="r.one")
    tagged = "a.py::test_x[runc@qemu:debian-created]"
    assert vm.matches(tagged, "runc@qemu:debian", [], "qemu:debian")
    assert vm.matches("a.py::test_x[runc-created]", "runc", [], "qemu:debian")  # one target
    assert not vm.matches("a.py::test_x[runc@local-created]", "runc@local", [], "local")
    assert not vm.matches("a.py::test_x[runc-created]", "runc", [], "local")
    assert not vm.matches("a.py::test_x[runc-created]", "runc", [])  # target unknown
    assert anywhere.matches(tagged, "runc@qemu:debian", ["r.one"], "qemu:debian")
    assert anywhere.matches("b.py::t[runc@local]", "runc@local", ["r.one"], "local")
    assert not anywhere.matches("b.py::t[crun@local]", "crun@local", ["r.one"], "local")
    ssh = KnownFailure(subject="runc@ssh:root@h:22", reason="because", requirement="r.one")
    assert ssh.matches(
        "b.py::t[runc@ssh:root@h:22]", "runc@ssh:root@h:22", ["r.one"], "ssh://root@h:22"
    )
    assert vm.as_dict()["target"] == "qemu:debian" and "target" not in anywhere.as_dict()


def _report(when, outcome, nodeid="a.py::test_x[runc]", message=""):
    info = {
        "outcome": outcome,
        "requirements": ["r.one"],
        "level": "MUST",
        "subject": "runc",
        "message": message,
        "known_failure": None,
    }
    return SimpleNamespace(nodeid=nodeid, when=when, duration=0.1, user_properties=[(PROP, info)])


def test_records_combine_phases_and_a_teardown_error_spoils_a_pass():
    book = RecordBook("local")
    for rep in (
        _report("setup", "passed"),
        _report("call", "passed"),
        _report("teardown", "error", message="left a container"),
    ):
        book.add(rep)
    (rec,) = book.finish()
    assert rec.outcome == "error" and "left a container" in rec.message


def test_a_record_without_teardown_is_an_error_of_an_incomplete_run():
    book = RecordBook("local")
    book.add(_report("setup", "passed"))
    book.add(_report("call", "passed"))
    (rec,) = book.finish()
    assert rec.outcome == "error" and "worker died" in rec.message


@pytest.mark.parametrize(
    "status, duration, timed_out, signal_name",
    [
        (0, 1, False, ""),
        (1, 1, False, ""),
        (124, 4, True, ""),
        (139, 1, False, "SIGSEGV"),
        (137, 9, True, ""),
        (137, 1, False, "SIGKILL"),
        (134, 1, False, "SIGABRT"),
    ],
)
def test_a_command_result_tells_a_deadline_from_a_crash(status, duration, timed_out, signal_name):
    from infra.targets.base import CommandResult

    res = CommandResult(["x"], status, "", "", duration, timeout=4)
    assert (res.timed_out, res.crash_signal) == (timed_out, signal_name)


def test_the_call_timeout_comes_from_the_environment():
    from infra.drivers import CallTimeoutError, call_timeout

    assert call_timeout(30.0, {}) == 30.0
    assert call_timeout(30.0, {"OCITEST_CALL_TIMEOUT": " 2.5 "}) == 2.5
    with pytest.raises(CallTimeoutError, match="OCITEST_CALL_TIMEOUT='x'"):
        call_timeout(30.0, {"OCITEST_CALL_TIMEOUT": "x"})
