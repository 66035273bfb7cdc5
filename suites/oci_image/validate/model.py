"""An OCI image layout read for judgement: files, blobs, descriptors, documents.

`read_layout(root)` walks a layout directory (image-layout.md) from index.json through
every descriptor it can reach (nested indexes, manifests, configs, layers, subjects) and
records what it saw; the rule modules turn that into findings. Blobs are hashed in
chunks (never read whole); JSON documents (manifests, indexes, configs) are parsed with
duplicate keys recorded. A cycle or a missing blob stops the walk at that point only.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

#: bytes read per step while hashing a blob
CHUNK = 1 << 20
#: algorithm and encoded grammar of a digest (descriptor.md#digests)
DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
ALGORITHM_RE = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*$")
ENCODED_RE = re.compile(r"^[a-zA-Z0-9=_-]+$")
#: registered algorithms: name -> (hashlib name, encoded form)
ALGORITHMS = {
    "sha256": ("sha256", re.compile(r"^[a-f0-9]{64}$")),
    "sha512": ("sha512", re.compile(r"^[a-f0-9]{128}$")),
}

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
ND_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar"
LAYER_TYPES = {
    LAYER_TAR,
    LAYER_TAR + "+gzip",
    LAYER_TAR + "+zstd",
    ND_TAR,
    ND_TAR + "+gzip",
    ND_TAR + "+zstd",
}
#: every media type image-spec 1.1.1 defines (media-types.md)
KNOWN_TYPES = LAYER_TYPES | {
    "application/vnd.oci.descriptor.v1+json",
    "application/vnd.oci.layout.header.v1+json",
    INDEX,
    MANIFEST,
    CONFIG,
    EMPTY,
}


@dataclass(frozen=True)
class Finding:
    """One way a layout breaks one requirement.

    Attributes:
        rid: the catalogue id ("image.descriptor.size-matches-content").
        where: the file or blob (path relative to the layout root, plus a JSON path).
        wanted: what the requirement asks, in a few words.
        seen: what the layout holds instead.
    """

    rid: str
    where: str
    wanted: str
    seen: str

    def __str__(self) -> str:
        return f"{self.where}: wanted {self.wanted}; seen {self.seen}"


@dataclass
class Ref:
    """A descriptor found in the layout.

    Attributes:
        desc: the descriptor object as parsed (may be malformed: any JSON value).
        where: file or blob holding it plus JSON path ("index.json manifests[0]").
        place: its role: index-entry, config, layer, subject.
        parent_type: mediaType of the document holding it (index or manifest).
    """

    desc: object
    where: str
    place: str
    parent_type: str = ""

    @property
    def media_type(self) -> str:
        v = self.desc.get("mediaType") if isinstance(self.desc, dict) else None
        return v if isinstance(v, str) else ""

    @property
    def digest(self) -> str:
        v = self.desc.get("digest") if isinstance(self.desc, dict) else None
        return v if isinstance(v, str) else ""


@dataclass
class Blob:
    """A blob file's facts: its path, size in bytes and actual digest under its algorithm."""

    path: str
    size: int
    actual: str  # "alg:hex" computed from the content, "" for an unknown algorithm


@dataclass
class Document:
    """A JSON document of the layout (index.json, an index, a manifest or a config).

    Attributes:
        where: "index.json" or "blobs/sha256/...".
        kind: index, manifest or config.
        doc: the parsed JSON (any value), or None when it did not parse.
        error: why it did not parse, else "".
        duplicates: JSON paths of keys that occur twice in one object.
        digest: the digest it was reached by ("" for index.json).
    """

    where: str
    kind: str
    doc: object
    error: str = ""
    duplicates: list[str] = field(default_factory=list)
    digest: str = ""


@dataclass
class Layout:
    """Everything read from one layout directory."""

    root: Path
    files: set[str] = field(default_factory=set)
    blobs: dict[str, Blob] = field(default_factory=dict)  # digest named by the path -> blob
    bad_blob_paths: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    #: (manifest document, config document or None) for every manifest reached
    images: list[tuple[Document, Document | None]] = field(default_factory=list)

    def blob_path(self, digest: str) -> Path | None:
        """The file holding `digest`, or None when the layout lacks it."""
        b = self.blobs.get(digest)
        return self.root / b.path if b else None


def hash_file(path: Path, algorithm: str) -> str:
    """ "alg:hex" of the file's content, read in CHUNK-byte steps."""
    h = hashlib.new(ALGORITHMS[algorithm][0])
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return f"{algorithm}:{h.hexdigest()}"


def parse_json(data: bytes) -> tuple[object, list[str], str]:
    """(value, duplicate key paths, error) of JSON bytes; value None on error."""
    dups: list[str] = []

    def pairs(items: list[tuple[str, object]]) -> dict:
        seen: dict = {}
        for k, v in items:
            if k in seen:
                dups.append(k)
            seen[k] = v
        return seen

    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=pairs), dups, ""
    except (UnicodeDecodeError, ValueError) as exc:
        return None, dups, f"not JSON: {str(exc)[:120]}"


#: JSON documents larger than this are not parsed (bytes)
MAX_JSON = 4 << 20


def read_layout(root: Path) -> Layout:
    """Read and walk the layout at `root` (a directory)."""
    lay = Layout(root=root)
    for p in sorted(root.rglob("*")):
        if p.is_file() or p.is_symlink():
            lay.files.add(p.relative_to(root).as_posix())
    _read_blobs(lay)
    idx = _load_doc(lay, "index.json", "index", "")
    if idx is not None:
        _walk_index(lay, idx, set())
    return lay


def _read_blobs(lay: Layout) -> None:
    base = lay.root / "blobs"
    if not base.is_dir():
        return
    for alg_dir in sorted(base.iterdir()):
        if not alg_dir.is_dir():
            lay.bad_blob_paths.append(f"blobs/{alg_dir.name}")
            continue
        for f in sorted(alg_dir.iterdir()):
            rel = f"blobs/{alg_dir.name}/{f.name}"
            if (
                not f.is_file()
                or not ALGORITHM_RE.match(alg_dir.name)
                or not ENCODED_RE.match(f.name)
            ):
                lay.bad_blob_paths.append(rel)
                continue
            alg = alg_dir.name
            known = alg in ALGORITHMS
            if known and not ALGORITHMS[alg][1].match(f.name):
                lay.bad_blob_paths.append(rel)
            actual = hash_file(f, alg) if known else ""
            lay.blobs[f"{alg}:{f.name}"] = Blob(rel, f.stat().st_size, actual)


def _load_doc(lay: Layout, rel: str, kind: str, digest: str) -> Document | None:
    path = lay.root / rel
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_JSON:
        d = Document(rel, kind, None, f"larger than {MAX_JSON} bytes", digest=digest)
    else:
        value, dups, err = parse_json(path.read_bytes())
        d = Document(rel, kind, value, err, dups, digest)
    lay.documents.append(d)
    return d


def _descriptors(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _walk_index(lay: Layout, idx: Document, path: set[str]) -> None:
    doc = idx.doc if isinstance(idx.doc, dict) else {}
    own = doc.get("mediaType") if isinstance(doc.get("mediaType"), str) else INDEX
    for i, d in enumerate(_descriptors(doc.get("manifests"))):
        ref = Ref(d, f"{idx.where} manifests[{i}]", "index-entry", own)
        lay.refs.append(ref)
        _follow(lay, ref, path | {idx.digest})
    if "subject" in doc:
        lay.refs.append(Ref(doc["subject"], f"{idx.where} subject", "subject", own))


def _follow(lay: Layout, ref: Ref, path: set[str]) -> None:
    """Walk into the manifest or index `ref` names (once per digest on a path: no cycles)."""
    digest, mt = ref.digest, ref.media_type
    if mt not in (MANIFEST, INDEX) or digest in path or digest not in lay.blobs:
        return
    if any(d.digest == digest for d in lay.documents):
        return  # reached before by another path: judged once
    d = _load_doc(lay, lay.blobs[digest].path, "index" if mt == INDEX else "manifest", digest)
    if d is None:
        return
    if mt == INDEX:
        _walk_index(lay, d, path)
    else:
        _walk_manifest(lay, d)


def _walk_manifest(lay: Layout, man: Document) -> None:
    doc = man.doc if isinstance(man.doc, dict) else {}
    cfg_doc = None
    cfg = doc.get("config")
    if cfg is not None:
        ref = Ref(cfg, f"{man.where} config", "config", MANIFEST)
        lay.refs.append(ref)
        if ref.media_type == CONFIG and ref.digest in lay.blobs:
            cfg_doc = next((x for x in lay.documents if x.digest == ref.digest), None)
            cfg_doc = cfg_doc or _load_doc(lay, lay.blobs[ref.digest].path, "config", ref.digest)
    for i, d in enumerate(_descriptors(doc.get("layers"))):
        lay.refs.append(Ref(d, f"{man.where} layers[{i}]", "layer", MANIFEST))
    if "subject" in doc:
        lay.refs.append(Ref(doc["subject"], f"{man.where} subject", "subject", MANIFEST))
    lay.images.append((man, cfg_doc))
