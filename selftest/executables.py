"""The runtime mutants' entry points, generated (never committed): DIR/mutant-KEY, one
symlink per runtime mutant to runtime_mutant.py, which picks the mutant by that name.

The self-tests make them in their run directory (tests/conftest.py, `mutant_exe`); to
try a mutant by hand: `python -m selftest.executables /tmp/mutants`, then
`pytest suites/oci_runtime --runtime /tmp/mutants/mutant-kill-wrong-signal`.
Standard library only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from selftest.declare import load

#: the script every entry point links to
SCRIPT = Path(__file__).resolve().with_name("runtime_mutant.py")


def write(directory: str | Path) -> dict[str, str]:
    """Create `directory` and its entry points (idempotent; safe when several processes
    make the same ones at once); registry key -> executable path. Raises OSError."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, m in load("runtime").items():
        link = Path(m.executable(out))
        if not (link.is_symlink() and os.readlink(link) == str(SCRIPT)):
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(SCRIPT)
            tmp.replace(link)  # atomic: a concurrent reader sees the old or the new link
        paths[key] = str(link)
    return paths


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m selftest.executables DIR\n")
        return 4
    paths = write(argv[0])
    print(f"{len(paths)} runtime mutants in {argv[0]} (mutant-KEY)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
