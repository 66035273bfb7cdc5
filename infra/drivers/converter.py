"""The converter driver: one image converted to a runtime bundle by a converter subject
(infra/kinds/converter.py), its config.json read back (image-spec conversion.md).

`convert(subject, layout, ref, bundle)` runs `PROG unpack --image LAYOUT:REF BUNDLE`
(umoci's command line; `--rootless` when not root) with a timeout, reads
BUNDLE/config.json and removes BUNDLE (also on failure or timeout), so nothing a
conversion wrote outlives the call. The command is one Evidence record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

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
    subject: Subject, layout: Path, ref: str, bundle: Path, timeout: int = CONVERT_TIMEOUT
) -> Conversion:
    """Convert image `ref` of the layout directory `layout` into the new directory
    `bundle` (its parent exists) with `subject`; `bundle` is gone when this returns."""
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
