"""The report benchmark works end to end at a small size (no timing is asserted), and its
synthetic document is what it claims to be. Without Chromium the end-to-end test skips,
naming the package, except under CI, where it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import jsonschema
import pytest

from benchmarks.browser import unavailable
from benchmarks.synthetic import synthetic_results
from infra.evidence import EXCERPT_CHARS
from reports.schemas import load_schema
from tests.conftest import ROOT

#: seconds the smoke-sized benchmark may take
BENCH_TIMEOUT = 300


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_report", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT,
        check=False,
    )


def test_the_synthetic_document_is_valid_and_realistic():
    doc = synthetic_results(400)
    jsonschema.validate(doc, load_schema("results.schema.json"))
    results = doc["results"]
    assert len(results) == 400
    assert {r["subject"] for r in results} == {"runc", "crun"}
    outcomes = Counter(r["outcome"] for r in results)
    assert 0.02 <= outcomes["failed"] / 400 <= 0.09, outcomes
    assert not doc["gate"]["passed"]
    evidence = [e for r in results for e in r["evidence"]]
    assert 3 <= len(evidence) / 400 <= 5
    longest = max(len(e[k]) for e in evidence for k in ("stdout", "stderr"))
    assert EXCERPT_CHARS < longest < EXCERPT_CHARS + 100  # cut as the drivers cut, marked
    assert synthetic_results(400) == doc  # deterministic


def test_the_benchmark_rejects_a_bad_option():
    res = bench("--results", "0")
    assert res.returncode == 4, res.stderr
    assert "--results" in res.stderr


def test_the_benchmark_runs_at_smoke_size(tmp_path):
    reason = unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(reason)
    out = tmp_path / "bench.json"
    res = bench("--results", "50", "--runs", "1", "--out", str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    fig = json.loads(out.read_text())
    assert fig["results"] == 50 and fig["subjects"] == ["runc", "crun"]
    assert fig["size_bytes"] > 10_000
    assert len(fig["load_ms"]["runs"]) == 1 and fig["load_ms"]["median"] > 0
    assert len(fig["render_s"]["runs"]) == 1 and fig["render_s"]["median"] > 0
    assert "load (Chromium)" in res.stdout and str(out) in res.stdout
