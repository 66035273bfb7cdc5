"""The converter driver: one image converted to a runtime bundle by a converter subject
(infra/kinds/converter.py), its config.json read back (image-spec conversion.md).

`convert(subject, layout, ref, bundle, ctr_base)` runs, for a umoci subject, `PROG unpack
--image LAYOUT:REF BUNDLE` (`--rootless` when not root) and reads BUNDLE/config.json; for
a ctr subject (`ctr_base`: the argv prefix that talks to its private containerd), with
BUNDLE as scratch: `ctr images import --all-platforms --no-unpack` of the layout as a tar
under a name of its own, `ctr run --platform P --snapshotter native --runtime
io.containerd.ocitest-none.v1 IMAGE ID` (P: the image config's os/architecture/variant,
as ctr needs it for an image not of the host's platform; containerd writes the
container and its spec, resolving the user in the unpacked rootfs, then fails to start
the task: no such runtime, so nothing runs), `ctr containers info --spec ID`, and
removes the container (its snapshot) again (the image stays in that containerd until
the kind stops it: infra/drivers/ctr_convert.py says why). Every command has a timeout;
BUNDLE is removed also on failure or timeout, so nothing else a conversion wrote outlives the
call. The conversion's command (`unpack`, `run`) is the Evidence record; a ctr record
notes the other commands.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from infra.drivers.ctr_convert import convert_ctr
from infra.evidence import Evidence
from infra.subjects import Subject

#: seconds one conversion may take (a tiny image: well under a second here)
CONVERT_TIMEOUT = 60


@dataclass
class Conversion:
    """What one conversion gave.

    Attributes:
        config: the runtime config.json as a dict, or None when there is none.
        evidence: the command, its exit status and output.
        error: "" when the converter exited 0 and wrote a readable config.json, else why
            not (one line: exit status and stderr's end, or the read error).
    """

    config: dict | None
    evidence: Evidence
    error: str = ""

    @property
    def failed(self) -> bool:
        """The converter exited non-zero (it refused the image)."""
        return self.evidence.exit_status not in (0, None)


def convert(
    subject: Subject,
    layout: Path,
    ref: str,
    bundle: Path,
    ctr_base: list[str] | None = None,
    ctr_why: str = "",
    timeout: int = CONVERT_TIMEOUT,
) -> Conversion:
    """Convert image `ref` of the layout directory `layout` into the new directory
    `bundle` (its parent exists) with `subject`; `bundle` is gone when this returns.
    `ctr_base`: for a ctr subject, the argv prefix that reaches its containerd (None:
    the conversion is an error naming `ctr_why`, why there is none)."""
    if subject.name == "ctr":
        return Conversion(*convert_ctr(ctr_base, ctr_why, layout, ref, bundle, timeout))
    argv = [subject.path, "unpack"]
    if os.geteuid() != 0:
        argv.append("--rootless")
    argv += ["--image", f"{layout}:{ref}", str(bundle)]
    ev = Evidence(command=" ".join(argv), exit_status=None)
    start = time.monotonic()
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        ev.exit_status, ev.stdout, ev.stderr = res.returncode, res.stdout, res.stderr
    except subprocess.TimeoutExpired:
        ev.note = f"timed out after {timeout} s"
    except OSError as exc:
        ev.note = f"could not run: {exc}"
    try:
        ev.duration = round(time.monotonic() - start, 3)
        if ev.exit_status is None:
            return Conversion(None, ev, ev.note)
        if ev.exit_status != 0:
            tail = ev.stderr.strip()[-300:].replace("\n", " ")
            return Conversion(None, ev, f"exit status {ev.exit_status}: {tail}")
        try:
            with open(bundle / "config.json", encoding="utf-8") as fh:
                return Conversion(json.load(fh), ev)
        except (OSError, ValueError) as exc:
            return Conversion(None, ev, f"no readable {bundle}/config.json: {exc}")
    finally:
        shutil.rmtree(bundle, ignore_errors=True)
