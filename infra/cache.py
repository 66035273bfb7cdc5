"""Where ocitest keeps what it builds once and reuses across runs (rootfs, VM images,
the pause image; the Go builds live below it too, infra/gobuild.py): $OCITEST_CACHE, else
/var/cache/ocitest. A leaf module, so that targets and images can name it without
importing infra.run (which imports the targets)."""

from __future__ import annotations

import os

CACHE_DIR = os.environ.get("OCITEST_CACHE", "/var/cache/ocitest")
