"""The registry suite's data sets: OCI content built by our own code, byte-exact and the
same in every process (deterministic: fixed seeds, tar and gzip with zero times).

A `DataSet` is blobs and manifests in push order (children before their parents; a
referrer may come before its subject), the tags to apply, and the facts the tests judge
against (the root manifest, referrers of a subject with their artifactType and
annotations). `traits` say which tests apply (`names_with`). `get(name)` builds a data set
once per process; `DATASETS` names them all with a line each (image-spec 1.1.1 media
types; distribution-spec 1.1.1 spec.md for what a registry does with them).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
SBOM = "application/vnd.example.sbom.v1+json"
SIGNATURE = "application/vnd.example.signature.v1"
#: traits of content a registry need not store (its push tests judge it; reads skip)
OPTIONAL = frozenset({"sha512", "sparse"})
#: bytes of the large layer and of each chunk it is pushed in
LARGE_LAYER = 64 * 1024 * 1024
CHUNK = 8 * 1024 * 1024


@dataclass
class Blob:
    """A blob: its digest ("sha256:..."), bytes and the media type it is referenced as."""

    digest: str
    data: bytes = field(repr=False)
    media_type: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Manifest:
    """A manifest or index as pushed: digest, media type (the Content-Type) and bytes."""

    digest: str
    media_type: str
    data: bytes = field(repr=False)
    artifact_type: str = ""
    annotations: dict = field(default_factory=dict)
    subject: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class DataSet:
    """One data set.

    Attributes:
        name: its id (test parameter ids use it).
        about: one line.
        blobs: every blob, pushed before the manifests.
        manifests: in push order; `root` is the one the tags name.
        tags: tag -> manifest digest.
        traits: what it has ("index", "subject", "referrers", "sha512", "chunked", ...).
        subject: the digest whose referrers the data set holds, or "".
        referrers: the manifests whose subject is `subject`.
    """

    name: str
    about: str
    blobs: list[Blob]
    manifests: list[Manifest]
    tags: dict[str, str]
    traits: frozenset[str] = frozenset()
    subject: str = ""

    @property
    def root(self) -> Manifest:
        """The tagged manifest (the first tag's)."""
        digest = next(iter(self.tags.values())) if self.tags else self.manifests[-1].digest
        return self.manifest(digest)

    def manifest(self, digest: str) -> Manifest:
        return next(m for m in self.manifests if m.digest == digest)

    @property
    def referrers(self) -> list[Manifest]:
        return [m for m in self.manifests if self.subject and m.subject == self.subject]


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:" + hashlib.new(algorithm, data).hexdigest()


def _json(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _gzip(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


def _zstd(raw: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(raw)


class _Builder:
    """Accumulates blobs and manifests of one data set."""

    def __init__(self, name: str, algorithm: str = "sha256") -> None:
        self.name = name
        self.alg = algorithm
        self.blobs: dict[str, Blob] = {}
        self.manifests: list[Manifest] = []

    def blob(self, data: bytes, media_type: str) -> dict:
        d = digest_of(data, self.alg)
        self.blobs.setdefault(d, Blob(d, data, media_type))
        return {"mediaType": media_type, "digest": d, "size": len(data)}

    def layer(self, text: str, media_type: str = LAYER_GZIP) -> tuple[dict, str]:
        raw = _tar({f"ocitest/{self.name}/{text[:40]}.txt": text.encode()})
        data = {LAYER_GZIP: _gzip, LAYER_NONDIST: _gzip, DOCKER_LAYER: _gzip, LAYER_ZSTD: _zstd}
        packed = data.get(media_type, lambda r: r)(raw)
        return self.blob(packed, media_type), digest_of(raw, "sha256")

    def config(self, diff_ids: list[str], media_type: str = CONFIG, extra: dict | None = None):
        doc = {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            **(extra or {}),
        }
        return self.blob(_json(doc), media_type)

    def add(self, doc: dict, media_type: str, data: bytes | None = None) -> dict:
        raw = data if data is not None else _json(doc)
        d = digest_of(raw, self.alg)
        at = doc.get("artifactType", "")
        if not at and media_type == MANIFEST:
            at = doc.get("config", {}).get("mediaType", "")
        self.manifests.append(
            Manifest(
                d,
                media_type,
                raw,
                artifact_type=at,
                annotations=doc.get("annotations", {}),
                subject=(doc.get("subject") or {}).get("digest", ""),
            )
        )
        desc = {"mediaType": media_type, "digest": d, "size": len(raw)}
        return desc

    def image(
        self,
        texts: list[str],
        layer_type: str = LAYER_GZIP,
        annotations: dict | None = None,
        config_type: str = CONFIG,
        manifest_type: str = MANIFEST,
    ) -> dict:
        layers, diffs = [], []
        for t in texts:
            desc, diff = self.layer(t, layer_type)
            layers.append(desc)
            diffs.append(diff)
        doc: dict = {
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": self.config(diffs, config_type),
            "layers": layers,
        }
        if annotations:
            doc["annotations"] = annotations
        return self.add(doc, manifest_type)

    def artifact(
        self, artifact_type: str, payload: bytes, subject: dict | None, annotations: dict
    ) -> dict:
        empty = self.blob(b"{}", EMPTY)
        doc: dict = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [self.blob(payload, "application/vnd.example.payload")],
            "annotations": annotations,
        }
        if subject:
            doc["subject"] = subject
        return self.add(doc, MANIFEST)

    def index(self, children: list[dict], annotations: dict | None = None, **extra) -> dict:
        doc: dict = {"schemaVersion": 2, "mediaType": INDEX, "manifests": children, **extra}
        if annotations:
            doc["annotations"] = annotations
        return self.add(doc, INDEX)

    def done(self, about: str, tags: dict[str, str], traits: set[str], subject: str = ""):
        return DataSet(
            self.name,
            about,
            list(self.blobs.values()),
            self.manifests,
            tags,
            frozenset(traits),
            subject,
        )


def _plat(desc: dict, arch: str) -> dict:
    return {**desc, "platform": {"architecture": arch, "os": "linux"}}


# -- the data sets -----------------------------------------------------------------
def _image() -> DataSet:
    b = _Builder("image")
    root = b.image(["hello", "world"])
    return b.done("an image of two gzip layers", {"v1": root["digest"]}, {"image"})


def _index() -> DataSet:
    b = _Builder("index")
    a, c = b.image(["amd64 layer"]), b.image(["arm64 layer"])
    root = b.index([_plat(a, "amd64"), _plat(c, "arm64")])
    return b.done("an index of two platform images", {"v1": root["digest"]}, {"index"})


def _nested_index() -> DataSet:
    b = _Builder("nested-index")
    inner = b.index([_plat(b.image(["inner"]), "amd64")])
    root = b.index([inner])
    return b.done("an index whose entry is another index", {"v1": root["digest"]}, {"index"})


def _no_layers() -> DataSet:
    b = _Builder("no-layers")
    root = b.image([])
    return b.done("an image with an empty layers list", {"v1": root["digest"]}, {"image"})


def _empty_blob() -> DataSet:
    b = _Builder("empty-blob")
    empty = b.blob(b"", LAYER_TAR)
    cfg = b.config([digest_of(b"")])
    root = b.add(
        {"schemaVersion": 2, "mediaType": MANIFEST, "config": cfg, "layers": [empty]}, MANIFEST
    )
    return b.done(
        "an image whose layer is the empty blob (0 bytes)",
        {"v1": root["digest"]},
        {"image", "empty-blob"},
    )


def _artifact() -> DataSet:
    b = _Builder("artifact")
    root = b.artifact(SBOM, b'{"sbom": true}', None, {"org.example.kind": "sbom"})
    return b.done(
        "an artifact (empty config, artifactType) without subject",
        {"v1": root["digest"]},
        {"artifact"},
    )


def _artifact_subject() -> DataSet:
    b = _Builder("artifact-subject")
    img = b.image(["subject image"])
    b.artifact(SBOM, b'{"sbom": 1}', img, {"org.example.kind": "sbom"})
    b.artifact(SIGNATURE, b"signature", img, {"org.example.kind": "signature"})
    return b.done(
        "an image with an SBOM and a signature referring to it",
        {"v1": img["digest"]},
        {"image", "subject", "referrers"},
        subject=img["digest"],
    )


def _subject_missing() -> DataSet:
    b = _Builder("subject-missing")
    ghost = digest_of(b"ocitest: a manifest never pushed")
    subject = {"mediaType": MANIFEST, "digest": ghost, "size": 1234}
    art = b.artifact(SBOM, b'{"orphan": 1}', subject, {"org.example.kind": "orphan"})
    return b.done(
        "an artifact whose subject does not exist in the repository",
        {"v1": art["digest"]},
        {"artifact", "subject", "subject-missing", "referrers"},
        subject=ghost,
    )


def _sha512() -> DataSet:
    b = _Builder("sha512", "sha512")
    root = b.image(["sha512 layer"])
    return b.done(
        "an image whose blobs and manifest are addressed by sha512",
        {"v1": root["digest"]},
        {"image", "sha512"},
    )


def _zstd_layers() -> DataSet:
    b = _Builder("zstd")
    root = b.image(["zstd one", "zstd two"], LAYER_ZSTD)
    return b.done("an image of zstd-compressed layers", {"v1": root["digest"]}, {"image", "zstd"})


def _nondistributable() -> DataSet:
    b = _Builder("non-distributable")
    root = b.image(["restricted layer"], LAYER_NONDIST)
    return b.done(
        "an image with a non-distributable layer media type",
        {"v1": root["digest"]},
        {"image", "non-distributable"},
    )


def _unknown_types() -> DataSet:
    b = _Builder("unknown-media-types")
    root = b.image(
        ["opaque"],
        "application/vnd.example.unknown.layer",
        config_type="application/vnd.example.unknown.config+json",
    )
    return b.done(
        "an image whose config and layer media types are unknown",
        {"v1": root["digest"]},
        {"image", "unknown-types"},
    )


def _large_layer() -> DataSet:
    b = _Builder("large-layer")
    data = random.Random(64).randbytes(LARGE_LAYER)
    layer = b.blob(data, LAYER_TAR)
    cfg = b.config([layer["digest"]])
    root = b.add(
        {"schemaVersion": 2, "mediaType": MANIFEST, "config": cfg, "layers": [layer]}, MANIFEST
    )
    return b.done(
        "an image with one 64 MiB layer, pushed in 8 MiB chunks",
        {"v1": root["digest"]},
        {"image", "chunked", "large"},
    )


def _many_layers() -> DataSet:
    b = _Builder("many-layers")
    root = b.image([f"layer {i:03d}" for i in range(100)])
    return b.done("an image of 100 small layers", {"v1": root["digest"]}, {"image", "many-layers"})


def _many_tags() -> DataSet:
    b = _Builder("many-tags")
    root = b.image(["tagged a thousand times"])
    names = [f"t{i:04d}" for i in range(1000)]
    tags = {"v1": root["digest"], **{n: root["digest"] for n in names}}
    return b.done("one image under 1,000 tags", tags, {"image", "many-tags"})


def _many_referrers() -> DataSet:
    b = _Builder("many-referrers")
    img = b.image(["referred to 200 times"])
    for i in range(200):
        kind = SBOM if i % 2 else SIGNATURE
        b.artifact(kind, f"referrer {i}".encode(), img, {"org.example.n": str(i)})
    return b.done(
        "an image with 200 referrers",
        {"v1": img["digest"]},
        {"image", "subject", "referrers", "many-referrers"},
        subject=img["digest"],
    )


def _annotations() -> DataSet:
    b = _Builder("annotations")
    ann = {
        "org.opencontainers.image.created": "2026-01-01T00:00:00Z",
        "org.opencontainers.image.title": "ocitest annotations",
        "org.example.unicode": "caf\u00e9 \u2603",
    }
    img = b.image(["annotated"], annotations=ann)
    root = b.index([_plat(img, "amd64")], annotations=ann)
    return b.done(
        "an index and image carrying annotations (with non-ASCII values)",
        {"v1": root["digest"]},
        {"index", "annotations"},
    )


def _index_referrer() -> DataSet:
    b = _Builder("index-referrer")
    img = b.image(["index subject"])
    child = b.artifact(SBOM, b"child", None, {})
    b.index([child], annotations={"org.example.kind": "index-referrer"}, subject=img)
    b.artifact(SIGNATURE, b"sig", img, {"org.example.kind": "signature"})
    return b.done(
        "an image referred to by an index (no artifactType) and an artifact",
        {"v1": img["digest"]},
        {"image", "subject", "referrers"},
        subject=img["digest"],
    )


def _formatted() -> DataSet:
    b = _Builder("formatted-manifest")
    layer, diff = b.layer("formatted")
    cfg = b.config([diff])
    doc = {"schemaVersion": 2, "mediaType": MANIFEST, "layers": [layer], "config": cfg}
    raw = ("\n" + json.dumps(doc, indent=3) + "\n\n").encode()
    root = b.add(doc, MANIFEST, raw)
    return b.done(
        "a manifest with unusual whitespace and key order (stored byte for byte)",
        {"v1": root["digest"]},
        {"image", "formatted"},
    )


def _docker_v2() -> DataSet:
    b = _Builder("docker-v2")
    root = b.image(
        ["docker layer"], DOCKER_LAYER, config_type=DOCKER_CONFIG, manifest_type=DOCKER_MANIFEST
    )
    return b.done(
        "a Docker schema 2 image (not OCI, widely served)",
        {"v1": root["digest"]},
        {"image", "docker"},
    )


def _uncompressed() -> DataSet:
    b = _Builder("uncompressed")
    root = b.image(["plain tar"], LAYER_TAR)
    return b.done("an image with an uncompressed tar layer", {"v1": root["digest"]}, {"image"})


def _tag_schema() -> DataSet:
    b = _Builder("referrers-tag-schema")
    img = b.image(["tag schema subject"])
    art = b.artifact(SBOM, b"fallback", img, {"org.example.kind": "fallback"})
    entry = {**art, "artifactType": SBOM, "annotations": {"org.example.kind": "fallback"}}
    idx = b.index([entry])
    tag = img["digest"].replace(":", "-")
    return b.done(
        "an image with a referrer and its referrers tag schema index",
        {"v1": img["digest"], tag: idx["digest"]},
        {"image", "subject", "tag-schema"},
        subject=img["digest"],
    )


def _sparse_index() -> DataSet:
    b = _Builder("sparse-index")
    img = b.image(["present"])
    ghost = {"mediaType": MANIFEST, "digest": digest_of(b"ocitest: absent child"), "size": 321}
    root = b.index([_plat(img, "amd64"), _plat(ghost, "arm64")])
    return b.done(
        "an index naming a manifest that was never pushed",
        {"v1": root["digest"]},
        {"index", "sparse"},
    )


#: name -> builder, in the order tests list them
DATASETS: dict[str, Callable[[], DataSet]] = {
    "image": _image,
    "index": _index,
    "nested-index": _nested_index,
    "no-layers": _no_layers,
    "empty-blob": _empty_blob,
    "artifact": _artifact,
    "artifact-subject": _artifact_subject,
    "subject-missing": _subject_missing,
    "sha512": _sha512,
    "zstd": _zstd_layers,
    "non-distributable": _nondistributable,
    "unknown-media-types": _unknown_types,
    "large-layer": _large_layer,
    "many-layers": _many_layers,
    "many-tags": _many_tags,
    "many-referrers": _many_referrers,
    "annotations": _annotations,
    "index-referrer": _index_referrer,
    "formatted-manifest": _formatted,
    "docker-v2": _docker_v2,
    "uncompressed": _uncompressed,
    "referrers-tag-schema": _tag_schema,
    "sparse-index": _sparse_index,
}
#: traits of each data set, known without building it (collection must stay cheap)
TRAITS: dict[str, frozenset[str]] = {}
_CACHE: dict[str, DataSet] = {}


def get(name: str) -> DataSet:
    """The data set `name`, built once per process."""
    if name not in _CACHE:
        _CACHE[name] = DATASETS[name]()
    return _CACHE[name]


def _traits() -> dict[str, frozenset[str]]:
    if not TRAITS:
        for name in DATASETS:
            TRAITS[name] = _TRAITS_FIXED.get(name) or get(name).traits
    return TRAITS


#: traits of the data sets that are costly to build (the others are built to learn theirs)
_TRAITS_FIXED = {
    "large-layer": frozenset({"image", "chunked", "large"}),
    "many-tags": frozenset({"image", "many-tags"}),
    "many-referrers": frozenset({"image", "subject", "referrers", "many-referrers"}),
}


def names_with(*want: str, without: tuple[str, ...] = ("sparse",)) -> list[str]:
    """The data sets having every trait of `want` (any when empty) and none of `without`
    (the sparse index, which a registry may refuse, is left out unless asked for)."""
    return [
        n
        for n, t in _traits().items()
        if all(w in t for w in want) and not any(x in t for x in without if x not in want)
    ]
