"""benchmarks/harness_stats.py: the harness's cost per test against the runtime's own
commands, read from results.json (figures checked on a small document of known sums)."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.harness_stats import stats
from tests.conftest import ROOT


def _doc() -> dict:
    def ev(cmd: str, d: float) -> dict:
        return {"command": cmd, "exit_status": 0, "stdout": "", "stderr": "", "duration": d}

    return {
        "run": {"started": "2026-12-07T10:00:00+00:00", "finished": "2026-12-07T10:00:02+00:00"},
        "subjects": [
            {"kind": "runtime", "id": "runc", "path": "/usr/sbin/runc"},
            {"kind": "cri", "id": "containerd-runc", "path": ""},
        ],
        "results": [
            {
                "outcome": "passed",
                "duration": 1.0,
                "evidence": [
                    ev("/usr/sbin/runc --root /r create --bundle /b c1", 0.2),
                    ev("/usr/sbin/runc --root /r start c1", 0.1),
                    ev("(wait) state c1 reports status 'stopped'", 0.5),
                    ev("sh -c echo /usr/sbin/runc", 0.3),
                ],
            },
            {
                "outcome": "xfail",
                "duration": 2.0,
                "evidence": [ev("/usr/sbin/runc --root /r delete c1", 0.7)],
            },
            {"outcome": "skipped", "duration": 5.0, "evidence": []},
        ],
    }


def test_only_runtime_commands_of_tests_that_ran_count():
    s = stats(_doc())
    assert s["tests"] == 2 and s["test_s"] == 3.0 and s["wall_s"] == 2.0
    assert s["runtime_s"] == 1.0 and s["harness_ratio"] == 3.0
    assert s["median_test_s"] == 1.5 and s["median_overhead_s"] == 1.0
    assert s["parallelism"] == 1.5


def test_the_command_prints_one_column_per_report_and_refuses_a_missing_one(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(_doc()))
    cmd = [sys.executable, "-m", "benchmarks.harness_stats"]
    res = subprocess.run(
        [*cmd, str(tmp_path / "a"), str(tmp_path / "b"), "--json", str(tmp_path / "s.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "harness_ratio" in res.stdout and res.stdout.count("3.0") >= 2
    assert json.loads((tmp_path / "s.json").read_text())[str(tmp_path / "a")]["tests"] == 2
    res = subprocess.run(
        [*cmd, str(tmp_path / "missing")], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )  # fmt: skip
    assert res.returncode == 4 and "cannot read" in res.stderr and "Traceback" not in res.stderr
