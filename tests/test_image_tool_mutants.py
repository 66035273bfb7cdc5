"""Self-tests of the layout suite against image tools: each image-tool mutant
(selftest/image_tool_mutants.py, `skopeo copy` plus one damage to the layout it wrote)
fails exactly the tests declared for it beyond what its base, Debian's skopeo, fails; the
failures name the declared requirement ids; nothing leaks. One inner run judges the base
and every mutant side by side (one `--image-tool` each)."""

from __future__ import annotations

import shutil

import pytest

from selftest import image_tool_mutant
from selftest.image_tool_mutants import MUTANTS
from tests.conftest import ROOT, assert_fails_exactly, shared_dir, shared_run

SUITE = "suites/oci_image"

pytestmark = pytest.mark.skipif(not shutil.which("skopeo"), reason="no skopeo on PATH (the base)")


@pytest.fixture(scope="session")
def image_tool_run(tmp_path_factory):
    """The layout suite run once against skopeo and every mutant; (run, base subject id)."""
    exes = image_tool_mutant.write(shared_dir(tmp_path_factory, "image-tool-mutants"))
    args = [SUITE, "-k", "not registry and not conversion", "--gate", "none", "-n", "2"]
    args += ["--image-tool", "skopeo"]
    for name in sorted(MUTANTS):
        args += ["--image-tool", exes[name]]
    run = shared_run(tmp_path_factory, "image-tool-mutants", args)
    assert (run.report_dir / "results.json").exists(), run.stdout[-3000:] + run.stderr[-2000:]
    base = next(s["id"] for s in run.results["subjects"] if s["id"].startswith("skopeo-"))
    return run, base


@pytest.mark.selftest
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_image_tool_mutant_fails_exactly_its_tests(name, image_tool_run):
    run, base = image_tool_run
    assert_fails_exactly(run, base, name, MUTANTS[name], "image-tool")


def test_the_image_tool_run_leaks_nothing(image_tool_run):
    run, _ = image_tool_run
    assert run.results["run"]["leftovers"] == [], run.results["run"]["leftovers"]


def test_the_base_and_every_mutant_got_a_layout(image_tool_run):
    run, base = image_tool_run
    for sid in [base, *(f"mutant-{n}" for n in MUTANTS)]:
        outcomes = run.outcomes(sid)
        assert outcomes and "error" not in outcomes.values(), (sid, outcomes)


def test_every_image_tool_mutant_names_existing_tests_and_requirements():
    from reports.catalogue import catalogue_files, load_catalogue

    cat = load_catalogue(catalogue_files(ROOT))
    for m in MUTANTS.values():
        assert all(r in cat for r in m.requirements), m.name
        for test in m.fails:
            module, _, func = test.partition("::")
            text = (ROOT / SUITE / module).read_text()
            assert f"def {func.split('[')[0]}(" in text, f"{m.name}: {test}"
