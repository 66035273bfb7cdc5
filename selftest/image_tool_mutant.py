#!/usr/bin/python3 -I
"""A deliberately broken image tool for ocitest's self-tests (a mutant, never a subject
of a real run).

Invoked as mutant-NAME (a symlink to this file made by `write`), it runs the real
`skopeo` ($OCITEST_IMAGE_TOOL_BASE, else skopeo on PATH) with its own arguments and,
after a successful `copy ... oci:DEST[:REF]`, applies mutant NAME's damage
(image_tool_mutants.py) to the layout DEST. Other commands (`--version`) go to skopeo
unchanged. A ctr mutant is invoked as mutant-NAME/ctr, beside a `containerd` symlink to
the real containerd (the layout kind starts that one); it runs the real ctr beside that
containerd and, after a successful `images export ... ARCHIVE ...`, unpacks ARCHIVE,
applies the damage and packs it again. To try one by hand: `python3 -m selftest.image_tool_mutant /tmp/im`, then
`./ocitest run suites/oci_image -k "not registry and not conversion"
--image-tool /tmp/im/mutant-no-oci-layout`. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

# run as a script (python3 -I): make the checkout importable for the declarations
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))

from selftest.executables import link_entry_points
from selftest.image_tool_mutants import MUTANTS, Layout

#: the script every entry point links to
SCRIPT = Path(__file__).resolve()
#: seconds the wrapped skopeo may take
BASE_TIMEOUT = 100


def write(directory: str | Path, containerd: str = "") -> dict[str, str]:
    """Create `directory` and an entry point mutant-NAME per image-tool mutant, for a
    ctr mutant mutant-NAME/ctr beside a `containerd` symlink to `containerd` (none made
    without it) (idempotent, atomic per link); NAME -> executable path. Raises OSError."""
    out = Path(directory)
    links = {n: out / f"mutant-{n}" for n, m in MUTANTS.items() if m.base != "ctr"}
    if containerd:
        for n, m in MUTANTS.items():
            if m.base == "ctr":
                links[n] = out / f"mutant-{n}" / "ctr"
                beside = links[n].with_name("containerd")
                beside.parent.mkdir(parents=True, exist_ok=True)
                if not beside.is_symlink():
                    beside.symlink_to(containerd)
    return link_entry_points(links, SCRIPT)


def _archive(args: list[str]) -> Path | None:
    """The archive of `images export [FLAGS] ARCHIVE REF...` (the first operand)."""
    if "export" not in args:
        return None
    operands = [a for a in args[args.index("export") + 1 :] if not a.startswith("-")]
    return Path(operands[0]) if operands else None


def _damage_archive(name: str, archive: Path) -> None:
    """Unpack `archive`, apply mutant `name`'s damage, pack it again (same path)."""
    work = archive.with_name(archive.name + ".mutant")
    shutil.rmtree(work, ignore_errors=True)
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for m in members:  # the system python (3.11.2) has no extraction filters
                parts = Path(m.name).parts
                if m.name.startswith("/") or ".." in parts or not (m.isfile() or m.isdir()):
                    raise ValueError(f"{archive}: unexpected member {m.name!r}")
            tar.extractall(work, members=members)
        MUTANTS[name].damage(Layout(work))
        with tarfile.open(archive, "w") as tar:
            for entry in sorted(work.iterdir()):
                tar.add(entry, arcname=entry.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _dest(args: list[str]) -> Path | None:
    """The layout directory of `copy ... oci:DEST[:REF]` (the last argument)."""
    if "copy" not in args or not args[-1].startswith("oci:"):
        return None
    return Path(args[-1].removeprefix("oci:").split(":", 1)[0])


def main() -> int:
    entry = os.path.abspath(sys.argv[0])
    ctr = os.path.basename(entry) == "ctr"
    if ctr:  # mutant-NAME/ctr: the real ctr is the one beside the real containerd
        name = os.path.basename(os.path.dirname(entry)).removeprefix("mutant-")
        real = os.path.realpath(os.path.join(os.path.dirname(entry), "containerd"))
        base = os.path.join(os.path.dirname(real), "ctr")
    else:
        name = os.path.basename(entry).removeprefix("mutant-")
        base = os.environ.get("OCITEST_IMAGE_TOOL_BASE") or shutil.which("skopeo")
    if name not in MUTANTS or not base or (MUTANTS[name].base == "ctr") != ctr:
        sys.stderr.write(f"image_tool_mutant: unknown mutant {name!r} or no base tool\n")
        return 2
    args = sys.argv[1:]
    try:
        rc = subprocess.run([base, *args], timeout=BASE_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"image_tool_mutant: {base} took over {BASE_TIMEOUT} s\n")
        return 124
    if ctr:
        archive = _archive(args)
        if rc != 0 or archive is None:
            return rc
        try:
            _damage_archive(name, archive)
        except (OSError, LookupError, ValueError, tarfile.TarError) as exc:
            sys.stderr.write(f"image_tool_mutant {name}: the damage failed: {exc}\n")
            return 3
        return 0
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
