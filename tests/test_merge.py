"""`ocitest report merge`: several runs, one matrix."""

from __future__ import annotations

import json
import subprocess

from reports.merge import main as merge_main
from reports.merge import merge
from tests.conftest import ROOT


def test_two_runs_merge_into_one_report_with_distinct_subjects(inner, tmp_path):
    a = inner(["suites/oci_runtime/test_kill.py", "--runtime", "runc", "-n", "0"])
    b = inner(
        ["suites/oci_runtime/test_kill.py", "--runtime", "runc", "--runtime", "crun", "-n", "0"]
    )
    out = tmp_path / "merged"
    rc = merge_main(["--out", str(out), str(a.report_dir), str(b.report_dir / "results.json")])
    doc = json.loads((out / "results.json").read_text())
    ids = sorted(s["id"] for s in doc["subjects"])
    assert rc == 0 and len(ids) == 3 and "crun" in ids, ids
    assert len({i for i in ids if i.startswith("runc@")}) == 2
    assert len(doc["results"]) == len(a.results["results"]) + len(b.results["results"])
    assert {r["subject"] for r in doc["results"]} == set(ids)
    assert (out / "report.html").is_file() and (out / "junit.xml").is_file()
    # runs on different targets: the ids carry the target (runc@local, runc@qemu:debian)
    vm = json.loads(json.dumps(a.results))
    vm["targets"][0]["spec"] = "qemu:debian"
    merged = merge([a.results, vm])
    assert sorted(s["id"] for s in merged["subjects"]) == ["runc@local", "runc@qemu:debian"]
    assert any("[runc@qemu:debian" in r["nodeid"] for r in merged["results"])


def test_merge_rejects_bad_input_in_one_line(tmp_path):
    bogus = tmp_path / "results.json"
    bogus.write_text('{"hello": 1}')
    for args in (
        ["--out", str(tmp_path / "o"), str(tmp_path / "missing")],
        ["--out", str(tmp_path / "o"), str(bogus)],
        [],
        # --out is an input's directory; the same input twice; an empty --out
        ["--out", str(tmp_path), str(bogus)],
        ["--out", str(tmp_path / "o"), str(tmp_path), str(bogus)],
        ["--out", "", str(bogus)],
    ):
        res = subprocess.run(
            [str(ROOT / "ocitest"), "report", "merge", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert res.returncode == 4 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert bogus.read_text() == '{"hello": 1}'
