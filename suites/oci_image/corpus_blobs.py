"""The corpus cases (see corpus.py): image-layout.md and descriptor.md."""

from __future__ import annotations

import hashlib
import shutil

from infra.images import reference_layout as ref
from infra.images.reference_layout import INDEX
from suites.oci_image.corpus_base import CASES, DELETE, SHA, Case, _blob, _set, case, new

M, C, IX, T, A = "manifest", "config", "index", "index.json", "artifact"
F = "files"
# --- image-layout.md ---------------------------------------------------------------
case(
    "oci-layout-missing",
    "image.layout.oci-layout-exists",
    "no oci-layout file",
    F,
    lambda x: (x[0] / "oci-layout").unlink(),
)
case(
    "oci-layout-array",
    "image.layout.oci-layout-object",
    "oci-layout holds a JSON array",
    "oci-layout",
    new(
        lambda o: [o],
    ),
)
case(
    "oci-layout-not-json",
    "image.layout.oci-layout-object",
    "oci-layout is not JSON",
    F,
    lambda x: (x[0] / "oci-layout").write_text("imageLayoutVersion=1.0.0"),
)
case(
    "oci-layout-no-version",
    "image.layout.oci-layout-version",
    "oci-layout without imageLayoutVersion",
    "oci-layout",
    new(
        lambda o: {},
    ),
)
case(
    "oci-layout-version-2",
    "image.layout.oci-layout-version",
    "imageLayoutVersion 2.0.0",
    "oci-layout",
    new(
        lambda o: {"imageLayoutVersion": "2.0.0"},
    ),
)
case(
    "oci-layout-version-number",
    "image.layout.oci-layout-version",
    "imageLayoutVersion is a number",
    "oci-layout",
    new(
        lambda o: {"imageLayoutVersion": 1},
    ),
)
case(
    "index-json-missing",
    "image.layout.index-exists",
    "no index.json",
    F,
    lambda x: (x[0] / "index.json").unlink(),
)
case(
    "index-json-array",
    "image.layout.index-is-image-index",
    "index.json holds an array",
    T,
    new(
        lambda o: [o],
    ),
)
case(
    "index-json-no-manifests",
    "image.layout.index-is-image-index",
    "index.json without manifests",
    T,
    _set("manifests", DELETE),
)
case(
    "blobs-dir-missing",
    "image.layout.blobs-dir",
    "no blobs directory",
    F,
    lambda x: shutil.rmtree(x[0] / "blobs"),
)
case(
    "blob-content-wrong",
    "image.layout.blob-content-matches-path",
    "an extra blob whose bytes do not hash to its name",
    F,
    lambda x: _blob(x[0], SHA).write_bytes(b"not a"),
)
case(
    "blob-name-uppercase",
    "image.layout.blob-path-grammar",
    "a sha256 blob named in uppercase hex",
    F,
    lambda x: shutil.copy(
        _blob(x[0], x[1].config), _blob(x[0], x[1].config.upper().replace("SHA256", "sha256"))
    ),
)
case(
    "blob-alg-dir-uppercase",
    "image.layout.blob-path-grammar",
    "blobs/SHA256 directory",
    F,
    lambda x: (
        (x[0] / "blobs" / "SHA256").mkdir() or (x[0] / "blobs" / "SHA256" / "ab").write_bytes(b"")
    ),
)
case(
    "blob-name-short",
    "image.layout.blob-path-grammar",
    "blobs/sha256/abc",
    F,
    lambda x: (x[0] / "blobs" / "sha256" / "abc").write_bytes(b"abc"),
)
case(
    "layer-blob-missing",
    "image.layout.missing-blobs-external",
    "a layer blob removed, no urls",
    F,
    lambda x: _blob(x[0], x[1].layers[2]).unlink(),
)
case(
    "config-blob-missing",
    "image.layout.missing-blobs-external",
    "the config blob removed",
    F,
    lambda x: _blob(x[0], x[1].config).unlink(),
)
case(
    "manifest-blob-missing",
    "image.layout.missing-blobs-external",
    "the manifest blob removed",
    F,
    lambda x: _blob(x[0], x[1].manifest).unlink(),
)
# --- descriptor.md -----------------------------------------------------------------
case(
    "size-plus-one",
    "image.descriptor.size-matches-content",
    "a layer's size one too many",
    M,
    lambda m: m["layers"][0].update(size=m["layers"][0]["size"] + 1),
)
case(
    "config-size-zero",
    "image.descriptor.size-matches-content",
    "the config's size 0",
    M,
    _set("config.size", 0),
)
case(
    "index-entry-size-wrong",
    "image.descriptor.size-matches-content",
    "the manifest's size in the index off by ten",
    IX,
    lambda i: i["manifests"][0].update(size=i["manifests"][0]["size"] - 10),
)
case(
    "size-negative",
    "image.descriptor.size-required",
    "a layer size of -1",
    M,
    _set("layers.1.size", -1),
)
case(
    "size-string",
    "image.descriptor.size-required",
    "a layer size as a string",
    M,
    lambda m: m["layers"][1].update(size=str(m["layers"][1]["size"])),
)
case(
    "size-missing",
    "image.descriptor.size-required",
    "a layer without size",
    M,
    _set("layers.1.size", DELETE),
)
case(
    "layer-content-replaced",
    "image.descriptor.digest-matches-content",
    "a layer blob's bytes swapped for another layer's",
    F,
    lambda x: shutil.copy(_blob(x[0], x[1].layers[1]), _blob(x[0], x[1].layers[0])),
)
case(
    "config-content-replaced",
    "image.descriptor.digest-matches-content",
    "the config blob rewritten in place",
    F,
    lambda x: _blob(x[0], x[1].config).write_bytes(
        _blob(x[0], x[1].config).read_bytes().replace(b"linux", b"LINUX")
    ),
)
case(
    "digest-missing",
    "image.descriptor.digest-required",
    "a layer without digest",
    M,
    _set("layers.2.digest", DELETE),
)
case(
    "digest-no-colon",
    "image.descriptor.digest-grammar",
    "a digest without the colon",
    M,
    lambda m: m["layers"][2].update(digest=m["layers"][2]["digest"].replace(":", "-")),
)
case(
    "digest-uppercase-algorithm",
    "image.descriptor.digest-grammar",
    "SHA256: algorithm",
    M,
    lambda m: m["layers"][2].update(digest=m["layers"][2]["digest"].replace("sha256", "SHA256")),
)
case(
    "sha256-uppercase-hex",
    "image.descriptor.sha256-encoding",
    "sha256 digest in uppercase hex",
    M,
    lambda m: m["layers"][2].update(digest="sha256:" + m["layers"][2]["digest"][7:].upper()),
)
case(
    "sha256-short",
    "image.descriptor.sha256-encoding",
    "sha256 digest of 63 digits",
    M,
    lambda m: m["layers"][2].update(digest=m["layers"][2]["digest"][:-1]),
)
case(
    "sha512-short",
    "image.descriptor.sha512-encoding",
    "sha512 digest of 64 digits",
    M,
    lambda m: m["layers"][2].update(digest="sha512:" + m["layers"][2]["digest"][7:]),
)


def _sha512(at: str, obj: object) -> object:
    if at == "layer-blobs":
        _sha512.data = obj[2]
    if at == M:
        obj["layers"][2]["digest"] = "sha512:" + hashlib.sha512(_sha512.data).hexdigest()
    if at == F:
        p = obj[0] / "blobs" / "sha512" / hashlib.sha512(_sha512.data).hexdigest()
        p.parent.mkdir()
        p.write_bytes(_sha512.data)
    return None


CASES.append(
    Case(
        "sha512-digest",
        "image.descriptor.use-sha256",
        "a layer named by its sha512 digest",
        _sha512,
    )
)
case(
    "media-type-missing",
    "image.descriptor.media-type-required",
    "a layer without mediaType",
    M,
    _set("layers.2.mediaType", DELETE),
)
case(
    "media-type-not-rfc6838",
    "image.descriptor.media-type-rfc6838",
    "a config mediaType 'json config'",
    M,
    _set("config.mediaType", "json config"),
)
case(
    "index-entry-typed-index",
    "image.descriptor.media-type-of-content",
    "an image manifest listed as an index",
    IX,
    _set("manifests.0.mediaType", INDEX),
)
case(
    "tar-layer-typed-gzip",
    "image.descriptor.media-type-of-content",
    "a plain tar layer typed +gzip",
    M,
    _set("layers.2.mediaType", ref.TYPES["gzip"]),
)
case(
    "gzip-layer-typed-zstd",
    "image.descriptor.media-type-of-content",
    "a gzip layer typed +zstd",
    M,
    _set("layers.0.mediaType", ref.TYPES["zstd"]),
)
case(
    "gzip-truncated",
    "image.descriptor.media-type-of-content",
    "a gzip layer cut in half",
    "layer-blobs",
    new(
        lambda b: [b[0][: len(b[0]) // 2], *b[1:]],
    ),
)
case(
    "config-not-json",
    "image.descriptor.media-type-of-content",
    "a config blob that is not JSON",
    C,
    new(
        lambda c: b"config",
    ),
)
case(
    "urls-not-uri",
    "image.descriptor.urls-rfc3986",
    "a layer url 'not a uri'",
    M,
    _set("layers.0.urls", ["not a uri"]),
)
case(
    "urls-ftp",
    "image.descriptor.urls-http",
    "a layer url with the ftp scheme",
    M,
    _set("layers.0.urls", ["ftp://example.com/layer"]),
)
case(
    "data-not-base64",
    "image.descriptor.data-base64",
    "data field '%%%'",
    A,
    _set("config.data", "%%%"),
)
case(
    "data-wrong-content",
    "image.descriptor.data-matches",
    "data field of other bytes",
    A,
    _set("config.data", "W10="),
)
case(
    "descriptor-artifact-type-bad",
    "image.descriptor.artifact-type-rfc6838",
    "a descriptor artifactType 'sbom'",
    T,
    _set("manifests.1.artifactType", "sbom"),
)
case(
    "descriptor-annotation-number",
    "image.descriptor.annotations-rules",
    "a descriptor annotation value 1",
    M,
    _set("layers.0.annotations", {"org.example.n": 1}),
)
case(
    "index-entry-no-platform",
    "image.descriptor.manifest-platform",
    "an image manifest entry without platform",
    IX,
    _set("manifests.0.platform", DELETE),
)
case(
    "unknown-oci-media-type",
    "image.media-types.known-types",
    "layer type application/vnd.oci.image.layer.v2.tar",
    M,
    _set("layers.2.mediaType", "application/vnd.oci.image.layer.v2.tar"),
)
