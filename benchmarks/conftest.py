"""Benchmarks run as pytest tests with the suites' options (`--runtime`, `--target`, ...)
and these of their own; never part of the conformance run (pytest's testpaths is suites/).

    ./ocitest bench [--bench-samples N] [--bench-warmup K] [--bench-clients C]
                    [--bench-containers M] [--bench-layout-mib N] [--bench-layout-samples N]
                    [--perf-baseline FILE]
    .venv/bin/pytest benchmarks --runtime runc --runtime crun -n 0

Three kinds of subjects are timed: OCI runtimes (test_runtime_bench.py, `--runtime`),
CRI endpoints (test_cri_bench.py, `--cri-endpoint`) and registries
(test_registry_bench.py, `--registry`); `-k runtime`, `-k cri`, `-k registry` pick one.
`-k layout` picks the layout validation throughput (test_layout_bench.py: ocitest's
validator against sha256sum over one generated image of `--bench-layout-mib` MiB).
Each benchmark test takes the `bench` fixture, runs `bench.iterations()` (K warm-up
iterations, dropped, then N timed ones) and `bench.record(operation, value)`s what it
measured (seconds unless `unit="bytes"`; `size` bytes moved per operation gives the
figure a throughput; `clients` the number of clients calling at once; `subject` one
the test declared with `bench.subject(id, version)`, e.g. a peer tool). The samples
reach the controller as a user property of the test's report (so xdist works too),
and at the end of the session the controller writes performance.json
and performance.html (reports/performance.py) into the report directory beside
report.html, prints one line per figure, and with `--perf-baseline` fails the run
(exit 1) when an operation's p50 grew more than `--perf-threshold` percent, naming it.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.plugin import TARGET
from reports import performance
from reports.plugin import report_dir

# the suites' fixtures (bundles, containers, drivers, CRI pods, registries), shared
# rather than copied
from suites.conftest import containers, evidence, host, rootfs, runtime  # noqa: F401
from suites.cri.conftest import cri, images, pods  # noqa: F401
from suites.oci_image.conftest import registry  # noqa: F401

PERF_PROP = "ocitest_perf"
DEFAULT_SAMPLES, DEFAULT_WARMUP, DEFAULT_THRESHOLD = 20, 3, 25.0
#: parallel CRI clients, and containers in the ListContainers pod, by default
DEFAULT_CLIENTS, DEFAULT_CONTAINERS = 4, 100
#: MiB of the layout validation benchmark's image, and its timed passes
DEFAULT_LAYOUT_MIB, DEFAULT_LAYOUT_SAMPLES = 1024, 3
#: the fixtures that carry a benchmark test's subject, one per kind
SUBJECT_FIXTURES = ("runtime_subject", "cri_subject", "registry_subject")

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
    g.addoption("--perf-threshold", type=float, default=DEFAULT_THRESHOLD, metavar="PCT",
                help=f"allowed p50 increase over the baseline, percent (default {DEFAULT_THRESHOLD:g})")  # fmt: skip
    g.addoption("--bench-clients", type=int, default=DEFAULT_CLIENTS, metavar="N",
                help=f"CRI clients calling at once in the parallel case (default {DEFAULT_CLIENTS}; 1: no parallel case)")  # fmt: skip
    g.addoption("--bench-containers", type=int, default=DEFAULT_CONTAINERS, metavar="M",
                help=f"containers in the pod that ListContainers lists (default {DEFAULT_CONTAINERS}, e.g. 1000)")  # fmt: skip
    g.addoption("--bench-layout-mib", type=int, default=DEFAULT_LAYOUT_MIB, metavar="N",
                help=f"image size of the layout validation benchmark, MiB (default {DEFAULT_LAYOUT_MIB}; CI: 16)")  # fmt: skip
    g.addoption("--bench-layout-samples", type=int, default=DEFAULT_LAYOUT_SAMPLES, metavar="N",
                help=f"timed passes over that layout, after one warm-up (default {DEFAULT_LAYOUT_SAMPLES})")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    o = config.option
    if not 1 <= o.bench_samples <= MAX_SAMPLES:
        raise pytest.UsageError(f"--bench-samples {o.bench_samples}: 1 to {MAX_SAMPLES}")
    if not 0 <= o.bench_warmup <= MAX_SAMPLES:
        raise pytest.UsageError(f"--bench-warmup {o.bench_warmup}: 0 to {MAX_SAMPLES}")
    if not math.isfinite(o.perf_threshold) or o.perf_threshold < 0:
        raise pytest.UsageError(f"--perf-threshold {o.perf_threshold:g}: a finite 0 or more")
    if not 1 <= o.bench_clients <= MAX_CLIENTS:
        raise pytest.UsageError(f"--bench-clients {o.bench_clients}: 1 to {MAX_CLIENTS}")
    if not 1 <= o.bench_containers <= MAX_CONTAINERS:
        raise pytest.UsageError(f"--bench-containers {o.bench_containers}: 1 to {MAX_CONTAINERS}")
    if o.bench_layout_mib < 1:
        raise pytest.UsageError(f"--bench-layout-mib {o.bench_layout_mib}: at least 1")
    if not 1 <= (n := o.bench_layout_samples) <= MAX_SAMPLES:
        raise pytest.UsageError(f"--bench-layout-samples {n}: 1 to {MAX_SAMPLES}")
    if o.perf_baseline == "":
        raise pytest.UsageError("--perf-baseline: empty value")
    config.stash[_FIGURES], config.stash[_SUBJECTS] = [], {}
    if o.perf_baseline and not hasattr(config, "workerinput"):
        try:
            config.stash[_BASELINE] = performance.load(o.perf_baseline)
        except performance.PerformanceError as exc:
            raise pytest.UsageError(str(exc)) from None


#: bounds of --bench-clients and --bench-containers (threads; containers in one pod)
MAX_CLIENTS, MAX_CONTAINERS = 64, 5000
#: bound of --bench-samples and --bench-layout-samples (a run of days is a typo, not a plan)
MAX_SAMPLES = 100_000


class Bench:
    """Samples of one benchmark test: operation -> values (seconds unless the operation's
    unit says bytes), warm-up dropped; `meta` holds each operation's unit, group, clients
    and bytes per operation. By default the samples are of the test's subject; a test
    that times subjects of its own (a peer tool such as sha256sum) declares them with
    `subject()` and records with `subject=`. `record` may be called from several threads."""

    def __init__(self, samples: int, warmup: int, clients: int = 1, in_pod: int = 1) -> None:
        self.samples, self.warmup = samples, warmup
        self.clients, self.containers = clients, in_pod
        self.data: dict[str, list[float]] = defaultdict(list)
        self.meta: dict[str, dict] = {}
        #: subject id -> {"version", "kind", "operations": {op: samples}, "meta": {op: meta}}
        self.named: dict[str, dict] = {}
        self._warm = False
        self._lock = threading.Lock()

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

    @contextlib.contextmanager
    def warming(self) -> Iterator[None]:
        """Samples recorded inside are dropped (warm-up outside `iterations`)."""
        self._warm = True
        try:
            yield
        finally:
            self._warm = False

    def subject(self, sid: str, version: str = "", kind: str = "") -> None:
        """Declare a subject of this test's own (in the order the page lists them: the
        first is the ratios' reference); its samples come from `record(subject=sid)`."""
        with self._lock:
            self._named(sid, version, kind)

    def _named(self, sid: str, version: str = "", kind: str = "") -> dict:
        return self.named.setdefault(
            sid, {"version": version, "kind": kind, "operations": defaultdict(list), "meta": {}}
        )

    def record(
        self,
        operation: str,
        value: float,
        *,
        unit: str = "s",
        group: str = "",
        clients: int = 0,
        size: int = 0,
        subject: str = "",
    ) -> None:
        """One sample of `operation`: seconds (unit "s") or bytes (unit "bytes"); `group`
        (runtime, cri, registry, image, memory) sorts the page; `clients` calling at once;
        `size` bytes moved or processed by one operation (its figure then has a
        throughput); `subject` a subject declared with `subject()` (default: the test's)."""
        if self._warm:
            return
        with self._lock:
            data, metas = self.data, self.meta
            if subject:
                got = self._named(subject)
                data, metas = got["operations"], got["meta"]
            data[operation].append(value)
            if operation not in metas:
                meta = {"unit": unit, "group": group, "clients": clients, "bytes": size}
                metas[operation] = {k: v for k, v in meta.items() if v}

    def in_parallel(self, clients: int, work: Callable[[int], None]) -> None:
        """`work(i)` for i in 0..clients-1, each in its own thread, all at once; the first
        exception of any of them is raised once all have ended."""
        with ThreadPoolExecutor(clients, thread_name_prefix="ocitest-bench") as pool:
            futures = [pool.submit(work, i) for i in range(clients)]
        for f in futures:
            f.result()


@pytest.fixture
def bench(request: pytest.FixtureRequest):
    """The test's Bench; its samples go onto the test's report at teardown."""
    o = request.config.option
    b = Bench(o.bench_samples, o.bench_warmup, o.bench_clients, o.bench_containers)
    yield b
    subject = None
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    for name in SUBJECT_FIXTURES:
        subject = subject or params.get(name)
    if b.data:
        request.node.user_properties.append(
            (
                PERF_PROP,
                {
                    "subject": getattr(subject, "id", "local"),
                    "version": getattr(subject, "version", ""),
                    "kind": getattr(subject, "kind", ""),
                    "warmup": b.warmup,
                    "operations": dict(b.data),
                    "meta": dict(b.meta),
                },
            )
        )
    for sid, got in b.named.items():
        payload = {"subject": sid, "version": got["version"], "kind": got["kind"]}
        payload |= {"warmup": b.warmup, "operations": dict(got["operations"]), "meta": got["meta"]}
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
    meta: dict[tuple[str, str], dict] = {}
    dropped: dict[tuple[str, str], int] = {}
    subjects: dict[str, dict] = {}
    warmup = config.option.bench_warmup
    for p in _PENDING:
        s = {"id": p["subject"], "version": p["version"]}
        subjects.setdefault(p["subject"], s | ({"kind": p["kind"]} if p.get("kind") else {}))
        for op, samples in p["operations"].items():
            merged[(op, p["subject"])].extend(samples)
            meta.setdefault((op, p["subject"]), p.get("meta", {}).get(op, {}))
            dropped[(op, p["subject"])] = p.get("warmup", warmup)
    if not merged:
        return None
    figures = [
        performance.figure(op, sid, samples, dropped[(op, sid)], **meta[(op, sid)])
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
    """Controller: write performance.json/.html before the report plugin writes
    report.html (which then shows them); a regression fails the run (exit 1)."""
    config = session.config
    doc = None
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        doc = _document(config)
    if doc is not None:
        js, html = performance.write(doc, report_dir(config))
        lines = [f"ocitest bench: {html} ({js})"]
        lines += [f"  {performance.line(f)}" for f in doc["figures"]]
        lines += [f"  REGRESSION: {r['message']}" for r in doc.get("regressions", [])]
        config.stash[_LINES] = lines
    result = yield
    if doc is not None and doc.get("regressions") and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    return result


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    for line in config.stash.get(_LINES, []):
        terminalreporter.write_line(line)
