"""The reference layout: a tiny, deterministic, valid OCI image layout made by our code.

`write_layout(dest, edit)` writes it; `edit(stage, obj)` may change each piece before
it is serialised (and so make a broken layout: suites/oci_image/corpus.py). Stages:
  layers (list[LayerSpec]), layer-blobs (list[bytes]), config (dict), manifest (dict),
  manifest-bytes, artifact (dict: an artifact manifest whose subject is the image),
  index (dict: a nested index listing the image), index.json (dict), oci-layout (dict),
  files ((root Path, Digests) after everything is written).
An edit returns the replacement object, or None to keep the (possibly mutated) one.
Layers: a gzip base (files, a hard link, a symlink, a fifo), a gzip layer with an
explicit whiteout, a plain tar layer. Nothing is pulled from anywhere. The layout kind
(infra/kinds/layout.py) makes its `ocitest-reference` subject and the image tools'
layouts from it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"
TYPES = {"tar": LAYER, "gzip": LAYER + "+gzip", "zstd": LAYER + "+zstd"}
REF_NAME = "latest"
Edit = Callable[[str, object], object]


@dataclass
class Entry:
    """A tar entry: kind is file, dir, sym, link or fifo; target for sym and link."""

    name: str
    kind: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644


@dataclass
class LayerSpec:
    """One layer: its compression (tar, gzip, zstd) and entries in archive order."""

    compression: str
    entries: list[Entry]
    media_type: str = ""  # "" -> TYPES[compression]


@dataclass
class Digests:
    """Digests of what was written (for edits of the files stage)."""

    layers: list[str] = field(default_factory=list)
    config: str = ""
    manifest: str = ""
    artifact: str = ""
    index: str = ""


def base_layers() -> list[LayerSpec]:
    """The reference image's three layers (bottom first)."""
    return [
        LayerSpec(
            "gzip",
            [
                Entry("bin/", "dir", mode=0o755),
                Entry("bin/hello", data=b"#!/bin/sh\necho hello\n", mode=0o755),
                Entry("bin/hi", "sym", target="hello"),
                Entry("etc/", "dir", mode=0o755),
                Entry("etc/hostname", data=b"ocitest\n"),
                Entry("etc/old.conf", data=b"old\n"),
                Entry("etc/hostname.bak", "link", target="etc/hostname"),
                Entry("run/", "dir", mode=0o755),
                Entry("run/fifo", "fifo"),
            ],
        ),
        LayerSpec(
            "gzip",
            [
                Entry("etc/", "dir", mode=0o755),
                Entry("etc/.wh.old.conf"),
                Entry("etc/new.conf", data=b"new\n"),
            ],
        ),
        LayerSpec("tar", [Entry("srv/", "dir", mode=0o755), Entry("srv/data", data=b"data\n")]),
    ]


def tar_bytes(entries: list[Entry]) -> bytes:
    """A deterministic tar (mtime 0, root owner) of `entries`, in order."""
    buf = io.BytesIO()
    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE}
    kinds |= {"link": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE}
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.mode, info.mtime = kinds[e.kind], e.mode, 0
            info.linkname = e.target
            info.size = len(e.data) if e.kind == "file" else 0
            tar.addfile(info, io.BytesIO(e.data) if e.kind == "file" else None)
    return buf.getvalue()


def compress(raw: bytes, compression: str) -> bytes:
    """`raw` as a tar, tar+gzip (mtime 0) or tar+zstd blob."""
    if compression == "gzip":
        return gzip.compress(raw, compresslevel=6, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(raw)
    return raw


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def write_blob(root: Path, data: bytes) -> str:
    """Store `data` under blobs/sha256/; its digest."""
    d = sha256(data)
    p = root / "blobs" / "sha256" / d.split(":", 1)[1]
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return d


def desc(media_type: str, content: bytes, **extra) -> dict:
    """A descriptor of `content` (extra fields: platform, annotations, data, ...)."""
    return {"mediaType": media_type, "digest": sha256(content), "size": len(content), **extra}


def _keep(stage: str, obj: object) -> None:
    return None


def write_layout(dest: Path, edit: Edit = _keep) -> Digests:
    """Write the reference layout into the new directory `dest` (see module docstring)."""

    def step(stage: str, obj: object) -> object:
        new = edit(stage, obj)
        return obj if new is None else new

    dest.mkdir(parents=True)
    (dest / "blobs" / "sha256").mkdir(parents=True)
    dg = Digests()
    layers = step("layers", base_layers())
    raws = [tar_bytes(spec.entries) for spec in layers]
    blobs = step(
        "layer-blobs", [compress(r, s.compression) for r, s in zip(raws, layers, strict=True)]
    )
    dg.layers = [write_blob(dest, b) for b in blobs]
    config = step(
        "config",
        {
            "created": "2025-02-01T00:00:00Z",
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Cmd": ["/bin/hello"],
                "Env": ["PATH=/bin"],
                "Labels": {"org.example.suite": "oci-image"},
            },
            "rootfs": {"type": "layers", "diff_ids": [sha256(r) for r in raws]},
            "history": [{"created_by": f"ocitest layer {i}"} for i in range(len(raws))]
            + [{"created_by": "ocitest config", "empty_layer": True}],
        },
    )
    config_bytes = config if isinstance(config, bytes) else _json(config)
    dg.config = write_blob(dest, config_bytes)
    manifest = step(
        "manifest",
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": desc(CONFIG, config_bytes),
            "layers": [
                desc(s.media_type or TYPES[s.compression], b)
                for s, b in zip(layers, blobs, strict=True)
            ],
            "annotations": {"org.opencontainers.image.created": "2025-02-01T00:00:00Z"},
        },
    )
    mbytes = step("manifest-bytes", _json(manifest))
    dg.manifest = write_blob(dest, mbytes)
    platform = {"architecture": "amd64", "os": "linux"}
    write_blob(dest, b"{}")
    sbom = b'{"sbom":"none"}'
    write_blob(dest, sbom)
    artifact = step(
        "artifact",
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": "application/vnd.example.sbom.v1+json",
            "config": desc(EMPTY, b"{}", data="e30="),
            "layers": [desc("application/vnd.example.sbom.v1+json", sbom)],
            "subject": desc(MANIFEST, mbytes),
        },
    )
    abytes = _json(artifact)
    dg.artifact = write_blob(dest, abytes)
    index = step(
        "index",
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [desc(MANIFEST, mbytes, platform=platform)],
        },
    )
    ibytes = _json(index)
    dg.index = write_blob(dest, ibytes)
    top = step(
        "index.json",
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [
                desc(INDEX, ibytes, annotations={"org.opencontainers.image.ref.name": REF_NAME}),
                desc(MANIFEST, abytes, artifactType=artifact.get("artifactType", "a/b")),
            ],
        },
    )
    (dest / "index.json").write_bytes(_json(top))
    (dest / "oci-layout").write_bytes(_json(step("oci-layout", {"imageLayoutVersion": "1.0.0"})))
    step("files", (dest, dg))
    return dg
