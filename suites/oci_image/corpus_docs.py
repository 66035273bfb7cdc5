"""The corpus cases (see corpus.py): manifest.md, image-index.md, config.md, annotations.md."""

from __future__ import annotations

from infra.images.reference_layout import EMPTY, INDEX, TYPES, sha256
from suites.oci_image.corpus_base import CASES, DELETE, Case, _blob, _set, case, new

M, C, IX, T, A, F = "manifest", "config", "index", "index.json", "artifact", "files"
# --- manifest.md -------------------------------------------------------------------
case(
    "manifest-schema-version-1",
    "image.manifest.schema-version",
    "schemaVersion 1",
    M,
    _set("schemaVersion", 1),
)
case(
    "manifest-media-type-docker",
    "image.manifest.media-type-value",
    "a Docker v2 mediaType in an OCI manifest",
    M,
    _set("mediaType", "application/vnd.docker.distribution.manifest.v2+json"),
)
case(
    "manifest-media-type-missing",
    "image.manifest.media-type-used",
    "a manifest without mediaType",
    M,
    _set("mediaType", DELETE),
)
case(
    "manifest-schema-version-string",
    "image.manifest.property-types",
    'schemaVersion "2"',
    M,
    _set("schemaVersion", "2"),
)
case(
    "artifact-no-artifact-type",
    "image.manifest.artifact-type-with-empty-config",
    "empty config, no artifactType",
    A,
    _set("artifactType", DELETE),
)
case(
    "artifact-type-bad",
    "image.manifest.artifact-type-rfc6838",
    "artifactType 'sbom v1'",
    A,
    _set("artifactType", "sbom v1"),
)
case(
    "config-missing",
    "image.manifest.config-required",
    "a manifest without config",
    M,
    _set("config", DELETE),
)
case(
    "config-type-bad",
    "image.manifest.config-type-rfc6838",
    "config mediaType 'config/'",
    M,
    _set("config.mediaType", "config/"),
)
case(
    "config-type-foreign",
    "image.manifest.config-portable-type",
    "an image config typed application/vnd.example.config+json",
    M,
    _set("config.mediaType", "application/vnd.example.config+json"),
)
case(
    "config-typed-layer",
    "image.manifest.config-portable-type",
    "the config typed as a gzip layer",
    M,
    _set("config.mediaType", TYPES["gzip"]),
)
case(
    "layers-empty",
    "image.manifest.layers-at-least-one",
    "an image manifest with no layers",
    M,
    _set("layers", []),
)
case(
    "artifact-layers-empty",
    "image.manifest.artifact-single-layer",
    "an artifact with no layers",
    A,
    _set("layers", []),
)
case(
    "layer-not-descriptor",
    "image.manifest.layers-descriptors",
    "a layers entry that is a string",
    M,
    lambda m: m["layers"].append("sha256:abc"),
)
case(
    "layer-type-bad",
    "image.manifest.layers-type-rfc6838",
    "layer mediaType 'tar'",
    M,
    _set("layers.2.mediaType", "tar"),
)
case(
    "layers-swapped-base",
    "image.manifest.layers-base-first",
    "layers 0 and 1 swapped",
    M,
    lambda m: m["layers"].insert(0, m["layers"].pop(1)),
)
case(
    "layers-swapped-top",
    "image.manifest.layers-stack-order",
    "layers 1 and 2 swapped",
    M,
    lambda m: m["layers"].insert(1, m["layers"].pop(2)),
)
case(
    "subject-typed-layer",
    "image.manifest.subject-is-manifest",
    "a subject typed as a layer",
    A,
    _set("subject.mediaType", TYPES["gzip"]),
)
case(
    "manifest-annotation-number",
    "image.manifest.annotations-rules",
    "a manifest annotation value 3",
    M,
    _set("annotations", {"org.example.n": 3}),
)
case(
    "empty-descriptor-size-3",
    "image.manifest.empty-descriptor-content",
    "an empty descriptor of '{ }' (size 3)",
    A,
    lambda a: a.update(
        config={
            "mediaType": EMPTY,
            "digest": "sha256:" + __import__("hashlib").sha256(b"{ }").hexdigest(),
            "size": 3,
        }
    ),
)
# --- image-index.md ----------------------------------------------------------------
case(
    "index-schema-version-3",
    "image.index.schema-version",
    "a nested index with schemaVersion 3",
    IX,
    _set("schemaVersion", 3),
)
case(
    "index-media-type-manifest",
    "image.index.media-type-value",
    "a nested index typed as a manifest",
    IX,
    _set("mediaType", "application/vnd.oci.image.manifest.v1+json"),
)
case(
    "index-json-media-type-missing",
    "image.index.media-type-used",
    "index.json without mediaType",
    T,
    _set("mediaType", DELETE),
)
case(
    "index-artifact-type-bad",
    "image.index.artifact-type-rfc6838",
    "an index artifactType 'x'",
    IX,
    _set("artifactType", "x"),
)
case(
    "index-manifests-missing",
    "image.index.manifests-required",
    "a nested index without manifests",
    IX,
    _set("manifests", DELETE),
)
case(
    "index-manifests-object",
    "image.index.property-types",
    "a nested index whose manifests is an object",
    IX,
    _set("manifests", {}),
)
case(
    "index-lists-empty-blob",
    "image.index.portable-types",
    "index.json lists the empty JSON blob",
    T,
    lambda t: t["manifests"].append({"mediaType": EMPTY, "digest": sha256(b"{}"), "size": 2}),
)
case(
    "platform-no-architecture",
    "image.index.platform-architecture",
    "a platform without architecture",
    IX,
    _set("manifests.0.platform.architecture", DELETE),
)
case(
    "platform-no-os",
    "image.index.platform-os",
    "a platform without os",
    IX,
    _set("manifests.0.platform.os", DELETE),
)
case(
    "platform-arch-x86-64",
    "image.index.platform-goarch",
    "platform architecture x86_64",
    IX,
    _set("manifests.0.platform.architecture", "x86_64"),
)
case(
    "platform-os-capital",
    "image.index.platform-goos",
    "platform os Linux",
    IX,
    _set("manifests.0.platform.os", "Linux"),
)
case(
    "platform-variant-unlisted",
    "image.index.variant-values",
    "amd64 variant v9",
    IX,
    _set("manifests.0.platform.variant", "v9"),
)
case(
    "index-entry-manifest-no-platform",
    "image.index.platform-when-specific",
    "an image manifest listed without platform",
    IX,
    _set("manifests.0.platform", DELETE),
)
case(
    "index-subject-config",
    "image.index.subject-is-manifest",
    "an index subject typed as a config",
    IX,
    _set(
        "subject",
        {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": "sha256:" + "b" * 64,
            "size": 2,
        },
    ),
)
case(
    "index-annotation-list",
    "image.index.annotations-rules",
    "index annotations value a list",
    IX,
    _set("annotations", {"org.example.l": ["a"]}),
)
case(
    "index-contains-itself",
    "image.descriptor.digest-matches-content",
    "a nested index rewritten to list its own digest",
    F,
    lambda x: _self_index(*x),
)


def _self_index(root, dg) -> None:
    import json

    p = _blob(root, dg.index)
    doc = json.loads(p.read_bytes())
    doc["manifests"].append({"mediaType": INDEX, "digest": dg.index, "size": p.stat().st_size})
    p.write_bytes(json.dumps(doc).encode())


# --- config.md ---------------------------------------------------------------------
case(
    "config-no-architecture",
    "image.config.architecture-required",
    "a config without architecture",
    C,
    _set("architecture", DELETE),
)
case("config-no-os", "image.config.os-required", "a config without os", C, _set("os", DELETE))
case(
    "config-arch-x86-64",
    "image.config.architecture-goarch",
    "config architecture x86_64",
    C,
    _set("architecture", "x86_64"),
)
case(
    "config-os-gnu-linux", "image.config.os-goos", "config os GNU/Linux", C, _set("os", "GNU/Linux")
)
case(
    "config-variant-unlisted",
    "image.config.variant-values",
    "amd64 variant v7",
    C,
    _set("variant", "v7"),
)
case(
    "config-label-number",
    "image.config.labels-rules",
    "a label value 5",
    C,
    _set("config.Labels", {"org.example.n": 5}),
)
case(
    "config-no-rootfs",
    "image.config.rootfs-required",
    "a config without rootfs",
    C,
    _set("rootfs", DELETE),
)
case(
    "config-rootfs-type-layer",
    "image.config.rootfs-type-layers",
    "rootfs.type 'layer'",
    C,
    _set("rootfs.type", "layer"),
)
case(
    "config-env-string",
    "image.config.property-types",
    "config.Env a string",
    C,
    _set("config.Env", "PATH=/bin"),
)
case(
    "diff-id-wrong",
    "image.config.diff-ids-match-layers",
    "a diff_id of other bytes",
    C,
    _set("rootfs.diff_ids.1", "sha256:" + "c" * 64),
)
case(
    "diff-ids-one-short",
    "image.config.diff-ids-match-layers",
    "diff_ids one short",
    C,
    lambda c: c["rootfs"]["diff_ids"].pop(),
)


def _compressed_diff_id(at: str, obj: object) -> object:
    if at == "layer-blobs":
        _compressed_diff_id.first = sha256(obj[0])
    elif at == C:
        obj["rootfs"]["diff_ids"][0] = _compressed_diff_id.first
    return None


CASES.append(
    Case(
        "diff-id-of-compressed-blob",
        "image.config.diff-ids-match-layers",
        "diff_ids[0] is the gzip blob's digest",
        _compressed_diff_id,
    )
)
case(
    "history-all-empty",
    "image.config.history-empty-layer",
    "every history entry marked empty_layer",
    C,
    lambda c: [h.update(empty_layer=True) for h in c["history"]],
)
case(
    "history-one-short",
    "image.config.history-empty-layer",
    "a history entry missing",
    C,
    lambda c: c["history"].pop(0),
)
case(
    "config-created-words",
    "image.config.created-format",
    "created 'yesterday'",
    C,
    _set("created", "yesterday"),
)
case(
    "history-created-date-only",
    "image.config.created-format",
    "a history created '2025-02-01'",
    C,
    _set("history.0.created", "2025-02-01"),
)
# --- annotations.md ----------------------------------------------------------------
case(
    "annotation-key-twice",
    "image.annotations.unique-keys",
    "a manifest annotation key given twice",
    "manifest-bytes",
    new(
        lambda b: b.replace(
            b'"annotations":{', b'"annotations":{"org.example.k":"1","org.example.k":"2",'
        ),
    ),
)
case(
    "annotation-key-camel",
    "image.annotations.reverse-domain",
    "annotation key 'myKey'",
    M,
    _set("annotations.myKey", "v"),
)
case(
    "annotation-oci-image-unknown",
    "image.annotations.image-namespace-reserved",
    "annotation key org.opencontainers.image.flavour",
    M,
    lambda m: m["annotations"].update({"org.opencontainers.image.flavour": "x"}),
)
case(
    "annotations-null",
    "image.annotations.absent-or-empty",
    "annotations null",
    M,
    _set("annotations", None),
)
case(
    "annotations-list-value",
    "image.annotations.string-map",
    "an annotation value that is a list",
    T,
    _set("manifests.0.annotations", {"org.opencontainers.image.ref.name": ["latest"]}),
)
case(
    "ref-name-space",
    "image.annotations.ref-name-grammar",
    "ref.name 'my tag'",
    T,
    _set("manifests.0.annotations", {"org.opencontainers.image.ref.name": "my tag"}),
)
case(
    "created-annotation-year",
    "image.annotations.created-format",
    "annotation created '2025'",
    M,
    _set("annotations", {"org.opencontainers.image.created": "2025"}),
)
case(
    "base-name-unqualified",
    "image.annotations.base-name-format",
    "base.name 'busybox'",
    M,
    _set("annotations", {"org.opencontainers.image.base.name": "busybox"}),
)
