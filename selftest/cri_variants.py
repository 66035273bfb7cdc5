"""CRI mutants of the edge cases of issue 15 (the critest rows not yet covered): the
ALL capability keyword, run_as_group without a user, one image id across the APIs and
registries, mount propagation.
Each is the gRPC proxy of cri_proxy.py with one RPC altered, run as
`--cri-endpoint mutant:NAME`, and the tests of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`).
"""

from __future__ import annotations

import hashlib

from cri_api.v1 import api_pb2 as pb

from selftest.declare import cri_mutant


@cri_mutant(
    "create-ignores-all-capabilities",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores the ALL keyword in add_capabilities and drop_capabilities",
    fails=[
        "test_security_variants.py::test_the_all_capability_keyword[add]",
        "test_security_variants.py::test_the_all_capability_keyword[drop]",
    ],
    requirements=["cri.security.capabilities"],
)
def _(req) -> None:
    caps = req.config.linux.security_context.capabilities
    for field in (caps.add_capabilities, caps.drop_capabilities):
        kept = [c for c in field if c.upper() != "ALL"]
        del field[:]
        field.extend(kept)


@cri_mutant(
    "create-runs-a-lone-group-as-root",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer with run_as_group and no user runs the container as root "
    "instead of failing",
    fails=["test_security_variants.py::test_run_as_group_without_a_user_is_refused"],
    requirements=["cri.security.run-as-group-needs-user"],
)
def _(req) -> None:
    sc = req.config.linux.security_context
    if sc.HasField("run_as_group") and not sc.HasField("run_as_user") and not sc.run_as_username:
        sc.run_as_user.value = 0


@cri_mutant(
    "list-images-bare-ids",
    rpc="ListImages",
    breaks="ListImages gives image ids without their sha256: prefix",
    fails=[
        "test_image_ids.py::test_one_image_id_across_the_apis",
        "test_image_ids.py::test_one_image_from_two_registries_is_one_image",
    ],
    requirements=["cri.image.same-id"],
)
def _(req, resp, err, ctx):
    for image in resp.images:
        image.id = image.id.removeprefix("sha256:")
    return resp


@cri_mutant(
    "image-status-id-per-registry",
    rpc="ImageStatus",
    breaks="ImageStatus of a reference on the registry that asks for credentials gives the "
    "image an id of its own (one per registry, not one per image)",
    fails=["test_image_ids.py::test_one_image_from_two_registries_is_one_image"],
    requirements=["cri.image.same-id"],
)
def _(req, resp, err, ctx):
    if resp.HasField("image") and req.image.image.startswith("auth."):
        digest = hashlib.sha256((resp.image.id + req.image.image).encode()).hexdigest()
        resp.image.id = "sha256:" + digest
    return resp


@cri_mutant(
    "create-mounts-everything-private",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer makes every mount private whatever propagation is asked",
    fails=[
        "test_mount_propagation.py::test_mount_propagation_modes[PROPAGATION_HOST_TO_CONTAINER]",
        "test_mount_propagation.py::test_mount_propagation_modes[PROPAGATION_BIDIRECTIONAL]",
    ],
    requirements=["cri.container.mount-propagation"],
)
def _(req) -> None:
    for m in req.config.mounts:
        m.propagation = pb.PROPAGATION_PRIVATE
