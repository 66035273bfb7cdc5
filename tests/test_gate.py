"""The gate (docs/architecture.md, Gate): each mode's verdict and the exit status of a real run."""

from __future__ import annotations

import pytest

from reports.gate import judge
from reports.records import Record


def rec(outcome: str, level: str = "MUST", nodeid: str = "t.py::test_x[runc]") -> Record:
    return Record(
        nodeid=nodeid,
        test=nodeid.split("[")[0],
        name="test_x",
        requirements=["r"],
        level=level,
        subject="runc",
        target="local",
        outcome=outcome,
    )


@pytest.mark.parametrize(
    "mode, level, outcome, passes",
    [
        ("MUST", "MUST", "failed", False),
        ("MUST", "SHOULD", "failed", True),
        ("MUST", "MAY", "failed", True),
        ("MUST", "MUST", "stale", False),
        ("MUST", "MUST", "xfail", True),
        ("MUST", "MUST", "skipped", True),
        ("MUST", "SHOULD", "error", False),
        ("SHOULD", "SHOULD", "failed", False),
        ("SHOULD", "MAY", "failed", True),
        ("SHOULD", "SHOULD", "stale", False),
        ("none", "MUST", "failed", True),
        ("none", "MUST", "stale", True),
        ("none", "MUST", "error", False),
        ("MUST", "MUST", "not-required", True),
        ("MUST", "MUST", "unsupported", True),
    ],
)
def test_judge_by_mode_level_and_outcome(mode, level, outcome, passes):
    v = judge([rec("passed"), rec(outcome, level)], mode)
    assert v.passed is passes and v.exit_status == (0 if passes else 1), v.reasons


def test_judge_rejects_an_unknown_mode():
    with pytest.raises(ValueError):
        judge([], "MAYBE")


MUTANT = "missing-id-ok"  # the runtime mutant these runs test (see mutant_exe)
ONE_TEST = "suites/oci_runtime/test_state.py::test_state_without_an_id_fails"


def test_a_must_failure_fails_the_run(inner, mutant_exe):
    run = inner([ONE_TEST, "--runtime", mutant_exe(MUTANT)])
    assert run.rc == 1, run.stdout[-2000:]
    assert run.results["gate"]["passed"] is False
    assert [r["outcome"] for r in run.results["results"]] == ["failed"]


def test_gate_none_reports_but_passes(inner, mutant_exe):
    run = inner([ONE_TEST, "--runtime", mutant_exe(MUTANT), "--gate", "none"])
    assert run.rc == 0, run.stdout[-2000:]
    assert [r["outcome"] for r in run.results["results"]] == ["failed"]


def test_a_known_failure_is_xfail_with_its_reason(inner, mutant_exe, tmp_path):
    kf = tmp_path / "kf.yaml"
    kf.write_text(
        "known_failures:\n  - test: " + ONE_TEST + "\n    subject: mutant-missing-id-ok\n"
        "    reason: the mutant accepts a missing id\n    link: https://example.invalid/1\n"
    )
    run = inner([ONE_TEST, "--runtime", mutant_exe(MUTANT), "--known-failures", str(kf)])
    assert run.rc == 0, run.stdout[-2000:]
    (r,) = run.results["results"]
    assert r["outcome"] == "xfail"
    assert r["known_failure"]["reason"] == "the mutant accepts a missing id"


def test_a_stale_known_failure_fails_the_gate(inner, tmp_path):
    kf = tmp_path / "kf.yaml"
    kf.write_text(
        "known_failures:\n  - requirement: runtime.state-op.missing-id-errors\n"
        "    subject: runc\n    reason: pretend runc fails this\n"
    )
    run = inner([ONE_TEST, "--runtime", "runc", "--known-failures", str(kf)])
    assert run.rc == 1, run.stdout[-2000:]
    (r,) = run.results["results"]
    assert r["outcome"] == "stale"
    assert any("stale" in reason for reason in run.results["gate"]["reasons"])


def test_an_intermittent_known_failure_that_passes_is_not_stale(inner, tmp_path):
    kf = tmp_path / "kf.yaml"
    kf.write_text(
        "known_failures:\n  - requirement: runtime.state-op.missing-id-errors\n"
        "    subject: runc\n    intermittent: true\n    reason: pretend runc races here\n"
    )
    run = inner([ONE_TEST, "--runtime", "runc", "--known-failures", str(kf)])
    assert run.rc == 0, run.stdout[-2000:]
    (r,) = run.results["results"]
    assert r["outcome"] == "passed"
    assert r["known_failure"]["intermittent"] is True


def test_a_should_failure_fails_only_the_should_gate(inner, mutant_exe):
    fd_test = "suites/oci_runtime/test_linux.py::test_the_program_has_only_stdin_stdout_stderr_open"
    leaky = mutant_exe("leaks-fd")
    must = inner([fd_test, "--runtime", leaky, "--gate", "MUST"])
    should = inner([fd_test, "--runtime", leaky, "--gate", "SHOULD"])
    assert [r["level"] for r in must.results["results"]] == ["SHOULD"]
    assert [r["outcome"] for r in must.results["results"]] == ["failed"]
    assert (must.rc, should.rc) == (0, 1), (must.stdout[-1500:], should.stdout[-1500:])
