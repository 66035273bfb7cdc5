"""Throughput of ocitest's layout validator against sha256sum of the same blobs.

One layout holding one image of `--bench-layout-mib` MiB (default 1024) of random layer
content, half in gzip layers and half in uncompressed ones (benchmarks/layout_data.py),
is written once into a temporary directory ($TMPDIR, else /tmp) and removed at the end.
Each pass (one warm-up, dropped: it fills the page cache; then `--bench-layout-samples`
timed ones) times, in this order:

- `layout-validate`, subject `ocitest-validator`: `judge()` of the whole layout
  (suites/oci_image/validate: every blob hashed, every layer decompressed, its diff_id
  hashed and its tar entries read, every document checked against the schemas);
- `layout-validate`, subject `sha256sum`: coreutils' `sha256sum` over every blob file,
  the floor of any validator that checks digests;
- `layout-validate-cpu`: the same two as CPU seconds (user + system of this process or
  of the child), which a loaded machine does not inflate as it does wall time.

The figures are in group `image`; each carries the blobs' total size (`bytes`) and so
a throughput (MiB/s at the p50 and p99 time, and over all samples).
The layout must validate without a finding, else the benchmark fails listing them.
Not a timed test: nothing asserts a speed. CI runs it at `--bench-layout-mib 16`.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from benchmarks.layout_data import MIB, free_bytes, write_big_layout
from infra.version import harness_version
from suites.oci_image.validate import judge
from suites.oci_image.validate.schema import default_dir

#: seconds one sha256sum pass may take (1 GiB on a loaded 2-core machine: about 5 s)
SHA_TIMEOUT = 600


@pytest.fixture(scope="module")
def big_layout(request: pytest.FixtureRequest):
    """The benchmark's layout (written once, removed at the end, also on failure)."""
    mib = request.config.option.bench_layout_mib
    base = Path(os.environ.get("TMPDIR") or tempfile.gettempdir())
    need = mib * MIB * 11 // 10 + 16 * MIB
    if free_bytes(base) < need:
        pytest.skip(f"needs {need // MIB} MiB free in {base} for a {mib} MiB layout")
    with tempfile.TemporaryDirectory(prefix="ocitest-bench-layout-", dir=base) as d:
        t0 = time.monotonic()
        lay = write_big_layout(Path(d) / "layout", mib)
        print(f"\nbench layout: {lay.blob_bytes / MIB:.1f} MiB of blobs written in {time.monotonic() - t0:.1f} s")  # fmt: skip
        yield lay


def _sha256sum_version() -> str:
    out = subprocess.run(["sha256sum", "--version"], capture_output=True, text=True, timeout=10)
    first = out.stdout.splitlines()[0] if out.stdout else ""
    return first.rsplit(" ", 1)[-1]


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def test_layout_validation_throughput(big_layout, bench, request):
    schema_dir = default_dir()
    nbytes = big_layout.blob_bytes
    bench.subject("sha256sum", _sha256sum_version(), "peer")  # first: the ratios' reference
    bench.subject("ocitest-validator", harness_version(), "layout")
    files = [str(p) for p in big_layout.blobs]
    rec = {"group": "image", "size": nbytes}
    for _ in bench.iterations(samples=request.config.option.bench_layout_samples, warmup=1):
        c0, t0 = time.process_time(), time.monotonic()
        got = judge(big_layout.root, schema_dir)
        wall, cpu = time.monotonic() - t0, time.process_time() - c0
        assert not got.by_id, f"benchmark: the generated layout is not valid: {got.by_id}"
        bench.record("layout-validate", wall, subject="ocitest-validator", **rec)
        bench.record("layout-validate-cpu", cpu, subject="ocitest-validator", **rec)

        c0, t0 = _children_cpu(), time.monotonic()
        done = subprocess.run(
            ["sha256sum", *files], capture_output=True, text=True, timeout=SHA_TIMEOUT
        )
        wall, cpu = time.monotonic() - t0, _children_cpu() - c0
        assert done.returncode == 0, f"benchmark: sha256sum failed: {done.stderr[-500:]}"
        sums = {line.split()[1]: line.split()[0] for line in done.stdout.splitlines()}
        assert all(Path(f).name == sums[f] for f in files), "sha256sum disagrees with a blob name"
        bench.record("layout-validate", wall, subject="sha256sum", **rec)
        bench.record("layout-validate-cpu", cpu, subject="sha256sum", **rec)
