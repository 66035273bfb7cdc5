#!/usr/bin/python3 -I
"""A deliberately broken image tool for ocitest's self-tests (a mutant, never a subject
of a real run).

Invoked as mutant-NAME (a symlink to this file made by `write`), it runs the real
`skopeo` ($OCITEST_IMAGE_TOOL_BASE, else skopeo on PATH) with its own arguments and,
after a successful `copy ... oci:DEST[:REF]`, applies mutant NAME's damage
(image_tool_mutants.py) to the layout DEST. Other commands (`--version`) go to skopeo
unchanged. To try one by hand: `python3 -m selftest.image_tool_mutant /tmp/im`, then
`./ocitest run suites/oci_image -k "not registry and not conversion"
--image-tool /tmp/im/mutant-no-oci-layout`. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# run as a script (python3 -I): make the checkout importable for the declarations
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))

from selftest.executables import link_entry_points
from selftest.image_tool_mutants import MUTANTS, Layout

#: the script every entry point links to
SCRIPT = Path(__file__).resolve()
#: seconds the wrapped skopeo may take
BASE_TIMEOUT = 100


def write(directory: str | Path) -> dict[str, str]:
    """Create `directory` and an entry point mutant-NAME per image-tool mutant
    (idempotent, atomic per link); NAME -> executable path. Raises OSError."""
    out = Path(directory)
    return link_entry_points({n: out / f"mutant-{n}" for n in MUTANTS}, SCRIPT)


def _dest(args: list[str]) -> Path | None:
    """The layout directory of `copy ... oci:DEST[:REF]` (the last argument)."""
    if "copy" not in args or not args[-1].startswith("oci:"):
        return None
    return Path(args[-1].removeprefix("oci:").split(":", 1)[0])


def main() -> int:
    name = os.path.basename(sys.argv[0]).removeprefix("mutant-")
    base = os.environ.get("OCITEST_IMAGE_TOOL_BASE") or shutil.which("skopeo")
    if name not in MUTANTS or not base:
        sys.stderr.write(f"image_tool_mutant: unknown mutant {name!r} or no skopeo\n")
        return 2
    args = sys.argv[1:]
    try:
        rc = subprocess.run([base, *args], timeout=BASE_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"image_tool_mutant: {base} took over {BASE_TIMEOUT} s\n")
        return 124
    dest = _dest(args)
    if rc != 0 or dest is None:
        return rc
    try:
        MUTANTS[name].damage(Layout(dest))
    except (OSError, LookupError, StopIteration, ValueError) as exc:
        sys.stderr.write(f"image_tool_mutant {name}: the damage failed: {exc}\n")
        return 3
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 2 and os.path.basename(sys.argv[0]) == "image_tool_mutant.py":
        # `python3 -m selftest.image_tool_mutant DIR`: make the entry points
        print(f"{len(write(sys.argv[1]))} image-tool mutants in {sys.argv[1]} (mutant-NAME)")
        sys.exit(0)
    sys.exit(main())
