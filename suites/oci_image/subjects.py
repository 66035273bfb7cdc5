"""Layout subjects: given layouts, and layouts that image tools make from our image.

A tool's layout is made from the reference layout (reference.py) and, for umoci, the
cached busybox rootfs: `skopeo copy oci:REF:latest oci:OUT:latest`, and umoci
init/new/insert/config. Every command has a timeout; a tool that fails makes the
subject's tests `error` with its output. Made layouts land in a directory shared by the
run's xdist workers, once (flock), complete or not at all (rename).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

from infra.subjects import Subject
from suites.oci_image.reference import REF_NAME, write_layout

#: seconds per tool command
TOOL_TIMEOUT = 120
TOOLS = ("skopeo", "umoci")


class LayoutError(Exception):
    """A layout could not be made or opened (the subject's tests end as `error`)."""


def _version(tool: str) -> str:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    m = re.search(r"(\d+\.\d+\.\d+)", out)
    return m.group(1) if m else ""


def layout_subjects(given: list[str]) -> list[Subject]:
    """One subject per given path; without any, the reference and each tool found."""
    if given:
        out, seen = [], set()
        for p in given:
            base = Path(p).name.removesuffix(".tar") or "layout"
            sid, n = base, 2
            while sid in seen:
                sid, n = f"{base}-{n}", n + 1
            seen.add(sid)
            out.append(Subject(kind="layout", id=sid, name=base, path=os.path.abspath(p)))
        return out
    subjects = [
        Subject(kind="layout", id="ocitest-reference", name="ocitest", spec_version="1.1.1")
    ]
    for tool in TOOLS:
        if shutil.which(tool):
            v = _version(tool)
            sid = f"{tool}-{v}" if v else tool
            subjects.append(Subject(kind="image-tool", id=sid, name=tool, version=v))
    return subjects


def prepare(subject: Subject, shared: Path) -> str:
    """The layout directory of `subject`, made or unpacked under `shared` if needed.

    Raises:
        LayoutError: the tool failed or the tar could not be read.
    """
    if subject.kind == "layout" and subject.path and os.path.isdir(subject.path):
        return subject.path
    shared.mkdir(parents=True, exist_ok=True)
    final = shared / subject.id
    with open(shared / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not final.is_dir():
            tmp = shared / (subject.id + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            _make(subject, tmp, shared)
            tmp.rename(final)
    return str(final / "layout")


def _make(subject: Subject, tmp: Path, shared: Path) -> None:
    out = tmp / "layout"
    if subject.kind == "layout" and subject.path:  # a tar
        try:
            with tarfile.open(subject.path) as tar:
                tar.extractall(out, filter="data")
        except (OSError, tarfile.TarError) as exc:
            raise LayoutError(f"{subject.path}: cannot unpack the layout tar: {exc}") from None
    elif subject.name == "ocitest":
        write_layout(out)
    elif subject.name == "skopeo":
        ref = tmp / "source"
        write_layout(ref)
        _run(["skopeo", "copy", "--all", f"oci:{ref}:{REF_NAME}", f"oci:{out}:{REF_NAME}"])
    elif subject.name == "umoci":
        _umoci(out)


def _umoci(out: Path) -> None:
    from infra.images.rootfs import cached_rootfs
    from infra.run import CACHE_DIR
    from infra.targets import open_target

    rootfs = cached_rootfs(open_target("local"), CACHE_DIR)
    image = f"{out}:{REF_NAME}"
    _run(["umoci", "init", "--layout", str(out)])
    _run(["umoci", "new", "--image", image])
    _run(["umoci", "insert", "--image", image, rootfs, "/"])
    _run(
        [
            "umoci",
            "config",
            "--image",
            image,
            "--config.cmd",
            "/bin/sh",
            "--config.env",
            "PATH=/bin",
        ]
    )
    _run(["umoci", "gc", "--layout", str(out)])


def _run(argv: list[str]) -> None:
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise LayoutError(f"{' '.join(argv)}: no answer in {TOOL_TIMEOUT} s") from None
    except OSError as exc:
        raise LayoutError(f"{' '.join(argv)}: {exc}") from None
    if res.returncode != 0:
        raise LayoutError(f"{' '.join(argv)}: exit {res.returncode}: {res.stderr.strip()[-400:]}")
