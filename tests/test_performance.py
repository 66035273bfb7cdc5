"""The performance report (reports/performance.py, benchmarks/): figures, schema, page,
and the baseline check, on real small benchmark runs against runc (no timing asserted).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys

import jsonschema
import pytest

from reports import performance
from reports.schemas import load_schema
from tests.conftest import ROOT

#: seconds a smoke-sized benchmark run may take
BENCH_TIMEOUT = 300
OPERATIONS = {"create", "start", "state", "exec", "kill", "delete", "run-to-exit"}
#: the layout validation benchmark's operations and subjects (test_layout_bench.py)
LAYOUT_OPS = {"layout-validate", "layout-validate-cpu"}
LAYOUT_SUBJECTS = {"ocitest-validator", "sha256sum"}

needs_runc = pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc on PATH")


def bench(tmp_path, *args: str, name: str = "r") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "benchmarks",
            "-n",
            "0",
            "--runtime",
            "runc",
            "--bench-samples",
            "2",
            "--bench-warmup",
            "1",
            "--bench-layout-mib",
            "16",
            "--bench-layout-samples",
            "2",
            "--report-dir",
            str(tmp_path / name),
            *list(args),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One smoke-sized run: its directory and process result."""
    d = tmp_path_factory.mktemp("bench")
    return d / "r", bench(d)


def test_percentiles_interpolate_between_ranks():
    xs = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert performance.percentile(xs, 0) == 1.0
    assert performance.percentile(xs, 50) == 3.0
    assert performance.percentile(xs, 100) == 5.0
    assert performance.percentile([1.0, 2.0], 90) == pytest.approx(1.9)
    f = performance.figure("create", "runc", xs, warmup_dropped=3)
    assert (f["n"], f["min"], f["p50"], f["max"], f["mean"]) == (5, 1.0, 3.0, 5.0, 3.0)
    assert f["p99"] == pytest.approx(4.96)
    with pytest.raises(ValueError):
        performance.percentile([], 50)


def test_a_figure_with_bytes_carries_its_throughput_at_the_median():
    f = performance.figure("layout-validate", "sha256sum", [0.5, 1.0, 4.0], nbytes=64 << 20)
    assert f["bytes"] == 64 << 20 and f["mib_per_s"] == 64.0  # 64 MiB over the p50 of 1 s
    assert "bytes" not in performance.figure("create", "runc", [0.5])
    doc = performance.build([f], [{"id": "sha256sum"}], {}, 3, 1)
    html = performance.render_html(doc)
    assert "MiB/s (p50)" in html and '<td class="rate">64.0</td>' in html
    doc["figures"][0]["bytes"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load_schema(performance.SCHEMA))


def _doc(p50s: dict[tuple[str, str], float]) -> dict:
    figs = [performance.figure(op, s, [v, v, v]) for (op, s), v in p50s.items()]
    subjects = [{"id": s} for s in sorted({s for _, s in p50s})]
    return performance.build(figs, subjects, {"hostname": "h"}, 3, 0)


def test_compare_names_each_operation_past_the_threshold():
    base = _doc({("create", "runc"): 0.100, ("start", "runc"): 0.050, ("gone", "runc"): 1.0})
    now = _doc({("create", "runc"): 0.130, ("start", "runc"): 0.055, ("new", "runc"): 9.0})
    regs = performance.compare(now, base, 25)
    assert [(r["operation"], r["subject"]) for r in regs] == [("create", "runc")]
    assert regs[0]["change_pct"] == pytest.approx(30.0)
    assert regs[0]["message"].startswith("create on runc: p50 130.0 ms, baseline 100.0 ms")
    assert performance.compare(now, base, 35) == []


def test_the_schema_refuses_a_figure_without_percentiles():
    doc = _doc({("create", "runc"): 0.1})
    jsonschema.validate(doc, load_schema(performance.SCHEMA))
    del doc["figures"][0]["p99"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, load_schema(performance.SCHEMA))


def test_the_page_has_a_table_cdf_and_ratio_per_operation():
    html = performance.render_html(
        _doc({("create", "runc"): 0.1, ("create", "crun"): 0.05, ("start", "runc"): 0.02})
    )
    assert html.count("<svg") == 3  # two CDFs and the bar chart
    assert 'id="op-create"' in html and 'id="op-start"' in html
    assert "<text" not in html, "text must be drawn as paths (no fonts needed)"
    assert 'id="ratios"' in html and "0.50" in html  # crun over runc, p50


@needs_runc
def test_a_small_benchmark_run_writes_a_valid_report(small_run):
    out, res = small_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((out / "performance.json").read_text())
    jsonschema.validate(doc, load_schema(performance.SCHEMA))
    assert {f["operation"] for f in doc["figures"]} == OPERATIONS | LAYOUT_OPS
    for f in doc["figures"]:
        layout = f["operation"] in LAYOUT_OPS
        assert f["subject"] in (LAYOUT_SUBJECTS if layout else {"runc"}), f
        assert f["n"] == 2 and f["warmup_dropped"] == 1
        assert 0 <= f["min"] <= f["p50"] <= f["p90"] <= f["p99"] <= f["max"] < 30
        # throughput figures: the blobs of a 16 MiB image, and MiB/s at the median
        assert ("bytes" in f) == layout and (not layout or f["bytes"] >= 16 << 20), f
    rated = {(f["operation"], f["subject"]) for f in doc["figures"] if "mib_per_s" in f}
    assert rated == {(o, s) for o in LAYOUT_OPS for s in LAYOUT_SUBJECTS}
    html = (out / "performance.html").read_text()
    assert all(f'id="op-{op}"' in html for op in OPERATIONS | LAYOUT_OPS)
    assert "MiB/s (p50)" in html and "MiB/s (p50)" in res.stdout
    assert "ocitest bench: " in res.stdout and "run-to-exit" in res.stdout


@needs_runc
def test_a_doctored_baseline_fails_the_run_naming_the_operation(small_run, tmp_path):
    out, first = small_run
    assert first.returncode == 0
    doc = json.loads((out / "performance.json").read_text())
    doctored = copy.deepcopy(doc)
    for f in doctored["figures"]:
        if f["operation"] == "create":  # the baseline says create took a hundredth
            for k in ("min", "p50", "p90", "p99", "max", "mean"):
                f[k] /= 100
            f["samples"] = [s / 100 for s in f["samples"]]
    base = tmp_path / "baseline.json"
    base.write_text(json.dumps(doctored))
    # a wide threshold: only the doctored operation can pass it, whatever the load
    res = bench(tmp_path, "--perf-baseline", str(base), "--perf-threshold", "1000")
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-2000:]
    assert "REGRESSION: create on runc: p50" in res.stdout
    again = json.loads((tmp_path / "r" / "performance.json").read_text())
    assert [r["operation"] for r in again["regressions"]] == ["create"]
    assert "Slower than the baseline" in (tmp_path / "r" / "performance.html").read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--bench-samples", "0"], "--bench-samples 0: at least 1"),
        (["--perf-threshold", "-5"], "--perf-threshold -5: a finite 0 or more"),
        (["--bench-layout-mib", "0"], "--bench-layout-mib 0: at least 1"),
        (["--perf-baseline", "/nonexistent/perf.json"], "cannot read"),
    ],
)
def test_bad_benchmark_options_are_usage_errors(tmp_path, args, needle):
    res = bench(tmp_path, *args)
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 4, out
    assert "Traceback" not in out and needle in out, out


def test_a_baseline_that_is_not_a_performance_document_is_a_usage_error(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"format": "something else"}))
    res = bench(tmp_path, "--perf-baseline", str(bad))
    assert res.returncode == 4, res.stdout + res.stderr
    assert "not a performance.json" in res.stdout + res.stderr
