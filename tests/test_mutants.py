"""Self-tests: every mutant fails exactly the tests it targets, and runc passes them.

The baseline is the real runtime the mutants wrap (runc): a mutant must fail its
targeted tests on top of what runc itself fails, and nothing else. This is what proves
that those tests can fail (the report lists requirements no mutant proves yet).
"""

from __future__ import annotations

import pytest

from infra.mutants import MUTANTS
from tests.conftest import run_pytest

SUITE = "suites/oci_runtime"


@pytest.fixture(scope="session")
def baseline(tmp_path_factory):
    run = run_pytest(
        [SUITE, "--runtime", "runc", "--gate", "none", "-n", "2"],
        tmp_path_factory.mktemp("baseline"),
    )
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run


def test_runc_passes_every_test_a_mutant_targets(baseline):
    outcomes = baseline.outcomes()
    targeted = {t for m in MUTANTS.values() for t in m.fails}
    missing = targeted - set(outcomes)
    assert not missing, f"targeted tests not collected: {sorted(missing)}"
    not_passing = {t: outcomes[t] for t in targeted if outcomes[t] != "passed"}
    assert not not_passing, f"runc does not pass these targeted tests: {not_passing}"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_exactly_its_targeted_tests(name, baseline, tmp_path):
    mutant = MUTANTS[name]
    run = run_pytest(
        [f"suites/{mutant.suite}", "--runtime", mutant.path, "--gate", "none", "-n", "2"],
        tmp_path / "report",
    )
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    new = run.failing() - baseline.failing()
    fixed = baseline.failing() - run.failing()
    assert new == set(mutant.fails) and fixed == set(mutant.also_passes), (
        f"mutant {name} ({mutant.breaks}):\n"
        f"  fails but should not: {sorted(new - set(mutant.fails))}\n"
        f"  should fail but does not: {sorted(set(mutant.fails) - new)}\n"
        f"  passes where runc fails: {sorted(fixed)}"
    )
    assert run.results["run"]["leftovers"] == [], "the run leaked: " + str(
        run.results["run"]["leftovers"]
    )


def test_every_mutant_names_requirements_of_its_tests():
    from reports.catalogue import catalogue_files, load_catalogue
    from tests.conftest import ROOT

    cat = load_catalogue(catalogue_files(ROOT))
    for m in MUTANTS.values():
        unknown = [r for r in m.requirements if r not in cat]
        assert not unknown, f"{m.name}: unknown requirement ids {unknown}"
        for test in m.fails:
            module, func = test.split("::")
            text = (ROOT / "suites" / m.suite / module).read_text()
            assert f"def {func.split('[')[0]}(" in text, f"{m.name}: no test {test}"
