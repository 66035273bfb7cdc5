"""Findings of layer.md and of the layer rules of manifest.md and config.md: every layer
of every image manifest read as a stream, applied in order, its DiffID compared with the
config's rootfs.diff_ids."""

from __future__ import annotations

from collections.abc import Iterator

from suites.oci_image.validate.layers import scan_layer
from suites.oci_image.validate.model import CONFIG, LAYER_TYPES, Finding, Layout


def layer_findings(lay: Layout) -> Iterator[Finding]:
    """Findings for the layers of each image manifest with an OCI image config."""
    for man, cfg in lay.images:
        doc = man.doc if isinstance(man.doc, dict) else {}
        cmt = (
            doc.get("config", {}).get("mediaType") if isinstance(doc.get("config"), dict) else None
        )
        layers = doc.get("layers") if isinstance(doc.get("layers"), list) else []
        if cmt != CONFIG:
            continue
        paths: dict[str, str] = {}
        diff_ids: list[str] = []
        readable = True
        for i, desc in enumerate(layers):
            mt = desc.get("mediaType") if isinstance(desc, dict) else None
            path = lay.blob_path(desc.get("digest", "")) if isinstance(desc, dict) else None
            w = f"{man.where} layers[{i}]"
            if mt not in LAYER_TYPES or path is None:
                readable = False
                continue
            scan = scan_layer(path, mt, paths)
            where = f"{w} ({path.relative_to(lay.root)})"
            if scan.compression_error:
                yield Finding(
                    "image.descriptor.media-type-of-content",
                    where,
                    f"a {mt} stream",
                    scan.compression_error,
                )
            if scan.tar_error:
                yield Finding("image.layer.tar-archive", where, "a tar archive", scan.tar_error)
            for rid, entry, wanted, seen in scan.problems:
                yield Finding(rid, f"{where} entry {entry}", wanted, seen)
            if scan.opaque:
                yield Finding(
                    "image.layer.explicit-whiteouts",
                    where,
                    "explicit whiteouts",
                    f"{scan.opaque} opaque",
                )
            if not scan.diff_id:
                readable = False
            diff_ids.append(scan.diff_id)
            paths = scan.paths
        if readable and cfg is not None and isinstance(cfg.doc, dict):
            yield from _diff_ids(cfg.where, cfg.doc, diff_ids)


def _diff_ids(where: str, config: dict, actual: list[str]) -> Iterator[Finding]:
    rootfs = config.get("rootfs")
    listed = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(listed, list):
        return  # config.rootfs-required says it
    w = where + " rootfs.diff_ids"
    if sorted(map(str, listed)) != sorted(actual):
        yield Finding("image.config.diff-ids-match-layers", w, f"{actual}", f"{listed}")
        return
    if listed and listed[0] != actual[0]:
        yield Finding(
            "image.manifest.layers-base-first", w, f"layers[0] has DiffID {listed[0]}", actual[0]
        )
    if listed != actual:
        yield Finding(
            "image.manifest.layers-stack-order", w, f"layers in the order {listed}", f"{actual}"
        )
