"""A large, valid OCI image layout for the validation benchmark (test_layout_bench.py).

`write_big_layout(dest, mib)` writes one image of about `mib` MiB of layer content:
LAYERS layers alternating gzip and uncompressed tar, each a directory and files of
seeded pseudo-random bytes (at most FILE_MIB each, so gzip cannot shrink them), plus its
config, manifest, index.json and oci-layout. Everything is streamed to disk (never held
whole in memory); blob digests and diff_ids are hashed while writing. The same `mib`
and `seed` give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import tarfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
#: layers of the image, compressions in turn
LAYERS = ("gzip", "tar", "gzip", "tar")
#: largest file in a layer, MiB
FILE_MIB = 64
MIB = 1 << 20


@dataclass
class BigLayout:
    """The written layout: its root, its blob files and their total size (bytes)."""

    root: Path
    blobs: list[Path]

    @property
    def blob_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.blobs)


class _Hashing:
    """A write-only file that hashes (sha256) and counts what passes through it."""

    def __init__(self, f) -> None:
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def write(self, b) -> int:
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)

    def flush(self) -> None:
        self.f.flush()


class _Random:
    """`size` seeded pseudo-random bytes, as a readable file."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng, self.left = rng, size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return self.rng.randbytes(n)


def _layer(blobs: Path, index: int, compression: str, size: int, rng: random.Random) -> tuple[dict, str]:  # fmt: skip
    """Write one layer blob; (its descriptor, its diff_id)."""
    tmp = blobs / f".layer-{index}.tmp"
    with open(tmp, "wb") as f:
        blob = _Hashing(f)
        gz = gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=1, mtime=0) if compression == "gzip" else None  # fmt: skip
        raw = _Hashing(gz) if gz else blob
        with tarfile.open(fileobj=raw, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            d = tarfile.TarInfo(f"layer{index}")
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(d)
            done, j = 0, 0
            while done < size:
                n = min(FILE_MIB * MIB, size - done)
                ti = tarfile.TarInfo(f"layer{index}/file{j}.bin")
                ti.size, ti.mode, ti.mtime = n, 0o644, 0
                tar.addfile(ti, _Random(rng, n))
                done, j = done + n, j + 1
        if gz:
            gz.close()
    digest = blob.h.hexdigest()
    tmp.rename(blobs / digest)
    media = LAYER + ("+gzip" if compression == "gzip" else "")
    return {"mediaType": media, "digest": f"sha256:{digest}", "size": blob.n}, f"sha256:{raw.h.hexdigest()}"  # fmt: skip


def _json_blob(blobs: Path, obj: dict, media: str) -> dict:
    data = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"mediaType": media, "digest": f"sha256:{digest}", "size": len(data)}


def write_big_layout(dest: Path, mib: int, seed: int = 1) -> BigLayout:
    """Write the layout into `dest` (created; must not hold a layout already).

    Raises:
        ValueError: `mib` below 1.
        OSError: `dest` cannot be written.
    """
    if mib < 1:
        raise ValueError(f"layout size {mib} MiB: at least 1")
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    rng = random.Random(seed)
    total = mib * MIB
    sizes = [total // len(LAYERS)] * len(LAYERS)
    sizes[-1] += total - sum(sizes)
    layers, diff_ids = [], []
    for i, (comp, size) in enumerate(zip(LAYERS, sizes, strict=True)):
        desc, diff_id = _layer(blobs, i, comp, size, rng)
        layers.append(desc)
        diff_ids.append(diff_id)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"ocitest benchmark layer {i}"} for i in range(len(LAYERS))],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": _json_blob(blobs, config, CONFIG),
        "layers": layers,
    }
    mdesc = _json_blob(blobs, manifest, MANIFEST)
    mdesc["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
    mdesc["platform"] = {"architecture": "amd64", "os": "linux"}
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [mdesc]}
    (dest / "index.json").write_text(json.dumps(index, sort_keys=True))
    (dest / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return BigLayout(dest, sorted(p for p in blobs.iterdir() if not p.name.startswith(".")))


def free_bytes(path: Path) -> int:
    """Bytes free for an unprivileged writer on the filesystem of `path`."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize
