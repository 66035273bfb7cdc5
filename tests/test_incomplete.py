"""A worker that dies mid-run: the report is still written, marked incomplete."""

from __future__ import annotations

import json

from tests.conftest import run_demo_suite

SUITE_TEST = """
import os, signal
import pytest

@pytest.mark.requirement("demo.real.one")
def test_dies(runtime_subject):
    os.kill(os.getpid(), signal.SIGKILL)

@pytest.mark.requirement("demo.real.one")
def test_lives(runtime_subject):
    assert runtime_subject.id
"""


def test_a_dead_worker_gives_an_incomplete_report_with_an_error(tmp_path):
    res = run_demo_suite(tmp_path, SUITE_TEST, "-n", "2", "--runtime", "runc")
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    outcomes = {r["name"]: r["outcome"] for r in doc["results"]}
    assert res.returncode == 1, res.stdout[-2000:]
    assert outcomes.get("test_dies[runc]") in ("error", "failed"), outcomes
    assert outcomes.get("test_lives[runc]") == "passed", outcomes
    assert doc["run"]["complete"] is False
    assert "Incomplete run" in (tmp_path / "rep" / "report.html").read_text()
