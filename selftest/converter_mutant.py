#!/usr/bin/python3 -I
"""A deliberately broken image converter for ocitest's self-tests (a mutant, never a
subject of a real run).

Invoked as mutant-NAME (a symlink to this file made by `write`), it runs the real
`umoci` ($OCITEST_CONVERTER_BASE, else umoci on PATH) with its own arguments and, after
a successful `unpack --image LAYOUT:REF BUNDLE`, applies mutant NAME's edit
(converter_mutants.py) to BUNDLE/config.json. Other commands (`--version`) go to umoci
unchanged. To try one by hand: `python3 -m selftest.converter_mutant /tmp/cm`, then
`./ocitest run suites/oci_image/test_conversion.py --converter /tmp/cm/mutant-drops-env`.
Standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# run as a script (python3 -I): make the checkout importable for the declarations
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))

from selftest.converter_mutants import MUTANTS, Accepted, Image, Refused
from selftest.executables import link_entry_points

#: the script every entry point links to
SCRIPT = Path(__file__).resolve()
#: seconds the wrapped umoci may take
BASE_TIMEOUT = 50


def write(directory: str | Path) -> dict[str, str]:
    """Create `directory` and an entry point mutant-NAME per converter mutant
    (idempotent, atomic per link); NAME -> executable path. Raises OSError."""
    out = Path(directory)
    return link_entry_points({n: out / f"mutant-{n}" for n in MUTANTS}, SCRIPT)


def _blob(layout: Path, digest: str) -> dict:
    algo, _, hexpart = digest.partition(":")
    return json.loads((layout / "blobs" / algo / hexpart).read_text())


def _image(spec: str, bundle: Path) -> Image:
    """The image `spec` (LAYOUT:REF) names and the passwd of the unpacked rootfs."""
    layout, _, ref = spec.rpartition(":")
    index = json.loads((Path(layout) / "index.json").read_text())
    desc = next(
        d
        for d in index["manifests"]
        if (d.get("annotations") or {}).get("org.opencontainers.image.ref.name") == ref
    )
    manifest = _blob(Path(layout), desc["digest"])
    config = _blob(Path(layout), manifest["config"]["digest"])
    passwd: dict[str, tuple[int, int]] = {}
    try:
        for line in (bundle / "rootfs" / "etc" / "passwd").read_text().splitlines():
            parts = line.split(":")
            if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
                passwd[parts[0]] = (int(parts[2]), int(parts[3]))
    except OSError:
        pass
    return Image(config, manifest.get("annotations") or {}, passwd)


def main() -> int:
    name = os.path.basename(sys.argv[0]).removeprefix("mutant-")
    base = os.environ.get("OCITEST_CONVERTER_BASE") or shutil.which("umoci")
    if name not in MUTANTS or not base:
        sys.stderr.write(f"converter_mutant: unknown mutant {name!r} or no umoci\n")
        return 2
    args = sys.argv[1:]
    try:
        rc = subprocess.run([base, *args], timeout=BASE_TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"converter_mutant: {base} took over {BASE_TIMEOUT} s\n")
        return 124
    if "unpack" not in args or "--image" not in args:
        return rc
    m, bundle = MUTANTS[name], Path(args[-1])
    if (rc != 0) != m.on_failure:
        return rc
    cfg_path = bundle / "config.json"
    cfg = json.loads(cfg_path.read_text()) if rc == 0 else {}
    try:
        m.edit(cfg, _image(args[args.index("--image") + 1], bundle))
    except Refused as exc:
        sys.stderr.write(f"converter_mutant {name}: {exc}\n")
        return 1
    except Accepted as exc:
        cfg = exc.args[0]
        bundle.mkdir(parents=True, exist_ok=True)
        rc = 0
    if rc == 0:
        cfg_path.write_text(json.dumps(cfg, indent=2))
    return rc


if __name__ == "__main__":
    if len(sys.argv) == 2 and os.path.basename(sys.argv[0]) == "converter_mutant.py":
        # `python3 -m selftest.converter_mutant DIR`: make the entry points
        print(f"{len(write(sys.argv[1]))} converter mutants in {sys.argv[1]} (mutant-NAME)")
        sys.exit(0)
    sys.exit(main())
