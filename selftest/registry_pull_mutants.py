"""Registry mutants of the pull workflow and the error bodies (spec.md, Pull; Error
Codes): each breaks one behaviour of the embedded registry through the proxy (see
registry_mutants.py for the declaration's fields). Standard library only."""

from __future__ import annotations

import json

from selftest.registry_mutants import Exchange, mutant

ZERO_DIGEST = "sha256:" + "0" * 64


def _digest_ref(ex: Exchange) -> bool:
    """The request names a manifest by digest (not by tag)."""
    return "/manifests/sha" in ex.path.split("?")[0]


@mutant(
    "blob-digest-wrong",
    breaks="Docker-Content-Digest of a blob GET names other bytes",
    fails=["test_registry_pull.py::test_blob_docker_content_digest_matches_the_body"],
    requirements=["dist.pull.blob-digest-header-matches"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/blobs/sha") and ex.status == 200:
        ex.set_header("Docker-Content-Digest", ZERO_DIGEST)


@mutant(
    "manifest-get-without-digest",
    breaks="a manifest GET answers without Docker-Content-Digest",
    fails=["test_registry_pull.py::test_manifest_get_carries_docker_content_digest"],
    requirements=["dist.pull.manifest-digest-header"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/manifests/") and ex.status == 200:
        ex.set_header("Docker-Content-Digest", None)


@mutant(
    "manifest-head-without-digest",
    breaks="a manifest HEAD answers without Docker-Content-Digest",
    fails=["test_registry_pull.py::test_head_carries_docker_content_digest"],
    requirements=["dist.pull.head-digest-header"],
)
def _(ex: Exchange) -> None:
    if ex.is_("HEAD", "/manifests/") and ex.status == 200:
        ex.set_header("Docker-Content-Digest", None)


@mutant(
    "manifest-canonicalised",
    breaks="a manifest GET serves the JSON re-serialised (compact, sorted keys), not the "
    "bytes pushed: only a manifest pushed in another form changes",
    fails=[
        "test_registry_pull.py::test_get_manifest_by_tag_returns_it_with_200",
        "test_registry_pull.py::test_get_manifest_by_digest_returns_the_bytes_pushed",
        "test_registry_pull.py::test_manifest_docker_content_digest_is_the_digest_of_the_body",
    ],
    requirements=[
        "dist.pull.manifest-get-200",
        "dist.push.manifest-exact-bytes",
        "dist.pull.manifest-digest-header-value",
    ],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/manifests/") and ex.status == 200:
        try:
            doc = json.loads(ex.response_body)
        except ValueError:
            return
        ex.response_body = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@mutant(
    "manifest-by-digest-as-json",
    breaks="a manifest fetched by digest is served as application/json, not its media type",
    fails=[
        "test_registry_pull.py::test_manifest_is_served_with_the_content_type_it_was_pushed_with"
    ],
    requirements=["dist.pull.content-type-as-pushed"],
)
def _(ex: Exchange) -> None:
    if ex.method == "GET" and _digest_ref(ex) and ex.status == 200:
        ex.set_header("Content-Type", "application/json")


@mutant(
    "blob-unknown-code",
    breaks="a missing blob's error code is NOT_FOUND, not BLOB_UNKNOWN (a code outside the "
    "spec's table)",
    fails=[
        "test_registry_pull.py::test_missing_blob_answers_404_blob_unknown",
        "test_registry_pull.py::test_error_bodies_have_the_spec_format",
    ],
    requirements=["dist.errors.code-matches", "dist.errors.code-known"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/blobs/sha") and ex.status == 404:
        ex.response_body = ex.response_body.replace(b"BLOB_UNKNOWN", b"NOT_FOUND")


@mutant(
    "error-message-not-string",
    breaks="an error body's message is a number, not a string",
    fails=["test_registry_pull.py::test_error_bodies_have_the_spec_format"],
    requirements=["dist.errors.message-string"],
)
def _(ex: Exchange) -> None:
    if ex.status >= 400:
        ex.error_body(lambda errs: [e.__setitem__("message", ex.status) for e in errs])


@mutant(
    "content-range-missing",
    breaks="a 206 answer to a blob Range GET has no Content-Range header",
    fails=["test_registry_pull.py::test_blob_range_request_answers_206_with_the_slice"],
    requirements=["dist.pull.blob-range"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/blobs/sha") and ex.status == 206:
        ex.set_header("Content-Range", None)


@mutant(
    "warning-malformed",
    breaks="manifest GETs carry a Warning header that is not '299 - \"text\"'",
    fails=["test_registry_pull.py::test_warning_headers_are_well_formed"],
    requirements=["dist.warnings.format"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/manifests/") and ex.status == 200:
        ex.set_header("Warning", "199 registry deprecated")


@mutant(
    "tag-128-refused",
    breaks="a tag of 128 characters is refused (400 TAG_INVALID; the limit taken as 127)",
    fails=["test_registry_pull.py::test_a_tag_of_128_characters_is_accepted"],
    requirements=["dist.pull.tag-grammar"],
    request=True,
)
def _(ex: Exchange) -> None:
    ref = ex.path.split("?")[0].rpartition("/manifests/")[2]
    if ex.method == "PUT" and "/manifests/" in ex.path and len(ref) >= 128:
        body = {"errors": [{"code": "TAG_INVALID", "message": "tag too long"}]}
        ex.answer(400, json.dumps(body).encode(), Content_Type="application/json")


@mutant(
    "v2-base-401",
    breaks="GET /v2/ answers 401 even to the run's credentials",
    fails=["test_registry_pull.py::test_v2_answers_200_to_an_authorised_client"],
    requirements=["dist.api.v2-200"],
    request=True,
)
def _(ex: Exchange) -> None:
    if ex.method == "GET" and ex.path.split("?")[0] == "/v2/":
        ex.answer(401, b"", WWW_Authenticate='Basic realm="ocitest"')


@mutant(
    "blob-error-without-errors-list",
    breaks='a missing blob\'s JSON error body is {"error": "..."}, not {"errors": [...]}',
    fails=[
        "test_registry_pull.py::test_missing_blob_answers_404_blob_unknown",
        "test_registry_pull.py::test_error_bodies_have_the_spec_format",
    ],
    requirements=["dist.errors.json-format", "dist.errors.code-matches"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/blobs/sha") and ex.status == 404:
        ex.response_body = b'{"error": "blob unknown to registry"}'
