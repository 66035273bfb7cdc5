"""The performance report (reports/performance.py, benchmarks/): figures, schema, page,
and the baseline check, on real small benchmark runs (no timing asserted): runc, the
embedded containerds' runc handler (1.6, and 2.4.2 when setup built it) and the
embedded registry, at smoke sizes (2 samples, 2 clients, 10 containers in the
ListContainers pod).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from reports import performance
from reports.schemas import load_schema
from tests.conftest import ROOT, shared_run

#: seconds a smoke-sized benchmark run may take
BENCH_TIMEOUT = 400
OPERATIONS = {"create", "start", "state", "exec", "kill", "delete", "run-to-exit"}
MEMORY = {f"runtime peak RSS: {op}" for op in OPERATIONS - {"run-to-exit"}}
LIFECYCLE = [
    "RunPodSandbox", "CreateContainer", "StartContainer", "ExecSync", "ContainerStats",
    "StopContainer", "RemoveContainer", "StopPodSandbox", "RemovePodSandbox",
]  # fmt: skip
CRI_OPERATIONS = {
    *LIFECYCLE,
    *(f"{op} (2 clients)" for op in LIFECYCLE),
    "ListContainers (10 containers)",
    "PullImage (1 MiB layer)",
}
REGISTRY_OPERATIONS = {
    f"{way} {size} {mode}"
    for way in ("push", "pull")
    for size in ("1 MiB", "64 MiB")
    for mode in ("monolithic", "chunked")
} | {"push image of 100 layers", "pull image of 100 layers", "tag list (1,000 tags)"}
#: the layout validation benchmark's operations and subjects (test_layout_bench.py)
LAYOUT_OPS = {"layout-validate", "layout-validate-cpu"}
LAYOUT_SUBJECTS = {"ocitest-validator": "layout", "sha256sum": "peer"}
#: the smoke sizes of every kind (CI: tests/ runs this file)
SMOKE = [
    "--runtime", "runc", "--runtime-handler", "runc", "--bench-samples", "2",
    "--bench-warmup", "1", "--bench-clients", "2", "--bench-containers", "10",
    "--bench-layout-mib", "16", "--bench-layout-samples", "2",
]  # fmt: skip

needs_runc = pytest.mark.skipif(shutil.which("runc") is None, reason="needs runc on PATH")


def bench(
    tmp_path, *args: str, name: str = "r", path: str = "benchmarks"
) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "pytest", path, "-n", "0", *SMOKE]
    return subprocess.run(
        [*argv, "--report-dir", str(tmp_path / name), *list(args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One smoke-sized run of every benchmark, once per harness session whatever the
    xdist worker (it starts both containerds and the registry): its directory and
    process result."""
    run = shared_run(tmp_path_factory, "bench-smoke", ["benchmarks", "-n", "0", *SMOKE])
    return run.report_dir, subprocess.CompletedProcess([], run.rc, run.stdout, run.stderr)


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


def test_throughput_is_the_bytes_over_p50_and_p99_and_the_schema_holds_it():
    f = performance.figure("push", "reg", [0.5, 1.0, 2.0], bytes=2 * performance.MIB)
    assert f["throughput"] == {"unit": "MiB/s", "at_p50": 2.0, "at_p99": pytest.approx(2 / 1.98),
                               "mean": pytest.approx(6 / 3.5)}  # fmt: skip
    mem = performance.figure("peak", "runc", [3e6, 4e6], unit="bytes", group="memory")
    assert "throughput" not in mem and mem["samples"] == [3e6, 4e6]
    doc = performance.build([f, mem], [{"id": "reg"}, {"id": "runc"}], {}, 3, 0)
    schema = load_schema(performance.SCHEMA)
    for broken in ({"unit": "ms"}, {"bytes": None}, {"clients": 0}, {"throughput": {"unit": "x"}}):
        bad = copy.deepcopy(doc)
        bad["figures"][1].update(broken)
        bad["figures"][1] = {k: v for k, v in bad["figures"][1].items() if v is not None}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    assert "MiB/s at p50" in performance.line(f) and "MiB" in performance.line(mem)


def test_a_layout_figure_keeps_its_bytes_and_the_page_its_throughput_columns():
    mib = performance.MIB
    f = performance.figure("layout-validate", "sha256sum", [0.5, 1.0, 4.0], 1, group="image", bytes=64 * mib)  # fmt: skip
    assert f["bytes"] == 64 * mib and f["throughput"]["at_p50"] == 64.0  # 64 MiB over 1 s
    cpu = performance.figure("layout-validate-cpu", "sha256sum", [0.0, 0.0], group="image", bytes=mib)  # fmt: skip
    assert cpu["bytes"] == mib and "throughput" not in cpu  # 0 s: no rate, still valid
    doc = performance.build([f, cpu], [{"id": "sha256sum", "kind": "peer"}], {}, 3, 1)
    html = performance.render_html(doc)
    assert "MiB per operation" in html and '<td class="rate">64</td>' in html
    assert 'id="bars-image"' in html and "64 MiB/s at p50" in performance.line(f)


def test_the_page_has_a_table_cdf_and_ratio_per_operation():
    html = performance.render_html(
        _doc({("create", "runc"): 0.1, ("create", "crun"): 0.05, ("start", "runc"): 0.02})
    )
    assert html.count("<svg") == 3  # two CDFs and the bar chart
    assert 'id="op-create"' in html and 'id="op-start"' in html
    assert "<text" not in html, "text must be drawn as paths (no fonts needed)"
    assert 'id="ratios"' in html and "0.50" in html  # crun over runc, p50


def _figures(doc: dict, kind: str) -> dict[str, list[dict]]:
    """subject id -> its figures, for the subjects of `kind`."""
    kinds = {s["id"]: s.get("kind") for s in doc["subjects"]}
    out: dict[str, list[dict]] = {}
    for f in doc["figures"]:
        if kinds[f["subject"]] == kind:
            out.setdefault(f["subject"], []).append(f)
    return out


@needs_runc
def test_a_small_benchmark_run_writes_a_valid_report(small_run):
    out, res = small_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((out / "performance.json").read_text())
    jsonschema.validate(doc, load_schema(performance.SCHEMA))
    runtime = _figures(doc, "runtime")
    assert list(runtime) == ["runc"]
    assert {f["operation"] for f in runtime["runc"]} == OPERATIONS | MEMORY | {
        "container cgroup memory.max_usage_in_bytes"
        if (Path("/sys/fs/cgroup/memory").is_dir())
        else "container cgroup memory.peak"
    }
    for f in doc["figures"]:
        assert f["warmup_dropped"] == 1
        # a CPU time may be below the clock's tick
        assert f["min"] > 0 or f["operation"] == "layout-validate-cpu", f
        assert 0 <= f["min"] <= f["p50"] <= f["p90"] <= f["p99"] <= f["max"]
        if f["unit"] == "s":
            assert f["max"] < 30, f
        else:  # bytes: a runtime takes more than 256 KiB and less than 1 GiB
            assert f["group"] == "memory" and 256 * 1024 < f["p50"] < 2**30, f
    html = (out / "performance.html").read_text()
    assert all(f'id="op-{op}"' in html for op in OPERATIONS)
    assert "ocitest bench: " in res.stdout and "run-to-exit" in res.stdout


@needs_runc
def test_the_cri_smoke_times_every_rpc_on_each_containerd(small_run):
    out, res = small_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((out / "performance.json").read_text())
    cri = _figures(doc, "cri")
    assert "containerd-runc" in cri, list(cri)
    for sid, figs in cri.items():
        by_op = {f["operation"]: f for f in figs}
        assert set(by_op) == CRI_OPERATIONS, (sid, sorted(by_op))
        assert by_op["RunPodSandbox"]["n"] == 2 and "clients" not in by_op["RunPodSandbox"]
        par = by_op["RunPodSandbox (2 clients)"]
        assert par["n"] == 4 and par["clients"] == 2  # 2 samples per client
        assert by_op["PullImage (1 MiB layer)"]["throughput"]["at_p50"] > 0


def test_the_registry_smoke_gives_throughput_per_blob_size_and_mode(small_run):
    out, res = small_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((out / "performance.json").read_text())
    reg = _figures(doc, "registry")
    # the embedded registries: docker-registry, and ggcr's when setup built it
    assert "distribution-2.8.2" in reg and set(reg) <= {"distribution-2.8.2", "ggcr-0.22.1"}, list(reg)  # fmt: skip
    for sid, figs in reg.items():
        by_op = {f["operation"]: f for f in figs}
        assert REGISTRY_OPERATIONS <= set(by_op) <= REGISTRY_OPERATIONS | {"referrers (200)"}, sid
        big = by_op["push 64 MiB chunked"]
        assert big["bytes"] == 64 * 1024 * 1024 and big["n"] == 2
        t = big["throughput"]
        assert t["unit"] == "MiB/s" and t["at_p50"] == pytest.approx(64 / big["p50"])
        assert t["at_p99"] <= t["at_p50"]
    assert "tag list (1,000 tags)" in res.stdout and "MiB/s at p50" in res.stdout


def test_the_layout_smoke_compares_the_validator_with_sha256sum(small_run):
    out, res = small_run
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((out / "performance.json").read_text())
    kinds = {s["id"]: s.get("kind") for s in doc["subjects"]}
    assert {k: kinds.get(k) for k in LAYOUT_SUBJECTS} == LAYOUT_SUBJECTS
    figs = [f for f in doc["figures"] if f["subject"] in LAYOUT_SUBJECTS]
    assert {(f["operation"], f["subject"]) for f in figs} == {
        (o, s) for o in LAYOUT_OPS for s in LAYOUT_SUBJECTS
    }
    for f in figs:  # the blobs of a 16 MiB image, 2 passes after the one warm-up
        assert f["group"] == "image" and f["bytes"] >= 16 << 20, f
        assert f["n"] == 2 and f["warmup_dropped"] == 1, f
    wall = [f for f in figs if f["operation"] == "layout-validate"]
    assert all(f["throughput"]["at_p50"] > 0 for f in wall), wall
    html = (out / "performance.html").read_text()
    assert all(f'id="op-{op}"' in html for op in LAYOUT_OPS) and 'id="bars-image"' in html
    assert "layout-validate" in res.stdout


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
    res = bench(
        tmp_path, "--perf-baseline", str(base), "--perf-threshold", "1000",
        "-k", "not peak_memory", path="benchmarks/test_runtime_bench.py",
    )  # fmt: skip
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-2000:]
    assert "REGRESSION: create on runc: p50" in res.stdout
    again = json.loads((tmp_path / "r" / "performance.json").read_text())
    assert [r["operation"] for r in again["regressions"]] == ["create"]
    assert "Slower than the baseline" in (tmp_path / "r" / "performance.html").read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--bench-samples", "0"], "--bench-samples 0: 1 to 100000"),
        (["--bench-samples", "10000000"], "--bench-samples 10000000: 1 to 100000"),
        (["--bench-warmup", "-1"], "--bench-warmup -1: 0 to 100000"),
        (["--perf-threshold", "-5"], "--perf-threshold -5: a finite 0 or more"),
        (["--perf-baseline", "/nonexistent/perf.json"], "cannot read"),
        (["--bench-layout-mib", "0"], "--bench-layout-mib 0: at least 1"),
        (["--bench-layout-samples", "0"], "--bench-layout-samples 0: 1 to 100000"),
        (["--bench-clients", "0"], "--bench-clients 0: 1 to 64"),
        (["--bench-containers", "0"], "--bench-containers 0: 1 to 5000"),
        (["--performance", "/nonexistent/perf.json"], "--performance /nonexistent/perf.json"),
        (["--perf-baseline", ""], "--perf-baseline: empty value"),  # was ignored
    ],
)
def test_bad_benchmark_options_are_usage_errors(tmp_path, args, needle):
    res = bench(tmp_path, *args)
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 4, out
    assert "Traceback" not in out and needle in out, out
    assert not (tmp_path / "r").exists(), "a usage error made the report directory"


def test_a_baseline_that_is_not_a_performance_document_is_a_usage_error(tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text(json.dumps({"format": "something else"}))
    res = bench(tmp_path, "--perf-baseline", str(bad))
    assert res.returncode == 4, res.stdout + res.stderr
    assert "not a performance.json" in res.stdout + res.stderr
