"""The image suite against its own corpus (suites/oci_image/corpus.py): every broken
layout is caught by the test naming its requirement, no test errors on any of them,
and the reference layout passes everything. One inner run holds every case (one
--image-layout each), so the whole corpus costs about one suite run."""

from __future__ import annotations

import fcntl

import pytest

from selftest import proofs
from selftest.registry import REGISTRY
from suites.oci_image.corpus import all_cases, write_corpus
from tests.conftest import shared_run

CASES = all_cases()


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    corpus = (base.parent if base.name.startswith("popen-gw") else base) / "image-corpus"
    with open(f"{corpus}.lock", "w") as lock:  # xdist workers: the first one writes it
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (corpus / "cases.json").exists():
            write_corpus(corpus)
    args = ["suites/oci_image", "-n", "2", "--gate", "none", "-p", "no:randomly"]
    args.append("--ignore-glob=*/test_registry_*.py")  # the corpus is layouts, not registries
    args += [f"--image-layout={corpus / c.name}" for c in CASES]
    args.append(f"--image-layout={corpus / 'reference'}")
    run = shared_run(tmp_path_factory, "image-corpus", args)
    assert (run.report_dir / "results.json").exists(), (run.stdout + run.stderr)[-3000:]
    return run


def test_the_corpus_has_80_cases_over_60_requirements_and_all_nine_documents_but_conversion():
    docs = {c.doc for c in CASES}
    assert len(CASES) >= 80 and len({c.rid for c in CASES}) >= 60
    assert {"layout", "descriptor", "manifest", "index", "config", "layer", "annotations"} <= docs
    assert len({c.name for c in CASES}) == len(CASES)


def test_the_reference_layout_passes_every_test(corpus_run):
    outcomes = corpus_run.outcomes("reference")
    assert outcomes and set(outcomes.values()) == {"passed"}, {
        k: o for k, o in outcomes.items() if o != "passed"
    }


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_case_is_caught_by_the_test_naming_its_requirement(corpus_run, case):
    records = [r for r in corpus_run.results["results"] if r["subject"] == case.name]
    caught_by = corpus_run.failing(case.name)  # the reference fails none: no baseline
    violated = corpus_run.violated(caught_by, case.name)
    proofs.record(REGISTRY[f"corpus-{case.name}"], caught_by, violated=violated)
    errors = [r["nodeid"] for r in records if r["outcome"] == "error"]
    assert not errors, f"{case.name}: tests errored: {errors}"
    naming = [r for r in records if case.rid in r["requirements"]]
    assert naming, f"{case.name}: no test names {case.rid}"
    assert any(r["outcome"] == "failed" for r in naming), (
        f"{case.name} ({case.what}) breaks {case.rid}, but its test passed: "
        + str([(r["nodeid"], r["outcome"]) for r in naming])
    )
    assert case.rid in violated, (
        f"{case.name}: a test naming {case.rid} failed, but no failed assertion named it "
        f"(the proof would overclaim); ids named: {sorted(violated)}"
    )
