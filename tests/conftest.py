"""Helpers for the harness's own tests: run ocitest's pytest in a subprocess, read its report."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: seconds one inner pytest run may take
INNER_TIMEOUT = 600


@dataclass
class InnerRun:
    rc: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def results(self) -> dict:
        return json.loads((self.report_dir / "results.json").read_text())

    def outcomes(self) -> dict[str, str]:
        """Subject-free test key -> outcome (see `subject_free`)."""
        return {
            subject_free(r["nodeid"], r["subject"]): r["outcome"] for r in self.results["results"]
        }

    def failing(self) -> set[str]:
        return {k for k, o in self.outcomes().items() if o in ("failed", "error")}


def subject_free(nodeid: str, subject: str | None) -> str:
    """ "suites/oci_runtime/test_x.py::test_y[runc-created]" -> "test_x.py::test_y[created]"."""
    key = nodeid.split("/")[-1]
    if subject:
        key = re.sub(
            rf"\[{re.escape(subject)}(-|\])", lambda m: "[" if m.group(1) == "-" else "", key
        )
    return key


def run_pytest(
    args: list[str], report_dir: Path, timeout: int = INNER_TIMEOUT, cwd: Path = ROOT
) -> InnerRun:
    """Run `python -m pytest ARGS --report-dir DIR` with the harness's plugins."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *args,
        "--report-dir",
        str(report_dir),
    ]
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    return InnerRun(res.returncode, res.stdout, res.stderr, report_dir)


@pytest.fixture
def inner(tmp_path_factory):
    """Call as inner([...pytest args]) to run the suites in a subprocess."""
    counter = iter(range(1000))

    def _run(args: list[str], **kw) -> InnerRun:
        rd = tmp_path_factory.mktemp(f"report{next(counter)}")
        return run_pytest(args, rd, **kw)

    return _run
