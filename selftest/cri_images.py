"""CRI mutants of the ImageService (pull, status, list, remove): each is the gRPC proxy
of cri_proxy.py with one RPC altered, run as
`--cri-endpoint mutant:NAME` (the embedded containerd behind the proxy), and the tests
of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`). tests/test_cri_mutants.py runs each against
the test files of its `fails` (runc handler) and checks that exactly those fail beyond
what the real containerd fails there.
"""

from __future__ import annotations

import contextlib
import time

import grpc
from cri_api.v1 import api_pb2 as pb

from selftest.cri_proxy import Abort
from selftest.declare import cri_mutant


@cri_mutant(
    "image-status-absent-errors",
    rpc="ImageStatus",
    breaks="ImageStatus of an absent image answers NotFound",
    fails=[
        "test_images.py::test_image_status_of_an_absent_image_is_empty",
        "test_images.py::test_pull_of_a_missing_image_fails",
        "test_images.py::test_remove_image_removes_it",
        "test_images.py::test_a_reference_without_tag_means_latest",
        "test_images.py::test_remove_image_by_one_tag_removes_every_tag",
        "test_images.py::test_simultaneous_remove_image_calls_all_succeed",
    ],
    requirements=[
        "cri.image.status-absent",
        "cri.image.pull-missing-errors",
        "cri.image.remove",
        "cri.image.pull-default-tag",
        "cri.image.remove-all-tags",
        "cri.image.remove-concurrent",
    ],
)
def _(req, resp, err, ctx):
    if resp is not None and not resp.HasField("image"):
        raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: no such image")
    return resp


@cri_mutant(
    "pull-ignores-auth-failure",
    rpc="PullImage",
    on_error=True,
    breaks="PullImage from a registry that asks for credentials succeeds without them",
    fails=["test_images.py::test_pull_image_needs_and_uses_credentials"],
    requirements=["cri.image.pull-auth"],
)
def _(req, resp, err, ctx):
    if err is not None and req.image.image.startswith("auth."):
        return pb.PullImageResponse(image_ref="sha256:" + "0" * 64)
    return resp


@cri_mutant(
    "list-images-first-tag-only",
    rpc="ListImages",
    breaks="ListImages lists only the first tag of each image",
    fails=["test_images.py::test_tags_of_one_manifest_are_one_image_with_every_tag"],
    requirements=["cri.image.tags-one-image"],
)
def _(req, resp, err, ctx):
    for image in resp.images:
        del image.repo_tags[1:]
    return resp


@cri_mutant(
    "remove-image-not-idempotent",
    rpc="RemoveImage",
    breaks="a RemoveImage of a reference already removed answers NotFound",
    fails=[
        "test_images.py::test_remove_of_an_absent_image_succeeds",
        "test_images.py::test_simultaneous_remove_image_calls_all_succeed",
    ],
    requirements=[
        "cri.image.remove-idempotent",
        "cri.image.remove-concurrent",
    ],
)
def _(req, resp, err, ctx):
    with ctx.lock:
        if req.image.image in ctx.removed:
            raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: image already removed")
        ctx.removed.add(req.image.image)
    return resp


@cri_mutant(
    "remove-image-untags-only",
    rpc="RemoveImage",
    alters="call",
    breaks="RemoveImage by one tag removes only that tag (the image keeps its other tags)",
    fails=[
        "test_images.py::test_remove_image_by_one_tag_removes_every_tag",
        "test_image_ids.py::test_one_image_from_two_registries_is_one_image",
    ],
    requirements=["cri.image.remove-all-tags"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    """RemoveImage as a runtime that drops only the tag named: the image's other tags
    (those of the open registry, which needs no credentials) are pulled back after the
    real removal. One deadline for all the calls; a pull back that fails is skipped."""
    from infra.services.cri import OPEN_HOST

    end = time.monotonic() + deadline
    req = pb.RemoveImageRequest.FromString(raw)
    asked = req.image.image
    if "@" not in asked and ":" not in asked.rsplit("/", 1)[-1]:
        asked += ":latest"
    status = pb.ImageStatusResponse.FromString(
        upstream.unary_unary("/runtime.v1.ImageService/ImageStatus")(
            pb.ImageStatusRequest(image=req.image).SerializeToString(),
            timeout=max(end - time.monotonic(), 0.1),
        )
    )
    out = forward(raw)
    pull = upstream.unary_unary("/runtime.v1.ImageService/PullImage")
    for tag in status.image.repo_tags:
        if tag == asked or not tag.startswith(OPEN_HOST + "/"):
            continue
        with contextlib.suppress(grpc.RpcError):
            pull(
                pb.PullImageRequest(image=pb.ImageSpec(image=tag)).SerializeToString(),
                timeout=max(end - time.monotonic(), 0.1),
            )
    return out


@cri_mutant(
    "image-status-drops-user",
    rpc="ImageStatus",
    breaks="ImageStatus leaves out the image's uid and username",
    fails=["test_images.py::test_image_status_gives_the_image_user_as_uid_or_username"],
    requirements=["cri.image.status-user"],
)
def _(req, resp, err, ctx):
    if resp.HasField("image"):
        resp.image.ClearField("uid")
        resp.image.username = ""
    return resp


@cri_mutant(
    "pull-default-tag-wrong",
    rpc="PullImage",
    alters="request",
    breaks="PullImage of a reference without tag asks for tag 1.0, not latest",
    fails=["test_images.py::test_a_reference_without_tag_means_latest"],
    requirements=["cri.image.pull-default-tag"],
)
def _(req) -> None:
    name = req.image.image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        req.image.image = name + ":1.0"


@cri_mutant(
    "image-status-without-digests",
    rpc="ImageStatus",
    breaks="ImageStatus of a present image gives no repo digests",
    fails=[
        "test_images.py::test_image_status_describes_a_present_image",
        "test_images.py::test_pull_image_by_digest",
    ],
    requirements=["cri.image.status", "cri.image.pull-digest"],
)
def _(req, resp, err, ctx):
    if resp is not None and resp.HasField("image"):
        del resp.image.repo_digests[:]
    return resp


@cri_mutant(
    "list-images-only-one",
    rpc="ListImages",
    breaks="ListImages lists only the first image",
    fails=[
        "test_images.py::test_list_images_lists_the_present_images",
        "test_images.py::test_tags_of_one_manifest_are_one_image_with_every_tag",
    ],
    requirements=["cri.image.list", "cri.image.tags-one-image"],
)
def _(req, resp, err, ctx):
    if resp is not None and len(resp.images) > 1:
        del resp.images[1:]
    return resp


@cri_mutant(
    "image-fs-info-empty",
    rpc="ImageFsInfo",
    breaks="ImageFsInfo lists no image filesystem",
    fails=["test_images.py::test_image_fs_info_reports_usage"],
    requirements=["cri.image.fs-info"],
)
def _(req, resp, err, ctx):
    if resp is not None:
        del resp.image_filesystems[:]
    return resp
