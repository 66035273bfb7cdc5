"""Registry workflow 2, push: blobs (POST then PUT, single POST, chunks, mounts),
upload sessions, manifests by tag and digest, and the refusals the spec asks for
(distribution-spec spec.md, Push). Each test writes into a repository of its own."""

from __future__ import annotations

import json

import pytest

from infra.outcomes import unsupported
from suites.oci_image import registry_data
from suites.oci_image.registry_data import Blob, Manifest, digest_of, names_with
from suites.oci_image.registry_flows import (
    PushError,
    bare_type,
    blob_path,
    error_codes,
    expect,
    expect_error,
    expect_status,
    manifest_path,
    patch_chunk,
    push_blob,
    push_dataset,
    push_manifest,
    start_upload,
    uploads_path,
    with_query,
)

ALL = names_with(without=("sparse", "sha512"))
pytestmark = pytest.mark.writes("pushes blobs and manifests")


def _blob(text: str) -> Blob:
    data = f"ocitest blob: {text}".encode()
    return Blob(digest_of(data), data, "application/octet-stream")


def _push_all(registry, ds: str) -> str:
    repo = registry.fresh_repo(ds)
    try:
        push_dataset(registry.client, repo, registry_data.get(ds), registry.chunk_size)
    except PushError as exc:
        expect(False, f"data set {ds} pushed (every step answered as the spec says)", str(exc))
    return repo


@pytest.mark.requirement(
    "dist.push.post-202",
    "dist.push.put-201",
    "dist.push.manifest-201",
    "dist.conformance.push-supported",
)
@pytest.mark.parametrize(
    "ds", [n for n in ALL if n not in ("many-tags", "many-referrers", "large-layer")]
)
def test_push_of_a_data_set_post_then_put(registry, ds):
    data = registry_data.get(ds)
    repo = registry.fresh_repo(ds)
    post_, put_, manifest_ = "dist.push.post-202", "dist.push.put-201", "dist.push.manifest-201"
    for b in data.blobs:
        post = start_upload(registry.client, repo)
        expect_status(post, 202, "POST to open an upload", rid=post_)
        loc = post.header("location")
        expect(bool(loc), "a Location header on 202", "none", post, rid=post_)
        put = registry.client.request(
            "PUT",
            with_query(loc, digest=b.digest),
            b.data,
            {"Content-Type": "application/octet-stream"},
        )
        expect_status(put, 201, f"PUT closing the upload of {b.digest}", rid=put_)
        expect(bool(put.header("location")), "a Location header on 201", "none", put, rid=put_)
    for m in data.manifests:
        resp = push_manifest(registry.client, repo, m)
        expect_status(resp, 201, f"PUT manifest {m.digest}", rid=manifest_)
        expect(
            bool(resp.header("location")), "a Location header on 201", "none", resp, rid=manifest_
        )


#: data sets of content a registry is asked to store as it is, and the requirement
OPTIONAL_CONTENT = [
    pytest.param("sha512", marks=pytest.mark.requirement("dist.push.sha512-blob"), id="sha512"),
    pytest.param("zstd", marks=pytest.mark.requirement("dist.push.zstd-layers"), id="zstd"),
    pytest.param(
        "non-distributable",
        marks=pytest.mark.requirement("dist.push.nondistributable-layers"),
        id="non-distributable",
    ),
    pytest.param(
        "unknown-media-types",
        marks=pytest.mark.requirement("dist.push.unknown-media-types"),
        id="unknown-media-types",
    ),
    pytest.param(
        "subject-missing",
        marks=pytest.mark.requirement("dist.push.subject-missing-accepted"),
        id="subject-missing",
    ),
    pytest.param(
        "no-layers",
        marks=pytest.mark.requirement("dist.push.manifest-empty-layers"),
        id="no-layers",
    ),
]


@pytest.mark.parametrize("ds", OPTIONAL_CONTENT)
def test_content_of_this_kind_is_stored_and_served(registry, ds):
    repo = _push_all(registry, ds)
    data = registry_data.get(ds)
    resp = registry.client.get(
        manifest_path(repo, data.root.digest), {"Accept": data.root.media_type}
    )
    expect_status(resp, 200, "GET the manifest back")
    expect(
        resp.body == data.root.data,
        "the manifest's bytes unchanged",
        f"{len(resp.body)} bytes",
        resp,
    )


@pytest.mark.requirement("dist.push.post-202", "dist.push.put-201")
@pytest.mark.parametrize("ds", ["large-layer", "many-layers", "many-referrers", "many-tags"])
def test_push_of_a_large_data_set(registry, ds):
    _push_all(registry, ds)


@pytest.mark.requirement("dist.push.location-unique", "dist.push.location-absolute-or-relative")
def test_each_upload_session_has_a_location_of_its_own(registry):
    repo = registry.fresh_repo()
    locs = []
    for _ in range(3):
        resp = start_upload(registry.client, repo)
        expect_status(resp, 202, "POST to open an upload")
        loc = resp.header("location")
        expect(
            loc.startswith(("/", "http://", "https://")),
            "an absolute URL or a path",
            repr(loc),
            resp,
            rid="dist.push.location-absolute-or-relative",
        )
        locs.append(loc.split("?")[0])
    expect(
        len(set(locs)) == 3,
        "three distinct session locations",
        str(locs),
        rid="dist.push.location-unique",
    )


def _single_post(registry, repo: str, blob: Blob):
    return registry.client.request(
        "POST",
        uploads_path(repo, {"digest": blob.digest}),
        blob.data,
        {"Content-Type": "application/octet-stream"},
    )


@pytest.mark.requirement("dist.push.single-post")
def test_a_blob_can_be_pushed_with_a_single_post(registry):
    resp = _single_post(registry, registry.fresh_repo(), _blob("single"))
    expect_status(resp, 201, "POST with digest and body: the blob stored at once")


@pytest.mark.requirement("dist.push.single-post-201-location")
def test_a_single_post_that_stores_answers_201_with_location(registry):
    resp = _single_post(registry, registry.fresh_repo(), _blob("single 201"))
    if resp.status != 201:
        unsupported(f"single POST uploads (HTTP {resp.status})")
    expect(bool(resp.header("location")), "a Location header on 201", "none", resp)


@pytest.mark.requirement("dist.push.single-post-fallback-202")
def test_a_single_post_not_supported_falls_back_to_202(registry):
    repo, blob = registry.fresh_repo(), _blob("single fallback")
    resp = _single_post(registry, repo, blob)
    if resp.status == 201:
        unsupported("the registry supports single POST uploads: no fallback to judge")
    expect_status(resp, 202, "POST with digest: 202 and a Location to PUT to")
    put = registry.client.request(
        "PUT", with_query(resp.header("location"), digest=blob.digest), blob.data
    )
    expect_status(put, 201, "PUT to the Location given")


@pytest.mark.requirement("dist.push.chunk-202", "dist.push.chunked-close-201")
@pytest.mark.parametrize("ds", ["large-layer", "image", "zstd"])
def test_chunked_upload_answers_202_with_range_then_201(registry, ds):
    data = registry_data.get(ds)
    repo = registry.fresh_repo(ds)
    b = max(data.blobs, key=lambda x: x.size)
    # three chunks at most CHUNK each, or those of --registry-chunk-size (its backend's)
    chunk = registry.chunk_size or max(1, min(registry_data.CHUNK, (b.size + 2) // 3))
    post = start_upload(registry.client, repo)
    expect_status(post, 202, "POST to open an upload")
    loc = post.header("location")
    for start in range(0, b.size, chunk):
        part = b.data[start : start + chunk]
        resp = patch_chunk(registry.client, loc, part, start)
        expect_status(resp, 202, f"PATCH bytes {start}-{start + len(part) - 1}")
        end = start + len(part) - 1
        expect(
            resp.header("range") in (f"0-{end}", f"bytes=0-{end}"),
            f"Range 0-{end}",
            repr(resp.header("range")),
            resp,
        )
        expect(bool(resp.header("location")), "a Location header", "none", resp)
        loc = resp.header("location")
    put = registry.client.request("PUT", with_query(loc, digest=b.digest), b"")
    expect_status(put, 201, "PUT closing the chunked upload with the blob's digest")
    expect(bool(put.header("location")), "a Location header on 201", "none", put)
    got = registry.client.head(blob_path(repo, b.digest))
    expect_status(got, 200, "HEAD of the blob pushed in chunks")


@pytest.mark.requirement("dist.push.final-chunk-in-put")
def test_the_final_chunk_may_travel_in_the_closing_put(registry):
    repo, b = registry.fresh_repo(), _blob("final chunk in put " * 20)
    post = start_upload(registry.client, repo)
    half = b.size // 2
    resp = patch_chunk(registry.client, post.header("location"), b.data[:half], 0)
    expect_status(resp, 202, "PATCH of the first half")
    put = registry.client.request(
        "PUT",
        with_query(resp.header("location"), digest=b.digest),
        b.data[half:],
        {"Content-Type": "application/octet-stream", "Content-Range": f"{half}-{b.size - 1}"},
    )
    expect_status(put, 201, "PUT with the last chunk")


@pytest.mark.requirement("dist.push.chunk-out-of-order-416")
def test_a_chunk_out_of_order_answers_416(registry):
    repo, b = registry.fresh_repo(), _blob("out of order " * 10)
    post = start_upload(registry.client, repo)
    resp = patch_chunk(registry.client, post.header("location"), b.data[:10], 0)
    expect_status(resp, 202, "PATCH of bytes 0-9")
    bad = patch_chunk(registry.client, resp.header("location"), b.data[20:30], 20)
    expect_status(bad, 416, "PATCH of bytes 20-29 after 0-9 (a gap)")


@pytest.mark.requirement("dist.push.final-put-out-of-order-416")
def test_a_closing_put_with_a_chunk_out_of_order_answers_416(registry):
    repo, b = registry.fresh_repo(), _blob("put out of order " * 10)
    post = start_upload(registry.client, repo)
    resp = patch_chunk(registry.client, post.header("location"), b.data[:10], 0)
    expect_status(resp, 202, "PATCH of bytes 0-9")
    put = registry.client.request(
        "PUT",
        with_query(resp.header("location"), digest=b.digest),
        b.data[20:],
        {"Content-Type": "application/octet-stream", "Content-Range": f"20-{b.size - 1}"},
    )
    expect_status(put, 416, "PUT with bytes 20-END after 0-9 (a gap)")


@pytest.mark.requirement("dist.push.upload-status-204")
def test_an_open_upload_session_answers_204_with_its_range(registry):
    repo, b = registry.fresh_repo(), _blob("status " * 10)
    post = start_upload(registry.client, repo)
    resp = patch_chunk(registry.client, post.header("location"), b.data[:16], 0)
    status = registry.client.get(resp.header("location"))
    expect_status(status, 204, "GET of the upload session")
    expect(
        status.header("range") in ("0-15", "bytes=0-15"),
        "Range 0-15",
        repr(status.header("range")),
        status,
    )
    expect(bool(status.header("location")), "a Location header", "none", status)


@pytest.mark.requirement("dist.push.upload-cancel")
def test_an_upload_session_can_be_cancelled(registry):
    repo, b = registry.fresh_repo(), _blob("cancel")
    post = start_upload(registry.client, repo)
    resp = patch_chunk(registry.client, post.header("location"), b.data, 0)
    loc = resp.header("location")
    cancel = registry.client.request("DELETE", loc)
    expect_status(cancel, 204, "DELETE of the upload session")
    expect_status(registry.client.get(loc), 404, "GET of the cancelled session")


@pytest.mark.requirement("dist.push.chunk-min-length-header")
def test_a_chunk_minimum_is_a_positive_integer(registry):
    post = start_upload(registry.client, registry.fresh_repo())
    value = post.header("oci-chunk-min-length")
    if value:
        expect(
            value.isdigit() and int(value) > 0,
            "OCI-Chunk-Min-Length: a positive integer",
            repr(value),
            post,
        )


@pytest.mark.requirement("dist.push.unknown-upload-404", "dist.errors.code-matches")
def test_an_unknown_upload_session_answers_404(registry):
    repo = registry.fresh_repo()
    loc = f"/v2/{repo}/blobs/uploads/00000000-0000-4000-8000-000000000000"
    expect_error(registry.client.get(loc), 404, "BLOB_UPLOAD_UNKNOWN")
    b = _blob("unknown session")
    expect_error(patch_chunk(registry.client, loc, b.data, 0), 404, "BLOB_UPLOAD_UNKNOWN")


def _mount(registry, ds, with_from=True):
    src, data = registry.seeded(ds)
    repo = registry.fresh_repo("mount")
    b = data.blobs[0]
    q = {"mount": b.digest, "from": src} if with_from else {"mount": b.digest}
    return repo, b, start_upload(registry.client, repo, q)


def _unless_it_never_mounts(resp) -> None:
    """A registry may decline any mount: 202 with an upload session's Location is its
    answer then (spec.md, Mounting a blob), so the 201 of a mount is not judged."""
    if resp.status == 202 and resp.header("location"):
        unsupported("the registry does not mount blobs (202: an upload session instead)")


@pytest.mark.requirement("dist.push.mount-201")
@pytest.mark.parametrize("ds", ["image", "index", "zstd", "large-layer"])
def test_a_blob_mounted_from_another_repository_answers_201(registry, ds):
    repo, b, resp = _mount(registry, ds)
    _unless_it_never_mounts(resp)
    expect_status(resp, 201, f"POST mount={b.digest[:19]}... from the data set's repository")
    expect(bool(resp.header("location")), "a Location header on 201", "none", resp)
    expect_status(registry.client.head(blob_path(repo, b.digest)), 200, "HEAD of the mounted blob")


@pytest.mark.requirement("dist.push.mount-fallback-202")
def test_a_mount_that_cannot_be_done_opens_an_upload_with_202(registry):
    repo = registry.fresh_repo("mount")
    ghost = digest_of(b"ocitest: never pushed, cannot mount")
    resp = start_upload(
        registry.client, repo, {"mount": ghost, "from": f"{registry.namespace}/ds-image"}
    )
    expect_status(resp, 202, "POST mount of a blob that exists nowhere")
    expect(bool(resp.header("location")), "a Location header", "none", resp)


@pytest.mark.requirement("dist.push.mount-without-from")
def test_a_blob_may_be_mounted_without_from(registry):
    _, b, resp = _mount(registry, "image", with_from=False)
    _unless_it_never_mounts(resp)
    expect_status(resp, 201, f"POST mount={b.digest[:19]}... without from")


@pytest.mark.requirement("dist.push.manifest-reference-tag-or-digest", "dist.push.manifest-201")
@pytest.mark.parametrize("ds", ["image", "index", "artifact", "docker-v2"])
def test_a_manifest_is_pushed_by_tag_and_by_digest(registry, ds):
    src, data = registry.seeded(ds)
    repo = registry.fresh_repo(ds)
    for b in data.blobs:
        expect_status(
            start_upload(registry.client, repo, {"mount": b.digest, "from": src}),
            (201, 202),
            "mount",
        )
        if registry.client.head(blob_path(repo, b.digest)).status != 200:
            push_blob(registry.client, repo, b)
    for m in data.manifests[:-1]:
        push_manifest(registry.client, repo, m)
    expect_status(
        push_manifest(registry.client, repo, data.root, "by-tag"), 201, "PUT manifest by tag"
    )
    expect_status(push_manifest(registry.client, repo, data.root), 201, "PUT manifest by digest")


@pytest.mark.requirement("dist.push.manifest-digest-header-equal")
@pytest.mark.parametrize("ds", ["image", "index", "formatted-manifest", "annotations"])
def test_docker_content_digest_of_a_manifest_push_is_the_clients_digest(registry, ds):
    repo, data = registry.seeded(ds)
    resp = push_manifest(registry.client, repo, data.root)
    expect_status(resp, 201, "PUT manifest by digest")
    got = resp.header("docker-content-digest")
    if got:
        expect(got == data.root.digest, f"Docker-Content-Digest {data.root.digest}", got, resp)


@pytest.mark.requirement("dist.push.digest-mismatch", "dist.errors.code-matches")
def test_a_blob_whose_digest_does_not_match_is_refused(registry):
    repo, b = registry.fresh_repo(), _blob("mismatch")
    post = start_upload(registry.client, repo)
    wrong = digest_of(b"something else")
    put = registry.client.request("PUT", with_query(post.header("location"), digest=wrong), b.data)
    expect_error(put, 400, "DIGEST_INVALID")
    expect_status(registry.client.head(blob_path(repo, wrong)), 404, "HEAD of the digest claimed")


@pytest.mark.requirement("dist.push.manifest-digest-mismatch")
@pytest.mark.parametrize(
    "wrong",
    [digest_of(b"not this manifest"), "sha256:not-a-hex-digest"],
    ids=["another-digest", "malformed-digest"],
)
def test_a_manifest_pushed_under_another_digest_is_refused(registry, wrong):
    repo, data = registry.seeded("image")
    resp = push_manifest(registry.client, repo, data.root, wrong)
    expect_status(resp, 400, f"PUT manifest under {wrong}, which is not its digest")


def _blobless_manifest() -> Manifest:
    ghost = digest_of(b"ocitest: a layer never pushed")
    doc = {
        "schemaVersion": 2,
        "mediaType": registry_data.MANIFEST,
        "config": {"mediaType": registry_data.CONFIG, "digest": ghost, "size": 10},
        "layers": [],
    }
    raw = json.dumps(doc).encode()
    return Manifest(digest_of(raw), registry_data.MANIFEST, raw)


def _foreign_layer_manifest(registry, repo: str) -> Manifest:
    """An image manifest whose config is pushed and whose one layer is non-distributable
    (with urls), never pushed: the content a registry may not hold by design."""
    cfg = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    push_blob(registry.client, repo, Blob(digest_of(cfg), cfg))
    layer = digest_of(b"ocitest: a restricted layer kept elsewhere")
    doc = {
        "schemaVersion": 2,
        "mediaType": registry_data.MANIFEST,
        "config": {"mediaType": registry_data.CONFIG, "digest": digest_of(cfg), "size": len(cfg)},
        "layers": [
            {
                "mediaType": registry_data.LAYER_NONDIST,
                "digest": layer,
                "size": 1234,
                "urls": ["https://layers.example.invalid/restricted"],
            }
        ],
    }
    raw = json.dumps(doc).encode()
    return Manifest(digest_of(raw), registry_data.MANIFEST, raw)


def _push_manifest_naming_missing_content(registry, what: str):
    """PUT, into a fresh repository, a manifest naming content the registry lacks: a
    config never pushed ("blob"), a non-distributable layer never pushed ("foreign-layer"),
    or the sparse index with only its first manifest pushed ("sparse-index"). The
    response."""
    repo = registry.fresh_repo()
    if what == "blob":
        m = _blobless_manifest()
    elif what == "foreign-layer":
        m = _foreign_layer_manifest(registry, repo)
    else:
        data = registry_data.get("sparse-index")
        part = registry_data.DataSet("part", "", data.blobs, data.manifests[:1], {})
        push_dataset(registry.client, repo, part, registry.chunk_size)
        m = data.root
    return push_manifest(registry.client, repo, m)


@pytest.mark.requirement("dist.push.missing-reference-may-reject")
@pytest.mark.parametrize("what", ["blob", "foreign-layer", "sparse-index"])
def test_a_manifest_naming_missing_content_may_be_refused(registry, what):
    resp = _push_manifest_naming_missing_content(registry, what)
    expect_status(resp, (400, 404), "a refusal of a manifest naming content the registry lacks")


@pytest.mark.requirement("dist.push.missing-reference-error-code")
@pytest.mark.parametrize("what", ["blob", "foreign-layer", "sparse-index"])
def test_a_manifest_refused_for_missing_content_says_manifest_blob_unknown(registry, what):
    resp = _push_manifest_naming_missing_content(registry, what)
    if resp.status == 201:
        unsupported("the registry accepts manifests naming missing content (a MAY)")
    codes = error_codes(resp)
    expect("MANIFEST_BLOB_UNKNOWN" in codes, "error code MANIFEST_BLOB_UNKNOWN", str(codes), resp)


@pytest.mark.requirement("dist.push.content-type-parameters-ignored")
def test_parameters_on_a_pushed_content_type_are_ignored(registry):
    src, data = registry.seeded("image")
    m = data.root
    resp = registry.client.request(
        "PUT",
        manifest_path(src, "with-params"),
        m.data,
        {"Content-Type": m.media_type + "; charset=utf-8"},
    )
    expect_status(resp, 201, "PUT manifest with Content-Type parameters")
    got = registry.client.get(manifest_path(src, "with-params"), {"Accept": m.media_type})
    expect(
        bare_type(got.header("content-type")) == m.media_type,
        f"served as {m.media_type}",
        got.header("content-type"),
        got,
    )


def _big_manifest(size: int) -> Manifest:
    src = registry_data.get("no-layers").root
    doc = json.loads(src.data)
    pad = size - len(src.data) - 60
    doc["annotations"] = {"org.example.padding": "x" * max(pad, 0)}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return Manifest(digest_of(raw), registry_data.MANIFEST, raw)


@pytest.mark.requirement("dist.push.manifest-4mb")
def test_a_manifest_of_almost_4_mb_is_accepted(registry):
    repo, _ = registry.seeded("no-layers")
    m = _big_manifest(4_000_000 - 100)
    expect_status(push_manifest(registry.client, repo, m), 201, f"PUT of a {m.size}-byte manifest")


@pytest.mark.requirement("dist.push.manifest-size-limit")
def test_a_manifest_over_the_limit_answers_413(registry):
    repo, _ = registry.seeded("no-layers")
    m = _big_manifest(16 * 1024 * 1024)
    expect_status(push_manifest(registry.client, repo, m), 413, f"PUT of a {m.size}-byte manifest")


def _has_referrers_api(registry, repo: str, digest: str) -> bool:
    return registry.client.get(f"/v2/{repo}/referrers/{digest}").status != 404


@pytest.mark.requirement("dist.push.oci-subject-header")
@pytest.mark.parametrize("ds", names_with("subject"))
def test_a_push_with_subject_answers_oci_subject(registry, ds):
    src, data = registry.seeded(ds)
    if not _has_referrers_api(registry, src, data.subject):
        unsupported("no referrers API (GET referrers answered 404)")
    for m in data.referrers[:3]:
        resp = push_manifest(registry.client, src, m)
        expect_status(resp, 201, "PUT of a manifest with subject")
        expect(
            resp.header("oci-subject") == data.subject,
            f"OCI-Subject: {data.subject}",
            repr(resp.header("oci-subject")),
            resp,
        )


def _multi_tag(registry, n: int):
    repo, data = registry.seeded("image")
    tags = [f"multi{n}-{i}" for i in range(n)]
    path = manifest_path(repo, data.root.digest) + "?" + "&".join(f"tag={t}" for t in tags)
    resp = registry.client.request(
        "PUT", path, data.root.data, {"Content-Type": data.root.media_type}
    )
    applied = [
        t
        for t in tags
        if registry.client.head(manifest_path(repo, t), {"Accept": data.root.media_type}).status
        == 200
    ]
    return resp, tags, applied


@pytest.mark.requirement("dist.push.multiple-tags")
def test_a_manifest_push_by_digest_may_apply_several_tags(registry):
    resp, tags, applied = _multi_tag(registry, 3)
    expect_status(resp, 201, "PUT by digest with three tag= parameters")
    expect(applied == tags, f"tags {tags} applied", str(applied), resp)


@pytest.mark.requirement("dist.push.multiple-tags-oci-tag")
def test_tags_applied_by_a_push_are_named_in_oci_tag(registry):
    resp, _, applied = _multi_tag(registry, 3)
    if not applied:
        unsupported("the registry applies no tag= parameter")
    got = resp.all("oci-tag")
    expect(sorted(got) == sorted(applied), f"OCI-Tag naming {applied}", str(got), resp)


@pytest.mark.requirement("dist.push.multiple-tags-ten")
def test_ten_tags_in_one_push_are_accepted(registry):
    resp, tags, applied = _multi_tag(registry, 10)
    if not applied:
        unsupported("the registry applies no tag= parameter")
    expect(applied == tags, "all ten tags applied", str(applied), resp)


@pytest.mark.requirement("dist.push.digest-algorithm-param")
def test_an_upload_opened_with_digest_algorithm_sha512_takes_a_sha512_blob(registry):
    repo = registry.fresh_repo()
    data = b"ocitest sha512 blob"
    digest = digest_of(data, "sha512")
    post = start_upload(registry.client, repo, {"digest-algorithm": "sha512"})
    expect_status(post, 202, "POST with digest-algorithm=sha512")
    put = registry.client.request("PUT", with_query(post.header("location"), digest=digest), data)
    expect_status(put, 201, "PUT with the sha512 digest")


@pytest.mark.requirement("dist.push.invalid-digest-400")
def test_a_malformed_digest_on_an_upload_answers_400(registry):
    repo = registry.fresh_repo()
    for bad in ("sha256:xyz", "nosuchalgorithm:0123"):
        resp = registry.client.request("POST", uploads_path(repo, {"digest": bad}), b"abc")
        expect_status(resp, 400, f"POST with digest={bad}")
