"""Self-tests of the conversion suite: each converter mutant (selftest/converter_mutants.py,
`umoci unpack` plus one broken rule of conversion.md) fails exactly the tests declared for
it beyond what its base, Debian's umoci, fails; the failures name the declared
requirement ids; nothing leaks. One inner run judges the base and every mutant side by
side (one `--converter` each). Each result is recorded for reports/proofs.json (kind
"converter")."""

from __future__ import annotations

import shutil

import pytest

from selftest import converter_mutant, proofs
from selftest.converter_mutants import MODULE, MUTANTS
from selftest.registry import CONVERTER_MUTANTS
from tests.conftest import ROOT, assert_fails_exactly, shared_dir, shared_run

SUITE = f"suites/oci_image/{MODULE}"

pytestmark = pytest.mark.skipif(not shutil.which("umoci"), reason="no umoci on PATH (the base)")


@pytest.fixture(scope="session")
def converter_run(tmp_path_factory):
    """The suite run once against umoci and every mutant; (run, base subject id)."""
    exes = converter_mutant.write(shared_dir(tmp_path_factory, "converter-mutants"))
    args = [SUITE, "--gate", "none", "-n", "2", "--converter", "umoci"]
    for name in sorted(MUTANTS):
        args += ["--converter", exes[name]]
    run = shared_run(tmp_path_factory, "converter-mutants", args)
    assert (run.report_dir / "results.json").exists(), run.stdout[-3000:] + run.stderr[-2000:]
    base = next(s["id"] for s in run.results["subjects"] if s["id"].startswith("umoci-"))
    return run, base


@pytest.mark.selftest
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_converter_mutant_fails_exactly_its_tests(name, converter_run):
    run, base = converter_run
    new = run.failing(f"mutant-{name}") - run.failing(base)
    proofs.record(CONVERTER_MUTANTS[name], new, violated=run.violated(new, f"mutant-{name}"))
    assert_fails_exactly(run, base, name, MUTANTS[name], "converter")


def test_the_converter_run_leaks_nothing(converter_run):
    run, _ = converter_run
    assert run.results["run"]["leftovers"] == [], run.results["run"]["leftovers"]


def test_every_converter_mutant_names_existing_tests_and_requirements():
    from reports.catalogue import catalogue_files, load_catalogue

    cat = load_catalogue(catalogue_files(ROOT))
    text = (ROOT / SUITE).read_text()
    for m in MUTANTS.values():
        assert all(r in cat for r in m.requirements), m.name
        for test in m.fails:
            func = test.split("::")[1].split("[")[0]
            assert f"def {func}(" in text, f"{m.name}: {test}"
