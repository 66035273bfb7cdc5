"""Self-tests of faulty registries (selftest/registry_faults.py, `--registry
fault:NAME`): one that resets the connection, one that answers beyond the request
deadline, one that cuts a body short of its Content-Length, each for the requests of
exactly one test. They run beside the embedded registry in one small inner run with a
request deadline of a few seconds; for each: that one test failed, naming the request
and the reason, every other test passed, and the run ended well (report, no leftovers)."""

from __future__ import annotations

import pytest

from selftest.registry_faults import FAULTS
from tests.conftest import shared_run
from tests.faults import CALL_TIMEOUT, assert_ended_well, inner_env, not_passed

pytestmark = pytest.mark.selftest

#: the tests the faults hit, and two that each must leave alone
TESTS = sorted(
    {f.hits for f in FAULTS.values()}
    | {
        "test_registry_pull.py::test_v2_answers_200_to_an_authorised_client",
        "test_registry_pull.py::test_missing_blob_answers_404_blob_unknown",
    }
)
#: seconds the inner run may take
RUN_DEADLINE = 150


@pytest.fixture(scope="module")
def faults_run(tmp_path_factory):
    names = " or ".join(t.split("::")[1] for t in TESTS)
    args = ["suites/oci_image/test_registry_pull.py", "-k", names, "--gate", "none", "-n", "2"]
    args += ["--registry", "embedded"]
    for name in sorted(FAULTS):
        args += ["--registry", f"fault:{name}"]
    return shared_run(tmp_path_factory, "faults-registry", args, env=inner_env())


def test_the_run_with_faulty_registries_ends_well(faults_run):
    run = faults_run
    assert_ended_well(run)
    assert run.seconds < RUN_DEADLINE, f"the run took {run.seconds:.0f} s"
    # the embedded registries (Debian's, and ggcr's where setup built it) pass them all
    embedded = {r["subject"] for r in run.results["results"]} - {f"fault-{n}" for n in FAULTS}
    assert embedded, run.stdout[-2000:]
    for sid in sorted(embedded):
        assert set(run.outcomes(sid)) == set(TESTS), run.outcomes(sid)
        assert not not_passed(run, sid), not_passed(run, sid)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_faulty_registry_fails_exactly_its_test_with_a_clear_reason(name, faults_run):
    run = faults_run
    fault = FAULTS[name]
    assert set(run.outcomes(f"fault-{name}")) == set(TESTS), run.outcomes(f"fault-{name}")
    bad = not_passed(run, f"fault-{name}")
    assert set(bad) == {fault.hits}, {k: r["outcome"] for k, r in bad.items()}
    rec = bad[fault.hits]
    assert rec["outcome"] == "failed", (rec["outcome"], rec["message"][:2000])
    for word in fault.expect:
        assert word in rec["message"], f"{word!r} not in:\n{rec['message'][:3000]}"
    if name == "slow":
        assert f"timed out after {CALL_TIMEOUT} s" in rec["message"]
        assert rec["duration"] < 3 * CALL_TIMEOUT + 20, rec["duration"]
