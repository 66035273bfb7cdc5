#!/usr/bin/python3 -I
"""A deliberately broken OCI runtime for ocitest's self-tests (a mutant, never a subject).

Each mutant wraps a real runtime and breaks exactly one behaviour. The mutant is chosen
by the name this script is invoked as, mutant-KEY (KEY: the mutant's registry key, e.g.
mutant-kill-wrong-signal wrapping runc, mutant-crun-skips-poststart-hooks wrapping crun):
a symlink to this file that executables.py generates. The declaring modules (see
declare.py) say what each one breaks and which tests must catch it. Standard library
only.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys

# run as a script (python3 -I): make the checkout importable for the declarations
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))

from selftest.declare import Mutant, load


def mutant_of(argv0: str) -> Mutant | None:
    """The runtime mutant an entry point named `argv0` (".../mutant-KEY") stands for."""
    key = os.path.basename(argv0).removeprefix("mutant-")
    return load("runtime").get(key)


def main() -> int:
    m = mutant_of(sys.argv[0])
    base = shutil.which(m.base) if m is not None else ""
    if m is None or not base:
        key = os.path.basename(sys.argv[0]).removeprefix("mutant-")
        sys.stderr.write(f"runtime_mutant: unknown mutant {key!r} or no base runtime\n")
        return 2
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return m.behaviour(base, sys.argv[1:]).run()


if __name__ == "__main__":
    sys.exit(main())
