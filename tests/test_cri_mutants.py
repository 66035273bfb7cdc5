"""Self-tests of the CRI suite: each mutant CRI endpoint (the gRPC proxy of
selftest/cri_proxy.py in front of the embedded containerd, `--cri-endpoint mutant:NAME`
with selftest.plugin loaded, as run_pytest does) fails exactly the tests declared for it (selftest/cri_*.py),
beyond what the real containerd fails; the result is recorded for reports/proofs.json.
Runs the runc handler only, and only the modules a mutant targets, to stay quick."""

from __future__ import annotations

import pytest

from selftest import proofs
from selftest.registry import CRI_MUTANTS
from tests.conftest import in_sample, run_pytest, shared_run

SUITE = "suites/cri"
MODULES = sorted({mod for m in CRI_MUTANTS.values() for mod in m.modules})
COMMON = ["--runtime-handler", "runc", "--gate", "none", "-n", "2"]
#: the subject the mutants' proxy fronts (Debian's containerd; the baseline run also has
#: containerd-2.4.2-runc when setup built it, the base of the mutants declared with
#: containerd="2.4.2": RPCs Debian's 1.6 does not implement)
BASE = "containerd-runc"


def base_of(m) -> str:
    """The baseline subject of CRI mutant `m`: the containerd its proxy fronts."""
    return f"containerd-{m.containerd}-runc" if m.containerd else BASE


def _based(run, m) -> bool:
    """Whether the baseline run has `m`'s base subject (2.4.2 only when setup built it)."""
    return bool(run.outcomes(base_of(m)))


@pytest.fixture(scope="session")
def cri_baseline(tmp_path_factory):
    run = shared_run(
        tmp_path_factory, "cri-baseline", [*(f"{SUITE}/{m}" for m in MODULES), *COMMON]
    )
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run


def test_the_real_containerd_passes_every_targeted_test(cri_baseline):
    missing, bad = set(), {}
    for m in CRI_MUTANTS.values():
        if m.containerd and not _based(cri_baseline, m):
            continue  # that containerd was not built: its mutants skip
        outcomes = cri_baseline.outcomes(base_of(m))
        missing |= set(m.fails) - set(outcomes)
        bad |= {
            f"{t} ({base_of(m)})": outcomes[t]
            for t in m.fails
            if t in outcomes and outcomes[t] != "passed"
        }
    assert not missing, f"targeted tests not collected: {sorted(missing)}"
    assert not bad, f"containerd does not pass these targeted tests: {bad}"


@pytest.mark.selftest
@pytest.mark.parametrize("name", [n for n in sorted(CRI_MUTANTS) if in_sample(CRI_MUTANTS[n].key)])
def test_cri_mutant_fails_exactly_its_targeted_tests(name, cri_baseline, tmp_path):
    m = CRI_MUTANTS[name]
    if m.containerd and not _based(cri_baseline, m):
        pytest.skip(f"containerd {m.containerd}, which {name} fronts, was not built by setup")
    args = [*(f"{SUITE}/{mod}" for mod in m.modules), *COMMON]
    run = run_pytest([*args, "--cri-endpoint", f"mutant:{name}"], tmp_path / "report")
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    base = {k for k in cri_baseline.failing(base_of(m)) if k.split("::")[0] in m.modules}
    new = run.failing() - base
    violated = run.violated(new)
    proofs.record(m, new, violated=violated)
    assert new == set(m.fails), (
        f"CRI mutant {name} ({m.breaks}):\n"
        f"  fails but should not: {sorted(new - set(m.fails))}\n"
        f"  should fail but does not: {sorted(set(m.fails) - new)}"
    )
    assert set(m.requirements) <= set(violated), (
        f"CRI mutant {name} declares requirements no failed assertion names: "
        f"{sorted(set(m.requirements) - set(violated))}"
    )
    assert run.results["run"]["leftovers"] == [], "the run leaked: " + str(
        run.results["run"]["leftovers"]
    )


def test_every_cri_mutant_names_requirements_of_its_tests():
    from reports.catalogue import catalogue_files, load_catalogue
    from selftest.registry import declared_proofs
    from tests.conftest import ROOT

    cat = load_catalogue(catalogue_files(ROOT))
    proven = declared_proofs()
    for m in CRI_MUTANTS.values():
        unknown = [r for r in m.requirements if r not in cat]
        assert not unknown, f"{m.name}: unknown requirement ids {unknown}"
        for test in m.fails:
            module, func = test.split("::", 1)  # a parameter may hold "::"
            text = (ROOT / SUITE / module).read_text()
            assert f"def {func.split('[')[0]}(" in text, f"{m.name}: no test {test}"
        for rid in m.requirements:
            assert m.key in proven.get(rid, []), f"proofs miss {m.name} for {rid}"
