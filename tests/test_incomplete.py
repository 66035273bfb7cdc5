"""A worker that dies mid-run: the report is still written, marked incomplete."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

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
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["infra.plugin", "reports.plugin"]\n')
    suite = tmp_path / "suites" / "demo"
    suite.mkdir(parents=True)
    (suite / "requirements.yaml").write_text(
        "spec: runtime-spec\nspec_version: 1.3.0\nrequirements:\n"
        "  - {id: demo.real.one, section: runtime.md#state, level: MUST, summary: a real entry here}\n"
    )
    (suite / "test_demo.py").write_text(SUITE_TEST)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "suites",
            "-n",
            "2",
            "--runtime",
            "runc",
            "--report-dir",
            str(tmp_path / "rep"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    outcomes = {r["name"]: r["outcome"] for r in doc["results"]}
    assert res.returncode == 1, res.stdout[-2000:]
    assert outcomes.get("test_dies[runc]") in ("error", "failed"), outcomes
    assert outcomes.get("test_lives[runc]") == "passed", outcomes
    assert doc["run"]["complete"] is False
    assert "Incomplete run" in (tmp_path / "rep" / "report.html").read_text()
