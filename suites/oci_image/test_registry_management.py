"""Registry workflow 4, content management: deleting manifests, tags and blobs, and the
refusal (400 or 405) where deletion is disabled (distribution-spec spec.md, Content
Management). Each test deletes only in a repository of its own; the disabled-delete
tests go to the embedded registry's second process, which serves the same storage with
deletes turned off."""

from __future__ import annotations

import pytest

from infra.outcomes import unsupported
from suites.oci_image import registry_data
from suites.oci_image.registry_data import digest_of
from suites.oci_image.registry_flows import (
    PushError,
    blob_path,
    expect,
    expect_status,
    manifest_path,
    push_blob,
    push_dataset,
)

pytestmark = pytest.mark.writes("deletes manifests, tags or blobs")
DELETABLE = ["image", "index", "artifact-subject", "annotations", "zstd", "docker-v2"]


def _own_copy(registry, ds: str):
    data = registry_data.get(ds)
    repo = registry.fresh_repo(f"del-{ds}")
    try:
        push_dataset(registry.client, repo, data, registry.chunk_size)
    except PushError as exc:
        expect(False, f"data set {ds} pushed into a repository of the test's own", str(exc))
    return repo, data


@pytest.mark.requirement("dist.manage.delete-manifest-202", "dist.manage.delete-may-be-disabled")
@pytest.mark.parametrize("ds", DELETABLE)
def test_delete_of_a_manifest_by_digest_answers_202_and_removes_it(registry, ds):
    repo, data = _own_copy(registry, ds)
    m = data.root
    resp = registry.client.delete(manifest_path(repo, m.digest))
    expect_status(resp, 202, f"DELETE manifest {m.digest}")
    expect_status(
        registry.client.get(manifest_path(repo, m.digest), {"Accept": m.media_type}),
        404,
        "GET of the deleted manifest",
    )


@pytest.mark.requirement("dist.manage.delete-tag-202", "dist.manage.tag-delete-optional")
def test_delete_of_a_tag_answers_202_and_keeps_the_manifest(registry):
    repo, data = _own_copy(registry, "image")
    resp = registry.client.delete(manifest_path(repo, "v1"))
    if resp.status in (400, 405):
        unsupported(f"tag deletion is disabled (HTTP {resp.status})")
    expect_status(resp, 202, "DELETE of the tag v1")
    expect_status(
        registry.client.get(manifest_path(repo, "v1"), {"Accept": data.root.media_type}),
        404,
        "GET of the deleted tag",
    )
    expect_status(
        registry.client.get(
            manifest_path(repo, data.root.digest), {"Accept": data.root.media_type}
        ),
        200,
        "GET of the manifest by digest",
    )


def _blob_of_its_own(registry, repo: str) -> registry_data.Blob:
    """A blob no other repository holds (its bytes name `repo`), pushed into `repo`: a
    registry that deletes a blob from every repository at once then breaks only the test
    that deletes it, not the tests that read the data sets."""
    data = f"ocitest: a blob only {repo} holds".encode()
    blob = registry_data.Blob(digest_of(data), data)
    try:
        push_blob(registry.client, repo, blob)
    except PushError as exc:
        expect(False, f"a blob pushed into {repo}", str(exc))
    return blob


@pytest.mark.requirement("dist.manage.delete-blob-202")
@pytest.mark.parametrize("ds", ["image", "empty-blob", "many-layers"])
def test_delete_of_a_blob_answers_202_and_removes_it(registry, ds):
    repo, _ = _own_copy(registry, ds)
    b = _blob_of_its_own(registry, repo)
    resp = registry.client.delete(blob_path(repo, b.digest))
    expect_status(resp, 202, f"DELETE blob {b.digest}")
    expect_status(registry.client.head(blob_path(repo, b.digest)), 404, "HEAD of the deleted blob")


@pytest.mark.requirement("dist.manage.delete-blob-202", "dist.pull.blob-get-200")
def test_a_blob_deleted_in_one_repository_stays_in_another(registry):
    first = registry.fresh_repo("del-here")
    b = _blob_of_its_own(registry, first)
    other = registry.fresh_repo("del-there")
    try:
        push_blob(registry.client, other, b)
    except PushError as exc:
        expect(False, f"the same blob pushed into {other}", str(exc))
    resp = registry.client.delete(blob_path(first, b.digest))
    expect_status(resp, 202, f"DELETE blob {b.digest} in {first}")
    expect_status(
        registry.client.get(blob_path(other, b.digest)),
        200,
        f"GET of the blob in {other}, where nobody deleted it",
    )


@pytest.mark.requirement("dist.manage.delete-blob-404")
def test_delete_of_a_missing_blob_answers_404(registry):
    repo, _ = _own_copy(registry, "no-layers")
    resp = registry.client.delete(blob_path(repo, digest_of(b"ocitest: no such blob")))
    expect_status(resp, 404, "DELETE of a blob the repository lacks")


@pytest.mark.requirement("dist.manage.delete-manifest-unknown-repo-404")
def test_delete_of_a_manifest_in_an_unknown_repository_answers_404(registry):
    repo = registry.fresh_repo("never")
    resp = registry.client.delete(manifest_path(repo, digest_of(b"ocitest: nothing")))
    expect_status(resp, 404, "DELETE in a repository that does not exist")


def _nodelete(registry):
    if registry.nodelete is None:
        unsupported("no endpoint of this registry with deletes disabled (external registry)")
    return registry.nodelete


@pytest.mark.requirement("dist.manage.delete-manifest-disabled")
def test_delete_of_a_manifest_where_deletes_are_disabled_answers_400_or_405(registry):
    client = _nodelete(registry)
    repo, data = registry.seeded("image")
    expect_status(
        client.delete(manifest_path(repo, data.root.digest)),
        (400, 405),
        "DELETE manifest, deletes disabled",
    )


@pytest.mark.requirement("dist.manage.delete-tag-disabled")
def test_delete_of_a_tag_where_deletes_are_disabled_answers_400_or_405(registry):
    client = _nodelete(registry)
    repo, _ = registry.seeded("image")
    expect_status(
        client.delete(manifest_path(repo, "v1")), (400, 405), "DELETE tag, deletes disabled"
    )


@pytest.mark.requirement("dist.manage.delete-blob-disabled")
def test_delete_of_a_blob_where_deletes_are_disabled_answers_400_or_405(registry):
    client = _nodelete(registry)
    repo, data = registry.seeded("image")
    expect_status(
        client.delete(blob_path(repo, data.blobs[0].digest)),
        (400, 405),
        "DELETE blob, deletes disabled",
    )
