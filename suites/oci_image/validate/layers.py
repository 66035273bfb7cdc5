"""Layer blobs read as a stream: decompression, the tar entries, the DiffID.

`scan_layer(path, media_type, lower)` decompresses a layer blob (gzip, zstd or none, by
its media type; layer.md#gzip-media-types, #zstd-media-types) in chunks, reads its tar
entries without extracting anything, and hashes the uncompressed bytes (the DiffID,
config.md#layer-diffid). `lower` is the set of paths the layers below left (after their
whiteouts); the scan returns this layer's problems and the paths after applying it.
"""

from __future__ import annotations

import gzip
import hashlib
import posixpath
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import zstandard

from suites.oci_image.validate.model import CHUNK

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class _Hashing:
    """A read-only stream that hashes what passes through it (sha256)."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.hash = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


@dataclass
class LayerScan:
    """What one layer holds.

    Attributes:
        diff_id: "sha256:..." of the uncompressed tar, "" when it could not be read.
        compression_error: why the compressed stream is broken (wrong format, truncated).
        tar_error: why the payload is not a tar archive.
        problems: (requirement id, entry, wanted, seen) for each entry that breaks a rule.
        opaque: number of opaque whiteouts.
        paths: the image's paths (path -> "dir"|"file"|"link") after this layer.
    """

    diff_id: str = ""
    compression_error: str = ""
    tar_error: str = ""
    problems: list[tuple[str, str, str, str]] = field(default_factory=list)
    opaque: int = 0
    paths: dict[str, str] = field(default_factory=dict)


def compression_of(media_type: str) -> str:
    """ "gzip", "zstd" or "" (plain tar) for a layer media type."""
    for suffix in ("gzip", "zstd"):
        if media_type.endswith("+" + suffix):
            return suffix
    return ""


class _Zstd:
    """A zstd reader that raises ZstdError when the input ends inside a frame."""

    def __init__(self, raw) -> None:
        self.raw, self.obj, self.buf = raw, zstandard.ZstdDecompressor().decompressobj(), b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self.buf) < n:
            chunk = self.raw.read(CHUNK)
            if not chunk:
                if not self.obj.eof:
                    raise zstandard.ZstdError("input ends inside a zstd frame (truncated)")
                break
            if self.obj.eof:
                raise zstandard.ZstdError("data after the end of the zstd frame")
            self.buf += self.obj.decompress(chunk)
        out, self.buf = (self.buf, b"") if n < 0 else (self.buf[:n], self.buf[n:])
        return out


def _open(f, kind: str):
    if kind == "gzip":
        return gzip.GzipFile(fileobj=f, mode="rb")
    if kind == "zstd":
        return _Zstd(f)
    return f


def _norm(name: str) -> str:
    """An entry name as a path relative to the root ("./a/b/" -> "a/b"); may keep "..";
    an absolute name keeps its leading "/"."""
    lead = "/" if name.startswith("/") else ""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return lead + "/".join(parts)


def _escapes(rel: str) -> bool:
    if rel.startswith("/"):
        return True
    depth = 0
    for part in rel.split("/"):
        depth += -1 if part == ".." else 1
        if depth < 0:
            return True
    return False


def scan_layer(path: Path, media_type: str, lower: dict[str, str]) -> LayerScan:
    """Scan the layer blob at `path` (see the module docstring). Never raises for bad
    content: problems are recorded in the result."""
    scan = LayerScan(paths=dict(lower))
    kind = compression_of(media_type)
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        magic = {"gzip": GZIP_MAGIC, "zstd": ZSTD_MAGIC}.get(kind)
        if magic and not head.startswith(magic):
            scan.compression_error = f"no {kind} header (first bytes {head.hex()})"
            return scan
        packed = [k for k, m in (("gzip", GZIP_MAGIC), ("zstd", ZSTD_MAGIC)) if head.startswith(m)]
        if not kind and packed:
            scan.compression_error = f"a {packed[0]} stream, typed as an uncompressed tar"
            return scan
        stream = _Hashing(_open(f, kind))
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                _entries(tar, scan, lower)
            stream.drain()
        except tarfile.ReadError as exc:
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, (OSError, EOFError, zlib.error, zstandard.ZstdError)):
                scan.compression_error = f"{kind} stream broken: {type(cause).__name__}: {cause}"
            else:
                scan.tar_error = f"not a tar archive: {exc}"
            return scan
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            scan.compression_error = f"{kind or 'tar'} stream broken: {type(exc).__name__}: {exc}"
            return scan
    scan.diff_id = "sha256:" + stream.hash.hexdigest()
    return scan


def _entries(tar: tarfile.TarFile, scan: LayerScan, lower: dict[str, str]) -> None:
    seen: set[str] = set()
    dirs_seen: dict[str, bool] = {}  # parent -> a sibling directory entry came already
    symlinks = {p for p, t in lower.items() if t == "link"}
    for m in tar:
        rel = _norm(m.name)
        entry = m.name
        if _escapes(rel):
            scan.problems.append(
                ("image.manifest.layers-final-filesystem", entry, "a path inside the root", rel)
            )
            continue
        if rel in seen:
            scan.problems.append(
                ("image.layer.no-duplicate-paths", entry, "one entry per path", "a second entry")
            )
        seen.add(rel)
        parent, base = posixpath.split(rel)
        via = next((s for s in symlinks if rel.startswith(s + "/")), "")
        if via:
            scan.problems.append(
                (
                    "image.manifest.layers-final-filesystem",
                    entry,
                    "entries written inside the root, not through a symlink",
                    f"parent {via} is a symlink",
                )
            )
        if m.issparse():
            scan.problems.append(
                ("image.layer.no-sparse-files", entry, "no sparse entry", "GNU sparse")
            )
        if base.startswith(WHITEOUT):
            _whiteout(m, rel, parent, base, scan, dirs_seen)
            continue
        if m.isdir():
            dirs_seen[parent] = True
        if m.islnk():
            target = _norm(m.linkname)
            if _escapes(target):
                scan.problems.append(
                    (
                        "image.manifest.layers-final-filesystem",
                        entry,
                        "a link target inside the root",
                        m.linkname,
                    )
                )
            elif scan.paths.get(target) not in ("file", "link"):
                seen_as = scan.paths.get(target, "no such path")
                scan.problems.append(
                    (
                        "image.layer.hardlink-target-present",
                        entry,
                        f"an existing non-directory file {target}",
                        seen_as,
                    )
                )
        kind = "dir" if m.isdir() else "link" if m.issym() else "file"
        _remove(scan.paths, rel) if kind != "dir" else None
        scan.paths[rel] = kind
        if kind == "link":
            symlinks.add(rel)
        else:
            symlinks.discard(rel)


def _whiteout(m, rel, parent, base, scan: LayerScan, dirs_seen: dict[str, bool]) -> None:
    if not m.isreg() or m.size != 0:
        what = "a directory" if m.isdir() else f"type {m.type!r}, {m.size} bytes"
        scan.problems.append(("image.layer.whiteout-form", m.name, "an empty regular file", what))
    if dirs_seen.get(parent):
        scan.problems.append(
            (
                "image.layer.whiteouts-before-siblings",
                m.name,
                "whiteouts before sibling directories",
                "after one",
            )
        )
    if base == OPAQUE:
        scan.opaque += 1
        prefix = parent + "/" if parent else ""
        for p in [p for p in scan.paths if p.startswith(prefix) and p != parent]:
            del scan.paths[p]
        return
    _remove(scan.paths, posixpath.join(parent, base[len(WHITEOUT) :]))


def _remove(paths: dict[str, str], rel: str) -> None:
    for p in [p for p in paths if p == rel or p.startswith(rel + "/")]:
        del paths[p]
