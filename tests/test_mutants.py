"""Self-tests: every mutant fails exactly the tests it targets, and its base runtime
passes them.

The baseline is the real runtime a mutant wraps (runc, or crun for the mutant-crun-*
ones): a mutant must fail its targeted tests on top of what its base itself fails, and
nothing else. This is what proves
that those tests can fail: each mutant's result is recorded (selftest/proofs.py) and
`python -m selftest.proofs write` turns them into reports/proofs.json, the proofs the
report shows.

Scope: a mutant runs against the test files that hold its targeted tests (so "nothing
else" is checked within them), which keeps CI's cost near one suite run per area;
OCITEST_MUTANTS_FULL=1 runs every mutant against the whole suite. Mutants that only
claim a newer spec version always run the whole suite.
"""

from __future__ import annotations

import hashlib
import os

import pytest

from selftest import proofs
from selftest.registry import MUTANTS
from tests.conftest import in_sample, shared_run

SUITE = "suites/oci_runtime"
#: the mutants this session runs (tests/conftest.in_sample; claims mutants always: they
#: are other mutants' baselines)
SAMPLED = sorted(k for k, m in MUTANTS.items() if in_sample(k) or m.how == "claims")


@pytest.fixture(scope="session")
def baselines(tmp_path_factory):
    """base runtime -> its own run of the suite (made on first use)."""
    runs = {}

    def get(base: str):
        if base not in runs:
            run = shared_run(
                tmp_path_factory,
                f"baseline-{base}",
                [SUITE, "--runtime", base, "--gate", "none", "-n", "2"],
            )
            assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
            runs[base] = run
        return runs[base]

    return get


def _baseline_of(m) -> str:
    """What a mutant's failures are compared with: its base runtime, or (for a mutant
    that also claims a newer spec version) the claims mutant of that version."""
    return m.baseline or m.base


def _baseline_outcomes(key: str, baselines, mutant_runs) -> dict[str, str]:
    """Outcomes of the baseline `key`: a claims mutant's batch run, or a real runtime's."""
    if key not in ("runc", "crun"):
        run, subject = mutant_runs(key)
        assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
        return run.outcomes(subject)
    return baselines(key).outcomes()


@pytest.mark.parametrize("base", sorted({_baseline_of(MUTANTS[k]) for k in SAMPLED}))
def test_the_base_runtime_passes_every_test_its_mutants_target(baselines, mutant_runs, base):
    outcomes = _baseline_outcomes(base, baselines, mutant_runs)
    targeted = {
        t
        for m in (MUTANTS[k] for k in SAMPLED)
        if _baseline_of(m) == base and m.how != "claims"
        for t in m.fails
    }
    missing = targeted - set(outcomes)
    assert not missing, f"targeted tests not collected: {sorted(missing)}"
    # a features mutant may list what the base lacks: there the base is rightly unsupported
    listed_more = {t for m in MUTANTS.values() if m.how == "features" for t in m.fails}
    not_passing = {
        t: outcomes[t]
        for t in targeted
        if outcomes[t] != "passed" and not (t in listed_more and outcomes[t] == "unsupported")
    }
    assert not not_passing, f"{base} does not pass these targeted tests: {not_passing}"


#: mutants tested together in one inner run (one --runtime each): the suite's cost is
#: per subject anyway, and one session per batch saves the start-up and the preflights
BATCH = 8


def _digest(names: list[str]) -> str:
    return hashlib.sha256(" ".join(names).encode()).hexdigest()[:16]


def scope(key: str) -> tuple[str, ...]:
    """The test paths a mutant runs against (see the module doc)."""
    m = MUTANTS[key]
    if os.environ.get("OCITEST_MUTANTS_FULL") or not m.modules or m.how == "claims":
        return (f"suites/{m.suite}",)
    return tuple(f"suites/{m.suite}/{f}" for f in m.modules)


@pytest.fixture(scope="session")
def mutant_runs(tmp_path_factory, mutant_exe):
    """mutant key -> (inner run, its subject id), running a batch on first use: mutants
    of the same scope, BATCH at a time."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for key in SAMPLED:
        groups.setdefault(scope(key), []).append(key)
    batches = [
        (paths, keys[i : i + BATCH])
        for paths, keys in groups.items()
        for i in range(0, len(keys), BATCH)
    ]
    runs: dict[str, tuple] = {}

    def get(key: str):
        if key not in runs:
            paths, batch = next((p, b) for p, b in batches if key in b)
            args = [*paths, "--gate", "none", "-n", "2"]
            for k in batch:
                args += ["--runtime", mutant_exe(k)]
            run = shared_run(tmp_path_factory, "mutants-" + _digest(batch), args)
            for k in batch:
                runs[k] = (run, f"mutant-{k}")
        return runs[key]

    return get


@pytest.mark.parametrize("name", SAMPLED)
def test_mutant_fails_exactly_its_targeted_tests(name, baselines, mutant_runs):
    mutant = MUTANTS[name]
    base = _baseline_of(mutant)
    base_outcomes = _baseline_outcomes(base, baselines, mutant_runs)
    run, subject = mutant_runs(name)
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    ran = set(run.outcomes(subject))
    assert ran, f"no results for {subject}: " + run.stdout[-2000:]
    failing = run.failing(subject)
    base_failing = {k for k, o in base_outcomes.items() if o in ("failed", "error")} & ran
    new = failing - base_failing
    fixed = base_failing - failing
    violated = run.violated(new, subject)
    proofs.record(mutant, new, violated=violated)
    assert new == set(mutant.fails) and fixed == set(mutant.also_passes), (
        f"mutant {name} ({mutant.breaks}), against {base}:\n"
        f"  fails but should not: {sorted(new - set(mutant.fails))}\n"
        f"  should fail but does not: {sorted(set(mutant.fails) - new)}\n"
        f"  passes where {base} fails: {sorted(fixed)}"
    )
    assert set(mutant.requirements) <= set(violated), (
        f"mutant {name} declares requirements no failed assertion names (issue 17: a mutant "
        f"proves what it breaks, not every id on its tests): "
        f"{sorted(set(mutant.requirements) - set(violated))}"
    )
    assert run.results["run"]["leftovers"] == [], "the run leaked: " + str(
        run.results["run"]["leftovers"]
    )


def test_every_mutant_has_its_executable(tmp_path):
    from selftest import executables
    from selftest.runtime_mutant import mutant_of

    paths = executables.write(tmp_path)
    assert sorted(paths) == sorted(MUTANTS)
    missing = [p for p in paths.values() if not os.access(p, os.X_OK)]
    assert not missing, f"entry points not executable: {missing}"
    unknown = [k for k, p in paths.items() if mutant_of(p) is not MUTANTS[k]]
    assert not unknown, f"runtime_mutant.py does not find these mutants: {unknown}"


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
