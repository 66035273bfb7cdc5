"""`./ocitest peers runtime-tools`: runtime-tools' validation programs against runtimes.

runtime-tools v0.9.0 (the only version the Go module proxy serves; published without a
go.mod, Godeps only) is built at setup by infra/gobuild.py `runtime-tools` with our own
pins (benchmarks/peers/runtime-tools/go.mod: runtime-spec v1.0.2, selinux v1.8.0; the
newest runtime-spec, v1.3.0, breaks it: LinuxPids.Limit became *int64). Each program
under validation/ runs once per runtime (`RUNTIME=BINARY`, in a directory holding the
module's rootfs tarball and its `runtimetest`), writing TAP; a program's own exit status
other than 0 with no "not ok" line counts as one failure ("exit status N").

OUT/peers.json gets a "runtime-tools" section (other sections are kept):

    {"runtime-tools": {"module", "version", "runtimes": {ID: {"binary", "programs",
        "tests", "passed", "failed", "skipped", "wall_seconds",
        "failures": [{"program", "test"}]}}}}

Its failures are not matched to our catalogue (no map of its checks yet): they are
listed for a reader. Exit 0 when it ran, 1 when it is not built, 4 for usage.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.peers import write_section
from infra import gobuild

PEER = "runtime-tools"
#: seconds one validation program may take
PROGRAM_TIMEOUT = 120
NOT_PROGRAMS = ("runtimetest",)


def parse_tap(text: str) -> list[dict]:
    """TAP lines as [{test, status (passed|failed|skipped)}]."""
    out = []
    for m in re.finditer(r"^(not ok|ok)\b\s*\d*\s*-?\s*(.*)$", text, re.M):
        desc = m.group(2).strip()
        skipped = re.search(r"#\s*skip", desc, re.I)
        status = "skipped" if skipped else "passed" if m.group(1) == "ok" else "failed"
        out.append({"test": desc, "status": status})
    return out


def unmount_below(path: str) -> list[str]:
    """Unmount (lazily) every mount point below `path`, deepest first; the mount points.
    runtime-tools' programs leave their bundles' proc, dev and sys mounts when the runtime
    fails part-way."""
    gone: list[str] = []
    for _ in range(10):  # mounts stacked on one point come off one per round
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            points = [line.split()[4] for line in fh]
        below = sorted({p for p in points if p.startswith(path.rstrip("/") + "/")}, key=len)
        if not below:
            break
        for p in reversed(below):
            subprocess.run(["umount", "-l", p], capture_output=True, timeout=30, check=False)
        gone += [p for p in below if p not in gone]
    return gone


def run_runtime(bindir: Path, runtime: str) -> dict:
    """Every validation program of `bindir` against `runtime` (a binary path)."""
    programs = sorted(
        p for p in bindir.iterdir() if p.name not in NOT_PROGRAMS and os.access(p, os.X_OK)
    )
    totals = {"programs": len(programs), "tests": 0, "passed": 0, "failed": 0, "skipped": 0}
    failures: list[dict] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ocitest-rt-") as work:
        shutil.copy(bindir / "runtimetest", work)
        for tarball in bindir.glob("rootfs-*.tar.gz"):
            shutil.copy(tarball, work)
        tmp = os.path.join(work, "tmp")  # its bundles (TempDir "ocitest*") go here, not /tmp
        os.makedirs(tmp)
        for prog in programs:
            try:
                res = subprocess.run(
                    [str(prog)],
                    cwd=work,
                    env=dict(os.environ, RUNTIME=runtime, TMPDIR=tmp),
                    capture_output=True,
                    text=True,
                    timeout=PROGRAM_TIMEOUT,
                    check=False,
                )
                text, rc = res.stdout + res.stderr, res.returncode
            except subprocess.TimeoutExpired:
                text, rc = "", -1
            unmount_below(tmp)  # a failed program leaves its bundle's mounts behind
            cases = parse_tap(text)
            if rc != 0 and not any(c["status"] == "failed" for c in cases):
                cases.append({"test": f"exit status {rc}", "status": "failed"})
            for c in cases:
                totals["tests"] += 1
                totals[c["status"]] += 1
                if c["status"] == "failed":
                    failures.append({"program": prog.name, "test": c["test"][:200]})
    return totals | {"wall_seconds": round(time.monotonic() - started, 1), "failures": failures}


def _runtime(spec: str) -> tuple[str, str]:
    """(id, binary) of `--runtime` (a built subject id such as runc-1.5.3, or a path)."""
    built = gobuild.built_binary(spec)
    if built:
        return spec, built
    path = shutil.which(spec)
    if path is None:
        raise ValueError(f"peers runtime-tools: --runtime {spec}: no such built subject or binary")
    return Path(path).name, path


def main(argv: list[str] | None = None) -> int:
    class P(argparse.ArgumentParser):
        def error(self, message: str):  # one line, exit 4 (not argparse's usage block)
            raise ValueError(f"peers runtime-tools: {message}")

    p = P(prog="ocitest peers runtime-tools")
    p.add_argument("--runtime", action="append", metavar="ID|PATH")
    p.add_argument("--out", default=os.path.join(os.getcwd(), "ocitest-peers"), metavar="DIR")
    try:
        ns = p.parse_args(sys.argv[1:] if argv is None else argv)
        runtimes = [_runtime(r) for r in ns.runtime or ["runc", "runc-1.5.3"]]
    except SystemExit as exc:
        return 4 if exc.code else 0
    except ValueError as exc:
        print(f"ocitest: {exc}", file=sys.stderr)
        return 4
    if gobuild.built_dir(PEER) is None:
        gobuild.build(gobuild.BUILDS[PEER], lambda m: print(f"ocitest peers: {m}"))
    bindir = gobuild.built_dir(PEER)
    if bindir is None:
        print(f"ocitest peers: {PEER} is not built (see the lines above)", file=sys.stderr)
        return 1
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    build = gobuild.BUILDS[PEER]
    section = {"module": build.module, "version": build.version, "runtimes": {}}
    for sid, binary in runtimes:
        print(f"ocitest peers: {PEER} against {sid} ({binary}) ...", flush=True)
        got = run_runtime(Path(bindir), binary)
        section["runtimes"][sid] = {"binary": binary} | got
        print(f"ocitest peers: {sid}: {got['programs']} programs, {got['tests']} tests, "
              f"{got['passed']} passed, {got['failed']} failed, {got['wall_seconds']} s")  # fmt: skip
    write_section(out, PEER, section)
    print(f"ocitest peers: {out / 'peers.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
