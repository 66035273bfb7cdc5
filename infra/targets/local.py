"""The local host as a target (testinfra's local backend)."""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

import testinfra

from infra.targets.base import Target, TargetError


class LocalTarget(Target):
    kind = "local"

    def __init__(self, spec: str = "local") -> None:
        if spec != "local":
            raise TargetError(f"--target {spec!r}: the local target takes no argument")
        super().__init__(spec)

    @functools.cached_property
    def host(self):
        return testinfra.get_host("local://")

    def write_text(self, path: str, text: str, mode: int = 0o644) -> None:
        p = Path(path)
        p.write_text(text)
        p.chmod(mode)

    def read_text(self, path: str) -> str:
        return Path(path).read_text(errors="replace")

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def make_dirs(self, path: str, mode: int = 0o755) -> None:
        os.makedirs(path, mode=mode, exist_ok=True)

    def make_null(self, path: str) -> bool:
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod(path, 0o666)  # past the umask
        except OSError:
            return False
        return True
