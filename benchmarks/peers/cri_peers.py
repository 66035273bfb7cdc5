"""`./ocitest peers critest`: critest beside ocitest's CRI suite, on the same containerds.

Not part of the conformance run and never in CI. For the embedded containerds
(`--cri-endpoint embedded` = Debian's 1.6, `embedded:2.4.2` = the one setup built;
default both), each with its runc handler:

1. ocitest's CRI suite (`suites/cri --runtime-handler runc --gate none`, no known
   failures) and ocitest's CRI benchmark (benchmarks/test_cri_bench.py, one client),
   each in its own pytest process with its own run of the same embedded containerds;
2. the CRI services as the suite starts them (infra/services/cri.py: local registries,
   hosts.toml, the containerds) with critest's image names mirrored too
   (critest_images.MIRRORS), critest's images made here and pushed
   (critest_images.critest_images); then critest (cri-tools v1.37.0, built at setup from
   its Go module, infra/gobuild.py `critest`) against each containerd: its validation
   suite (its JUnit report parsed) and `critest -benchmark` with a params file of ours
   (sample counts), its raw nanosecond samples turned into our figures
   (reports/performance.figure);
3. each critest failure matched to our tests through docs/cri-critest-map.md: caught
   (one of the mapped tests failed too), "not caught by ocitest", or "environment"
   (`ENVIRONMENT`: it needs upstream content or a host facility, not a finding).

OUT/peers.json gets a "critest" section (other sections, e.g. the registries', are kept):

    {"critest": {"module", "version", "bench_samples",
                 "endpoints": {ENDPOINT: {"subject": containerd-runc | containerd-2.4.2-runc,
                     "ocitest": {tests, passed, failed, skipped, wall_seconds},
                     "critest": {tests, passed, failed, skipped, wall_seconds, exit_status},
                     "failures": [{name, message, environment?: why,
                                   ocitest_tests: [...], caught_by: [...] or
                                   "not caught by ocitest"}],
                     "benchmark": [{operation, ocitest_p50, critest_p50, ratio,
                                    within_noise, ocitest_n, critest_n}]}}}}

and OUT/performance.json (+ .html) holds both benchmarks' figures side by side. Exit 0
when everything ran (whatever it found), 1 when a part could not run, 4 for usage.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from benchmarks.peers import write_section
from benchmarks.peers.critest_results import (
    MAP_DOC,
    bench_samples,
    compare,
    parse_junit,
    parse_map,
    side_by_side,
)
from infra import gobuild, hostsetup

PEER = "critest"
OUT_DIR = "ocitest-peers"
#: seconds: critest's validation suite against one containerd (about 10 min here),
#: its benchmark, ocitest's CRI suite and benchmark (both containerds)
CRITEST_TIMEOUT, CRITEST_BENCH_TIMEOUT, OCITEST_TIMEOUT = 2400, 1800, 3600
DEFAULT_SAMPLES = 20


class PeersUsageError(Exception):
    """A bad argument (one line; exit 4)."""


# -- ocitest's side -----------------------------------------------------------------------
def _pytest(args: list[str], report: Path, timeout: int) -> tuple[dict | None, float, str]:
    """pytest of this checkout in its own process; (results.json or None, wall s, tail)."""
    root = str(hostsetup.ROOT)
    cmd = [sys.executable, "-m", "pytest", "--rootdir", root, "-c", f"{root}/pyproject.toml"]
    cmd += [*args, "--report-dir", str(report), "-q", "-p", "no:cacheprovider"]
    started = time.monotonic()
    try:
        res = subprocess.run(
            cmd, cwd=root, capture_output=True, text=True, timeout=timeout, check=False
        )
        tail = " | ".join((res.stdout + res.stderr).strip().splitlines()[-3:])
        with contextlib.suppress(OSError):  # what pytest said, beside its report
            report.mkdir(parents=True, exist_ok=True)
            (report.parent / f"{report.name}.log").write_text(res.stdout + res.stderr)
    except subprocess.TimeoutExpired:
        tail = f"timed out after {timeout} s"
    wall = round(time.monotonic() - started, 1)
    try:
        return json.loads((report / "results.json").read_text()), wall, tail
    except (OSError, ValueError):
        return None, wall, tail


def _endpoint_args(endpoints: list[str]) -> list[str]:
    """--cri-endpoint for pytest: it takes one value (the last), and `embedded` means
    every embedded containerd (Debian's and the built one)."""
    return ["--cri-endpoint", endpoints[0] if len(endpoints) == 1 else "embedded"]


def run_ocitest(endpoints: list[str], out: Path) -> dict[str, dict]:
    """ocitest's CRI suite on `endpoints` (runc handler), then `read_ocitest`."""
    args = ["suites/cri", "--runtime-handler", "runc", "-n", "2", "--gate", "none"]
    args += _endpoint_args(endpoints)
    _doc, wall, tail = _pytest(args, out / "ocitest-cri", OCITEST_TIMEOUT)
    with contextlib.suppress(OSError):
        (out / "ocitest-cri" / "peers-run.json").write_text(
            json.dumps({"wall_seconds": wall, "tail": tail})
        )
    return read_ocitest(out)


def read_ocitest(out: Path) -> dict[str, dict]:
    """OUT/ocitest-cri/results.json as subject id -> {counts, wall_seconds, "_outcomes":
    {test function: worst outcome}}, or {"error": why}."""
    try:
        wall = json.loads((out / "ocitest-cri" / "peers-run.json").read_text())["wall_seconds"]
        doc = json.loads((out / "ocitest-cri" / "results.json").read_text())
    except (OSError, ValueError, KeyError) as exc:
        return {"error": f"ocitest's CRI suite left no results in {out / 'ocitest-cri'}: {exc}"}
    rank = {"passed": 0, "skipped": 1, "xfailed": 1, "xpassed": 0, "failed": 3, "error": 3}
    per: dict[str, dict] = {}
    for r in doc["results"]:
        d = per.setdefault(
            r["subject"],
            {"tests": 0, "passed": 0, "failed": 0, "skipped": 0, "wall_seconds": wall},
        )
        d.setdefault("_outcomes", {})
        d["tests"] += 1
        key = {"error": "failed", "xfailed": "skipped", "xpassed": "passed"}.get(
            r["outcome"], r["outcome"]
        )
        d[key if key in d else "skipped"] += 1
        fn = r["nodeid"].split("::")[-1].split("[")[0]
        old = d["_outcomes"].get(fn, "passed")
        d["_outcomes"][fn] = max(old, r["outcome"], key=lambda o: rank.get(o, 1))
    return per


def run_ocitest_bench(endpoints: list[str], out: Path, samples: int) -> dict[str, dict]:
    """ocitest's CRI benchmark, one client: subject -> operation -> samples (s)."""
    args = ["benchmarks/test_cri_bench.py", "-k", "lifecycle and not parallel or pull_image"]
    args += ["--runtime-handler", "runc", "-n", "0", "--bench-samples", str(samples)]
    args += ["--bench-warmup", "3", "--bench-clients", "1"]
    args += _endpoint_args(endpoints)
    _pytest(args, out / "ocitest-cri-bench", OCITEST_TIMEOUT)
    return read_ocitest_bench(out)


def read_ocitest_bench(out: Path) -> dict[str, dict]:
    """OUT/ocitest-cri-bench/performance.json as subject -> operation -> samples (s)."""
    try:
        perf = json.loads((out / "ocitest-cri-bench" / "performance.json").read_text())
    except (OSError, ValueError):
        return {}
    got: dict[str, dict] = {}
    for f in perf["figures"]:
        got.setdefault(f["subject"], {})[f["operation"]] = f["samples"]
    return got


# -- critest's side -----------------------------------------------------------------------
def _push_images(services, target, cache_dir: str) -> None:
    """critest's images (critest_images) and the 1 MiB pull image into the open registry."""
    import random

    from benchmarks.peers.critest_images import PULL_BENCH, critest_images, repo_and_tag
    from infra.images import oci
    from infra.images.rootfs import cached_rootfs

    url = f"http://{services.registry['host']}"
    images = critest_images(cached_rootfs(target, cache_dir))
    layer = oci.layer_from_files({"payload": (random.Random(PULL_BENCH).randbytes(1 << 20), 0o644)})
    images[PULL_BENCH] = oci.make_image([layer], {"Cmd": ["/payload"]})
    for ref, img in images.items():
        oci.push(url, *repo_and_tag(ref), img)


def _critest(
    binary: str, endpoint: str, argv: list[str], timeout: int, log: Path
) -> tuple[int, float]:
    cmd = [binary, f"--runtime-endpoint={endpoint}", f"--image-endpoint={endpoint}"]
    cmd += ["--runtime-handler=runc", "--ginkgo.no-color", *argv]
    started = time.monotonic()
    with log.open("w") as f:
        try:
            rc = subprocess.run(
                cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, check=False
            ).returncode
        except subprocess.TimeoutExpired:
            rc = -1
    return rc, round(time.monotonic() - started, 1)


def run_critest(endpoints: list[str], out: Path, samples: int, focus: str) -> dict[str, dict]:
    """critest's suite and benchmark against fresh embedded containerds (both at once, as
    a run of the CRI suite starts them): endpoint option -> results."""
    from benchmarks.peers.critest_images import MIRRORS
    from infra.run import CACHE_DIR, ROOT_LAYOUT, new_run_id
    from infra.services import cri as cri_services
    from infra.services.containerd import daemon
    from infra.sweep import prepare_run, sweep_run
    from infra.targets import open_target

    binary = f"{gobuild.built_dir(PEER)}/critest"
    target, run_id = open_target("local"), new_run_id()
    work, state = f"{ROOT_LAYOUT.work}/{run_id}", f"{ROOT_LAYOUT.state}/{run_id}"
    # a run of its own with this process as owner: sweepers of other runs leave it alone
    # while it lives, and sweep it should this process be killed
    prepare_run(target, run_id, os.getpid(), ROOT_LAYOUT)
    flavours = [daemon(e.partition(":")[2]) for e in endpoints]
    daemons = [(f, {"runc": f.handlers["runc"]}) for f in flavours]
    services = None
    results: dict[str, dict] = {}
    try:
        services = cri_services.start(target, run_id, work, state, CACHE_DIR, [], True,
                                      daemons=daemons, mirrors=MIRRORS)  # fmt: skip
        _push_images(services, target, CACHE_DIR)
        params = out / "critest-benchmark-params.yaml"
        params.write_text(BENCH_PARAMS.format(n=samples))
        for opt in endpoints:
            ep = services.containerds[opt]["endpoint"]
            d = out / f"critest-{opt.replace(':', '-')}"
            shutil.rmtree(d, ignore_errors=True)
            (d / "benchmark").mkdir(parents=True)
            argv = [f"--ginkgo.junit-report={d / 'junit.xml'}"]
            argv += [f"--ginkgo.focus={focus}"] if focus else []
            rc, wall = _critest(binary, ep, argv, CRITEST_TIMEOUT, d / "critest.log")
            run: dict = {"exit_status": rc, "wall_seconds": wall}
            (d / "run.json").write_text(json.dumps(run))
            if samples:
                argv = [
                    "-benchmark",
                    f"-benchmarking-params-file={params}",
                    f"-benchmarking-output-dir={d / 'benchmark'}",
                ]
                brc, bwall = _critest(binary, ep, argv, CRITEST_BENCH_TIMEOUT, d / "benchmark.log")
                run["benchmark"] = {"exit_status": brc, "wall_seconds": bwall}
                (d / "run.json").write_text(json.dumps(run))
            results[opt] = read_critest(out, opt)
    except Exception as exc:  # a service that did not start: said, the rest still written
        results["error"] = f"the CRI services did not start: {type(exc).__name__}: {str(exc)[:300]}"
    finally:
        if services is not None:
            cri_services.stop(target, services, work, state)
        sweep_run(target, run_id, ROOT_LAYOUT)
    return results


def read_critest(out: Path, endpoint: str) -> dict:
    """What critest left in OUT/critest-ENDPOINT/ (run.json, junit.xml, benchmark/):
    counts, wall time, "_cases" and the benchmark's "_samples"; or {"error": why}."""
    d = out / f"critest-{endpoint.replace(':', '-')}"
    try:
        run = json.loads((d / "run.json").read_text())
        cases = parse_junit(d / "junit.xml")
    except (OSError, ValueError, ET.ParseError) as exc:
        return {"error": f"critest left no JUnit report in {d}: {exc}"}
    statuses = [c["status"] for c in cases]
    got = {
        "tests": len(cases),
        "passed": statuses.count("passed"),
        "failed": sum(s not in ("passed", "skipped", "pending") for s in statuses),
        "skipped": statuses.count("skipped") + statuses.count("pending"),
        "wall_seconds": run["wall_seconds"],
        "exit_status": run["exit_status"],
        "log": str(d / "critest.log"),
        "_cases": cases,
    }
    if "benchmark" in run:
        got["benchmark"] = run["benchmark"] | {"_samples": bench_samples(d / "benchmark")}
    return got


#: critest's benchmark parameters (its own YAML keys): sample counts, one at a time
BENCH_PARAMS = """containersNumber: {n}
containersNumberParallel: 1
containerBenchmarkTimeoutSeconds: 600
podsNumber: {n}
podsNumberParallel: 1
podBenchmarkTimeoutSeconds: 600
imagesNumber: {n}
imagesNumberParallel: 1
imageBenchmarkTimeoutSeconds: 600
imagePullingBenchmarkImage: gcr.io/k8s-staging-cri-tools/ocitest-bench-pull:1
"""


# -- side by side ---------------------------------------------------------------------------
def subject_of(endpoint: str) -> str:
    """The CRI suite's subject id of an embedded endpoint's runc handler."""
    version = endpoint.partition(":")[2]
    return f"containerd-{version}-runc" if version else "containerd-runc"


def performance_doc(ours: dict[str, dict], theirs: dict[str, dict], samples: int) -> dict:
    """Both benchmarks' figures in one performance document (reports/performance.py):
    ours as SUBJECT, critest's as `critest@SUBJECT` (kind peer)."""
    from reports import performance

    figures, subjects = [], []
    for sid, ops in ours.items():
        subjects.append({"id": sid, "kind": "cri"})
        figures += [performance.figure(op, sid, s, 3, group="cri") for op, s in ops.items()]
    for sid, ops in theirs.items():
        subjects.append(
            {"id": f"critest@{sid}", "version": gobuild.BUILDS[PEER].version, "kind": "peer"}
        )
        figures += [
            performance.figure(op, f"critest@{sid}", s, 0, group="cri")
            for op, s in ops.items()
            if s
        ]
    return performance.build(figures, subjects, {}, samples, 3)


def _args(argv: list[str]) -> argparse.Namespace:
    class P(argparse.ArgumentParser):
        def error(self, message: str):
            raise PeersUsageError(f"peers critest: {message}")

    from infra.services.containerd import built_version

    p = P(prog="ocitest peers critest")
    p.add_argument("--cri-endpoint", action="append", metavar="embedded[:VERSION]")
    p.add_argument("--out", default=os.path.join(os.getcwd(), OUT_DIR), metavar="DIR")
    p.add_argument("--bench-samples", type=int, default=DEFAULT_SAMPLES, metavar="N",
                   help="samples per benchmark operation, both tools (0: no benchmark)")  # fmt: skip
    p.add_argument("--focus", default="", metavar="REGEX", help="critest's ginkgo focus")
    p.add_argument(
        "--no-ocitest", action="store_true", help="do not run ocitest's suite and benchmark"
    )
    p.add_argument("--no-critest", action="store_true", help="do not run critest")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="read what an earlier run left in --out instead of running what is not run",
    )
    ns = p.parse_args(argv)
    known = ["embedded"] + ([f"embedded:{built_version()}"] if built_version() else [])
    ns.endpoints = ns.cri_endpoint or known
    for e in ns.endpoints:
        if e not in known:
            raise PeersUsageError(
                f"peers critest: --cri-endpoint {e}: expected one of {', '.join(known)}"
            )
    if ns.bench_samples < 0:
        raise PeersUsageError(f"peers critest: --bench-samples {ns.bench_samples}: 0 or more")
    out = Path(ns.out)
    if out.exists() and not out.is_dir():
        raise PeersUsageError(f"peers critest: --out {out}: not a directory")
    return ns


def main(argv: list[str] | None = None) -> int:
    try:
        ns = _args(sys.argv[1:] if argv is None else argv)
    except PeersUsageError as exc:
        print(f"ocitest: {exc}", file=sys.stderr)
        return 4
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    say = lambda m: print(f"ocitest peers: {m}", flush=True)  # noqa: E731
    if (
        gobuild.built_dir(PEER) is None
        and gobuild.build(gobuild.BUILDS[PEER], say).state == "failed"
    ):
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))  # finally-blocks stop the services
    peer: dict = {e: read_critest(out, e) for e in ns.endpoints} if ns.reuse else {}
    if not ns.no_critest:
        say(f"critest against {', '.join(ns.endpoints)} ...")
        peer = run_critest(ns.endpoints, out, ns.bench_samples, ns.focus)
    ours: dict = read_ocitest(out) if ns.reuse else {}
    ours_bench: dict = read_ocitest_bench(out) if ns.reuse else {}
    if not ns.no_ocitest:
        if ns.bench_samples:
            say("ocitest's CRI benchmark ...")
            ours_bench = run_ocitest_bench(ns.endpoints, out, ns.bench_samples)
        say("ocitest's CRI suite ...")
        ours = run_ocitest(ns.endpoints, out)
    rows = parse_map(MAP_DOC.read_text())
    section: dict = {"module": gobuild.BUILDS[PEER].module, "version": gobuild.BUILDS[PEER].version,
                     "bench_samples": ns.bench_samples, "endpoints": {}}  # fmt: skip
    rc = int("error" in peer or "error" in ours)
    theirs_bench = {}
    for e in ns.endpoints:
        sid = subject_of(e)
        mine = ours.get(sid, {"error": ours.get("error", "no results")})
        got = peer.get(e, {"error": peer.get("error", "did not run")})
        bench = got.pop("benchmark", {})
        theirs_bench[sid] = bench.pop("_samples", {})
        entry = {"subject": sid, "ocitest": {k: v for k, v in mine.items() if k != "_outcomes"},
                 "critest": {k: v for k, v in got.items() if k != "_cases"} | ({"benchmark": bench} if bench else {}),
                 "failures": compare(got.get("_cases", []), mine.get("_outcomes", {}), rows),
                 "benchmark": side_by_side(ours_bench.get(sid, {}), theirs_bench[sid])}  # fmt: skip
        rc |= int("error" in got)
        section["endpoints"][e] = entry
        say(summary_line(e, entry))
    write_section(out, "critest", section)
    if any(theirs_bench.values()):
        from reports import performance

        perf = performance_doc(
            ours_bench, {k: v for k, v in theirs_bench.items() if v}, ns.bench_samples
        )
        performance.write(perf, str(out))
    say(f"{out / 'peers.json'}")
    return rc


def summary_line(endpoint: str, entry: dict) -> str:
    """One line per containerd: both suites' counts, critest's findings, the medians."""

    def part(name: str, d: dict) -> str:
        if "error" in d:
            return f"{name}: {d['error']}"
        return f"{name} {d['tests']} tests, {d['passed']} passed, {d['failed']} failed, {d['wall_seconds']} s"

    fails = entry["failures"]
    env = sum("environment" in f for f in fails)
    missed = sum(f.get("caught_by") == "not caught by ocitest" for f in fails)
    return (f"{endpoint}: {part('ocitest', entry['ocitest'])}; {part(PEER, entry['critest'])}; "
            f"{missed} critest failures not caught by ocitest, {env} environment")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
