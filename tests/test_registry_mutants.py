"""Self-tests of the registry suite: each registry mutant (the HTTP proxy of
selftest/registry_proxy.py in front of the embedded registry, `--registry mutant:NAME`
with selftest.plugin loaded) fails exactly the test functions declared for it
(selftest/registry_*mutants.py), beyond what the embedded registry itself fails; the
result is recorded for reports/proofs.json (kind "registry"). Mutants of the same test
files run side by side in one inner run (`--registry mutant:A --registry mutant:B ...`,
BATCH at a time: each has its own registry and proxy); the slow data sets (many-*,
large-layer) are left out to stay quick. A mutant of a change merged after 1.1.1 (its
requirements `since: dev`) runs, with its baseline, under --distribution-spec dev."""

from __future__ import annotations

import hashlib
import re

import pytest

from selftest import proofs
from selftest.registry import REGISTRY_MUTANTS as MUTANTS
from tests.conftest import ROOT, in_sample, shared_run

SUITE = "suites/oci_image"
MODULES = sorted({mod for m in MUTANTS.values() for mod in m.modules})
COMMON = ["-k", "not many and not large", "--gate", "none", "-n", "2"]
#: mutants per inner run
BATCH = 6
#: the mutants this session runs (tests/conftest.in_sample)
SAMPLED = [n for n in sorted(MUTANTS) if in_sample(MUTANTS[n].key)]


def _functions(keys: set[str]) -> set[str]:
    return {re.sub(r"\[.*\]$", "", k) for k in keys}


def _dev(m) -> bool:
    """The mutant breaks a change merged after 1.1.1 (`since: dev`): its tests run only
    with --distribution-spec dev, so its runs and its baseline use it."""
    from suites.messages import catalogue

    return any(catalogue()[r].since.endswith("-dev") for r in m.requirements)


@pytest.fixture(scope="session")
def registry_baseline(tmp_path_factory):
    """Call as registry_baseline(dev): the embedded registry's own run over the mutants'
    modules (dev: with --distribution-spec dev), made on first use."""

    def get(dev: bool = False):
        # the registry the mutants wrap (plain `embedded` also starts ggcr's when built)
        args = [*(f"{SUITE}/{m}" for m in MODULES), *COMMON]
        args += ["--registry", "embedded:distribution-2.8.2"]
        args += ["--distribution-spec", "dev"] if dev else []
        run = shared_run(tmp_path_factory, "registry-baseline" + ("-dev" if dev else ""), args)
        assert (run.report_dir / "results.json").exists(), run.stdout[-3000:] + run.stderr[-2000:]
        return run

    return get


@pytest.fixture(scope="session")
def registry_mutant_run(tmp_path_factory):
    """Call as registry_mutant_run(NAME): the inner run that holds mutant NAME (its
    subject is mutant-NAME), made on first use for its whole batch (mutants of the same
    modules and the same --distribution-spec)."""
    groups: dict[tuple, list[str]] = {}
    for name in SAMPLED:
        groups.setdefault((MUTANTS[name].modules, _dev(MUTANTS[name])), []).append(name)
    batches = [
        (key, names[i : i + BATCH])
        for key, names in groups.items()
        for i in range(0, len(names), BATCH)
    ]

    def get(name: str):
        (mods, dev), batch = next((k, b) for k, b in batches if name in b)
        args = [*(f"{SUITE}/{mod}" for mod in mods), *COMMON]
        args += ["--distribution-spec", "dev"] if dev else []
        for other in batch:
            args += ["--registry", f"mutant:{other}"]
        key = hashlib.sha256(" ".join(batch).encode()).hexdigest()[:16]
        return shared_run(tmp_path_factory, f"registry-mutants-{key}", args)

    return get


def test_the_embedded_registry_passes_every_targeted_test(registry_baseline):
    # a targeted test function needs a case the embedded registry does not fail (some
    # cases of a function may be its known failures: the mutants are judged case by case
    # beyond them; "unsupported" counts: a registry that never mounts answers 202, which a
    # mutant's 200 then breaks)
    for dev in (False, True):
        mutants = [m for m in MUTANTS.values() if _dev(m) == dev]
        if not mutants:
            continue
        outcomes = registry_baseline(dev).outcomes()
        fine = {k for k, o in outcomes.items() if o not in ("failed", "error", "not-required")}
        targeted = {t for m in mutants for t in m.fails}
        assert targeted <= _functions(fine), (dev, sorted(targeted - _functions(fine)))


@pytest.mark.selftest
@pytest.mark.parametrize("name", SAMPLED)
def test_registry_mutant_fails_exactly_its_tests(name, registry_baseline, registry_mutant_run):
    m = MUTANTS[name]
    run = registry_mutant_run(name)
    assert (run.report_dir / "results.json").exists(), run.stdout[-3000:] + run.stderr[-2000:]
    base = {k for k in registry_baseline(_dev(m)).failing() if k.split("::")[0] in m.modules}
    subject = f"mutant-{m.name}"
    new_cases = run.failing(subject) - base  # case by case, beyond the registry's own
    new = _functions(new_cases)
    proofs.record(m, new_cases, violated=run.violated(new_cases, subject))
    assert new == set(m.fails), (
        f"registry mutant {name} ({m.breaks}):\n"
        f"  fails but should not: {sorted(new - set(m.fails))}\n"
        f"  should fail but does not: {sorted(set(m.fails) - new)}"
    )
    assert run.results["run"]["leftovers"] == [], "the run leaked: " + str(
        run.results["run"]["leftovers"]
    )


def test_every_registry_mutant_names_existing_tests_and_requirements():
    from reports.catalogue import catalogue_files, load_catalogue

    cat = load_catalogue(catalogue_files(ROOT))
    from selftest.registry import declared_proofs

    proven = declared_proofs()
    for m in MUTANTS.values():
        assert all(r in cat for r in m.requirements), m.name
        assert all(m.key in proven.get(r, []) for r in m.requirements), m.name
        for test in m.fails:
            module, func = test.split("::")
            assert module in m.modules, m.name
            assert f"def {func}(" in (ROOT / SUITE / module).read_text(), f"{m.name}: {test}"
