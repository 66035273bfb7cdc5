"""Self-tests of faulty runtimes (selftest/runtime_faults.py): a runtime that hangs on
create, start or kill, crashes half-way through create, or prints garbage for state,
each in exactly one test. All of them run side by side in one small inner run
with a call deadline of a few seconds; then for each fault: that one test failed, its
message names the command and the reason (timed out after N s, crashed, not JSON), every
other test passed, the run finished within its deadlines, the report
was written and nothing was left behind."""

from __future__ import annotations

import os

import pytest

from selftest.runtime_faults import FAULTS, write
from tests.conftest import shared_dir, shared_run
from tests.faults import CALL_TIMEOUT, assert_ended_well, inner_env, not_passed

pytestmark = pytest.mark.selftest
if os.geteuid() != 0:
    pytestmark = [pytestmark, pytest.mark.skip(reason="needs root: runc's root mode")]

#: the tests the faults hit, and two more that each fault must leave alone
TESTS = sorted(
    {f.hits for f in FAULTS.values()}
    | {
        "test_start.py::test_start_of_a_running_container_fails",
        "test_kill.py::test_kill_stops_a_created_container",
    }
)
#: seconds the whole inner run may take: its tests, plus a few deadlines per fault
RUN_DEADLINE = 240


@pytest.fixture(scope="module")
def faults_run(tmp_path_factory):
    bins = write(shared_dir(tmp_path_factory, "fault-bin"))
    files = sorted({f"suites/oci_runtime/{t.split('::')[0]}" for t in TESTS})
    names = " or ".join(t.split("::")[1] for t in TESTS)
    args = [*files, "-k", names, "--gate", "none", "-n", "2"]
    for name in sorted(FAULTS):
        args += ["--runtime", bins[name]]
    return shared_run(tmp_path_factory, "faults-runtime", args, env=inner_env())


def test_the_run_with_faulty_runtimes_ends_well(faults_run):
    run = faults_run
    assert_ended_well(run)
    assert run.seconds < RUN_DEADLINE, f"the run took {run.seconds:.0f} s"


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_faulty_runtime_fails_exactly_its_test_with_a_clear_reason(name, faults_run):
    run = faults_run
    fault = FAULTS[name]
    ran = run.outcomes(f"fault-{name}")
    assert set(ran) == set(TESTS), f"fault-{name} ran {sorted(ran)}\n{run.stdout[-2000:]}"
    bad = not_passed(run, f"fault-{name}")
    assert set(bad) == {fault.hits}, {k: r["outcome"] for k, r in bad.items()}
    rec = bad[fault.hits]
    assert rec["outcome"] == "failed", (rec["outcome"], rec["message"][:2000])
    for word in fault.expect:
        assert word in rec["message"], f"{word!r} not in:\n{rec['message'][:3000]}"
    if "timed out" in fault.expect[-1]:
        assert f"timed out after {CALL_TIMEOUT} s" in rec["message"]
        assert rec["duration"] < CALL_TIMEOUT + 30, rec["duration"]
