"""OCI image layouts made by image tools from our reference image, or unpacked from a tar.

The layout kind (infra/kinds/layout.py) calls these once per run, on the harness host:
- `make_layout("ocitest", dest)`: the reference layout itself (reference_layout.py);
- `make_layout("skopeo", dest)`: `skopeo copy --all oci:REF:latest oci:DEST:latest` of
  the reference;
- `make_layout("umoci", dest, rootfs)`: `umoci init/new/insert/config/gc` of the cached
  busybox rootfs (infra/images/rootfs.py);
- `unpack_tar(path, dest)`: a layout given as a tar (plain or compressed).
Every command has a timeout (`TOOL_TIMEOUT`); a failure is a `LayoutError` with the
command and the end of its output, which the kind records for that subject only.
reference_layout (gzip, zstandard) is imported when a layout is made: the kind imports
this module in every pytest process.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

#: seconds per tool command
TOOL_TIMEOUT = 120
#: seconds for `TOOL --version`
VERSION_TIMEOUT = 20
#: the image tools whose layouts are default subjects, in report order
TOOLS = ("skopeo", "umoci")
#: the names that mark a directory (or a tar) as an OCI image layout (image-layout.md)
LAYOUT_NAMES = ("oci-layout", "index.json", "blobs")


class LayoutError(Exception):
    """A layout could not be made or unpacked (one line; the subject's tests end as
    `error` with it)."""


def tool_version(tool: str) -> tuple[str, str]:
    """(the x.y.z in `TOOL --version`, the raw output); ("", output) when none is found."""
    try:
        res = subprocess.run(
            [tool, "--version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired):
        return "", ""
    out = (res.stdout + res.stderr).strip()
    m = re.search(r"(\d+\.\d+\.\d+)", out)
    return (m.group(1) if m else ""), out


def make_layout(maker: str, dest: Path, rootfs: str = "", binary: str = "") -> None:
    """Make the layout of `maker` ("ocitest", "skopeo" or "umoci") in the new directory
    `dest` (its parent exists; a scratch `dest.source` may be used and is removed), running
    `binary` (a program with that tool's command line; default: the tool on PATH).

    Raises:
        LayoutError: the tool failed, timed out or is missing.
    """
    from infra.images.reference_layout import REF_NAME, write_layout

    if maker == "ocitest":
        write_layout(dest)
    elif maker == "skopeo":
        source = dest.with_name(dest.name + ".source")
        write_layout(source)
        try:
            run_tool(
                [
                    binary or "skopeo",
                    "copy",
                    "--all",
                    f"oci:{source}:{REF_NAME}",
                    f"oci:{dest}:{REF_NAME}",
                ]
            )
        finally:
            shutil.rmtree(source, ignore_errors=True)
    elif maker == "umoci":
        _umoci(binary or "umoci", dest, rootfs, REF_NAME)
    else:
        raise LayoutError(f"no layout maker {maker!r} (known: ocitest, {', '.join(TOOLS)})")


def _umoci(umoci: str, dest: Path, rootfs: str, ref_name: str) -> None:
    image = f"{dest}:{ref_name}"
    run_tool([umoci, "init", "--layout", str(dest)])
    run_tool([umoci, "new", "--image", image])
    run_tool([umoci, "insert", "--image", image, rootfs, "/"])
    run_tool(
        [
            umoci,
            "config",
            "--image",
            image,
            "--config.cmd",
            "/bin/sh",
            "--config.env",
            "PATH=/bin",
        ]
    )
    run_tool([umoci, "gc", "--layout", str(dest)])


def unpack_tar(path: str, dest: Path) -> None:
    """Unpack the layout tar `path` into the new directory `dest` (tarfile's `data`
    filter: no absolute names, no links out of `dest`, no device nodes).

    Raises:
        LayoutError: the tar cannot be read or unpacked.
    """
    try:
        with tarfile.open(path) as tar:
            tar.extractall(dest, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise LayoutError(f"{path}: cannot unpack the layout tar: {exc}") from None


def tar_holds_a_layout(path: str) -> bool:
    """Whether the tar at `path` has a top-level oci-layout, index.json or blobs entry
    (reads member headers until one is found). Raises tarfile.TarError or OSError."""
    with tarfile.open(path) as tar:
        for member in tar:
            top = member.name.removeprefix("./").split("/", 1)[0]
            if top in LAYOUT_NAMES:
                return True
    return False


def run_tool(argv: list[str]) -> str:
    """Run an image tool with TOOL_TIMEOUT; its output (stdout and stderr, the last 400
    characters, one line). Raises LayoutError on a timeout, an OSError or a non-zero
    exit (naming the command and the end of its stderr)."""
    cmd = " ".join(argv)
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise LayoutError(f"{cmd}: no answer in {TOOL_TIMEOUT} s") from None
    except OSError as exc:
        raise LayoutError(f"{cmd}: {exc}") from None
    if res.returncode != 0:
        tail = res.stderr.strip()[-400:].replace("\n", " ")
        raise LayoutError(f"{cmd}: exit {res.returncode}: {tail}")
    return (res.stdout + res.stderr).strip()[-400:].replace("\n", " ")
