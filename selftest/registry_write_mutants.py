"""Registry mutants of the push, discovery and management workflows (spec.md, Push,
Content Discovery, Content Management): each breaks one behaviour of the embedded
registry through the proxy (see registry_mutants.py for the declaration's fields).
Standard library only."""

from __future__ import annotations

import json
import re
import urllib.parse

from selftest.registry_mutants import Exchange, mutant

ZERO_DIGEST = "sha256:" + "0" * 64
#: tags a truncating tag list keeps
PAGE = 100


@mutant(
    "blob-put-without-location",
    breaks="a closing PUT's 201 (the blob stored) has no Location header",
    fails=[
        "test_registry_push.py::test_push_of_a_data_set_post_then_put",
        "test_registry_push.py::test_chunked_upload_answers_202_with_range_then_201",
    ],
    requirements=["dist.push.put-201", "dist.push.chunked-close-201"],
)
def _(ex: Exchange) -> None:
    if ex.is_("PUT", "/blobs/uploads/") and ex.status == 201:
        ex.set_header("Location", None)


@mutant(
    "upload-status-range-off-by-one",
    breaks="GET of an upload session gives Range 0-N where N is the count of bytes "
    "received, not the last offset",
    fails=["test_registry_push.py::test_an_open_upload_session_answers_204_with_its_range"],
    requirements=["dist.push.upload-status-204"],
)
def _(ex: Exchange) -> None:
    m = re.fullmatch(r"(bytes=)?0-(\d+)", ex.header("range"))
    if ex.is_("GET", "/blobs/uploads/") and m:
        ex.set_header("Range", f"{m.group(1) or ''}0-{int(m.group(2)) + 1}")


@mutant(
    "mount-201-without-mounting",
    breaks="a cross-repository mount of a blob that exists answers 201 but mounts nothing",
    fails=["test_registry_push.py::test_a_blob_mounted_from_another_repository_answers_201"],
    requirements=["dist.push.mount-201"],
    request=True,
)
def _(ex: Exchange) -> None:
    path, _, query = ex.path.partition("?")
    q = urllib.parse.parse_qs(query)
    if ex.method != "POST" or "mount" not in q or "from" not in q:
        return
    digest, source = q["mount"][0], q["from"][0]
    if ex.upstream and ex.upstream("HEAD", f"/v2/{source}/blobs/{digest}") == 200:
        repo = path.removeprefix("/v2/").removesuffix("/blobs/uploads/")
        ex.answer(201, Location=f"/v2/{repo}/blobs/{digest}", Docker_Content_Digest=digest)


@mutant(
    "manifest-push-digest-wrong",
    breaks="a manifest push's 201 names another digest in Docker-Content-Digest",
    fails=[
        "test_registry_push.py::test_docker_content_digest_of_a_manifest_push_is_the_clients_digest"
    ],
    requirements=["dist.push.manifest-digest-header-equal"],
)
def _(ex: Exchange) -> None:
    if ex.is_("PUT", "/manifests/") and ex.status == 201:
        ex.set_header("Docker-Content-Digest", ZERO_DIGEST)


@mutant(
    "manifest-digest-mismatch-accepted",
    breaks="a manifest PUT under a digest that is not its own answers 201",
    fails=["test_registry_push.py::test_a_manifest_pushed_under_another_digest_is_refused"],
    requirements=["dist.push.manifest-digest-mismatch"],
)
def _(ex: Exchange) -> None:
    if (
        ex.is_("PUT", "/manifests/sha")
        and ex.status == 400
        and b"DIGEST_INVALID" in ex.response_body
    ):
        ex.status, ex.response_body = 201, b""


@mutant(
    "manifest-over-1mib-refused",
    breaks="a manifest of more than 1 MiB is refused with 413 (the spec's 4 MB floor not met)",
    fails=["test_registry_push.py::test_a_manifest_of_almost_4_mb_is_accepted"],
    requirements=["dist.push.manifest-4mb"],
    request=True,
)
def _(ex: Exchange) -> None:
    if ex.method == "PUT" and "/manifests/" in ex.path and len(ex.body) > 1024 * 1024:
        body = {"errors": [{"code": "SIZE_INVALID", "message": "manifest too large"}]}
        ex.answer(413, json.dumps(body).encode(), Content_Type="application/json")


@mutant(
    "tag-list-truncated",
    breaks=f"the tag list stops after {PAGE} tags with no Link header to the rest",
    # (test_tag_list_answers_200_with_name_and_tags[many-tags] fails too, in a full run;
    # the self-test leaves the many-* data sets out)
    fails=["test_registry_discovery.py::test_following_the_tag_list_links_yields_every_tag_once"],
    requirements=["dist.tags.link-rfc5988"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/tags/list") and ex.status == 200:
        doc = json.loads(ex.response_body)
        if isinstance(doc.get("tags"), list) and len(doc["tags"]) > PAGE:
            doc["tags"] = doc["tags"][:PAGE]
            ex.response_body = json.dumps(doc).encode()
            ex.set_header("Link", None)


def _delete_as_head(ex: Exchange, part: str) -> None:
    """DELETE of `part` ("/manifests/sha", "/blobs/sha") goes upstream as a HEAD: the
    answer says whether it exists, and nothing is removed."""
    if ex.is_("DELETE", part):
        ex.method = "HEAD"


def _accepted_if_found(ex: Exchange) -> None:
    if ex.method == "HEAD" and ex.status == 200:
        ex.status, ex.response_body = 202, b""
        ex.response_headers = []


@mutant(
    "manifest-delete-not-applied",
    breaks="DELETE of a manifest by digest answers 202 but removes nothing",
    fails=[
        "test_registry_management.py::"
        "test_delete_of_a_manifest_by_digest_answers_202_and_removes_it"
    ],
    requirements=["dist.manage.delete-manifest-202"],
    request=True,
    then=_accepted_if_found,
)
def _(ex: Exchange) -> None:
    _delete_as_head(ex, "/manifests/sha")


@mutant(
    "blob-delete-not-applied",
    breaks="DELETE of a blob answers 202 but removes nothing",
    fails=["test_registry_management.py::test_delete_of_a_blob_answers_202_and_removes_it"],
    requirements=["dist.manage.delete-blob-202"],
    request=True,
    then=_accepted_if_found,
)
def _(ex: Exchange) -> None:
    _delete_as_head(ex, "/blobs/sha")


@mutant(
    "missing-blob-delete-202",
    breaks="DELETE of a blob the repository lacks answers 202, not 404",
    fails=["test_registry_management.py::test_delete_of_a_missing_blob_answers_404"],
    requirements=["dist.manage.delete-blob-404"],
)
def _(ex: Exchange) -> None:
    if ex.is_("DELETE", "/blobs/sha") and ex.status == 404:
        ex.status, ex.response_body = 202, b""


@mutant(
    "mount-fallback-200",
    breaks="a mount that cannot be done opens an upload session answering 200, not 202",
    fails=[
        "test_registry_push.py::test_a_mount_that_cannot_be_done_opens_an_upload_with_202",
        "test_registry_push.py::test_a_blob_may_be_mounted_without_from",
    ],
    requirements=["dist.push.mount-fallback-202", "dist.push.mount-without-from"],
)
def _(ex: Exchange) -> None:
    if ex.method == "POST" and "mount=" in ex.path and ex.status == 202:
        ex.status = 200
