"""Stats, events, checkpoint, metrics and pod resources (RPCs critest never calls)."""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_succeed, supported
from suites.messages import violation


@pytest.mark.requirement("cri.container.stats")
def test_container_stats_report_cpu_memory_and_writable_layer(pods, cri):
    pod = pods.pod()
    cid = pods.running(pod)
    other = pods.running()  # in another pod: the pod filter must leave it out
    one = must_succeed(cri.call("ContainerStats", container_id=cid), "cri.container.stats")
    many = must_succeed(
        cri.call("ListContainerStats", filter=pb.ContainerStatsFilter(pod_sandbox_id=pod[0])),
        "cri.container.stats",
    )
    s = one.response.stats
    ids = [x.attributes.id for x in many.response.stats]
    good = (
        s.attributes.id == cid
        and s.cpu.timestamp > 0
        and s.memory.timestamp > 0
        and s.memory.working_set_bytes.value > 0
        and s.writable_layer.fs_id.mountpoint
        and ids == [cid]
    )
    assert good, violation(
        "cri.container.stats",
        wanted=f"stats of {cid[:12]} with CPU, memory (working set > 0) and writable layer; "
        f"the pod filter lists only it (not {other[:12]}, running in another pod)",
        seen=f"id {s.attributes.id[:12]}, cpu ts {s.cpu.timestamp}, memory ws "
        f"{s.memory.working_set_bytes.value}, layer {s.writable_layer.fs_id.mountpoint!r}, "
        f"listed {[i[:12] for i in ids]}",
        evidence=[one, many],
    )


@pytest.mark.requirement("cri.container.stats-list")
def test_list_container_stats_without_filter_and_by_label(pods, cri):
    rid = "cri.container.stats-list"
    pod = pods.pod()
    mark = pods.name("stats")
    picked = [pods.running(pod, labels={"ocitest.stats": mark}) for _ in range(2)]
    other = pods.running(pod)
    every = must_succeed(cri.call("ListContainerStats"), rid)
    labelled = must_succeed(
        cri.call(
            "ListContainerStats",
            filter=pb.ContainerStatsFilter(label_selector={"ocitest.stats": mark}),
        ),
        rid,
    )
    all_ids = {x.attributes.id for x in every.response.stats}
    by_label = sorted(x.attributes.id for x in labelled.response.stats)
    good = {*picked, other} <= all_ids and by_label == sorted(picked)
    assert good, violation(
        rid,
        wanted=f"the unfiltered list holds the 3 running containers; the label selector "
        f"ocitest.stats={mark} lists only {[c[:12] for c in picked]}",
        seen=f"unfiltered misses {[c[:12] for c in {*picked, other} - all_ids]}; "
        f"by label: {[c[:12] for c in by_label]}",
        evidence=[every, labelled],
    )


@pytest.mark.requirement("cri.pod.stats")
def test_pod_sandbox_stats_report_cpu_and_memory(pods, cri):
    pod = pods.pod()
    pods.running(pod)
    one = must_succeed(cri.call("PodSandboxStats", pod_sandbox_id=pod[0]), "cri.pod.stats")
    many = must_succeed(
        cri.call("ListPodSandboxStats", filter=pb.PodSandboxStatsFilter(id=pod[0])),
        "cri.pod.stats",
    )
    s = one.response.stats
    ids = [x.attributes.id for x in many.response.stats]
    cpu, mem = s.linux.cpu, s.linux.memory
    # usage, not only timestamps: the pod runs a container, so it has used CPU and memory
    good = (
        s.attributes.id == pod[0]
        and cpu.timestamp > 0
        and cpu.usage_core_nano_seconds.value > 0
        and mem.timestamp > 0
        and mem.working_set_bytes.value > 0
        and ids == [pod[0]]
    )
    assert good, violation(
        "cri.pod.stats",
        wanted=f"stats of pod {pod[0][:12]} (a container running in it) with CPU usage > 0 "
        "and memory working set > 0; the id filter lists only it",
        seen=f"id {s.attributes.id[:12]}, cpu ts {cpu.timestamp} usage "
        f"{cpu.usage_core_nano_seconds.value} ns, memory ts {mem.timestamp} working set "
        f"{mem.working_set_bytes.value} B, listed {[i[:12] for i in ids]}",
        evidence=[one, many],
    )


@pytest.mark.requirement("cri.container.events")
def test_container_events_stream_the_lifecycle(pods, cri):
    stream = cri.stream("GetContainerEvents", deadline=60)
    try:
        pod = pods.pod()
        cid = pods.running(pod)
        cri.call("StopContainer", container_id=cid, timeout=5)
        cri.call("RemoveContainer", container_id=cid)

        def seen_all(msgs):
            kinds = {m.container_event_type for m in msgs if m.container_id == cid}
            return {
                pb.CONTAINER_CREATED_EVENT,
                pb.CONTAINER_STARTED_EVENT,
                pb.CONTAINER_STOPPED_EVENT,
                pb.CONTAINER_DELETED_EVENT,
            } <= kinds

        got = stream.wait(seen_all, 10)
    finally:
        res = stream.close()
    supported(res)
    kinds = sorted(
        pb.ContainerEventType.Name(m.container_event_type)
        for m in res.response
        if m.container_id == cid
    )
    assert got, violation(
        "cri.container.events",
        wanted="CREATED, STARTED, STOPPED and DELETED events of the container",
        seen=f"{kinds} ({res.code_name})",
        evidence=[res],
    )


@pytest.mark.requirement("cri.container.checkpoint")
def test_checkpoint_container(pods, cri, ocitest_run, host):
    cid = pods.running()
    location = f"{ocitest_run.work_base}/cri-logs/checkpoint-{cid[:12]}.tar"
    res = supported(
        cri.call("CheckpointContainer", container_id=cid, location=location, timeout=30)
    )
    must_succeed(res, "cri.container.checkpoint")
    size = host.file_size(location)  # read back: an OK answer alone proves nothing
    assert size, violation(
        "cri.container.checkpoint",
        wanted=f"a checkpoint archive written at {location}",
        seen=f"CheckpointContainer answered OK; the file: {size!r} bytes (None: absent)",
        evidence=[res],
    )


def _metric_names(resp) -> set[str]:
    """The metric names of a ListPodSandboxMetricsResponse, pod and container ones."""
    return {
        m.name
        for p in resp.pod_metrics
        for m in (*p.metrics, *(x for c in p.container_metrics for x in c.metrics))
    }


@pytest.mark.requirement("cri.metrics.descriptors")
def test_list_metric_descriptors(pods, cri):
    rid = "cri.metrics.descriptors"
    pods.running(pods.pod())  # a pod with a running container: it has metrics
    desc = must_succeed(cri.call("ListMetricDescriptors"), rid)
    metrics = must_succeed(cri.call("ListPodSandboxMetrics"), rid)
    names = {d.name for d in desc.response.descriptors}
    # read back: each metric the pods report has its descriptor
    undescribed = sorted(_metric_names(metrics.response) - names)
    assert names and not undescribed, violation(
        rid,
        wanted="descriptors of every metric ListPodSandboxMetrics returns",
        seen=f"{len(names)} descriptors; metrics without one: {undescribed[:10]}",
        evidence=[desc, metrics],
    )


@pytest.mark.requirement("cri.metrics.pod-metrics")
def test_list_pod_sandbox_metrics(pods, cri):
    rid = "cri.metrics.pod-metrics"
    pod = pods.pod()
    pods.running(pod)
    res = must_succeed(cri.call("ListPodSandboxMetrics"), rid)
    mine = [p for p in res.response.pod_metrics if p.pod_sandbox_id == pod[0]]
    # read back: the ready pod made here is listed, with metrics
    assert mine and (mine[0].metrics or mine[0].container_metrics), violation(
        rid,
        wanted=f"metrics of the ready pod {pod[0][:12]} (a container running in it)",
        seen=f"{len(res.response.pod_metrics)} pods listed; ours "
        + (f"with {len(mine[0].metrics)} metrics" if mine else "absent"),
        evidence=[res],
    )


@pytest.mark.requirement("cri.pod.update-resources")
def test_update_pod_sandbox_resources(pods, cri):
    pod_id, _ = pods.pod()
    must_succeed(
        cri.call(
            "UpdatePodSandboxResources",
            pod_sandbox_id=pod_id,
            resources=pb.LinuxContainerResources(cpu_shares=512, memory_limit_in_bytes=256 << 20),
        ),
        "cri.pod.update-resources",
    )
