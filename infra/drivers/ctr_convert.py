"""containerd as a converter: an image turned into the runtime spec containerd's client
writes for a container of it (`ctr run`, the client library's oci.WithImageConfig), read
back with `ctr containers info --spec` (see infra/drivers/converter.py for the steps).

`ctr run` is given a runtime that does not exist (RUNTIME): containerd stores the
container with its spec, then fails to start the task, so no shim, runtime or process is
ever started; the container is created when `ctr containers info` finds it. A `ctr run`
that fails before that (e.g. a User unknown to the rootfs) is the converter refusing the
image.

The container (and its snapshot) is deleted after each conversion; the image is not: the
images share their layer, so they share its snapshot, and a ctr that finds the layer
unpacked by another image does not reference it itself, so removing one image while
another process converts (-n 2) let containerd's garbage collector take the snapshot
from under it ("parent snapshot ... does not exist"). The images go with the daemon when
the kind stops it at the end of the run.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

from infra.evidence import Evidence

#: the runtime `ctr run` is told to use: no such shim exists, so no task ever starts
RUNTIME = "io.containerd.ocitest-none.v1"
#: the snapshotter the image is unpacked with (plain copies: works on any filesystem)
SNAPSHOTTER = "native"
#: the registry part of the names images get in the private containerd (never pulled)
NAME_PREFIX = "ocitest.invalid/conv"
_COUNTER = itertools.count(1)


#: what a conversion gave: (runtime spec or None, the evidence, "" or why there is none)
Result = tuple[dict | None, Evidence, str]


def convert_ctr(
    base: list[str] | None, why: str, layout: Path, ref: str, bundle: Path, timeout: int
) -> Result:
    """The conversion of image `ref` of `layout` by the ctr of argv prefix `base` (None:
    an error naming `why`), as infra/drivers/converter.py's Conversion takes it; `bundle`
    is scratch, removed on return."""
    run_id = f"{os.getpid()}-{next(_COUNTER)}"
    image, cid = f"{NAME_PREFIX}-{run_id}", f"ocitest-conv-{run_id}"
    if base is None:
        ev = Evidence(command="ctr run (no containerd)", exit_status=None, note=why)
        return (None, ev, why)
    start = time.monotonic()
    steps: list[str] = []
    try:
        bundle.mkdir()
        archive = bundle / "image.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(layout, arcname=".")
        flags = ["--base-name", image, "--all-platforms", "--no-unpack"]
        imported = _run([*base, "images", "import", *flags, str(archive)], timeout)
        steps.append(_step(imported))
        if imported.exit_status != 0:
            return _failed(imported, steps, start, "ctr images import failed")
        run = [*base, "run", "--platform", _platform(layout, ref), "--snapshotter", SNAPSHOTTER]
        run += ["--runtime", RUNTIME, f"{image}:{ref}", cid]
        # ctr mounts the snapshot to read /etc/passwd and /etc/group in a temporary
        # directory ($XDG_RUNTIME_DIR, else $TMPDIR): below the bundle, so what a killed
        # ctr left is below the run's directories, where the sweeper unmounts it
        env = {**os.environ, "XDG_RUNTIME_DIR": str(bundle), "TMPDIR": str(bundle)}
        made = _run(run, timeout, env)
        info = _run([*base, "containers", "info", "--spec", cid], timeout)
        steps.append(_step(info))
        if info.exit_status != 0:  # no container: ctr refused the image
            made.exit_status = made.exit_status or 1
            return _failed(made, steps, start, "no container was created")
        made.exit_status = 0  # created; the task's start failing is what we asked for
        made.note = f"container created (its start fails by design: runtime {RUNTIME})"
        try:
            spec = json.loads(info.stdout)
        except ValueError as exc:
            return _failed(made, steps, start, f"ctr containers info --spec: not JSON: {exc}")
        made.note += "; " + "; ".join(steps)
        made.duration = round(time.monotonic() - start, 3)
        return spec, made, ""
    except OSError as exc:
        ev = Evidence(command="ctr images import", exit_status=None, note=f"{exc}")
        return None, ev, f"could not write the image archive: {exc}"
    finally:
        _run([*base, "containers", "delete", cid], timeout)
        shutil.rmtree(bundle, ignore_errors=True)


def _failed(ev: Evidence, steps: list[str], start: float, what: str) -> Result:
    ev.duration = round(time.monotonic() - start, 3)
    ev.note = "; ".join([*steps, ev.note] if ev.note else steps)
    tail = ev.stderr.strip()[-300:].replace("\n", " ")
    return None, ev, f"{what}: exit status {ev.exit_status}: {tail}"


def _run(argv: list[str], timeout: int, env: dict[str, str] | None = None) -> Evidence:
    ev = Evidence(command=" ".join(argv), exit_status=None)
    start = time.monotonic()
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        ev.exit_status, ev.stdout, ev.stderr = res.returncode, res.stdout, _quiet(res.stderr)
    except subprocess.TimeoutExpired:
        ev.note = f"timed out after {timeout} s"
    except OSError as exc:
        ev.note = f"could not run: {exc}"
    ev.duration = round(time.monotonic() - start, 3)
    return ev


def _quiet(stderr: str) -> str:
    """stderr without containerd 2.x's cgroup v1 deprecation warning (printed by every
    ctr command on such a host; not about the image)."""
    return "\n".join(line for line in stderr.splitlines() if "DEPRECATION" not in line)


def _step(ev: Evidence) -> str:
    words = ev.command.split()
    verb = " ".join(w for w in words[words.index("--namespace") + 2 :][:2])
    return f"ctr {verb}: exit status {ev.exit_status}" + (f" ({ev.note})" if ev.note else "")


def _platform(layout: Path, ref: str) -> str:
    """os/architecture[/variant] of image `ref`'s config (linux/amd64 when unreadable:
    ctr then judges the image as it would for the host)."""
    try:
        index = json.loads((layout / "index.json").read_text())
        desc = next(
            d
            for d in index["manifests"]
            if (d.get("annotations") or {}).get("org.opencontainers.image.ref.name") == ref
        )
        manifest = json.loads(_blob(layout, desc["digest"]))
        config = json.loads(_blob(layout, manifest["config"]["digest"]))
        parts = [config["os"], config["architecture"], config.get("variant", "")]
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return "linux/amd64"
    return "/".join(p for p in parts if p)


def _blob(layout: Path, digest: str) -> bytes:
    algo, _, encoded = digest.partition(":")
    return (layout / "blobs" / algo / encoded).read_bytes()
