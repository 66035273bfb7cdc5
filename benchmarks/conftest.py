"""Benchmarks run as pytest tests with the suites' options (`--runtime`, `--target`, ...)
and these of their own; never part of the conformance run (pytest's testpaths is suites/).

    ./ocitest bench [--bench-samples N] [--bench-warmup K] [--perf-baseline FILE]
    .venv/bin/pytest benchmarks --runtime runc --runtime crun -n 0

Each benchmark test takes the `bench` fixture, runs `bench.iterations()` (K warm-up
iterations, dropped, then N timed ones) and `bench.record(operation, seconds)`s what it
timed. The samples reach the controller as a user property of the test's report (so
xdist works too), and at the end of the session the controller writes performance.json
and performance.html (reports/performance.py) into the report directory beside
report.html, prints one line per figure, and with `--perf-baseline` fails the run
(exit 1) when an operation's p50 grew more than `--perf-threshold` percent, naming it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator

import pytest

from infra.plugin import TARGET
from reports import performance
from reports.plugin import report_dir

# the suites' fixtures (bundles, containers, drivers), shared rather than copied
from suites.conftest import containers, evidence, host, rootfs, runtime  # noqa: F401

PERF_PROP = "ocitest_perf"
DEFAULT_SAMPLES, DEFAULT_WARMUP, DEFAULT_THRESHOLD = 20, 3, 25.0
DEFAULT_LAYOUT_MIB, DEFAULT_LAYOUT_SAMPLES = 1024, 3

_FIGURES = pytest.StashKey[list]()
_SUBJECTS = pytest.StashKey[dict]()
_BASELINE = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ocitest-bench", "ocitest benchmarks")
    g.addoption(
        "--bench-samples",
        type=int,
        default=DEFAULT_SAMPLES,
        metavar="N",
        help=f"timed iterations per operation (default {DEFAULT_SAMPLES})",
    )
    g.addoption(
        "--bench-warmup",
        type=int,
        default=DEFAULT_WARMUP,
        metavar="K",
        help=f"iterations run first and dropped (default {DEFAULT_WARMUP})",
    )
    g.addoption(
        "--perf-baseline",
        default=None,
        metavar="FILE",
        help="an earlier performance.json: fail when a p50 grew past --perf-threshold",
    )
    g.addoption(
        "--bench-layout-mib",
        type=int,
        default=DEFAULT_LAYOUT_MIB,
        metavar="N",
        help=f"image size of the layout validation benchmark, MiB (default {DEFAULT_LAYOUT_MIB}; CI: 16)",
    )
    g.addoption(
        "--bench-layout-samples",
        type=int,
        default=DEFAULT_LAYOUT_SAMPLES,
        metavar="N",
        help=f"timed passes over that layout, after one warm-up (default {DEFAULT_LAYOUT_SAMPLES})",
    )
    g.addoption("--perf-threshold", type=float, default=DEFAULT_THRESHOLD, metavar="PCT",
                help=f"allowed p50 increase over the baseline, percent (default {DEFAULT_THRESHOLD:g})")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    o = config.option
    if o.bench_samples < 1:
        raise pytest.UsageError(f"--bench-samples {o.bench_samples}: at least 1")
    if o.bench_warmup < 0:
        raise pytest.UsageError(f"--bench-warmup {o.bench_warmup}: 0 or more")
    if o.bench_layout_mib < 1:
        raise pytest.UsageError(f"--bench-layout-mib {o.bench_layout_mib}: at least 1")
    if o.bench_layout_samples < 1:
        raise pytest.UsageError(f"--bench-layout-samples {o.bench_layout_samples}: at least 1")
    if not math.isfinite(o.perf_threshold) or o.perf_threshold < 0:
        raise pytest.UsageError(f"--perf-threshold {o.perf_threshold:g}: a finite 0 or more")
    config.stash[_FIGURES], config.stash[_SUBJECTS] = [], {}
    if o.perf_baseline and not hasattr(config, "workerinput"):
        try:
            config.stash[_BASELINE] = performance.load(o.perf_baseline)
        except performance.PerformanceError as exc:
            raise pytest.UsageError(str(exc)) from None


class Bench:
    """Samples of one benchmark test: operation -> seconds, warm-up dropped; by default
    of the test's subject, or of a `subject` the test names (e.g. a peer tool)."""

    def __init__(self, samples: int, warmup: int) -> None:
        self.samples, self.warmup = samples, warmup
        self.data: dict[str, list[float]] = defaultdict(list)
        #: subject id -> {"version", "operations": {op: samples}, "bytes": {op: bytes}}
        self.named: dict[str, dict] = {}
        self._warm = False

    def iterations(self, samples: int | None = None, warmup: int | None = None) -> Iterator[int]:
        """0, 1, ... over warm-up then timed iterations (the options' counts unless
        given); `record` drops the warm-up's."""
        if samples is not None:
            self.samples = samples
        if warmup is not None:
            self.warmup = warmup
        for i in range(self.warmup + self.samples):
            self._warm = i < self.warmup
            yield i
        self._warm = False

    def subject(self, sid: str, version: str = "") -> None:
        """Declare a subject of this test's own (its samples go to `record(subject=)`)."""
        self.named.setdefault(sid, {"version": version, "operations": defaultdict(list), "bytes": {}})  # fmt: skip

    def record(self, operation: str, seconds: float, subject: str | None = None, nbytes: int | None = None) -> None:  # fmt: skip
        """One sample (seconds); `nbytes`: bytes the operation processed (throughput)."""
        if self._warm:
            return
        if subject is None:
            self.data[operation].append(seconds)
            return
        self.subject(subject)
        self.named[subject]["operations"][operation].append(seconds)
        if nbytes is not None:
            self.named[subject]["bytes"][operation] = nbytes


@pytest.fixture
def bench(request: pytest.FixtureRequest):
    """The test's Bench; its samples go onto the test's report at teardown."""
    b = Bench(request.config.option.bench_samples, request.config.option.bench_warmup)
    yield b
    subject = None
    for name in ("runtime_subject",):
        subject = getattr(getattr(request.node, "callspec", None), "params", {}).get(name)
    if b.data:
        request.node.user_properties.append(
            (
                PERF_PROP,
                {
                    "subject": getattr(subject, "id", "local"),
                    "version": getattr(subject, "version", ""),
                    "warmup": b.warmup,
                    "operations": dict(b.data),
                },
            )
        )
    for sid, got in b.named.items():
        payload = {"subject": sid, "version": got["version"], "warmup": b.warmup}
        payload.update(operations=dict(got["operations"]), bytes=got["bytes"])
        request.node.user_properties.append((PERF_PROP, payload))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Controller (and plain runs): collect the samples of each benchmark test."""
    if report.when != "teardown":
        return
    for key, value in report.user_properties:
        if key == PERF_PROP:
            _PENDING.append(value)


_PENDING: list[dict] = []


def _document(config: pytest.Config) -> dict | None:
    merged: dict[tuple[str, str], list[float]] = defaultdict(list)
    nbytes: dict[tuple[str, str], int] = {}
    dropped: dict[tuple[str, str], int] = {}
    subjects: dict[str, dict] = {}
    warmup = config.option.bench_warmup
    for p in _PENDING:
        subjects.setdefault(p["subject"], {"id": p["subject"], "version": p["version"]})
        for op, samples in p["operations"].items():
            merged[(op, p["subject"])].extend(samples)
            dropped[(op, p["subject"])] = p.get("warmup", warmup)
        for op, n in p.get("bytes", {}).items():
            nbytes[(op, p["subject"])] = n
    if not merged:
        return None
    figures = [
        performance.figure(op, sid, samples, dropped[(op, sid)], nbytes=nbytes.get((op, sid)))
        for (op, sid), samples in merged.items()
        if samples
    ]
    try:
        where = config.stash[TARGET].facts()
    except Exception:  # a target that cannot say: the figures stand without it
        where = {}
    base = config.option.perf_baseline
    doc = performance.build(
        figures, list(subjects.values()), where, config.option.bench_samples, warmup,
        baseline=base, threshold_pct=config.option.perf_threshold if base else None,
    )  # fmt: skip
    if _BASELINE in config.stash:
        doc["regressions"] = performance.compare(
            doc, config.stash[_BASELINE], config.option.perf_threshold
        )
    return doc


_LINES = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int):
    """Controller: write performance.json/.html; a regression fails the run (exit 1)."""
    result = yield
    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly:
        return result
    doc = _document(config)
    if doc is None:
        return result
    js, html = performance.write(doc, report_dir(config))
    lines = [f"ocitest bench: {html} ({js})"]
    for f in doc["figures"]:
        rate = f"  {f['mib_per_s']:8.1f} MiB/s (p50)" if "mib_per_s" in f else ""
        lines.append(
            f"  {f['operation']:<12} {f['subject']:<14} n={f['n']:<3} p50 {f['p50'] * 1000:7.1f} ms"
            f"  p90 {f['p90'] * 1000:7.1f}  p99 {f['p99'] * 1000:7.1f}  min {f['min'] * 1000:6.1f}"
            f"  max {f['max'] * 1000:7.1f}{rate}"
        )
    for r in doc.get("regressions", []):
        lines.append(f"  REGRESSION: {r['message']}")
    if doc.get("regressions") and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    config.stash[_LINES] = lines
    return result


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for line in config.stash.get(_LINES, []):
        terminalreporter.write_line(line)
