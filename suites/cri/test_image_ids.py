"""One image, one id: what PullImage, ImageStatus, ListImages and ContainerStatus call
the image agree, and one image pulled from two registries is one image (issue 15:
critest's "same image identifier across all APIs", "... when pulled from different
registries", "removing image from one registry should remove all tags from other
registries").

The two registries: the run's open one and the one that asks for credentials
(infra/services/cri.py), both serving the scratch image `registries` of each subject.
"""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_succeed
from suites.messages import violation


@pytest.mark.requirement("cri.image.same-id")
def test_one_image_id_across_the_apis(pods, cri, images):
    rid = "cri.image.same-id"
    ref = images.images["busybox"]  # the run's image: pulled again, never removed here
    pull = must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=ref)), rid)
    st = must_succeed(cri.call("ImageStatus", image=pb.ImageSpec(image=ref)), rid)
    img = st.response.image
    listed = must_succeed(cri.call("ListImages"), rid)
    list_ids = [i.id for i in listed.response.images if ref in i.repo_tags]
    cid = pods.created()
    cs = must_succeed(cri.call("ContainerStatus", container_id=cid), rid)
    status = cs.response.status
    # the id itself, or (an image ref) a repo digest of that image
    names = {img.id, *img.repo_digests}
    container_ok = status.image_id == img.id if status.image_id else status.image_ref in names
    good = bool(img.id) and pull.response.image_ref in names and list_ids == [img.id]
    assert good and container_ok, violation(
        rid,
        wanted=f"the image id {img.id!r} (or one of its repo digests, for an image ref) from "
        "PullImage, ListImages and ContainerStatus alike",
        seen=f"PullImage image_ref {pull.response.image_ref!r}; ListImages ids {list_ids}; "
        f"ContainerStatus image_id {status.image_id!r}, image_ref {status.image_ref!r}",
        evidence=[pull, st, listed, cs],
    )


def _status(cri, ref: str, rid: str):
    return must_succeed(cri.call("ImageStatus", image=pb.ImageSpec(image=ref)), rid)


@pytest.mark.requirement("cri.image.same-id")
@pytest.mark.requirement("cri.image.remove-all-tags")
def test_one_image_from_two_registries_is_one_image(cri, images, cri_subject):
    # each assertion names its own requirement: a failure is charged to that one
    open_ref = images.scratch("registries", cri_subject.id)
    auth_ref = images.scratch("registries", cri_subject.id, auth=True)
    auth = pb.AuthConfig(username=images.username, password=images.password)
    try:
        _one_image_from_two_registries(cri, open_ref, auth_ref, auth)
    finally:
        for ref in (open_ref, auth_ref):
            cri.call("RemoveImage", image=pb.ImageSpec(image=ref))


def _one_image_from_two_registries(cri, open_ref: str, auth_ref: str, auth) -> None:
    rid = "cri.image.same-id"
    pulls = [
        must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=open_ref)), rid),
        must_succeed(cri.call("PullImage", image=pb.ImageSpec(image=auth_ref), auth=auth), rid),
    ]
    st = [_status(cri, ref, rid) for ref in (open_ref, auth_ref)]
    ids = [s.response.image.id for s in st]
    listed = must_succeed(cri.call("ListImages"), rid)
    holding = [
        (i.id, sorted(i.repo_tags))
        for i in listed.response.images
        if {open_ref, auth_ref} & set(i.repo_tags)
    ]
    good = ids[0] and ids[0] == ids[1] and holding == [(ids[0], sorted([open_ref, auth_ref]))]
    assert good, violation(
        rid,
        wanted=f"{open_ref} and {auth_ref} (one manifest, two registries) one image: the "
        "same id from ImageStatus, listed once with both tags",
        seen=f"ImageStatus ids {ids}; ListImages entries holding them {holding}",
        evidence=[*pulls, *st, listed],
    )
    rid = "cri.image.remove-all-tags"
    removed = must_succeed(cri.call("RemoveImage", image=pb.ImageSpec(image=auth_ref)), rid)
    after = [_status(cri, ref, rid) for ref in (open_ref, auth_ref)]
    left = [ref for ref, a in zip((open_ref, auth_ref), after, strict=True) if a.response.image.id]
    assert not left, violation(
        rid,
        wanted=f"RemoveImage {auth_ref} removes the image, so its tag from the other "
        f"registry, {open_ref}, is gone too",
        seen=f"still present: {left}",
        evidence=[removed, *after],
    )
