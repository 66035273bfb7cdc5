"""Findings of image-layout.md, descriptor.md and media-types.md: the layout's files,
its blobs, and every descriptor against the blob it names."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from suites.oci_image.validate.model import (
    ALGORITHMS,
    CONFIG,
    DIGEST_RE,
    INDEX,
    KNOWN_TYPES,
    LAYER_TYPES,
    MANIFEST,
    Finding,
    Layout,
    Ref,
    parse_json,
)
from suites.oci_image.validate.schema import schema_findings

#: RFC 6838 type/subtype with restricted-name characters (section 4.2), optional parameters
MEDIA_TYPE_RE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(;.*)?$"
)
#: an RFC 3986 URI: scheme ":" then characters the grammar allows
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
INT64_MAX = 2**63 - 1


def layout_findings(lay: Layout, schema_dir: str) -> Iterator[Finding]:
    """image-layout.md: blobs, oci-layout, index.json."""
    if not (lay.root / "blobs").is_dir():
        yield Finding("image.layout.blobs-dir", "blobs/", "a directory", "none")
    yield from _oci_layout(lay, schema_dir)
    if "index.json" not in lay.files:
        yield Finding("image.layout.index-exists", "index.json", "the file", "none")
    else:
        top = next(d for d in lay.documents if d.where == "index.json")
        if not isinstance(top.doc, dict) or not isinstance(top.doc.get("manifests"), list):
            seen = top.error or f"{type(top.doc).__name__} without a manifests array"
            yield Finding("image.layout.index-is-image-index", "index.json", "an image index", seen)
    for p in lay.bad_blob_paths:
        yield Finding(
            "image.layout.blob-path-grammar", p, "blobs/ALGORITHM/ENCODED per the digest grammar", p
        )
    for digest, b in lay.blobs.items():
        if b.actual and b.actual != digest:
            yield Finding("image.layout.blob-content-matches-path", b.path, digest, b.actual)
    for ref in lay.refs:
        d = ref.desc
        if not ref.digest or ref.digest in lay.blobs or not isinstance(d, dict):
            continue
        if not d.get("urls") and "data" not in d and DIGEST_RE.match(ref.digest):
            yield Finding(
                "image.layout.missing-blobs-external",
                ref.where,
                f"blob {ref.digest} in the layout, or urls to fetch it from",
                "neither",
            )


def _oci_layout(lay: Layout, schema_dir: str) -> Iterator[Finding]:
    if "oci-layout" not in lay.files:
        yield Finding("image.layout.oci-layout-exists", "oci-layout", "the file", "none")
        return
    value, _, err = parse_json((lay.root / "oci-layout").read_bytes())
    if not isinstance(value, dict):
        yield Finding(
            "image.layout.oci-layout-object", "oci-layout", "a JSON object", err or repr(value)[:80]
        )
        return
    yield from schema_findings(
        schema_dir,
        "image-layout-schema.json",
        value,
        "oci-layout",
        "image.layout.oci-layout-version",
    )


def descriptor_findings(lay: Layout) -> Iterator[Finding]:
    """descriptor.md and media-types.md for every descriptor reached."""
    for ref in lay.refs:
        d = ref.desc
        if not isinstance(d, dict):
            yield Finding(
                "image.descriptor.media-type-required",
                ref.where,
                "a descriptor object",
                repr(d)[:80],
            )
            continue
        yield from _fields(ref, d)
        yield from _against_blob(lay, ref, d)


def _fields(ref: Ref, d: dict) -> Iterator[Finding]:
    w = ref.where
    mt = d.get("mediaType")
    if not isinstance(mt, str):
        yield Finding("image.descriptor.media-type-required", w, "a mediaType string", repr(mt))
    else:
        if not MEDIA_TYPE_RE.match(mt):
            yield Finding("image.descriptor.media-type-rfc6838", w, "an RFC 6838 media type", mt)
        if mt.startswith("application/vnd.oci.") and mt not in KNOWN_TYPES:
            yield Finding(
                "image.media-types.known-types", w, "an OCI media type the spec defines", mt
            )
    dg = d.get("digest")
    if not isinstance(dg, str):
        yield Finding("image.descriptor.digest-required", w, "a digest string", repr(dg))
    elif not DIGEST_RE.match(dg):
        yield Finding("image.descriptor.digest-grammar", w, "ALGORITHM:ENCODED", dg)
    else:
        alg, enc = dg.split(":", 1)
        if alg in ALGORITHMS and not ALGORITHMS[alg][1].match(enc):
            n = 64 if alg == "sha256" else 128
            yield Finding(f"image.descriptor.{alg}-encoding", w, f"{n} lowercase hex digits", enc)
        if alg != "sha256":
            yield Finding("image.descriptor.use-sha256", w, "a sha256 digest", alg)
    size = d.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= INT64_MAX:
        yield Finding("image.descriptor.size-required", w, "a non-negative int64 size", repr(size))
    urls = d.get("urls", [])
    for u in urls if isinstance(urls, list) else [urls]:
        if not isinstance(u, str) or not URI_RE.match(u):
            yield Finding("image.descriptor.urls-rfc3986", w, "an RFC 3986 URI", repr(u))
        elif urlsplit(u).scheme not in ("http", "https"):
            yield Finding("image.descriptor.urls-http", w, "an http or https URL", u)
    at = d.get("artifactType")
    if at is not None and (not isinstance(at, str) or not MEDIA_TYPE_RE.match(at)):
        yield Finding(
            "image.descriptor.artifact-type-rfc6838", w, "an RFC 6838 media type", repr(at)
        )
    if "annotations" in d:
        yield from annotation_findings(
            d["annotations"], w + " annotations", "image.descriptor.annotations-rules"
        )
    if (
        ref.place == "index-entry"
        and mt == MANIFEST
        and "platform" not in d
        and "artifactType" not in d
    ):
        yield Finding("image.descriptor.manifest-platform", w, "a platform", "none")


def _against_blob(lay: Layout, ref: Ref, d: dict) -> Iterator[Finding]:
    w, digest = ref.where, ref.digest
    blob = lay.blobs.get(digest)
    data = d.get("data")
    raw = None
    if data is not None:
        try:
            raw = base64.b64decode(data, validate=True) if isinstance(data, str) else None
        except (binascii.Error, ValueError):
            raw = None
        if raw is None:
            yield Finding("image.descriptor.data-base64", w, "base64 data", repr(data)[:60])
        elif blob is not None and (lay.root / blob.path).stat().st_size == len(raw):
            if (lay.root / blob.path).read_bytes() != raw:
                yield Finding(
                    "image.descriptor.data-matches", w, f"the bytes of {blob.path}", "other bytes"
                )
        elif blob is not None:
            yield Finding(
                "image.descriptor.data-matches",
                w,
                f"{blob.size} bytes of {blob.path}",
                f"{len(raw)} bytes",
            )
    if blob is None:
        return
    if blob.actual and blob.actual != digest:
        yield Finding(
            "image.descriptor.digest-matches-content",
            w,
            digest,
            f"{blob.path} hashes to {blob.actual}",
        )
    size = d.get("size")
    if isinstance(size, int) and size != blob.size:
        yield Finding(
            "image.descriptor.size-matches-content",
            w,
            f"size {blob.size} of {blob.path}",
            str(size),
        )
    sniffed = _sniff(lay, blob.path, ref.media_type)
    if sniffed:
        yield Finding(
            "image.descriptor.media-type-of-content",
            w,
            f"content of type {ref.media_type}",
            f"{blob.path}: {sniffed}",
        )


def _sniff(lay: Layout, path: str, mt: str) -> str:
    """Why the blob at `path` is not of type `mt` ("" when it may be). Layers are judged
    by the layer scan; JSON types are parsed here (their mediaType field compared)."""
    if not mt.endswith("+json") or mt in LAYER_TYPES:
        return ""
    p = lay.root / path
    if p.stat().st_size > 4 << 20:
        return "larger than 4 MiB, not a JSON document"
    value, _, err = parse_json(p.read_bytes())
    if err:
        return err
    if mt in (MANIFEST, INDEX, CONFIG) and not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, not an object"
    own = value.get("mediaType") if isinstance(value, dict) else None
    if mt in (MANIFEST, INDEX) and own is not None and own != mt:
        return f"a document whose own mediaType is {own}"
    if mt in (MANIFEST, INDEX):
        want = "manifests" if mt == INDEX else "layers"
        other = "layers" if mt == INDEX else "manifests"
        if want not in value and other in value:
            return f"a document with {other} and no {want}"
    return ""


PREDEFINED = {
    "created", "authors", "url", "documentation", "source", "version", "revision", "vendor",
    "licenses", "ref.name", "title", "description", "base.digest", "base.name",
    # implicit annotations of conversion.md
    "os", "architecture", "variant", "os.version", "os.features", "author", "stopSignal",
    "exposedPorts",
}  # fmt: skip
REF_NAME_RE = re.compile(
    r"^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$"
)
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def annotation_findings(value: object, where: str, rules_id: str) -> Iterator[Finding]:
    """annotations.md#rules for one annotations map (or Labels). `rules_id` is the id of
    the sentence that sends this map to the rules (manifest.annotations-rules, ...)."""
    if value is None:
        yield Finding("image.annotations.absent-or-empty", where, "absent or {}", "null")
        return
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        yield Finding(
            "image.annotations.string-map",
            where,
            "a map of strings to strings",
            json.dumps(value)[:80],
        )
        yield Finding(rules_id, where, "a map of strings to strings", json.dumps(value)[:80])
        return
    for k, v in value.items():
        if not re.match(r"^[a-z0-9-]+(\.[A-Za-z0-9-]+)+", k):
            yield Finding("image.annotations.reverse-domain", where, "a reverse-domain key", k)
        if (
            k.startswith("org.opencontainers.image.")
            and k[len("org.opencontainers.image.") :] not in PREDEFINED
        ):
            yield Finding(
                "image.annotations.image-namespace-reserved",
                where,
                "a key the image spec defines",
                k,
            )
        if k == "org.opencontainers.image.ref.name" and not REF_NAME_RE.match(v):
            yield Finding(
                "image.annotations.ref-name-grammar", where, "a reference per the grammar", v
            )
        if k == "org.opencontainers.image.created" and not RFC3339_RE.match(v):
            yield Finding("image.annotations.created-format", where, "an RFC 3339 date-time", v)
        if k == "org.opencontainers.image.base.name" and not _qualified(v):
            yield Finding("image.annotations.base-name-format", where, "registry/name[:tag]", v)


def _qualified(ref: str) -> bool:
    first = ref.split("/", 1)[0]
    return "/" in ref and ("." in first or ":" in first or first == "localhost")
