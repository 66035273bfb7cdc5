"""ocitest as an installed distribution: where its harness lives, and how to import it.

The harness (the `infra`, `reports` and `suites` packages, the catalogues, schemas,
templates, the probe's C source, the pytest configuration) is package data of
`ocitest.harness`: a wheel installs it as site-packages/ocitest/harness/ and drops no
top-level `infra`, `reports` or `suites` package. The harness code imports itself by
absolute names (`import infra.plugin`), so `use_harness()` puts that directory on
sys.path first. In a checkout the harness directory is the checkout itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["harness_dir", "use_harness"]


def harness_dir() -> Path:
    """The directory that holds infra/, reports/, suites/ and the pytest config: the
    package's harness/ in an installed wheel, else the checkout this package is in.

    Raises:
        RuntimeError: neither exists (a broken install).
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "harness", here.parent.parent):
        if (candidate / "infra" / "plugin.py").is_file():
            return candidate
    raise RuntimeError(f"ocitest: no harness beside {here} (reinstall ocitest)")


def use_harness() -> Path:
    """Put the harness directory first on sys.path (once) and return it, so that
    `import infra`, `import reports` and `import suites` find the harness's packages."""
    root = str(harness_dir())
    if root not in sys.path:
        sys.path.insert(0, root)
    return Path(root)
