"""Registry mutants for behaviours that only one test of the registry suite looks at:
optional content refused, a missing tag answered, an upper-case repository served, a
session Location handed out twice, parameters on a Content-Type refused, the last chunk
refused in the closing PUT, a bad OCI-Chunk-Min-Length, a referrers tag index altered
(see registry_mutants.py for the declaration's fields). Standard library only.

The content mutants refuse only outside the run's seeded data-set repositories
(`NS/ds-NAME`): the seeded copies serve every other test, so only the tests that push
that kind of content themselves see the refusal.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse

from selftest.registry_mutants import Exchange, mutant

ZERO_DIGEST = "sha256:" + "0" * 64
INDEX = "application/vnd.oci.image.index.v1+json"
_INVALID = json.dumps({"errors": [{"code": "MANIFEST_INVALID", "message": "refused"}]}).encode()


def _repo(ex: Exchange) -> str:
    """The repository of a /v2/REPO/{manifests,blobs}/... request ("" for others)."""
    m = re.match(r"/v2/(.+?)/(?:manifests|blobs|tags|referrers)/", ex.path.split("?")[0])
    return m.group(1) if m else ""


def _refuse_manifest(ex: Exchange, needle: bytes) -> None:
    """Answer 400 MANIFEST_INVALID to a manifest PUT whose body holds `needle`, outside
    the seeded data-set repositories."""
    if ex.method != "PUT" or "/manifests/" not in ex.path or needle not in ex.body:
        return
    if _repo(ex).rsplit("/", 1)[-1].startswith("ds-"):
        return
    ex.answer(400, _INVALID, Content_Type="application/json")


@mutant(
    "zstd-manifest-refused",
    breaks="a manifest with zstd layers is refused (400), outside the seeded repositories",
    fails=[
        "test_registry_push.py::test_content_of_this_kind_is_stored_and_served",
        "test_registry_push.py::test_push_of_a_data_set_post_then_put",
    ],
    requirements=["dist.push.zstd-layers"],
    request=True,
)
def _(ex: Exchange) -> None:
    _refuse_manifest(ex, b"tar+zstd")


@mutant(
    "nondistributable-manifest-refused",
    breaks="a manifest with non-distributable layers is refused (400), outside the seeded "
    "repositories",
    fails=[
        "test_registry_push.py::test_content_of_this_kind_is_stored_and_served",
        "test_registry_push.py::test_push_of_a_data_set_post_then_put",
        "test_registry_push.py::test_a_manifest_refused_for_missing_content_says_manifest_blob_unknown",
    ],
    requirements=["dist.push.nondistributable-layers"],
    request=True,
)
def _(ex: Exchange) -> None:
    _refuse_manifest(ex, b"layer.nondistributable.")


@mutant(
    "unknown-media-type-refused",
    breaks="a manifest naming media types the registry does not know is refused (400), "
    "outside the seeded repositories",
    fails=[
        "test_registry_push.py::test_content_of_this_kind_is_stored_and_served",
        "test_registry_push.py::test_push_of_a_data_set_post_then_put",
    ],
    requirements=["dist.push.unknown-media-types"],
    request=True,
)
def _(ex: Exchange) -> None:
    _refuse_manifest(ex, b"application/vnd.example.unknown.")


@mutant(
    "missing-subject-refused",
    breaks="a manifest whose subject is not in the repository is refused (400), outside "
    "the seeded repositories",
    # the data sets push a referrer before its subject, so their push fails too
    fails=[
        "test_registry_push.py::test_content_of_this_kind_is_stored_and_served",
        "test_registry_push.py::test_push_of_a_data_set_post_then_put",
    ],
    requirements=["dist.push.subject-missing-accepted"],
    request=True,
)
def _(ex: Exchange) -> None:
    if ex.method != "PUT" or "/manifests/" not in ex.path or b'"subject"' not in ex.body:
        return
    try:
        subject = json.loads(ex.body)["subject"]["digest"]
    except (ValueError, KeyError, TypeError):
        return
    if ex.upstream and ex.upstream("HEAD", f"/v2/{_repo(ex)}/manifests/{subject}") == 404:
        _refuse_manifest(ex, b'"subject"')


@mutant(
    "empty-layers-refused",
    breaks="an image manifest with an empty layers list is refused (400), outside the "
    "seeded repositories",
    fails=[
        "test_registry_push.py::test_content_of_this_kind_is_stored_and_served",
        "test_registry_push.py::test_push_of_a_data_set_post_then_put",
    ],
    requirements=["dist.push.manifest-empty-layers"],
    request=True,
)
def _(ex: Exchange) -> None:
    _refuse_manifest(ex, b'"layers":[]')


@mutant(
    "missing-tag-head-200",
    breaks="HEAD of a tag the repository lacks answers 200",
    fails=["test_registry_pull.py::test_head_of_missing_content_answers_404"],
    requirements=["dist.pull.head-404"],
    request=True,
)
def _(ex: Exchange) -> None:
    if ex.is_("HEAD", "/manifests/no-such-tag"):
        ex.answer(200, Docker_Content_Digest=ZERO_DIGEST)


@mutant(
    "upper-case-repository-served",
    breaks="a repository name with upper-case letters is served (200) instead of refused",
    fails=["test_registry_pull.py::test_a_repository_name_outside_the_grammar_is_refused"],
    requirements=["dist.pull.name-grammar"],
    request=True,
)
def _(ex: Exchange) -> None:
    if ex.method == "GET" and re.search(r"[A-Z]", _repo(ex)):
        ex.answer(200, b"{}", Content_Type="application/vnd.oci.image.manifest.v1+json")


@mutant(
    "chunk-min-length-zero",
    breaks="an upload's POST answer carries OCI-Chunk-Min-Length: 0",
    fails=["test_registry_push.py::test_a_chunk_minimum_is_a_positive_integer"],
    requirements=["dist.push.chunk-min-length-header"],
)
def _(ex: Exchange) -> None:
    if ex.is_("POST", "/blobs/uploads/") and ex.status == 202:
        ex.set_header("OCI-Chunk-Min-Length", "0")


@mutant(
    "content-type-parameters-refused",
    breaks="a manifest PUT whose Content-Type carries parameters is refused (400)",
    fails=["test_registry_push.py::test_parameters_on_a_pushed_content_type_are_ignored"],
    requirements=["dist.push.content-type-parameters-ignored"],
    request=True,
)
def _(ex: Exchange) -> None:
    ctype = next((v for k, v in ex.headers.items() if k.lower() == "content-type"), "")
    if ex.method == "PUT" and "/manifests/" in ex.path and ";" in ctype:
        ex.answer(400, _INVALID, Content_Type="application/json")


@mutant(
    "final-chunk-in-put-refused",
    breaks="a closing PUT that carries the last chunk (with its Content-Range) is refused "
    "(400): only an empty closing PUT after PATCHes works",
    fails=["test_registry_push.py::test_the_final_chunk_may_travel_in_the_closing_put"],
    requirements=["dist.push.final-chunk-in-put"],
    request=True,
)
def _(ex: Exchange) -> None:
    has_range = any(k.lower() == "content-range" for k in ex.headers)
    if ex.is_("PUT", "/blobs/uploads/") and has_range and ex.body:
        body = {"errors": [{"code": "BLOB_UPLOAD_INVALID", "message": "refused"}]}
        ex.answer(400, json.dumps(body).encode(), Content_Type="application/json")


#: repository -> [Location of its last plain POST, used since]
_SESSIONS: dict[str, list] = {}
_SESSIONS_LOCK = threading.Lock()


def _note_use(ex: Exchange) -> None:
    path = ex.path.split("?")[0]
    with _SESSIONS_LOCK:
        for s in _SESSIONS.values():
            if urllib.parse.urlsplit(s[0]).path == path:
                s[1] = True


def _hand_out_again(ex: Exchange) -> None:
    if not (ex.is_("POST", "/blobs/uploads/") and ex.status == 202) or "?" in ex.path:
        return
    repo, loc = _repo(ex), ex.header("location")
    with _SESSIONS_LOCK:
        last = _SESSIONS.get(repo)
        if last is not None and not last[1]:
            ex.set_header("Location", last[0])  # the earlier session, still unused
        else:
            _SESSIONS[repo] = [loc, False]


@mutant(
    "upload-location-handed-out-twice",
    breaks="a POST that opens an upload while an earlier session of the repository is "
    "still unused answers with that earlier session's Location",
    fails=["test_registry_push.py::test_each_upload_session_has_a_location_of_its_own"],
    requirements=["dist.push.location-unique"],
    request=True,
    then=_hand_out_again,
)
def _(ex: Exchange) -> None:
    if "/blobs/uploads/" in ex.path and ex.method != "POST":
        _note_use(ex)


@mutant(
    "referrers-tag-index-reserialised",
    breaks="a referrers tag-schema index (tag sha256-HEX) is served re-serialised, not as pushed",
    fails=["test_registry_discovery.py::test_a_referrers_tag_schema_index_is_served_as_pushed"],
    requirements=["dist.referrers.tag-schema-content"],
)
def _(ex: Exchange) -> None:
    ref = ex.path.split("?")[0].rsplit("/manifests/", 1)[-1]
    if ex.method == "GET" and ex.status == 200 and re.fullmatch(r"sha256-[0-9a-f]{64}", ref):
        try:
            doc = json.loads(ex.response_body)
        except ValueError:
            return
        ex.response_body = json.dumps(doc, sort_keys=True, indent=2).encode()


# -- changes merged after 1.1.1 (since: dev; their self-tests run with --distribution-spec dev)
@mutant(
    "blob-head-without-digest",
    breaks="HEAD of a blob answers without Docker-Content-Digest",
    fails=[
        "test_registry_pull.py::test_blob_get_and_head_must_carry_docker_content_digest",
        "test_registry_pull.py::test_head_carries_docker_content_digest",
    ],
    requirements=["dist.pull.blob-digest-header-required"],
)
def _(ex: Exchange) -> None:
    if ex.is_("HEAD", "/blobs/sha") and ex.status == 200:
        ex.set_header("Docker-Content-Digest", None)


@mutant(
    "index-without-digest",
    breaks="GET and HEAD of an image index answer without Docker-Content-Digest",
    fails=[
        "test_registry_pull.py::test_manifest_get_and_head_carry_docker_content_digest",
        "test_registry_pull.py::test_manifest_get_carries_docker_content_digest",
        "test_registry_pull.py::test_head_carries_docker_content_digest",
    ],
    requirements=["dist.pull.manifest-digest-header-required"],
)
def _(ex: Exchange) -> None:
    index = ex.header("content-type").split(";")[0].strip() == INDEX
    if ex.method in ("GET", "HEAD") and "/manifests/" in ex.path and ex.status == 200 and index:
        ex.set_header("Docker-Content-Digest", None)


@mutant(
    "blob-head-without-length",
    breaks="HEAD of a blob leaves Content-Length out",
    fails=[
        "test_registry_pull.py::test_head_must_carry_the_content_length",
        "test_registry_pull.py::test_head_carries_the_content_length",
    ],
    requirements=["dist.pull.head-content-length-required"],
)
def _(ex: Exchange) -> None:
    if ex.is_("HEAD", "/blobs/sha"):
        ex.drop_length = True


@mutant(
    "upload-cancel-ignored",
    breaks="DELETE of an upload session answers 204 but the session stays open",
    fails=["test_registry_push.py::test_an_upload_session_can_be_cancelled"],
    requirements=["dist.push.upload-cancel"],
    request=True,
)
def _(ex: Exchange) -> None:
    if ex.is_("DELETE", "/blobs/uploads/"):
        ex.answer(204)
