"""The image-layout validators compared on the corpus: ocitest's and two peers.

Each validator is a small class with `name`, `label`, `version()`, `missing()` (why it
cannot run here, or "") and `run(layout, rid) -> Verdict`:

- `Ocitest`: suites/oci_image/validate's `judge()`; a layout counts as caught when a
  finding names the case's requirement `rid` (for the reference, `rid` is "": any
  finding is a false positive). The ids found are kept in the verdict.
- `OciImageTool`: Debian's oci-image-tool (image-spec 1.0.0-rc1 era),
  `oci-image-tool validate --type image LAYOUT`, every ref (`mode="all"`) or the
  `latest` ref only (`mode="ref"`); caught = exit status not 0.
- `Crane`: go-containerregistry's crane (infra/gobuild.py build "ggcr"). `crane validate`
  reads only a docker tarball or a registry reference, so the layout is first pushed
  whole (`crane push --index LAYOUT REF`) to ggcr's own in-memory `registry` on
  127.0.0.1 (`CraneRegistry`, one per comparison), then `crane validate --remote REF`
  (`fast=True` adds `--fast`: no layer digesting). Caught = the push or the validate
  exits non-zero; the verdict's `stage` says which.

Every command has a timeout (`TIMEOUT` seconds); a timeout is not a catch.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from infra import gobuild
from infra.wait import WaitTimeout, wait_until
from suites.oci_image.validate import judge

#: seconds allowed to one peer command
TIMEOUT = 30
#: seconds allowed to the registry to answer GET /v2/
REGISTRY_READY = 15


@dataclass
class Verdict:
    """What one validator said about one layout.

    Attributes:
        caught: the validator rejected the layout.
        stage: "validate", "push" (crane's upload failed), "timeout".
        rc: the exit status of the deciding command (None for ocitest and a timeout).
        message: the validator's error, one line (at most 1000 characters).
        seconds: wall time of the validator's commands.
        ids: ocitest only: the requirement ids it found broken.
    """

    caught: bool
    stage: str = "validate"
    rc: int | None = None
    message: str = ""
    seconds: float = 0.0
    ids: list[str] = field(default_factory=list)


def _run(cmd: list[str]) -> tuple[int | None, str, str, float]:
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {TIMEOUT} s", time.monotonic() - t0
    return p.returncode, p.stdout, p.stderr, time.monotonic() - t0


def _error_line(stdout: str, stderr: str) -> str:
    """The tool's own error in one line: logrus's msg="...", cobra's "Error: ...", else
    the last line it printed."""
    for line in reversed(stderr.splitlines()):
        m = re.search(r'msg="(.*)"', line)
        if m:
            return m.group(1).replace("\\n", " ").replace('\\"', '"')[:1000]
        if line.startswith("Error: "):
            return line[7:][:1000]
    lines = [x for x in (stderr + "\n" + stdout).splitlines() if x.strip()]
    return lines[-1][:1000] if lines else ""


class Ocitest:
    """ocitest's own validator, in this process."""

    name, label = "ocitest", "ocitest"

    def __init__(self, schema_dir: str) -> None:
        self.schema_dir = schema_dir

    def version(self) -> str:
        from infra.version import harness_version

        return harness_version()

    def missing(self) -> str:
        return ""

    def run(self, layout: Path, rid: str) -> Verdict:
        t0 = time.monotonic()
        got = judge(layout, self.schema_dir)
        ids = sorted(got.by_id)
        named = got.findings(rid) if rid else [f for i in ids for f in got.findings(i)]
        return Verdict(
            caught=bool(named),
            message=(f"{named[0].rid}: {named[0]}"[:1000] if named else ""),
            seconds=time.monotonic() - t0,
            ids=ids,
        )


class OciImageTool:
    """Debian's oci-image-tool; `mode` "all" validates every ref, "ref" only `latest`."""

    def __init__(self, mode: str = "all") -> None:
        self.mode = mode
        self.name = "oci-image-tool" if mode == "all" else "oci-image-tool-ref"
        self.label = "oci-image-tool" if mode == "all" else "oci-image-tool --ref name=latest"

    def version(self) -> str:
        rc, out, _, _ = _run(["oci-image-tool", "--version"])
        return out.strip().rsplit(" ", 1)[-1] if rc == 0 else ""

    def missing(self) -> str:
        if shutil.which("oci-image-tool"):
            return ""
        return "oci-image-tool is not installed (Debian package oci-image-tool; ./ocitest setup installs it)"

    def command(self, layout: Path) -> list[str]:
        ref = ["--ref", "name=latest"] if self.mode == "ref" else []
        return ["oci-image-tool", "validate", "--type", "image", *ref, str(layout)]

    def run(self, layout: Path, rid: str) -> Verdict:
        rc, out, err, secs = _run(self.command(layout))
        if rc is None:
            return Verdict(False, "timeout", None, err, secs)
        return Verdict(rc != 0, "validate", rc, _error_line(out, err) if rc else "", secs)


class CraneRegistry:
    """ggcr's in-memory `registry` on 127.0.0.1, for `crane validate --remote`: a
    context manager; the process is killed on exit. Raises WaitTimeout when it does not
    answer GET /v2/ within REGISTRY_READY seconds."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        self.host = ""

    def __enter__(self) -> CraneRegistry:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.host = f"127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [self.binary, "-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(f"ggcr registry on {self.host}", self._ready, REGISTRY_READY)
        except WaitTimeout:
            self.__exit__(None, None, None)
            raise
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Crane:
    """crane push + crane validate --remote (`fast`: with --fast)."""

    def __init__(self, bindir: str | None, registry: CraneRegistry | None, fast: bool = False):
        self.bindir, self.registry, self.fast = bindir, registry, fast
        self.name = "crane-fast" if fast else "crane"
        self.label = "crane validate --fast" if fast else "crane validate"
        self._pushed: dict[str, Verdict | str] = {}

    @property
    def crane(self) -> str:
        return str(Path(self.bindir or "") / "crane")

    def version(self) -> str:
        rc, out, _, _ = _run([self.crane, "version"])
        return out.strip() if rc == 0 else ""

    def missing(self) -> str:
        if self.bindir is None:
            return (
                "crane is not built (OCITEST_GO_BUILDS=ggcr ./ocitest setup builds "
                "go-containerregistry v0.22.1; it needs Go)"
            )
        return ""

    def push(self, layout: Path) -> Verdict | str:
        """The pushed reference, or the push's failing Verdict (once per layout)."""
        key = str(layout)
        if key not in self._pushed:
            assert self.registry is not None
            ref = f"{self.registry.host}/ocitest/{layout.name.lower()}:latest"
            rc, out, err, secs = _run([self.crane, "push", "--index", key, ref])
            if rc is None:
                self._pushed[key] = Verdict(False, "timeout", None, err, secs)
            elif rc != 0:
                self._pushed[key] = Verdict(True, "push", rc, _error_line(out, err), secs)
            else:
                self._pushed[key] = ref
        return self._pushed[key]

    def run(self, layout: Path, rid: str) -> Verdict:
        pushed = self.push(layout)
        if isinstance(pushed, Verdict):
            return pushed
        fast = ["--fast"] if self.fast else []
        rc, out, err, secs = _run([self.crane, "validate", *fast, "--remote", pushed])
        if rc is None:
            return Verdict(False, "timeout", None, err, secs)
        return Verdict(rc != 0, "validate", rc, _error_line(out, err) if rc else "", secs)


def crane_bindir() -> str | None:
    """The bin/ directory of the ggcr build (crane, registry), or None."""
    return gobuild.built_dir("ggcr")


def normalised(message: str, layout: Path) -> str:
    """`message` with what differs between layouts taken out (paths, digests, repository
    names), so that two layouts rejected for the same reason compare equal."""
    out = message.replace(str(layout), "LAYOUT")
    out = re.sub(r"[a-f0-9]{64,128}", "HEX", out)
    out = re.sub(r"127\.0\.0\.1:\d+/ocitest/[a-z0-9._-]+", "REF", out)
    return out
