"""The layout `ctr images export` writes: our reference image imported into a private
containerd (the 2.x built at setup, infra/gobuild.py) and exported again.

`export_layout(ctr, source, dest, work, state)`: starts `containerd` (the binary beside
`ctr`) with a config of its own: root WORK (/var/lib/ocitest/runs/RUN_ID/ctr), state and
socket under STATE (/run/ocitest/RUN_ID/ctr), the CRI, sandbox and NRI plugins off, so it
runs no container and mounts nothing (the import is `--no-unpack`); then `ctr images
import --base-name ocitest.invalid/reference --all-platforms --no-unpack` of the
reference layout as a tar, `ctr images export --all-platforms` of
ocitest.invalid/reference:latest, and unpacks that tar into `dest`. The daemon is stopped
and its directories removed whatever happens (`stop`); its command line names the run's
directories, so the sweeper (infra/sweep.py) finds what a killed run left. Every command
has a timeout (infra.images.layouts.TOOL_TIMEOUT).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from infra.images.layouts import LayoutError, run_tool, tool_version, unpack_tar
from infra.services import ServiceError, spawn, stop_pid, wait_until

#: the name the reference image gets in the private containerd (.invalid: never pulled)
IMAGE = "ocitest.invalid/reference"
#: the containerd namespace the import goes to
NAMESPACE = "ocitest"

#: what both config versions say alike: sockets under the state dir, quiet, opt under root
_SOCKETS = """
[grpc]
  address = "{state}/containerd.sock"

[ttrpc]
  address = "{state}/containerd.sock.ttrpc"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"
"""
_CONFIG = (
    """version = 3
root = "{root}"
state = "{state}/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox", "io.containerd.sandbox.controller.v1.shim",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs", "io.containerd.nri.v1.nri",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp",
]

"""
    + _SOCKETS
)
#: the same for a containerd 1.x (config version 2; plugin ids of 1.6; names a 1.6 does
#: not have are ignored)
_CONFIG_V2 = (
    """version = 2
root = "{root}"
state = "{state}/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

"""
    + _SOCKETS
)


#: tries of `ctr images export` when it exits 0 but writes an empty archive (seen once
#: in a CI-like run at load 15, never again in 5 tries alone or 4 side by side)
EXPORT_ATTEMPTS = 2


def export_layout(ctr: str, source: Path, dest: Path, work: str, state: str) -> None:
    """Write into the new directory `dest` the layout `ctr images export` makes of the
    layout at `source` (see the module docstring); `work`, `state`: the daemon's
    directories (created, then removed).

    Raises:
        LayoutError: containerd did not start, or a ctr command failed or timed out.
    """
    pid = 0
    try:
        pid, base = start_daemon(ctr, work, state)
        archive_in, archive_out = f"{work}/reference.tar", f"{work}/export.tar"
        with tarfile.open(archive_in, "w") as tar:
            tar.add(source, arcname=".")
        flags = ["--base-name", IMAGE, "--all-platforms", "--no-unpack"]
        run_tool([*base, "images", "import", *flags, archive_in])
        export = [*base, "images", "export", "--all-platforms", archive_out, f"{IMAGE}:latest"]
        for attempt in range(1, EXPORT_ATTEMPTS + 1):
            out = run_tool(export)
            if os.path.getsize(archive_out) > 0:
                break
            if attempt == EXPORT_ATTEMPTS:  # exit 0 and nothing written: say so, whole
                raise LayoutError(
                    f"{' '.join(export)}: exit 0 but {archive_out} is empty "
                    f"{EXPORT_ATTEMPTS} times (ctr said: {out or '(nothing)'})"
                )
        unpack_tar(archive_out, dest)
    finally:
        stop(work, state, pid)


def start_daemon(ctr: str, work: str, state: str) -> tuple[int, list[str]]:
    """Start the private containerd beside `ctr` (config in `work`, socket and pid file in
    `state`) and wait until ctr reaches it; (its pid, the ctr argv prefix that talks to
    it). The caller stops it (`stop`).

    Raises:
        LayoutError: no containerd beside `ctr`, or it did not answer in time (its log).
    """
    from infra.targets import open_target

    containerd = os.path.join(os.path.dirname(ctr), "containerd")
    if not os.access(containerd, os.X_OK):
        raise LayoutError(f"{containerd}: missing (the containerd beside {ctr})")
    for d in (work, state):
        os.makedirs(d, exist_ok=True)
    socket = f"{state}/containerd.sock"
    template = _CONFIG if _major(containerd) >= 2 else _CONFIG_V2
    Path(work, "config.toml").write_text(template.format(root=f"{work}/root", state=state))
    try:
        pid = spawn(
            open_target("local"),
            [containerd, "--config", f"{work}/config.toml"],
            f"{state}/containerd.pid",
            f"{work}/containerd.log",
        )
    except ServiceError as exc:
        raise LayoutError(str(exc)) from None
    base = [ctr, "--address", socket, "--namespace", NAMESPACE]
    try:
        wait_until(f"containerd at {socket}", lambda: _answers(base))
    except ServiceError as exc:
        log = _tail(f"{work}/containerd.log")
        stop(work, state, pid)
        raise LayoutError(f"{exc}; its log: {log}") from None
    return pid, base


def stop(work: str, state: str, pid: int = 0) -> None:
    """Stop the daemon (`pid`, else the one its pid file names) and remove `work` and
    `state`. Never raises."""
    from infra.targets import open_target

    if not pid:
        try:
            pid = int(Path(state, "containerd.pid").read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
    if pid:
        # clean-up goes on whatever happens: the sweeper has the rest
        with contextlib.suppress(Exception):
            stop_pid(open_target("local"), pid, grace=10)
    for d in (work, state):
        shutil.rmtree(d, ignore_errors=True)


def _major(containerd: str) -> int:
    """The major version of `containerd --version` (2 when it cannot be read)."""
    version, _ = tool_version(containerd)
    return int(version.split(".")[0]) if version else 2


def _answers(base: list[str]) -> bool:
    res = subprocess.run([*base, "version"], capture_output=True, timeout=10)
    return res.returncode == 0


def _tail(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace").strip()[-400:].replace("\n", " ")
    except OSError:
        return "(none)"
