"""Self-tests of the layout suite against image tools: each image-tool mutant
(selftest/image_tool_mutants.py, `skopeo copy` or the built containerd's `ctr images
export` plus one damage to the layout it wrote) fails exactly the tests declared for it
beyond what its base, Debian's skopeo or ctr 2.4.2, fails; the failures name the declared
requirement ids; nothing leaks. One inner run judges both bases and every mutant side by
side (one `--image-tool` each). Without the containerd build, the ctr mutants are skipped."""

from __future__ import annotations

import os
import shutil

import pytest

from infra import gobuild
from selftest import image_tool_mutant, proofs
from selftest.image_tool_mutants import MUTANTS
from selftest.registry import IMAGE_TOOL_MUTANTS
from tests.conftest import ROOT, assert_fails_exactly, shared_dir, shared_run

SUITE = "suites/oci_image"

pytestmark = pytest.mark.skipif(not shutil.which("skopeo"), reason="no skopeo on PATH (the base)")


def _ctr() -> str:
    """The built containerd's ctr, or "" when setup did not build it."""
    built = gobuild.built_dir("containerd")
    return os.path.join(built, "ctr") if built else ""


@pytest.fixture(scope="session")
def image_tool_run(tmp_path_factory):
    """The layout suite run once against skopeo, the built ctr (when there) and every
    mutant; (run, {base tool: its subject id}, {mutant name: its subject id})."""
    ctr = _ctr()
    containerd = os.path.join(os.path.dirname(ctr), "containerd") if ctr else ""
    shared = shared_dir(tmp_path_factory, "image-tool-mutants")
    exes = image_tool_mutant.write(shared, containerd)
    args = [SUITE, "-k", "not registry and not conversion", "--gate", "none", "-n", "2"]
    args += ["--image-tool", "skopeo"] + (["--image-tool", ctr] if ctr else [])
    for name in sorted(exes):
        args += ["--image-tool", exes[name]]
    run = shared_run(tmp_path_factory, "image-tool-mutants", args)
    assert (run.report_dir / "results.json").exists(), run.stdout[-3000:] + run.stderr[-2000:]
    by_path = {s["path"]: s["id"] for s in run.results["subjects"]}
    bases = {"skopeo": next(i for i in by_path.values() if i.startswith("skopeo-"))}
    if ctr:
        bases["ctr"] = by_path[ctr]
    return run, bases, {name: by_path[exe] for name, exe in exes.items()}


@pytest.mark.selftest
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_image_tool_mutant_fails_exactly_its_tests(name, image_tool_run):
    run, bases, subjects = image_tool_run
    m = MUTANTS[name]
    if name not in subjects:
        pytest.skip(f"no containerd build for the {m.base} mutant (./ocitest setup builds it)")
    new = run.failing(subjects[name]) - run.failing(bases[m.base])
    proofs.record(IMAGE_TOOL_MUTANTS[name], new, violated=run.violated(new, subjects[name]))
    assert_fails_exactly(run, bases[m.base], name, m, "image-tool", subjects[name])


def test_the_image_tool_run_leaks_nothing(image_tool_run):
    run, _, _ = image_tool_run
    assert run.results["run"]["leftovers"] == [], run.results["run"]["leftovers"]


def test_the_base_and_every_mutant_got_a_layout(image_tool_run):
    run, bases, subjects = image_tool_run
    for sid in [*bases.values(), *subjects.values()]:
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
