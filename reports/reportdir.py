"""The report directory: we write only our own files there (docs/architecture.md, Report directory).

A directory is ours when it is new, empty, or holds our marker file. Anything else is
refused before the run starts, so nothing of the user's is overwritten.
"""

from __future__ import annotations

import os

MARKER = ".ocitest-report"
#: the files we write; nothing else in the directory is touched
OUR_FILES = ("results.json", "junit.xml", "report.html", "summary.md", MARKER)


class ReportDirError(Exception):
    """The report directory cannot be used (one line, a usage error)."""


def check_report_dir(path: str) -> str:
    """Make sure `path` can take our report; create it if needed. Returns the absolute path.

    Raises:
        ReportDirError: not a directory, not ours (non-empty without the marker), or not
            writable.
    """
    p = os.path.abspath(path)
    if os.path.exists(p) and not os.path.isdir(p):
        raise ReportDirError(f"--report-dir {path}: exists and is not a directory")
    if os.path.isdir(p):
        entries = os.listdir(p)
        if entries and MARKER not in entries:
            raise ReportDirError(
                f"--report-dir {path}: not empty and not an ocitest report "
                f"directory (no {MARKER}); choose another or empty it"
            )
    try:
        os.makedirs(p, exist_ok=True)
        with open(os.path.join(p, MARKER), "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ReportDirError(
            f"--report-dir {path}: cannot write there: {exc.strerror or exc}"
        ) from None
    if not os.access(p, os.W_OK | os.X_OK):
        raise ReportDirError(f"--report-dir {path}: cannot write there")
    return p
