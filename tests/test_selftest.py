"""The self-test package: its declarations and reports/proofs.json agree, and proofs are
rewritten from results (that the product never imports it: tests/test_layers.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from selftest import proofs
from selftest.registry import (
    CONVERTER_MUTANTS,
    CRI_MUTANTS,
    IMAGE_TOOL_MUTANTS,
    MUTANTS,
    REGISTRY,
    REGISTRY_MUTANTS,
)
from suites.oci_image.corpus import all_cases
from tests.conftest import ROOT


def test_the_registry_holds_every_mutant_once():
    corpus = {k: m for k, m in REGISTRY.items() if m.kind == "corpus"}
    kinds = (MUTANTS, CRI_MUTANTS, REGISTRY_MUTANTS, CONVERTER_MUTANTS, IMAGE_TOOL_MUTANTS)
    assert len(REGISTRY) == sum(len(k) for k in kinds) + len(corpus)
    assert {m.kind for m in REGISTRY.values()} == {
        "runtime",
        "cri",
        "registry",
        "corpus",
        "converter",
        "image-tool",
    }
    for key, m in REGISTRY.items():
        # a corpus case's failing tests are measured (tests/test_image_corpus.py)
        assert m.key == key and m.breaks and m.requirements, key
        assert m.fails or m.kind == "corpus", key
    assert len(corpus) == len(all_cases()) and all(
        len(m.requirements) == 1 for m in corpus.values()
    )


def test_the_proofs_file_lists_every_declared_mutant_as_declared():
    doc = json.loads(proofs.PROOFS.read_text())
    assert doc["schema_version"] == proofs.SCHEMA_VERSION
    assert sorted(doc["mutants"]) == sorted(REGISTRY), (
        "reports/proofs.json is stale: run `python -m selftest.proofs write` after the "
        "self-tests (or `declared` for new mutants)"
    )
    for key, entry in doc["mutants"].items():
        m = REGISTRY[key]
        wanted = (m.kind, m.base, list(m.requirements))
        assert (entry["kind"], entry["base"], entry["requirements"]) == wanted, key
        assert entry["caught"] == bool(entry["caught_by"]), key


def test_a_rewrite_takes_the_results_and_keeps_mutants_that_did_not_run(tmp_path):
    ran, kept = sorted(MUTANTS)[:2]
    cri = next(iter(CRI_MUTANTS.values()))
    proofs.record(MUTANTS[ran], [], tmp_path)  # survived
    proofs.record(cri, ["test_x.py::test_y[1]"], tmp_path)
    old = {"mutants": {kept: {"kind": "runtime", "caught_by": ["old"], "caught": True}}}
    old["mutants"]["gone"] = {"kind": "runtime", "caught_by": [], "caught": False}
    doc = proofs.rewrite(old, REGISTRY, proofs.read_results(tmp_path))
    assert doc["mutants"][ran]["caught"] is False
    assert doc["mutants"][cri.key]["caught_by"] == ["test_x.py::test_y[1]"]
    assert doc["mutants"][kept] == old["mutants"][kept]
    assert "gone" not in doc["mutants"] and sorted(doc["mutants"]) == sorted(REGISTRY)


def test_proofs_write_without_results_is_a_usage_error(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "selftest.proofs", "write", "--results", str(tmp_path / "none")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 4 and len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_a_mutant_proves_only_the_requirements_its_failed_assertions_name(tmp_path):
    from reports.proofs import load_proofs

    m = next(m for m in MUTANTS.values() if len(m.requirements) >= 2)
    first = m.requirements[0]
    proofs.record(m, list(m.fails), tmp_path, violated=[first])
    doc = proofs.rewrite(None, REGISTRY, proofs.read_results(tmp_path))
    assert doc["mutants"][m.key]["violated"] == [first]
    path = tmp_path / "proofs.json"
    path.write_text(json.dumps(doc))
    proven = load_proofs(path)
    assert m.key in proven[first]
    assert all(m.key not in proven.get(rid, []) for rid in m.requirements[1:])


def test_the_score_counts_caught_mutants_per_kind_and_names_the_survivors():
    doc = {
        "mutants": {
            "a": {"kind": "runtime", "caught": True},
            "b": {"kind": "runtime", "caught": False},
            "c": {"kind": "cri", "caught": True},
        }
    }
    got = proofs.score(doc)
    assert got["runtime"] == {"caught": 1, "all": 2, "survivors": ["b"], "score": 0.5}
    assert got["cri"]["score"] == 1.0
    assert proofs.score_lines(doc)[1:] == ["runtime: 1/2 caught (score 0.5000)", "  survivor: b"]
