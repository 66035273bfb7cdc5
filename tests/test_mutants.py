"""Self-tests: every mutant fails exactly the tests it targets, and its base runtime
passes them.

The baseline is the real runtime a mutant wraps (runc, or crun for the mutant-crun-*
ones): a mutant must fail its targeted tests on top of what its base itself fails, and
nothing else. This is what proves
that those tests can fail (the report lists requirements no mutant proves yet).
"""

from __future__ import annotations

import pytest

from infra.mutants import MUTANTS
from tests.conftest import run_pytest

SUITE = "suites/oci_runtime"


@pytest.fixture(scope="session")
def baselines(tmp_path_factory):
    """base runtime -> its own run of the suite (made on first use)."""
    runs = {}

    def get(base: str):
        if base not in runs:
            run = run_pytest(
                [SUITE, "--runtime", base, "--gate", "none", "-n", "2"],
                tmp_path_factory.mktemp(f"baseline-{base}"),
            )
            assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
            runs[base] = run
        return runs[base]

    return get


@pytest.mark.parametrize("base", sorted({m.base for m in MUTANTS.values()}))
def test_the_base_runtime_passes_every_test_its_mutants_target(baselines, base):
    outcomes = baselines(base).outcomes()
    targeted = {t for m in MUTANTS.values() if m.base == base for t in m.fails}
    missing = targeted - set(outcomes)
    assert not missing, f"targeted tests not collected: {sorted(missing)}"
    not_passing = {t: outcomes[t] for t in targeted if outcomes[t] != "passed"}
    assert not not_passing, f"{base} does not pass these targeted tests: {not_passing}"


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_fails_exactly_its_targeted_tests(name, baselines, tmp_path):
    mutant = MUTANTS[name]
    baseline = baselines(mutant.base)
    run = run_pytest(
        [f"suites/{mutant.suite}", "--runtime", mutant.path, "--gate", "none", "-n", "2"],
        tmp_path / "report",
    )
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    new = run.failing() - baseline.failing()
    fixed = baseline.failing() - run.failing()
    assert new == set(mutant.fails) and fixed == set(mutant.also_passes), (
        f"mutant {name} ({mutant.breaks}), against {mutant.base}:\n"
        f"  fails but should not: {sorted(new - set(mutant.fails))}\n"
        f"  should fail but does not: {sorted(set(mutant.fails) - new)}\n"
        f"  passes where {mutant.base} fails: {sorted(fixed)}"
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
