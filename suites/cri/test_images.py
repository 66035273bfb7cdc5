"""ImageService: PullImage (tag, digest, auth), ImageStatus, ListImages, RemoveImage, ImageFsInfo.

Each test uses scratch images pushed for its subject alone (images.scratch(NAME, SUBJECT)),
so that parallel tests and handlers never remove each other's images.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from cri_api.v1 import api_pb2 as pb

from infra.services.cri import SCRATCH_TAGS
from suites.cri.helpers import must_fail, must_succeed
from suites.messages import violation


@pytest.fixture
def scratch(images, cri_subject, cri):
    """NAME -> the scratch reference of this subject; removed from the endpoint afterwards."""
    refs = []

    def get(name: str, auth: bool = False, tag: int = 1) -> str:
        ref = images.scratch(name, cri_subject.id, auth=auth, tag=tag)
        refs.append(ref)
        return ref

    yield get
    for ref in refs:
        cri.call("RemoveImage", image=pb.ImageSpec(image=ref))


def _image_status(cri, ref: str, rid: str):
    return must_succeed(cri.call("ImageStatus", image=pb.ImageSpec(image=ref)), rid)


@pytest.mark.requirement("cri.image.pull-tag")
def test_pull_image_by_tag(cri, scratch):
    ref = scratch("pull")
    res = must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), "cri.image.pull-tag")
    st = _image_status(cri, ref, "cri.image.pull-tag")
    img = st.response.image
    # the answer read back: image_ref names the image pulled (its id or a repo digest)
    good = (
        st.response.HasField("image")
        and res.response.image_ref in (img.id, *img.repo_digests)
        and ref in img.repo_tags
    )
    assert good, violation(
        "cri.image.pull-tag",
        wanted=f"an image_ref naming the image pulled (its id {img.id!r} or a repo digest), "
        f"then ImageStatus with repo tag {ref}",
        seen=f"image_ref {res.response.image_ref!r}, tags {list(st.response.image.repo_tags)}",
        evidence=[res, st],
    )


@pytest.mark.requirement("cri.image.pull-digest")
def test_pull_image_by_digest(cri, scratch, images):
    ref = scratch("digest")
    digest = images.digests[ref]
    by_digest = ref.rsplit(":", 1)[0] + "@" + digest
    try:
        res = must_succeed(
            cri.call("PullImage", image=pb.ImageSpec(image=by_digest)), "cri.image.pull-digest"
        )
        st = _image_status(cri, by_digest, "cri.image.pull-digest")
    finally:  # the tag's removal (the fixture's) may leave a digest reference behind
        cri.call("RemoveImage", image=pb.ImageSpec(image=by_digest))
    digests = list(st.response.image.repo_digests)
    assert by_digest in digests, violation(
        "cri.image.pull-digest",
        wanted=f"ImageStatus lists repo digest {by_digest}",
        seen=f"repo_digests {digests}",
        evidence=[res, st],
    )


@pytest.mark.requirement("cri.image.pull-auth")
def test_pull_image_needs_and_uses_credentials(cri, scratch, images):
    ref = scratch("auth", auth=True)
    anon = cri.call("PullImage", image=pb.ImageSpec(image=ref))
    must_fail(anon, "cri.image.pull-auth", "PullImage without credentials fails")
    auth = pb.AuthConfig(username=images.username, password=images.password)
    res = must_succeed(
        cri.call("PullImage", image=pb.ImageSpec(image=ref), auth=auth), "cri.image.pull-auth"
    )
    st = _image_status(cri, ref, "cri.image.pull-auth")
    assert st.response.HasField("image"), violation(
        "cri.image.pull-auth",
        wanted="the image present after PullImage with credentials",
        seen="ImageStatus finds no image",
        evidence=[anon, res, st],
    )


@pytest.mark.requirement("cri.image.pull-missing-errors")
@pytest.mark.variant("failure-path")
def test_pull_of_a_missing_image_fails(cri, scratch):
    ref = scratch("bad")
    res = cri.call("PullImage", image=pb.ImageSpec(image=ref))
    must_fail(res, "cri.image.pull-missing-errors", "PullImage of an unknown tag fails")
    st = _image_status(cri, ref, "cri.image.pull-missing-errors")
    assert not st.response.HasField("image"), violation(
        "cri.image.pull-missing-errors",
        wanted="no image added",
        seen=f"ImageStatus {st.response.image}",
        evidence=[res, st],
    )


@pytest.mark.requirement("cri.image.status")
def test_image_status_describes_a_present_image(cri, scratch, images):
    ref = scratch("status")
    must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), "cri.image.status")
    st = _image_status(cri, ref, "cri.image.status")
    img = st.response.image
    good = (
        img.id
        and ref in img.repo_tags
        and img.size > 0
        and any(d.endswith(images.digests[ref]) for d in img.repo_digests)
    )
    assert good, violation(
        "cri.image.status",
        wanted=f"an id, tag {ref}, a size, and repo digest ...@{images.digests[ref][:19]}",
        seen=f"id {img.id!r}, tags {list(img.repo_tags)}, size {img.size}, "
        f"digests {list(img.repo_digests)}",
        evidence=[st],
    )


@pytest.mark.requirement("cri.image.status-user")
@pytest.mark.variant("provenance")
def test_image_status_gives_the_image_user_as_uid_or_username(cri, scratch):
    rid = "cri.image.status-user"
    by_id, by_name = scratch("uid"), scratch("username")
    for ref in (by_id, by_name):
        must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), rid)
    uid, name = _image_status(cri, by_id, rid), _image_status(cri, by_name, rid)
    a, b = uid.response.image, name.response.image
    good = (
        a.HasField("uid")
        and a.uid.value == 1234
        and not a.username
        and not b.HasField("uid")
        and b.username == "ocitest"
    )
    assert good, violation(
        rid,
        wanted='image with User "1234": uid 1234 and no username; with User "ocitest": '
        "username ocitest and no uid",
        seen=f"first: uid {a.uid.value if a.HasField('uid') else None}, username {a.username!r}; "
        f"second: uid {b.uid.value if b.HasField('uid') else None}, username {b.username!r}",
        evidence=[uid, name],
    )


@pytest.mark.requirement("cri.image.pull-default-tag")
def test_a_reference_without_tag_means_latest(cri, images, cri_subject):
    rid = "cri.image.pull-default-tag"
    ref = images.untagged(cri_subject.id)
    try:
        pull = must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), rid)
        st = _image_status(cri, ref, rid)
        tags = list(st.response.image.repo_tags)
        assert f"{ref}:latest" in tags, violation(
            rid,
            wanted=f"PullImage {ref} fetches {ref}:latest, and ImageStatus {ref} finds it",
            seen=f"tags {tags}" if st.response.HasField("image") else "ImageStatus finds nothing",
            evidence=[pull, st],
        )
        rm = must_succeed(cri.call("RemoveImage", image=pb.ImageSpec(image=ref)), rid)
        after = _image_status(cri, f"{ref}:latest", rid)
        assert not after.response.HasField("image"), violation(
            rid,
            wanted=f"RemoveImage {ref} removes {ref}:latest",
            seen=f"still present: {list(after.response.image.repo_tags)}",
            evidence=[rm, after],
        )
    finally:
        cri.call("RemoveImage", image=pb.ImageSpec(image=f"{ref}:latest"))


@pytest.mark.requirement("cri.image.status-absent")
def test_image_status_of_an_absent_image_is_empty(cri, scratch):
    st = cri.call("ImageStatus", image=pb.ImageSpec(image=scratch("bad")))
    must_succeed(st, "cri.image.status-absent", "ImageStatus of an absent image returns OK")
    assert not st.response.HasField("image"), violation(
        "cri.image.status-absent",
        wanted="the image field unset",
        seen=f"image {st.response.image}",
        evidence=[st],
    )


@pytest.mark.requirement("cri.image.list")
def test_list_images_lists_the_present_images(cri, scratch, images):
    ref = scratch("list")
    must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), "cri.image.list")
    every = must_succeed(cri.call("ListImages"), "cri.image.list")
    all_tags = {t for i in every.response.images for t in i.repo_tags}
    assert ref in all_tags and images.images["busybox"] in all_tags, violation(
        "cri.image.list",
        wanted=f"the list holds {ref} and the busybox image",
        seen=f"{len(all_tags)} tags: {sorted(all_tags)[:10]}",
        evidence=[every],
    )


@pytest.mark.requirement("cri.image.list-filter")
def test_list_images_filters_by_image_reference(cri, scratch):
    ref = scratch("filter")
    must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), "cri.image.list-filter")
    one = must_succeed(
        cri.call("ListImages", filter=pb.ImageFilter(image=pb.ImageSpec(image=ref))),
        "cri.image.list-filter",
    )
    one_tags = [list(i.repo_tags) for i in one.response.images]
    assert one_tags == [[ref]], violation(
        "cri.image.list-filter",
        wanted=f"the filter gives only [{ref}]",
        seen=f"filtered: {one_tags[:10]} ({len(one_tags)} images)",
        evidence=[one],
    )


@pytest.mark.requirement("cri.image.remove")
def test_remove_image_removes_it(cri, scratch):
    ref = scratch("remove")
    must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), "cri.image.remove")
    res = must_succeed(cri.call("RemoveImage", image=pb.ImageSpec(image=ref)), "cri.image.remove")
    st = _image_status(cri, ref, "cri.image.remove")
    assert not st.response.HasField("image"), violation(
        "cri.image.remove",
        wanted="ImageStatus finds nothing after RemoveImage",
        seen=f"image {st.response.image.id}",
        evidence=[res, st],
    )


@pytest.mark.requirement("cri.image.remove-idempotent")
@pytest.mark.variant("state-present")
def test_remove_of_an_absent_image_succeeds(cri, scratch):
    ref = scratch("bad")
    for attempt in ("", " again"):
        must_succeed(
            cri.call("RemoveImage", image=pb.ImageSpec(image=ref)),
            "cri.image.remove-idempotent",
            wanted=f"RemoveImage of an absent image returns OK{attempt}",
        )


def _pull_every_tag(cri, scratch, name: str, rid: str) -> list[str]:
    """Pull every tag of scratch image `name` (SCRATCH_TAGS: one manifest); the refs."""
    refs = [scratch(name, tag=n) for n in range(1, SCRATCH_TAGS[name] + 1)]
    for ref in refs:
        must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), rid)
    return refs


@pytest.mark.requirement("cri.image.tags-one-image")
@pytest.mark.variant("state-present")
def test_tags_of_one_manifest_are_one_image_with_every_tag(cri, scratch):
    rid = "cri.image.tags-one-image"
    refs = _pull_every_tag(cri, scratch, "tags", rid)
    statuses = [_image_status(cri, ref, rid) for ref in refs]
    every = must_succeed(cri.call("ListImages"), rid)
    ids = {st.response.image.id for st in statuses}
    status_tags = [sorted(st.response.image.repo_tags) for st in statuses]
    listed = [sorted(i.repo_tags) for i in every.response.images if set(refs) & set(i.repo_tags)]
    good = (
        len(ids) == 1
        and "" not in ids
        and status_tags == [sorted(refs)] * len(refs)
        and listed == [sorted(refs)]
    )
    assert good, violation(
        rid,
        wanted=f"the {len(refs)} tags of one manifest give one image id; ImageStatus of each "
        f"tag and ListImages (once) show exactly the tags {sorted(refs)}",
        seen=f"ids {sorted(ids)}; ImageStatus tags {status_tags}; ListImages entries {listed}",
        evidence=[*statuses, every],
    )


@pytest.mark.requirement("cri.image.remove-all-tags")
def test_remove_image_by_one_tag_removes_every_tag(cri, scratch):
    rid = "cri.image.remove-all-tags"
    refs = _pull_every_tag(cri, scratch, "untag", rid)
    res = must_succeed(cri.call("RemoveImage", image=pb.ImageSpec(image=refs[0])), rid)
    statuses = [_image_status(cri, ref, rid) for ref in refs]
    left = [ref for ref, st in zip(refs, statuses, strict=True) if st.response.HasField("image")]
    assert not left, violation(
        rid,
        wanted=f"after RemoveImage {refs[0]}, ImageStatus finds none of its tags",
        seen=f"still present: {left}",
        evidence=[res, *statuses],
    )


@pytest.mark.requirement("cri.image.remove-concurrent")
@pytest.mark.variant("state-present")
def test_simultaneous_remove_image_calls_all_succeed(cri, scratch):
    rid = "cri.image.remove-concurrent"
    ref = scratch("concurrent")
    must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), rid)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: cri.call("RemoveImage", image=pb.ImageSpec(image=ref)), range(4))
        )
    st = _image_status(cri, ref, rid)
    failed = [f"{r.code_name}: {r.details[:200]}" for r in results if not r.ok]
    assert not failed and not st.response.HasField("image"), violation(
        rid,
        wanted="4 simultaneous RemoveImage calls of one image all return OK and it is gone",
        seen=f"failed calls: {failed}; present afterwards: {st.response.HasField('image')}",
        evidence=[*results, st],
    )


@pytest.mark.requirement("cri.image.fs-info")
def test_image_fs_info_reports_usage(cri):
    res = must_succeed(cri.call("ImageFsInfo"), "cri.image.fs-info")
    fss = list(res.response.image_filesystems)
    good = fss and all(
        f.fs_id.mountpoint and f.used_bytes.value > 0 and f.inodes_used.value > 0 for f in fss
    )
    assert good, violation(
        "cri.image.fs-info",
        wanted="at least one image filesystem with a mount point, bytes and inodes used",
        seen=f"{len(fss)} filesystems: "
        + "; ".join(
            f"{f.fs_id.mountpoint} {f.used_bytes.value} B {f.inodes_used.value} inodes" for f in fss
        ),
        evidence=[res],
    )
