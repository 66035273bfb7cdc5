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


def link_entry_points(links: dict[str, Path], script: Path) -> dict[str, str]:
    """Make each path of `links` (name -> path) a symlink to `script` (idempotent; safe
    when several processes make the same ones at once); name -> path. Raises OSError."""
    paths = {}
    for name, link in links.items():
        link.parent.mkdir(parents=True, exist_ok=True)
        if not (link.is_symlink() and os.readlink(link) == str(script)):
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(script)
            tmp.replace(link)  # atomic: a concurrent reader sees the old or the new link
        paths[name] = str(link)
    return paths


def write(directory: str | Path) -> dict[str, str]:
    """Create `directory` and its entry points; registry key -> executable path. Raises
    OSError."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    links = {key: Path(m.executable(out)) for key, m in load("runtime").items()}
    return link_entry_points(links, SCRIPT)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m selftest.executables DIR\n")
        return 4
    paths = write(argv[0])
    print(f"{len(paths)} runtime mutants in {argv[0]} (mutant-KEY)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
