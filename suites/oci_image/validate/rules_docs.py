"""Findings of manifest.md, image-index.md, config.md and annotations.md for every JSON
document the walk reached (index.json, nested indexes, manifests, image configs)."""

from __future__ import annotations

from collections.abc import Iterator

from suites.oci_image.validate.model import (
    CONFIG,
    EMPTY,
    INDEX,
    LAYER_TYPES,
    MANIFEST,
    Document,
    Finding,
    Layout,
)
from suites.oci_image.validate.rules_blobs import (
    MEDIA_TYPE_RE,
    RFC3339_RE,
    annotation_findings,
)
from suites.oci_image.validate.schema import schema_findings

EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#: GOOS and GOARCH values (Go's "Installing Go from source", $GOOS and $GOARCH)
GOOS = {
    "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux",
    "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows", "zos",
}  # fmt: skip
GOARCH = {
    "386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le",
    "ppc64", "ppc64le", "riscv64", "s390x", "wasm",
}  # fmt: skip
#: image-index.md#platform-variants (open-ended lists: a prefix rule per architecture)
VARIANTS = {
    "arm": lambda v: v in ("v6", "v7", "v8"),
    "arm64": lambda v: v.startswith("v8") or v.startswith("v9"),
    "ppc64le": lambda v: v.startswith("power"),
    "riscv64": lambda v: v.startswith("rva"),
    "amd64": lambda v: v in ("v1", "v2", "v3", "v4"),
}
PORTABLE_LAYERS = {t for t in LAYER_TYPES if not t.endswith("+zstd")}


def document_findings(lay: Layout, schema_dir: str) -> Iterator[Finding]:
    """Every finding about the JSON documents of `lay`."""
    for d in lay.documents:
        if d.error:
            continue  # the descriptor's media-type-of-content finding says it
        for key in d.duplicates:
            rid = (
                "image.annotations.unique-keys" if "." in key else f"image.{d.kind}.property-types"
            )
            yield Finding(rid, d.where, "each key once per object", f"{key!r} twice")
        if d.kind == "index":
            yield from _index(d, schema_dir)
        elif d.kind == "manifest":
            yield from _manifest(lay, d, schema_dir)
    for man, cfg in lay.images:
        if cfg is not None and not cfg.error:
            yield from _config(cfg, man, schema_dir)


def _common(d: Document, own_type: str) -> Iterator[Finding]:
    doc = d.doc
    kind = d.kind
    if doc.get("schemaVersion") != 2:
        yield Finding(
            f"image.{kind}.schema-version",
            d.where,
            "schemaVersion 2",
            repr(doc.get("schemaVersion")),
        )
    if "mediaType" not in doc:
        yield Finding(f"image.{kind}.media-type-used", d.where, f"mediaType {own_type}", "none")
    elif doc["mediaType"] != own_type:
        yield Finding(f"image.{kind}.media-type-value", d.where, own_type, repr(doc["mediaType"]))
    at = doc.get("artifactType")
    if at is not None and (not isinstance(at, str) or not MEDIA_TYPE_RE.match(at)):
        yield Finding(
            f"image.{kind}.artifact-type-rfc6838", d.where, "an RFC 6838 media type", repr(at)
        )
    if "annotations" in doc:
        yield from annotation_findings(
            doc["annotations"], d.where + " annotations", f"image.{kind}.annotations-rules"
        )
    if "subject" in doc:
        s = doc["subject"]
        mt = s.get("mediaType") if isinstance(s, dict) else None
        if mt not in (MANIFEST, INDEX):
            yield Finding(
                f"image.{kind}.subject-is-manifest",
                d.where + " subject",
                "a manifest or index descriptor",
                repr(mt),
            )


def _index(d: Document, schema_dir: str) -> Iterator[Finding]:
    if not isinstance(d.doc, dict):
        yield Finding("image.index.property-types", d.where, "a JSON object", type(d.doc).__name__)
        return
    yield from schema_findings(
        schema_dir, "image-index-schema.json", d.doc, d.where, "image.index.property-types"
    )
    yield from _common(d, INDEX)
    entries = d.doc.get("manifests")
    if not isinstance(entries, list):
        yield Finding(
            "image.index.manifests-required", d.where, "a manifests array", repr(entries)[:60]
        )
        return
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        w = f"{d.where} manifests[{i}]"
        mt = e.get("mediaType")
        if mt not in (MANIFEST, INDEX):
            yield Finding("image.index.portable-types", w, "an image manifest or index", repr(mt))
        if mt == MANIFEST and "platform" not in e and e.get("artifactType") is None:
            yield Finding(
                "image.index.platform-when-specific", w, "a platform for an image manifest", "none"
            )
        if "platform" in e:
            yield from _platform(e["platform"], w + " platform", "index")


def _platform(p: object, where: str, doc: str) -> Iterator[Finding]:
    p = p if isinstance(p, dict) else {}
    arch, os_ = p.get("architecture"), p.get("os")
    pre = "image.index.platform-" if doc == "index" else "image.config."
    names = ("architecture", "os") if doc == "index" else ("architecture-required", "os-required")
    if not isinstance(arch, str) or not arch:
        yield Finding(pre + names[0], where, "an architecture string", repr(arch))
    elif arch not in GOARCH:
        yield Finding(
            pre + ("goarch" if doc == "index" else "architecture-goarch"),
            where,
            "a GOARCH value",
            arch,
        )
    if not isinstance(os_, str) or not os_:
        yield Finding(pre + names[1], where, "an os string", repr(os_))
    elif os_ not in GOOS:
        yield Finding(pre + ("goos" if doc == "index" else "os-goos"), where, "a GOOS value", os_)
    var = p.get("variant")
    if (
        isinstance(var, str)
        and isinstance(arch, str)
        and not VARIANTS.get(arch, lambda v: False)(var)
    ):
        rid = "image.index.variant-values" if doc == "index" else "image.config.variant-values"
        yield Finding(rid, where, f"a listed variant of {arch}", var)


def _manifest(lay: Layout, d: Document, schema_dir: str) -> Iterator[Finding]:
    if not isinstance(d.doc, dict):
        yield Finding(
            "image.manifest.property-types", d.where, "a JSON object", type(d.doc).__name__
        )
        return
    doc = d.doc
    yield from schema_findings(
        schema_dir, "image-manifest-schema.json", doc, d.where, "image.manifest.property-types"
    )
    yield from _common(d, MANIFEST)
    cfg = doc.get("config")
    if not isinstance(cfg, dict):
        yield Finding(
            "image.manifest.config-required", d.where, "a config descriptor", repr(cfg)[:60]
        )
        cfg = {}
    cmt = cfg.get("mediaType")
    if isinstance(cmt, str) and not MEDIA_TYPE_RE.match(cmt):
        yield Finding(
            "image.manifest.config-type-rfc6838", d.where + " config", "an RFC 6838 media type", cmt
        )
    if cmt == EMPTY and not doc.get("artifactType"):
        yield Finding(
            "image.manifest.artifact-type-with-empty-config", d.where, "artifactType set", "none"
        )
    if cmt not in (CONFIG, EMPTY) and not doc.get("artifactType"):
        yield Finding("image.manifest.config-portable-type", d.where + " config", CONFIG, repr(cmt))
    layers = doc.get("layers")
    if not isinstance(layers, list):
        yield Finding(
            "image.manifest.layers-descriptors", d.where, "a layers array", repr(layers)[:60]
        )
        layers = []
    if not layers:
        rid = (
            "image.manifest.artifact-single-layer"
            if doc.get("artifactType")
            else "image.manifest.layers-at-least-one"
        )
        yield Finding(rid, d.where, "at least one layer", "none")
    for i, layer in enumerate(layers):
        w = f"{d.where} layers[{i}]"
        if not isinstance(layer, dict) or not {"mediaType", "digest", "size"} <= set(layer):
            yield Finding("image.manifest.layers-descriptors", w, "a descriptor", repr(layer)[:60])
            continue
        lmt = layer["mediaType"]
        if isinstance(lmt, str) and not MEDIA_TYPE_RE.match(lmt):
            yield Finding("image.manifest.layers-type-rfc6838", w, "an RFC 6838 media type", lmt)
        elif cmt == CONFIG and lmt not in PORTABLE_LAYERS:
            yield Finding(
                "image.manifest.layers-portable-types", w, "tar, tar+gzip or non-distributable", lmt
            )
        if isinstance(lmt, str) and ".nondistributable." in lmt:
            yield Finding(
                "image.layer.nondistributable-no-new", w, "no new non-distributable layer", lmt
            )
    for sub, desc in [("config", cfg), *((f"layers[{i}]", x) for i, x in enumerate(layers))]:
        if isinstance(desc, dict) and desc.get("mediaType") == EMPTY:
            yield from _empty(lay, desc, f"{d.where} {sub}")


def _empty(lay: Layout, desc: dict, where: str) -> Iterator[Finding]:
    if desc.get("digest") != EMPTY_DIGEST or desc.get("size") != 2:
        yield Finding(
            "image.manifest.empty-descriptor-content", where, f"{EMPTY_DIGEST}, size 2",
            f"{desc.get('digest')}, size {desc.get('size')}",
        )  # fmt: skip
    p = lay.blob_path(desc.get("digest", ""))
    if p is not None and p.stat().st_size <= 64 and p.read_bytes() != b"{}":
        yield Finding(
            "image.manifest.empty-descriptor-content", where, "the bytes {}", repr(p.read_bytes())
        )


def _config(cfg: Document, man: Document, schema_dir: str) -> Iterator[Finding]:
    w = cfg.where
    if not isinstance(cfg.doc, dict):
        yield Finding("image.config.property-types", w, "a JSON object", type(cfg.doc).__name__)
        return
    c = cfg.doc
    yield from schema_findings(
        schema_dir, "config-schema.json", c, w, "image.config.property-types"
    )
    yield from _platform(c, w, "config")
    inner = c.get("config")
    if isinstance(inner, dict) and "Labels" in inner:
        yield from annotation_findings(
            inner["Labels"], w + " config.Labels", "image.config.labels-rules"
        )
    for where, value in [(w + " created", c.get("created"))] + [
        (f"{w} history[{i}].created", h.get("created"))
        for i, h in enumerate(c.get("history") or [])
        if isinstance(h, dict)
    ]:
        if value is not None and (not isinstance(value, str) or not RFC3339_RE.match(value)):
            yield Finding(
                "image.config.created-format", where, "an RFC 3339 date-time", repr(value)
            )
    rootfs = c.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        yield Finding(
            "image.config.rootfs-required", w, "rootfs with a diff_ids array", repr(rootfs)[:80]
        )
        return
    if rootfs.get("type") != "layers":
        yield Finding(
            "image.config.rootfs-type-layers",
            w + " rootfs.type",
            "layers",
            repr(rootfs.get("type")),
        )
    history = c.get("history")
    layers = man.doc.get("layers") if isinstance(man.doc, dict) else None
    if isinstance(history, list) and isinstance(layers, list):
        real = sum(1 for h in history if not (isinstance(h, dict) and h.get("empty_layer") is True))
        if real != len(layers):
            yield Finding(
                "image.config.history-empty-layer", w + " history",
                f"{len(layers)} entries without empty_layer (one per layer)", str(real),
            )  # fmt: skip
