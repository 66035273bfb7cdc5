"""One image, one id: what PullImage, ImageStatus, ListImages and ContainerStatus call
the image agree (issue 15: critest's "same image identifier across all APIs")."""

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
