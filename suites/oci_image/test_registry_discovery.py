"""Registry workflow 3, content discovery: the tag list (n, last, Link, order) and the
referrers API (index body, artifactType and annotations, the artifactType filter and
OCI-Filters-Applied, pagination), and the referrers tag schema (distribution-spec
spec.md, Content Discovery; Backwards Compatibility)."""

from __future__ import annotations

import urllib.parse

import pytest

from suites.oci_image.registry_data import INDEX, SBOM, digest_of, names_with
from suites.oci_image.registry_flows import (
    asciibetical,
    bare_type,
    expect,
    expect_status,
    lexical,
    manifest_path,
    next_link,
    push_manifest,
)

TAGGED = ["image", "index", "annotations", "many-tags", "referrers-tag-schema"]
REFERRED = names_with("referrers")
#: tags whose lexical (case-insensitive) and byte orders differ
MIXED_TAGS = ["b", "A", "a2", "C", "z9", "Z1", "_x", "0"]
#: the case that pushes those tags first
MIXED_CASE = pytest.param(
    "mixed-case", marks=pytest.mark.writes("pushes mixed-case tags"), id="mixed-case"
)


def _tags(registry, repo: str, query: str = ""):
    resp = registry.client.get(f"/v2/{repo}/tags/list" + (f"?{query}" if query else ""))
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    tags = (doc or {}).get("tags") if isinstance(doc, dict) else None
    return resp, doc, tags


@pytest.mark.requirement("dist.tags.list-200", "dist.tags.json-body")
@pytest.mark.parametrize("ds", TAGGED)
def test_tag_list_answers_200_with_name_and_tags(registry, ds):
    repo, data = registry.seeded(ds)
    resp, doc, tags = _tags(registry, repo)
    expect_status(resp, 200, "GET tags/list")
    expect(
        isinstance(doc, dict) and doc.get("name") == repo,
        f'{{"name": "{repo}", "tags": [...]}}',
        repr(doc)[:200],
        resp,
    )
    expect(
        isinstance(tags, list) and set(data.tags) <= set(tags or []),
        f"the {len(data.tags)} tags pushed",
        f"{len(tags or [])} tags",
        resp,
    )


def _mixed_repo(registry) -> str:
    repo, data = registry.seeded("image")
    for t in MIXED_TAGS:
        push_manifest(registry.client, repo, data.root, t)
    return repo


@pytest.mark.requirement("dist.tags.lexical-order")
@pytest.mark.parametrize("ds", ["many-tags", MIXED_CASE])
def test_tag_list_is_in_lexical_order(registry, ds):
    repo = _mixed_repo(registry) if ds == "mixed-case" else registry.seeded(ds)[0]
    resp, _, tags = _tags(registry, repo)
    expect(
        lexical(tags or []),
        "tags in lexical (case-insensitive) order",
        str((tags or [])[:12]),
        resp,
    )


@pytest.mark.requirement("dist.tags.lexical-or-asciibetical")
@pytest.mark.parametrize("ds", ["many-tags", MIXED_CASE])
def test_tag_list_is_in_lexical_or_byte_order(registry, ds):
    repo = _mixed_repo(registry) if ds == "mixed-case" else registry.seeded(ds)[0]
    resp, _, tags = _tags(registry, repo)
    ok = lexical(tags or []) or asciibetical(tags or [])
    expect(ok, "tags in lexical or byte (sort.Strings) order", str((tags or [])[:12]), resp)


@pytest.mark.requirement("dist.tags.n-limit")
@pytest.mark.parametrize("n", [1, 10, 500])
def test_tag_list_with_n_holds_n_tags_or_a_link(registry, n):
    repo, _ = registry.seeded("many-tags")
    resp, _, tags = _tags(registry, repo, f"n={n}")
    expect_status(resp, 200, f"GET tags/list?n={n}")
    got = len(tags or [])
    expect(
        got == n or (got < n and next_link(resp)),
        f"{n} tags (or fewer with a Link header)",
        f"{got} tags, Link {resp.header('link')!r}",
        resp,
    )


@pytest.mark.requirement("dist.tags.link-header")
def test_tag_list_gives_a_link_when_more_tags_remain(registry):
    repo, _ = registry.seeded("many-tags")
    resp, _, _ = _tags(registry, repo, "n=100")
    expect(
        bool(next_link(resp)),
        'a Link header rel="next" (1,001 tags, 100 asked)',
        repr(resp.header("link")),
        resp,
    )


@pytest.mark.requirement("dist.tags.link-rfc5988")
def test_following_the_tag_list_links_yields_every_tag_once(registry):
    repo, data = registry.seeded("many-tags")
    resp, _, tags = _tags(registry, repo, "n=300")
    seen = list(tags or [])
    pages = 1
    while next_link(resp) and pages < 20:
        link = next_link(resp)
        resp = registry.client.get(link if link.startswith(("/", "http")) else "/" + link)
        expect_status(resp, 200, f"GET the Link target {link}")
        seen += resp.json().get("tags") or []
        pages += 1
    if pages == 1:
        expect(
            len(seen) >= len(data.tags),
            "all tags, or a Link to the rest",
            f"{len(seen)} tags and no Link",
            resp,
        )
    expect(
        sorted(seen) == sorted(data.tags),
        f"the {len(data.tags)} tags once each over {pages} pages",
        f"{len(seen)} tags, {len(set(seen))} distinct",
        resp,
    )


@pytest.mark.requirement("dist.tags.n-zero")
def test_tag_list_with_n_zero_is_empty_without_link(registry):
    repo, _ = registry.seeded("many-tags")
    resp, _, tags = _tags(registry, repo, "n=0")
    expect_status(resp, 200, "GET tags/list?n=0")
    expect(not tags, "an empty tag list", f"{len(tags or [])} tags", resp)
    expect(not resp.header("link"), "no Link header", repr(resp.header("link")), resp)


@pytest.mark.requirement("dist.tags.last")
@pytest.mark.parametrize("last", ["t0499", "t0998", "v1"])
def test_tag_list_with_last_holds_the_tags_after_it(registry, last):
    repo, data = registry.seeded("many-tags")
    resp, _, tags = _tags(registry, repo, f"n=5&last={last}")
    want = sorted(t for t in data.tags if t.lower() > last.lower())[:5]
    expect((tags or []) == want, f"the tags after {last}: {want}", str(tags), resp)


@pytest.mark.requirement("dist.tags.last-without-n")
def test_tag_list_takes_last_without_n(registry):
    repo, data = registry.seeded("many-tags")
    resp, _, tags = _tags(registry, repo, "last=t0990")
    expect_status(resp, 200, "GET tags/list?last=t0990")
    want = sorted(t for t in data.tags if t > "t0990")
    expect((tags or [])[: len(want)] == want, f"the tags after t0990: {want}", str(tags), resp)


@pytest.mark.requirement("dist.tags.list-may-be-empty")
@pytest.mark.writes("mounts blobs and pushes an untagged manifest")
def test_tag_list_of_a_repository_without_tags_is_empty(registry):
    src, data = registry.seeded("no-layers")
    repo = registry.fresh_repo("untagged")
    for b in data.blobs:
        registry.client.request(
            "POST", f"/v2/{repo}/blobs/uploads/?mount={b.digest}&from={src}", b""
        )
    expect_status(
        push_manifest(registry.client, repo, data.root), 201, "PUT manifest by digest only"
    )
    resp, _, tags = _tags(registry, repo)
    expect_status(resp, 200, "GET tags/list of a repository holding no tag")
    expect(not tags, "an empty list", str(tags), resp)


# -- referrers ---------------------------------------------------------------------
def _referrers(registry, repo: str, digest: str, query: str = ""):
    resp = registry.client.get(f"/v2/{repo}/referrers/{digest}" + (f"?{query}" if query else ""))
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    return resp, doc


def _all_referrers(registry, repo, digest, query=""):
    resp, doc = _referrers(registry, repo, digest, query)
    expect_status(resp, 200, "GET referrers")
    found = list((doc or {}).get("manifests") or [])
    pages = 1
    while next_link(resp) and pages < 50:
        resp = registry.client.get(next_link(resp))
        expect_status(resp, 200, "GET the referrers Link target")
        found += resp.json().get("manifests") or []
        pages += 1
    return resp, found


@pytest.mark.requirement(
    "dist.referrers.200", "dist.referrers.no-404", "dist.referrers.includes-new-subjects"
)
@pytest.mark.parametrize("ds", REFERRED)
def test_referrers_of_a_subject_answer_200_listing_each_referrer(registry, ds):
    repo, data = registry.seeded(ds)
    resp, found = _all_referrers(registry, repo, data.subject)
    want = {m.digest for m in data.referrers}
    got = {d.get("digest") for d in found}
    expect(
        got == want,
        f"the {len(want)} referrers pushed",
        f"{len(got)} ({len(got & want)} of ours)",
        resp,
    )


@pytest.mark.requirement("dist.referrers.index-body", "dist.referrers.content-type")
@pytest.mark.parametrize("ds", REFERRED)
def test_referrers_response_is_an_image_index(registry, ds):
    repo, data = registry.seeded(ds)
    resp, doc = _referrers(registry, repo, data.subject)
    expect_status(resp, 200, "GET referrers")
    expect(
        bare_type(resp.header("content-type")) == INDEX,
        f"Content-Type {INDEX}",
        repr(resp.header("content-type")),
        resp,
    )
    ok = (
        isinstance(doc, dict)
        and doc.get("schemaVersion") == 2
        and isinstance(doc.get("manifests"), list)
    )
    expect(ok, "an image index (schemaVersion 2, manifests [...])", repr(doc)[:200], resp)


@pytest.mark.requirement("dist.referrers.artifact-type", "dist.referrers.annotations")
@pytest.mark.parametrize("ds", REFERRED)
def test_referrer_descriptors_carry_artifact_type_and_annotations(registry, ds):
    repo, data = registry.seeded(ds)
    resp, found = _all_referrers(registry, repo, data.subject)
    by_digest = {d.get("digest"): d for d in found}
    expect(bool(by_digest), "referrer descriptors", "none", resp)
    for m in data.referrers:
        d = by_digest.get(m.digest)
        expect(d is not None, f"a descriptor of {m.digest}", "none", resp)
        expect(
            d.get("artifactType", "") == m.artifact_type,
            f"artifactType {m.artifact_type!r}",
            repr(d.get("artifactType")),
            resp,
        )
        expect(
            d.get("annotations", {}) == m.annotations,
            f"annotations {m.annotations}",
            repr(d.get("annotations")),
            resp,
        )


@pytest.mark.requirement("dist.referrers.empty-list")
@pytest.mark.parametrize("ds", ["image", "index"])
def test_a_manifest_without_referrers_gets_an_empty_index(registry, ds):
    repo, data = registry.seeded(ds)
    resp, doc = _referrers(registry, repo, data.root.digest)
    expect_status(resp, 200, "GET referrers of a manifest nobody refers to")
    expect(
        isinstance(doc, dict) and doc.get("manifests") == [],
        "an index with manifests []",
        repr(doc)[:200],
        resp,
    )


@pytest.mark.requirement("dist.referrers.invalid-400")
def test_referrers_of_a_malformed_digest_answer_400(registry):
    repo, _ = registry.seeded("image")
    resp, _ = _referrers(registry, repo, "sha256:not-a-digest")
    expect_status(resp, 400, "GET referrers/sha256:not-a-digest")


@pytest.mark.requirement("dist.referrers.link-when-paged")
def test_referrers_that_do_not_fit_one_response_come_with_a_link(registry):
    repo, data = registry.seeded("many-referrers")
    resp, doc = _referrers(registry, repo, data.subject)
    expect_status(resp, 200, "GET referrers of a manifest with 200 referrers")
    first = len((doc or {}).get("manifests") or [])
    if first < len(data.referrers):
        expect(
            bool(next_link(resp)),
            f'a Link rel="next" ({first} of {len(data.referrers)} listed)',
            repr(resp.header("link")),
            resp,
        )
    _, found = _all_referrers(registry, repo, data.subject)
    expect(
        len({d.get("digest") for d in found}) == 200,
        "200 referrers over all pages",
        f"{len(found)}",
        resp,
    )


@pytest.mark.requirement("dist.referrers.filter", "dist.referrers.filters-applied-header")
@pytest.mark.parametrize("ds", ["artifact-subject", "many-referrers", "index-referrer"])
def test_referrers_filtered_by_artifact_type(registry, ds):
    repo, data = registry.seeded(ds)
    q = "artifactType=" + urllib.parse.quote(SBOM, safe="")
    resp, found = _all_referrers(registry, repo, data.subject, q)
    applied = [v.strip() for v in resp.header("oci-filters-applied").split(",") if v.strip()]
    expect(
        "artifactType" in applied,
        "OCI-Filters-Applied: artifactType",
        repr(resp.header("oci-filters-applied")),
        resp,
    )
    want = {m.digest for m in data.referrers if m.artifact_type == SBOM}
    got = {d.get("digest") for d in found}
    expect(
        got == want, f"only the {len(want)} referrers of type {SBOM}", f"{len(got)} referrers", resp
    )


@pytest.mark.requirement("dist.referrers.tag-schema-content")
def test_a_referrers_tag_schema_index_is_served_as_pushed(registry):
    repo, data = registry.seeded("referrers-tag-schema")
    tag = data.subject.replace(":", "-")
    resp = registry.client.get(manifest_path(repo, tag), {"Accept": INDEX})
    expect_status(resp, 200, f"GET the referrers tag {tag}")
    expect(
        resp.body == data.manifest(data.tags[tag]).data,
        "the index pushed under the tag",
        f"{len(resp.body)} bytes",
        resp,
    )


@pytest.mark.requirement("dist.referrers.no-404")
def test_referrers_of_a_digest_never_pushed_do_not_answer_404(registry):
    repo, _ = registry.seeded("image")
    resp, _ = _referrers(registry, repo, digest_of(b"ocitest: nobody"))
    expect(resp.status != 404, "not 404 (200 with an empty index)", f"HTTP {resp.status}", resp)
