"""Proof attribution (reports/proofs.py): a failure proves the requirements its failed
assertion names, never every id on the test; real subjects' failures are proofs too."""

from __future__ import annotations

from reports.proofs import is_mutant_subject, real_failures, record_violates, violated_ids

KNOWN = {"cri.pod.host-network", "cri.pod.host-pid", "cri.pod.host-ipc", "runtime.state.id"}


def _msg(rid: str, level: str = "MUST") -> str:
    return f"{rid} ({level}, cri api.proto#RunPodSandbox): a summary\n  https://x\n  wanted: a\n  seen:   b"


def test_violated_ids_reads_the_violation_headers_in_order():
    text = _msg("cri.pod.host-pid") + "\n\n" + _msg("cri.pod.host-network", "SHOULD")
    assert violated_ids(text, KNOWN) == ["cri.pod.host-pid", "cri.pod.host-network"]
    assert violated_ids("AssertionError: " + _msg("cri.pod.host-ipc"), KNOWN) == [
        "cri.pod.host-ipc"
    ]


def test_ids_outside_the_catalogue_and_plain_text_are_not_violations():
    assert violated_ids(_msg("no.such.id"), KNOWN) == []
    assert violated_ids("cri.pod.host-pid failed (see log)", KNOWN) == []


def test_a_failure_naming_no_id_proves_only_a_single_requirement_test():
    assert record_violates(["runtime.state.id"], "boom", KNOWN) == ["runtime.state.id"]
    assert record_violates(["cri.pod.host-pid", "cri.pod.host-ipc"], "boom", KNOWN) == []
    named = record_violates(
        ["cri.pod.host-pid", "cri.pod.host-ipc"], _msg("cri.pod.host-ipc"), KNOWN
    )
    assert named == ["cri.pod.host-ipc"]


def test_real_failures_count_failed_and_xfail_of_real_subjects_only():
    rec = {
        "requirements": ["cri.pod.host-pid", "cri.pod.host-ipc"],
        "message": _msg("cri.pod.host-pid"),
    }
    results = [
        {**rec, "subject": "containerd-1.6.20", "outcome": "xfail"},
        {**rec, "subject": "runc", "outcome": "failed"},
        {**rec, "subject": "mutant-cri-host-pid", "outcome": "failed"},
        {**rec, "subject": "crun", "outcome": "passed", "message": ""},
        {**rec, "subject": "crun", "outcome": "skipped"},
    ]
    assert real_failures(results, KNOWN) == {"cri.pod.host-pid": ["containerd-1.6.20", "runc"]}
    assert is_mutant_subject("mutant-kill-wrong-signal") and not is_mutant_subject("runc-1.5.3")
