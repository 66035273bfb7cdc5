"""Errors: unknown ids, a container in a removed pod, bad image references; nothing leaks."""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_fail, must_succeed
from suites.messages import violation

UNKNOWN = "0" * 64


@pytest.mark.requirement("cri.errors.unknown-pod")
def test_status_of_an_unknown_pod_is_not_found(cri):
    must_fail(
        cri.call("PodSandboxStatus", pod_sandbox_id=UNKNOWN),
        "cri.errors.unknown-pod",
        "PodSandboxStatus of an unknown id fails",
        code="NOT_FOUND",
    )


@pytest.mark.requirement("cri.errors.unknown-container")
def test_status_of_an_unknown_container_is_not_found(cri):
    must_fail(
        cri.call("ContainerStatus", container_id=UNKNOWN),
        "cri.errors.unknown-container",
        "ContainerStatus of an unknown id fails",
        code="NOT_FOUND",
    )


@pytest.mark.requirement("cri.errors.unknown-id-operations")
@pytest.mark.parametrize(
    "rpc, fields",
    [
        ("StartContainer", {}),
        ("ExecSync", {"cmd": ["true"], "timeout": 5}),
        ("ContainerStats", {}),
        ("UpdateContainerResources", {"linux": pb.LinuxContainerResources(cpu_shares=512)}),
        ("ReopenContainerLog", {}),
    ],
)
def test_operations_on_an_unknown_container_fail(cri, rpc, fields):
    must_fail(
        cri.call(rpc, container_id=UNKNOWN, **fields),
        "cri.errors.unknown-id-operations",
        f"{rpc} of an unknown container id fails",
    )


@pytest.mark.requirement("cri.errors.create-in-removed-pod")
def test_create_container_in_a_removed_pod_fails(pods, cri):
    pod = pods.pod()
    # positive control: the same create works while the pod exists (then it goes with it)
    control = pods.create(pod, pods.container_config())
    assert control.ok, (
        "control: CreateContainer in the live pod failed\n" + control.evidence.brief()
    )
    must_succeed(
        cri.call("StopPodSandbox", pod_sandbox_id=pod[0]), "cri.errors.create-in-removed-pod"
    )
    must_succeed(
        cri.call("RemovePodSandbox", pod_sandbox_id=pod[0]), "cri.errors.create-in-removed-pod"
    )
    res = pods.create(pod, pods.container_config())
    must_fail(res, "cri.errors.create-in-removed-pod", "CreateContainer fails")
    listed = must_succeed(
        cri.call("ListContainers", filter=pb.ContainerFilter(pod_sandbox_id=pod[0])),
        "cri.errors.create-in-removed-pod",
    )
    assert not listed.response.containers, violation(
        "cri.errors.create-in-removed-pod",
        wanted="no container of that pod listed",
        seen=f"{len(listed.response.containers)} containers",
        evidence=[res, listed],
    )


@pytest.mark.requirement("cri.errors.bad-image-reference")
@pytest.mark.parametrize("ref", ["ocitest.test/UPPER:case", "ocitest.test/x:tag:tag", "::"])
def test_a_malformed_image_reference_is_refused(pods, cri, ref):
    pull = cri.call("PullImage", image=pb.ImageSpec(image=ref))
    must_fail(pull, "cri.errors.bad-image-reference", f"PullImage {ref!r} fails")
    pod = pods.pod()
    cfg = pods.container_config()
    cfg.image.image = ref
    res = pods.create(pod, cfg)
    must_fail(res, "cri.errors.bad-image-reference", f"CreateContainer with image {ref!r} fails")
    listed = must_succeed(
        cri.call("ListContainers", filter=pb.ContainerFilter(pod_sandbox_id=pod[0])),
        "cri.errors.bad-image-reference",
    )
    assert not listed.response.containers, violation(
        "cri.errors.bad-image-reference",
        wanted="no container left in the pod",
        seen=f"{len(listed.response.containers)} containers",
        evidence=[pull, res, listed],
    )
