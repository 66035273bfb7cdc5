"""Registry workflow 1, pull: manifests and blobs by tag and digest, GET and HEAD, Range,
and what a registry answers for content it lacks (distribution-spec spec.md, Pull;
Error Codes). Each data set is pushed once per run into its own repository; every test
here only reads."""

from __future__ import annotations

import pytest

from suites.oci_image.registry_data import digest_of, names_with
from suites.oci_image.registry_flows import (
    ERROR_CODES,
    bare_type,
    blob_path,
    error_codes,
    expect,
    expect_error,
    expect_status,
    manifest_path,
    push_manifest,
)

ALL = names_with()
#: data sets whose blobs hold at least 64 bytes (Range reads a slice of each)
RANGED = ["image", "large-layer", "many-layers", "zstd"]
GHOST = digest_of(b"ocitest: content no one pushed")


def _algorithm_digest(header: str, body: bytes) -> str:
    alg = header.split(":", 1)[0] if ":" in header else "sha256"
    try:
        return digest_of(body, alg)
    except ValueError:
        return f"(unknown algorithm {alg})"


@pytest.mark.requirement("dist.api.v2-200")
def test_v2_answers_200_to_an_authorised_client(registry):
    resp = registry.client.get("/v2/")
    expect_status(resp, 200, "GET /v2/ with the run's credentials")


@pytest.mark.requirement("dist.pull.manifest-get-200", "dist.conformance.pull-supported")
@pytest.mark.parametrize("ds", ALL)
def test_get_manifest_by_tag_returns_it_with_200(registry, ds):
    repo, data = registry.seeded(ds)
    for tag, digest in list(data.tags.items())[:3]:
        m = data.manifest(digest)
        resp = registry.client.get(manifest_path(repo, tag), {"Accept": m.media_type})
        expect_status(resp, 200, f"GET manifest by tag {tag}")
        want = m.data
        expect(
            resp.body == want,
            f"the manifest pushed as {tag} ({len(want)} bytes)",
            f"{len(resp.body)} other bytes",
            resp,
        )


@pytest.mark.requirement(
    "dist.pull.manifest-get-200",
    "dist.push.manifest-exact-bytes",
    "dist.pull.reference-tag-or-digest",
)
@pytest.mark.parametrize("ds", ALL)
def test_get_manifest_by_digest_returns_the_bytes_pushed(registry, ds):
    repo, data = registry.seeded(ds)
    for m in data.manifests[:20]:
        resp = registry.client.get(manifest_path(repo, m.digest), {"Accept": m.media_type})
        expect_status(resp, 200, f"GET manifest {m.digest}")
        expect(
            resp.body == m.data,
            f"the {m.size} bytes pushed, unchanged",
            f"{len(resp.body)} bytes that differ",
            resp,
        )


@pytest.mark.requirement("dist.pull.content-type-as-pushed")
@pytest.mark.parametrize("ds", ALL)
def test_manifest_is_served_with_the_content_type_it_was_pushed_with(registry, ds):
    repo, data = registry.seeded(ds)
    for m in data.manifests[:5]:
        resp = registry.client.get(manifest_path(repo, m.digest), {"Accept": m.media_type})
        got = bare_type(resp.header("content-type"))
        expect(got == m.media_type, f"Content-Type {m.media_type}", f"Content-Type {got!r}", resp)


@pytest.mark.requirement("dist.pull.content-type-no-parameters")
@pytest.mark.parametrize("ds", ["image", "index", "artifact"])
def test_manifest_content_type_carries_no_parameters(registry, ds):
    repo, data = registry.seeded(ds)
    resp = registry.client.get(manifest_path(repo, "v1"), {"Accept": data.root.media_type})
    got = resp.header("content-type")
    expect(";" not in got, "a Content-Type without parameters", repr(got), resp)


@pytest.mark.requirement("dist.pull.manifest-digest-header")
@pytest.mark.parametrize("ds", ALL)
def test_manifest_get_carries_docker_content_digest(registry, ds):
    repo, data = registry.seeded(ds)
    resp = registry.client.get(manifest_path(repo, "v1"), {"Accept": data.root.media_type})
    expect(
        bool(resp.header("docker-content-digest")), "a Docker-Content-Digest header", "none", resp
    )


@pytest.mark.requirement("dist.pull.manifest-digest-header-value")
@pytest.mark.parametrize("ds", ALL)
def test_manifest_docker_content_digest_is_the_digest_of_the_body(registry, ds):
    repo, data = registry.seeded(ds)
    for ref in ("v1", data.root.digest):
        resp = registry.client.get(manifest_path(repo, ref), {"Accept": data.root.media_type})
        got = resp.header("docker-content-digest")
        if got:
            want = _algorithm_digest(got, resp.body)
            expect(got == want, f"Docker-Content-Digest {want} (the body's)", got, resp)


@pytest.mark.requirement("dist.pull.manifest-digest-header-required")
@pytest.mark.parametrize("ds", ["image", "index", "sha512"])
def test_manifest_get_and_head_carry_docker_content_digest(registry, ds):
    repo, data = registry.seeded(ds)
    for method in ("GET", "HEAD"):
        resp = registry.client.request(
            method, manifest_path(repo, "v1"), headers={"Accept": data.root.media_type}
        )
        expect(
            bool(resp.header("docker-content-digest")),
            f"{method}: a Docker-Content-Digest header",
            "none",
            resp,
        )


@pytest.mark.requirement("dist.pull.head-200")
@pytest.mark.parametrize("ds", ALL)
def test_head_of_existing_manifests_and_blobs_answers_200(registry, ds):
    repo, data = registry.seeded(ds)
    for m in data.manifests[:10]:
        expect_status(
            registry.client.head(manifest_path(repo, m.digest), {"Accept": m.media_type}),
            200,
            "HEAD manifest",
        )
    for b in data.blobs[:10]:
        expect_status(registry.client.head(blob_path(repo, b.digest)), 200, "HEAD blob")


def _check_head_length(registry, ds):
    repo, data = registry.seeded(ds)
    for m in data.manifests[:5]:
        resp = registry.client.head(manifest_path(repo, m.digest), {"Accept": m.media_type})
        got = resp.header("content-length")
        expect(got == str(m.size), f"Content-Length {m.size}", repr(got), resp)
    for b in data.blobs[:5]:
        resp = registry.client.head(blob_path(repo, b.digest))
        got = resp.header("content-length")
        expect(got == str(b.size), f"Content-Length {b.size}", repr(got), resp)


@pytest.mark.requirement("dist.pull.head-content-length")
@pytest.mark.parametrize("ds", ALL)
def test_head_carries_the_content_length(registry, ds):
    _check_head_length(registry, ds)


@pytest.mark.requirement("dist.pull.head-content-length-required")
@pytest.mark.parametrize("ds", ["image", "index", "empty-blob", "large-layer"])
def test_head_must_carry_the_content_length(registry, ds):
    _check_head_length(registry, ds)


@pytest.mark.requirement("dist.pull.head-digest-header")
@pytest.mark.parametrize("ds", ALL)
def test_head_carries_docker_content_digest(registry, ds):
    repo, data = registry.seeded(ds)
    resp = registry.client.head(manifest_path(repo, "v1"), {"Accept": data.root.media_type})
    expect(
        bool(resp.header("docker-content-digest")),
        "Docker-Content-Digest on HEAD of a manifest",
        "none",
        resp,
    )
    b = data.blobs[0]
    resp = registry.client.head(blob_path(repo, b.digest))
    expect(
        bool(resp.header("docker-content-digest")),
        "Docker-Content-Digest on HEAD of a blob",
        "none",
        resp,
    )


@pytest.mark.requirement("dist.pull.blob-get-200")
@pytest.mark.parametrize("ds", ALL)
def test_get_blob_returns_its_bytes_with_200(registry, ds):
    repo, data = registry.seeded(ds)
    for b in data.blobs:
        resp = registry.client.get(blob_path(repo, b.digest))
        expect_status(resp, 200, f"GET blob {b.digest}")
        expect(
            resp.body == b.data,
            f"the blob's {b.size} bytes",
            f"{len(resp.body)} bytes that differ",
            resp,
        )


@pytest.mark.requirement("dist.pull.blob-digest-header")
@pytest.mark.parametrize("ds", ALL)
def test_blob_get_carries_docker_content_digest(registry, ds):
    repo, data = registry.seeded(ds)
    b = data.blobs[0]
    resp = registry.client.get(blob_path(repo, b.digest))
    expect(
        bool(resp.header("docker-content-digest")), "a Docker-Content-Digest header", "none", resp
    )


@pytest.mark.requirement("dist.pull.blob-digest-header-required")
@pytest.mark.parametrize("ds", ["image", "sha512", "empty-blob"])
def test_blob_get_and_head_must_carry_docker_content_digest(registry, ds):
    repo, data = registry.seeded(ds)
    for method in ("GET", "HEAD"):
        resp = registry.client.request(method, blob_path(repo, data.blobs[0].digest))
        expect(
            bool(resp.header("docker-content-digest")),
            f"{method}: a Docker-Content-Digest header",
            "none",
            resp,
        )


@pytest.mark.requirement("dist.pull.blob-digest-header-matches")
@pytest.mark.parametrize("ds", ALL)
def test_blob_docker_content_digest_matches_the_body(registry, ds):
    repo, data = registry.seeded(ds)
    for b in data.blobs[:10]:
        resp = registry.client.get(blob_path(repo, b.digest))
        got = resp.header("docker-content-digest")
        if got:
            want = _algorithm_digest(got, resp.body)
            expect(got == want, f"Docker-Content-Digest {want} (the body's)", got, resp)


@pytest.mark.requirement("dist.pull.blob-range")
@pytest.mark.parametrize("ds", RANGED)
def test_blob_range_request_answers_206_with_the_slice(registry, ds):
    repo, data = registry.seeded(ds)
    b = max(data.blobs, key=lambda x: x.size)
    start, end = 10, min(b.size - 1, 10 + 4095)
    resp = registry.client.get(blob_path(repo, b.digest), {"Range": f"bytes={start}-{end}"})
    expect_status(resp, 206, f"GET blob with Range bytes={start}-{end}")
    expect(
        resp.body == b.data[start : end + 1],
        f"bytes {start}-{end} of the blob",
        f"{len(resp.body)} bytes",
        resp,
    )
    cr = resp.header("content-range")
    expect(
        cr.startswith(f"bytes {start}-{end}/"),
        f"Content-Range bytes {start}-{end}/{b.size}",
        repr(cr),
        resp,
    )


@pytest.mark.requirement("dist.pull.blob-range")
@pytest.mark.parametrize("kind", ["past-the-end", "last-before-first"])
def test_a_range_the_blob_cannot_serve_answers_416_or_the_whole_blob(registry, kind):
    repo, data = registry.seeded("image")
    b = max(data.blobs, key=lambda x: x.size)
    rng = f"bytes={b.size + 100}-{b.size + 200}" if kind == "past-the-end" else "bytes=50-0"
    resp = registry.client.get(blob_path(repo, b.digest), {"Range": rng})
    # RFC 9110 14.2: an unsatisfiable range is 416; an invalid one is ignored (200)
    expect_status(resp, (416, 200), f"GET blob with Range {rng}")
    expect(
        not resp.error, "a whole response (a body as long as its Content-Length)", resp.error, resp
    )
    if resp.status == 200:
        expect(resp.body == b.data, f"the whole blob ({b.size} bytes)", f"{len(resp.body)}", resp)


@pytest.mark.requirement("dist.pull.manifest-404", "dist.errors.code-matches")
def test_missing_manifest_answers_404_manifest_unknown(registry):
    repo, _ = registry.seeded("image")
    for ref in ("no-such-tag", GHOST):
        expect_error(registry.client.get(manifest_path(repo, ref)), 404, "MANIFEST_UNKNOWN")


@pytest.mark.requirement("dist.pull.blob-404", "dist.errors.code-matches")
def test_missing_blob_answers_404_blob_unknown(registry):
    repo, _ = registry.seeded("image")
    expect_error(registry.client.get(blob_path(repo, GHOST)), 404, "BLOB_UNKNOWN")


@pytest.mark.requirement("dist.pull.head-404")
def test_head_of_missing_content_answers_404(registry):
    repo, _ = registry.seeded("image")
    expect_status(
        registry.client.head(manifest_path(repo, GHOST)), 404, "HEAD of a missing manifest"
    )
    expect_status(
        registry.client.head(manifest_path(repo, "no-such-tag")), 404, "HEAD of a missing tag"
    )
    expect_status(registry.client.head(blob_path(repo, GHOST)), 404, "HEAD of a missing blob")


@pytest.mark.requirement("dist.push.nonexistent-repo-404", "dist.errors.code-matches")
def test_pull_from_a_repository_that_does_not_exist_answers_404(registry):
    repo = registry.fresh_repo("never")
    expect_error(
        registry.client.get(manifest_path(repo, "v1")), 404, ("NAME_UNKNOWN", "MANIFEST_UNKNOWN")
    )


@pytest.mark.requirement("dist.pull.reference-tag-or-digest")
def test_a_reference_that_is_neither_tag_nor_digest_is_refused(registry):
    repo, _ = registry.seeded("image")
    for ref in ("-leading-dash", "sha256:short", "x" * 129):
        resp = registry.client.get(manifest_path(repo, ref))
        expect_status(
            resp, (400, 404), f"GET manifest {ref[:20]}... (not a tag nor a digest): refused"
        )


@pytest.mark.requirement("dist.pull.name-grammar")
def test_a_repository_name_outside_the_grammar_is_refused(registry):
    bad = f"{registry.namespace}/Upper-Case"
    resp = registry.client.get(manifest_path(bad, "v1"))
    expect_status(resp, (400, 404), "GET in a repository named with upper-case letters: refused")
    if resp.status == 400:
        expect(
            "NAME_INVALID" in error_codes(resp),
            "error code NAME_INVALID",
            str(error_codes(resp)),
            resp,
        )


@pytest.mark.requirement("dist.pull.tag-grammar")
@pytest.mark.writes("pushes a manifest under a 128-character tag")
def test_a_tag_of_128_characters_is_accepted(registry):
    repo, data = registry.seeded("image")
    tag = "T_" + "a.b-c" * 25 + "x"
    assert len(tag) == 128
    expect_status(
        push_manifest(registry.client, repo, data.root, tag),
        201,
        "PUT manifest under a 128-character tag",
    )
    expect_status(
        registry.client.get(manifest_path(repo, tag), {"Accept": data.root.media_type}),
        200,
        "GET it back",
    )


@pytest.mark.requirement(
    "dist.errors.json-format",
    "dist.errors.code-form",
    "dist.errors.code-known",
    "dist.errors.message-string",
)
def test_error_bodies_have_the_spec_format(registry):
    repo, _ = registry.seeded("image")
    import re

    for resp in (
        registry.client.get(manifest_path(repo, "no-such-tag")),
        registry.client.get(blob_path(repo, GHOST)),
        registry.client.get(manifest_path(registry.fresh_repo("never"), "v1")),
    ):
        if not resp.body or resp.body[:1] != b"{":
            continue
        doc = resp.json()
        errs = doc.get("errors") if isinstance(doc, dict) else None
        expect(
            isinstance(errs, list) and errs,
            'a JSON object {"errors": [...]} with one error at least',
            repr(doc)[:200],
            resp,
        )
        for e in errs:
            code = e.get("code", "")
            expect(
                bool(re.fullmatch(r"[A-Z_]+", code)),
                "a code of upper-case letters and underscores",
                repr(code),
                resp,
            )
            expect(code in ERROR_CODES, "one of the spec's error codes", repr(code), resp)
            if "message" in e:
                expect(isinstance(e["message"], str), "a string message", repr(e["message"]), resp)


@pytest.mark.requirement("dist.warnings.format", "dist.warnings.size")
@pytest.mark.parametrize("ds", ["image", "index", "artifact-subject"])
def test_warning_headers_are_well_formed(registry, ds):
    import re

    repo, data = registry.seeded(ds)
    responses = [registry.client.get(manifest_path(repo, "v1"), {"Accept": data.root.media_type})]
    responses += [registry.client.get(blob_path(repo, b.digest)) for b in data.blobs[:3]]
    responses.append(registry.client.get(f"/v2/{repo}/tags/list"))
    for resp in responses:
        warnings = [v for k, v in resp.header_list if k == "warning"]
        total = sum(len(w) for w in warnings)
        expect(total <= 4096, "at most 4096 bytes of Warning headers", f"{total} bytes", resp)
        for w in warnings:
            ok = re.fullmatch(r'299 - "(?:[^"\\]|\\.)*"', w.strip())
            expect(bool(ok), 'Warning: 299 - "text" (code 299, agent -, no date)', repr(w), resp)
