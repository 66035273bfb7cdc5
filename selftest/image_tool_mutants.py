"""Image-tool mutants: each wraps a real `skopeo copy` (or, with base "ctr", the `ctr
images export` of the containerd setup built) and damages the layout it wrote in one way
(image-layout.md, descriptor.md, manifest.md, config.md); image_tool_mutant.py is the
entry point, a layout subject through `--image-tool DIR/mutant-NAME` (a ctr mutant:
`--image-tool DIR/mutant-NAME/ctr`, its containerd beside it).

A mutant names the tests it must fail beyond what its base (skopeo on PATH, Debian's
1.9.3; ctr 2.4.2 for a ctr mutant) fails: "test_FILE.py::test_function" without the
subject id, and the requirement ids those tests check. tests/test_image_tool_mutants.py checks that exactly those fail
and that the failures name those ids. Each is also in selftest/declare.py's registry
(kind "image-tool", key image-tool-NAME), so its self-test result counts in the mutation
score. Standard library only.

A damage edits the layout in place through `Layout`: `swap` writes a changed JSON
document as a new blob and points every descriptor of the old one (index.json, indexes,
manifests' config/layers/subject) at it, up to index.json, the way a tool that wrote it
so would have; what a mutant breaks is only the one thing it declares.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selftest.declare import Mutant, register

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"


class Layout:
    """The layout a wrapped tool wrote at `root` (blobs under blobs/sha256)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        algo, _, hexpart = digest.partition(":")
        return self.root / "blobs" / algo / hexpart

    def put(self, data: bytes) -> str:
        """Write `data` as a blob; its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.path(digest).write_bytes(data)
        return digest

    def doc(self, digest: str) -> dict:
        return json.loads(self.path(digest).read_bytes())

    def index_json(self) -> dict:
        return json.loads((self.root / "index.json").read_bytes())

    def image_manifest(self) -> str:
        """The digest of the first image manifest reachable from index.json whose config
        is an image config (nested indexes followed)."""
        todo = list(self.index_json()["manifests"])
        while todo:
            d = todo.pop(0)
            if d.get("mediaType") == INDEX:
                todo += self.doc(d["digest"]).get("manifests", [])
            elif d.get("mediaType") == MANIFEST:
                m = self.doc(d["digest"])
                if m.get("config", {}).get("mediaType", "").endswith("image.config.v1+json"):
                    return d["digest"]
        raise LookupError(f"{self.root}: no image manifest reachable from index.json")

    def swap(self, old: str, new_doc: dict | bytes) -> str:
        """Write `new_doc` in place of blob `old`, repoint every descriptor of `old` (and
        so on up to index.json), remove `old`; the new digest."""
        data = new_doc if isinstance(new_doc, bytes) else json.dumps(new_doc).encode()
        new = self.put(data)
        if new == old:
            return new
        for path in [self.root / "index.json", *(self.root / "blobs").rglob("*")]:
            if not path.is_file() or path == self.path(new):
                continue
            try:
                doc = json.loads(path.read_bytes())
            except (ValueError, UnicodeDecodeError):
                continue
            if not isinstance(doc, dict) or not _repoint(doc, old, new, len(data)):
                continue
            if path.name == "index.json" and path.parent == self.root:
                path.write_text(json.dumps(doc))
            else:
                self.swap("sha256:" + path.name, doc)
        self.path(old).unlink(missing_ok=True)
        return new


def _repoint(doc: dict, old: str, new: str, size: int) -> bool:
    changed = False
    descs = [*doc.get("manifests", []), *doc.get("layers", [])]
    descs += [doc[k] for k in ("config", "subject") if isinstance(doc.get(k), dict)]
    for d in descs:
        if isinstance(d, dict) and d.get("digest") == old:
            d["digest"], d["size"] = new, size
            changed = True
    return changed


@dataclass(frozen=True)
class ImageToolMutant:
    name: str
    breaks: str
    fails: tuple[str, ...]
    requirements: tuple[str, ...]
    damage: Callable[[Layout], None]
    base: str = "skopeo"


MUTANTS: dict[str, ImageToolMutant] = {}


def mutant(
    name: str, *, breaks: str, fails: list[str], requirements: list[str], base: str = "skopeo"
):
    """Declare the decorated damage(layout) -> None as mutant `name`; run on the layout
    of a successful `skopeo copy` (base "ctr": of a successful `ctr images export`,
    unpacked from its archive and packed again)."""

    def deco(fn):
        m = ImageToolMutant(name, breaks, tuple(fails), tuple(requirements), fn, base)
        MUTANTS[name] = m
        register(Mutant("image-tool", name, "damage", breaks, m.fails, m.requirements, base=base))
        return fn

    return deco


@mutant(
    "wrong-layer-size",
    breaks="a layer descriptor of the manifest gives its blob's size plus one",
    fails=["test_descriptor.py::test_size_matches_content"],
    requirements=["image.descriptor.size-matches-content"],
)
def _(layout: Layout) -> None:
    digest = layout.image_manifest()
    manifest = layout.doc(digest)
    manifest["layers"][0]["size"] += 1
    layout.swap(digest, manifest)


@mutant(
    "no-oci-layout",
    breaks="the oci-layout file is not written",
    fails=["test_layout.py::test_oci_layout_exists"],
    requirements=["image.layout.oci-layout-exists"],
)
def _(layout: Layout) -> None:
    (layout.root / "oci-layout").unlink()


@mutant(
    "gzip-layer-typed-tar",
    breaks="a layer is stored gzip-compressed (its descriptor has the gzip blob's digest and "
    "size) but its descriptor keeps the uncompressed tar media type",
    fails=["test_descriptor.py::test_media_type_of_content"],
    requirements=["image.descriptor.media-type-of-content"],
)
def _(layout: Layout) -> None:
    digest = layout.image_manifest()
    manifest = layout.doc(digest)
    layer = next(d for d in manifest["layers"] if d["mediaType"] == LAYER_TAR + "+gzip")
    layer["mediaType"] = LAYER_TAR
    layout.swap(digest, manifest)


@mutant(
    "blob-outside-algorithm-dir",
    breaks="the config blob is written at blobs/ENCODED, without its blobs/sha256 directory",
    fails=[
        "test_layout.py::test_blob_path_grammar",
        "test_layout.py::test_missing_blobs_external",
    ],
    requirements=["image.layout.blob-path-grammar", "image.layout.missing-blobs-external"],
)
def _(layout: Layout) -> None:
    config = layout.doc(layout.image_manifest())["config"]["digest"]
    src = layout.path(config)
    src.rename(layout.root / "blobs" / src.name)


@mutant(
    "wrong-diff-id",
    breaks="the config's first rootfs.diff_ids entry is not the digest of the "
    "uncompressed first layer",
    fails=["test_config.py::test_diff_ids_match_layers"],
    requirements=["image.config.diff-ids-match-layers"],
)
def _(layout: Layout) -> None:
    manifest = layout.doc(layout.image_manifest())
    config_digest = manifest["config"]["digest"]
    config = layout.doc(config_digest)
    config["rootfs"]["diff_ids"][0] = "sha256:" + hashlib.sha256(b"not a layer").hexdigest()
    layout.swap(config_digest, config)


@mutant(
    "manifest-without-media-type",
    breaks="the image manifest is written without its mediaType field",
    fails=["test_manifest.py::test_media_type_used"],
    requirements=["image.manifest.media-type-used"],
)
def _(layout: Layout) -> None:
    digest = layout.image_manifest()
    manifest = layout.doc(digest)
    manifest.pop("mediaType", None)
    layout.swap(digest, manifest)


@mutant(
    "index-wrong-digest",
    breaks="index.json's first manifest descriptor gives a digest that is not its "
    "manifest's, and the manifest's bytes are (also) stored under that digest",
    fails=[
        "test_descriptor.py::test_digest_matches_content",
        "test_layout.py::test_blob_content_matches_path",
    ],
    requirements=[
        "image.descriptor.digest-matches-content",
        "image.layout.blob-content-matches-path",
    ],
)
def _(layout: Layout) -> None:
    index = layout.index_json()
    desc = index["manifests"][0]
    data = layout.path(desc["digest"]).read_bytes()
    wrong = "sha256:" + hashlib.sha256(data + b"\n").hexdigest()
    layout.path(wrong).write_bytes(data)
    desc["digest"] = wrong
    (layout.root / "index.json").write_text(json.dumps(index))


# -- mutants of `ctr images export` (containerd 2.4.2) ------------------------------------
@mutant(
    "ctr-index-json-wrong-size",
    breaks="index.json's descriptor of the exported image gives its index's size plus one",
    fails=["test_descriptor.py::test_size_matches_content"],
    requirements=["image.descriptor.size-matches-content"],
    base="ctr",
)
def _(layout: Layout) -> None:
    index = layout.index_json()
    index["manifests"][0]["size"] += 1
    (layout.root / "index.json").write_text(json.dumps(index))
