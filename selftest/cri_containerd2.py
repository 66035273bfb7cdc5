"""CRI mutants of the RPCs Debian's containerd 1.6 does not implement (events, metrics,
RuntimeConfig, UpdatePodSandboxResources): their proxy fronts the containerd 2.4.2 that
setup builds (`containerd="2.4.2"`), run as `--cri-endpoint mutant:NAME`; each names
the tests of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`). tests/test_cri_mutants.py runs each against
the test files of its `fails` (runc handler) and checks that exactly those fail beyond
what the real containerd 2.4.2 fails there; it skips them when setup did not build it.
"""

from __future__ import annotations

import grpc
from cri_api.v1 import api_pb2 as pb

from selftest.cri_proxy import Abort
from selftest.declare import cri_mutant

V2 = "2.4.2"


@cri_mutant(
    "events-without-deleted",
    rpc="GetContainerEvents",
    containerd=V2,
    breaks="GetContainerEvents never sends a CONTAINER_DELETED_EVENT",
    fails=["test_stats.py::test_container_events_stream_the_lifecycle"],
    requirements=["cri.container.events"],
)
def _(req, event, err, ctx):
    return None if event.container_event_type == pb.CONTAINER_DELETED_EVENT else event


@cri_mutant(
    "metric-descriptors-empty",
    rpc="ListMetricDescriptors",
    containerd=V2,
    breaks="ListMetricDescriptors lists no descriptor while pods report metrics",
    fails=["test_stats.py::test_list_metric_descriptors"],
    requirements=["cri.metrics.descriptors"],
)
def _(req, resp, err, ctx):
    del resp.descriptors[:]
    return resp


@cri_mutant(
    "pod-metrics-lists-no-pod",
    rpc="ListPodSandboxMetrics",
    containerd=V2,
    breaks="ListPodSandboxMetrics answers OK with no pod",
    fails=[
        "test_stats.py::test_list_pod_sandbox_metrics",
    ],
    requirements=["cri.metrics.pod-metrics"],
)
def _(req, resp, err, ctx):
    del resp.pod_metrics[:]
    return resp


@cri_mutant(
    "update-pod-resources-refused",
    rpc="UpdatePodSandboxResources",
    alters="call",
    containerd=V2,
    breaks="UpdatePodSandboxResources of a running pod fails",
    fails=["test_stats.py::test_update_pod_sandbox_resources"],
    requirements=["cri.pod.update-resources"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    raise Abort(grpc.StatusCode.INTERNAL, "mutant: cannot apply the pod resources")


@cri_mutant(
    "runtime-config-other-cgroup-driver",
    rpc="RuntimeConfig",
    containerd=V2,
    breaks="RuntimeConfig names the cgroup driver the runtime does not use",
    fails=["test_runtime_info.py::test_runtime_config_names_the_cgroup_driver_in_use"],
    requirements=["cri.runtime-config.cgroup-driver"],
)
def _(req, resp, err, ctx):
    d = resp.linux.cgroup_driver
    resp.linux.cgroup_driver = pb.CGROUPFS if d == pb.SYSTEMD else pb.SYSTEMD
    return resp


@cri_mutant(
    "create-ignores-strict-groups-policy",
    rpc="CreateContainer",
    alters="request",
    containerd=V2,
    breaks="CreateContainer merges the image's groups whatever supplemental_groups_policy says",
    fails=[
        "test_security_variants.py::"
        "test_strict_supplemental_groups_policy_leaves_out_the_image_groups"
    ],
    requirements=["cri.security.supplemental-groups-policy"],
)
def _(req) -> None:
    req.config.linux.security_context.supplemental_groups_policy = pb.SupplementalGroupsPolicy.Merge
