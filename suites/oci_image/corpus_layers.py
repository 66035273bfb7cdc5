"""The corpus cases (see corpus.py): layer.md, and the layer rules of manifest.md and
config.md (entries escaping the root, diff_ids of zstd layers)."""

from __future__ import annotations

from infra.images.reference_layout import TYPES, Entry, LayerSpec, compress, sha256, tar_bytes
from suites.oci_image.corpus_base import CASES, Case, case, new

L, M = "layers", "manifest"


def _add(layer: int, *entries: Entry, at: int | None = None):
    """An edit adding `entries` to layer `layer` (at the end, or at index `at`)."""

    def fn(layers: list[LayerSpec]) -> None:
        es = layers[layer].entries
        pos = len(es) if at is None else at
        es[pos:pos] = list(entries)

    return fn


case(
    "entry-dot-dot",
    "image.manifest.layers-final-filesystem",
    "an entry ../escaped",
    L,
    _add(0, Entry("../escaped", data=b"x")),
)
case(
    "entry-absolute",
    "image.manifest.layers-final-filesystem",
    "an entry /abs/file",
    L,
    _add(0, Entry("/abs/file", data=b"x")),
)
case(
    "write-through-absolute-symlink",
    "image.manifest.layers-final-filesystem",
    "a symlink evil -> /etc, then evil/passwd in the next layer",
    L,
    lambda ls: (
        _add(0, Entry("evil", "sym", target="/etc"))(ls),
        _add(1, Entry("evil/passwd", data=b"root::0:0::/:/bin/sh\n"))(ls),
    ),
)
case(
    "hardlink-escaping",
    "image.manifest.layers-final-filesystem",
    "a hard link to ../../etc/shadow",
    L,
    _add(0, Entry("etc/shadow", "link", target="../../etc/shadow")),
)
case(
    "hardlink-missing-target",
    "image.layer.hardlink-target-present",
    "a hard link to a path no layer has",
    L,
    _add(0, Entry("bin/ghost", "link", target="bin/nothing")),
)
case(
    "hardlink-to-directory",
    "image.layer.hardlink-target-present",
    "a hard link to a directory",
    L,
    _add(0, Entry("bin/dirlink", "link", target="etc")),
)
case(
    "hardlink-before-target",
    "image.layer.hardlink-target-present",
    "a hard link before its target in the archive",
    L,
    _add(2, Entry("srv/early", "link", target="srv/late"), Entry("srv/late", data=b"late\n")),
)
case(
    "duplicate-entry",
    "image.layer.no-duplicate-paths",
    "etc/hostname twice in one layer",
    L,
    _add(0, Entry("etc/hostname", data=b"again\n")),
)
case(
    "whiteout-with-content",
    "image.layer.whiteout-form",
    "a whiteout holding bytes",
    L,
    lambda ls: ls[1].entries.__setitem__(1, Entry("etc/.wh.old.conf", data=b"gone")),
)
case(
    "whiteout-directory",
    "image.layer.whiteout-form",
    "a whiteout that is a directory",
    L,
    lambda ls: ls[1].entries.__setitem__(1, Entry("etc/.wh.old.conf/", "dir", mode=0o755)),
)
case(
    "whiteout-after-sibling-dir",
    "image.layer.whiteouts-before-siblings",
    "a whiteout after a sibling directory entry",
    L,
    _add(1, Entry("etc/sub/", "dir", mode=0o755), at=1),
)
case(
    "opaque-whiteout",
    "image.layer.explicit-whiteouts",
    "an opaque whiteout in etc/",
    L,
    _add(1, Entry("etc/.wh..wh..opq")),
)
case(
    "nondistributable-layer",
    "image.layer.nondistributable-no-new",
    "a layer typed non-distributable",
    M,
    lambda m: m["layers"][2].update(
        mediaType="application/vnd.oci.image.layer.nondistributable.v1.tar"
    ),
)
case(
    "gzip-of-text",
    "image.layer.tar-archive",
    "a gzip layer whose payload is text",
    "layer-blobs",
    new(
        lambda b: [compress(b"hello, not a tar\n" * 40, "gzip"), *b[1:]],
    ),
)
case(
    "tar-of-text",
    "image.layer.tar-archive",
    "a tar layer that is text",
    "layer-blobs",
    new(
        lambda b: [*b[:2], b"not a tar at all\n" * 40],
    ),
)
case(
    "gzip-typed-tar",
    "image.descriptor.media-type-of-content",
    "a gzip-compressed layer typed as an uncompressed tar",
    "layer-blobs",
    new(
        lambda b: [*b[:2], compress(b[2], "gzip")],
    ),
)
case(
    "zstd-layer",
    "image.manifest.layers-portable-types",
    "a zstd layer (valid)",
    L,
    lambda ls: setattr(ls[2], "compression", "zstd"),
)


def _zstd_wrong_diff_id(at: str, obj: object) -> object:
    """A zstd layer whose diff_id is the digest of its compressed blob."""
    if at == L:
        obj[2].compression = "zstd"
    elif at == "config":
        raw = tar_bytes(_zstd_wrong_diff_id.entries)
        obj["rootfs"]["diff_ids"][2] = sha256(compress(raw, "zstd"))
    if at == L:
        _zstd_wrong_diff_id.entries = obj[2].entries
    return None


CASES.append(
    Case(
        "zstd-wrong-diff-id",
        "image.config.diff-ids-match-layers",
        "a zstd layer whose diff_id is its blob's digest",
        _zstd_wrong_diff_id,
    )
)
case(
    "zstd-truncated",
    "image.descriptor.media-type-of-content",
    "a zstd layer cut short",
    "layer-blobs",
    lambda b: [*b[:2], compress(b[2], "zstd")[:-8]],
)
CASES[-1] = Case(
    "zstd-truncated",
    "image.descriptor.media-type-of-content",
    "a zstd layer cut short",
    lambda at, o: (
        (setattr(o[2], "compression", "zstd") if at == L else None)
        or ([*o[:2], o[2][: len(o[2]) // 2]] if at == "layer-blobs" else None)
    ),
)
__all__ = ["TYPES"]
