"""Latency of a CRI endpoint's RPCs (cri-api v1 RuntimeService and ImageService), one
subject (endpoint and runtime handler) at a time; `--cri-endpoint` chooses them (default
embedded: Debian's containerd 1.6 and the containerd 2.4.2 setup built).

Each figure is one RPC's round trip as the CRI driver timed it (infra/drivers/cri.py:
the call until its response or status came back):
- the pod and container lifecycle, one client: RunPodSandbox, CreateContainer,
  StartContainer, ExecSync (`true`), ContainerStats, StopContainer (timeout 0),
  RemoveContainer, StopPodSandbox, RemovePodSandbox, in that order per iteration;
- the same with `--bench-clients N` clients calling at once, each on its own pods
  (operations named "RPC (N clients)"; every client makes `--bench-samples` lifecycles);
- ListContainers with `--bench-containers M` created containers in one pod (default 100);
- PullImage of an image of one 1 MiB layer from the run's registry on loopback, removed
  (RemoveImage, not timed) before each pull, so every pull fetches and unpacks it.
Every pod is made through a PodSession (suites/cri/pods.py), which stops and removes it
at teardown whatever happened; each pod and container is also removed as part of the
timed loop. Run with `./ocitest bench -k cri`.
"""

from __future__ import annotations

import random

import pytest
from cri_api.v1 import api_pb2 as pb

from infra.drivers.cri import CriClient, CriResult
from infra.evidence import EvidenceLog
from infra.images import oci
from infra.services.cri import OPEN_HOST
from suites.cri.pods import PodSession

GROUP = "cri"
#: ExecSync's own timeout (seconds) and the containers the ListContainers pod gets at once
EXEC_TIMEOUT, CREATORS = 10, 4
#: bytes of the layer of the image PullImage fetches
PULL_LAYER = 1024 * 1024


def _ok(res: CriResult, what: str) -> float:
    assert res.ok, f"benchmark: {what} failed\n" + res.evidence.brief()
    return res.duration


def lifecycle(session: PodSession, bench, clients: int = 1) -> None:
    """One pod with one container through every lifecycle RPC, each timed."""
    cri, suffix = session.cri, f" ({clients} clients)" if clients > 1 else ""

    def rec(op: str, res: CriResult) -> CriResult:
        bench.record(op + suffix, _ok(res, op), group=GROUP, clients=clients if clients > 1 else 0)
        return res

    config = session.pod_config()
    pod_id = rec("RunPodSandbox", session.run_pod(config)).response.pod_sandbox_id
    created = rec("CreateContainer", session.create((pod_id, config), session.container_config()))
    cid = created.response.container_id
    rec("StartContainer", cri.call("StartContainer", container_id=cid))
    ran = rec("ExecSync", session.exec(cid, ["true"], timeout=EXEC_TIMEOUT))
    assert ran.response.exit_code == 0, "benchmark: ExecSync true\n" + ran.evidence.brief()
    rec("ContainerStats", cri.call("ContainerStats", container_id=cid))
    rec("StopContainer", cri.call("StopContainer", container_id=cid, timeout=0))
    rec("RemoveContainer", cri.call("RemoveContainer", container_id=cid))
    rec("StopPodSandbox", cri.call("StopPodSandbox", pod_sandbox_id=pod_id))
    rec("RemovePodSandbox", cri.call("RemovePodSandbox", pod_sandbox_id=pod_id))
    session.pods.remove(pod_id)  # gone: teardown need not remove it again


def test_pod_and_container_lifecycle(pods, bench):
    for _ in bench.iterations():
        lifecycle(pods, bench)


def _sessions(pods: PodSession, images, target, n: int) -> list[PodSession]:
    """`n` sessions like `pods`, each with its own client and evidence log, and pod names
    of its own (worker "mcI"): the parallel clients."""
    out = []
    for i in range(n):
        client = CriClient(pods.cri.endpoint, EvidenceLog(), image_endpoint=images.image_endpoint)
        out.append(
            PodSession(
                client, pods.subject, pods.run_id, f"{pods.worker}c{i}", pods.work, pods.image
            )
        )
    return out


def _cleanup_all(sessions: list[PodSession], target) -> None:
    """Every session's pods removed; the first failure raised after all were tried."""
    errors = []
    for s in sessions:
        try:
            s.cleanup(target)
        except AssertionError as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def test_pod_and_container_lifecycle_parallel_clients(pods, images, target, bench, evidence):
    n = bench.clients
    if n < 2:
        pytest.skip("--bench-clients 1: no parallel case (the one-client case is timed already)")
    sessions = _sessions(pods, images, target, n)

    def run(i: int, times: int) -> None:
        for _ in range(times):
            lifecycle(sessions[i], bench, n)

    try:
        with bench.warming():  # each client's first calls (its channel, ...) dropped
            bench.in_parallel(n, lambda i: run(i, bench.warmup))
        bench.in_parallel(n, lambda i: run(i, bench.samples))
    finally:
        for s in sessions:  # the failures' evidence into the test's own log
            for ev in s.cri.log.records[-20:]:
                if ev.exit_status not in (0, None):
                    evidence.add(ev)
        _cleanup_all(sessions, target)


def test_list_containers(pods, images, target, bench):
    m = bench.containers
    pod = pods.pod()
    creators = _sessions(pods, images, target, CREATORS)
    made: list[str] = []

    def create(i: int) -> None:
        for _ in range(i, m, CREATORS):
            res = creators[i].create(pod, creators[i].container_config())
            _ok(res, "setup: CreateContainer")
            made.append(res.response.container_id)

    def remove(i: int) -> None:
        for cid in made[i::CREATORS]:
            creators[i].cri.call("RemoveContainer", container_id=cid, deadline=60)

    try:
        bench.in_parallel(min(CREATORS, m), create)
        op = f"ListContainers ({m} containers)"
        for _ in bench.iterations():
            res = pods.cri.call("ListContainers", deadline=60)
            bench.record(op, _ok(res, "ListContainers"), group=GROUP)
            ours = [c for c in res.response.containers if c.pod_sandbox_id == pod[0]]
            assert len(ours) == m, f"benchmark: ListContainers shows {len(ours)} of the pod's {m}"
    finally:  # removed here, CREATORS at a time; the pod (and anything left) by `pods`
        bench.in_parallel(CREATORS, remove)


def _pull_image(images, subject_id: str) -> str:
    """A reference to an image of one PULL_LAYER-byte layer of random bytes (its own
    per subject and run), pushed to the run's open registry."""
    url = f"http://{images.registry['host']}"
    rng = random.Random(f"{subject_id}-{url}")
    layer = oci.layer_from_files({"payload": (rng.randbytes(PULL_LAYER), 0o644)})
    img = oci.make_image([layer], {"Cmd": ["/payload"]}, labels={"ocitest": f"bench-{subject_id}"})
    repo = f"bench-pull-{subject_id}"
    oci.push(url, repo, "1", img)
    return f"{OPEN_HOST}/{repo}:1"


def test_pull_image(cri, cri_subject, images, bench):
    ref = _pull_image(images, cri_subject.id)
    spec = pb.ImageSpec(image=ref)
    try:
        for _ in bench.iterations():
            cri.call("RemoveImage", image=spec)
            res = cri.call("PullImage", image=spec, deadline=120)
            bench.record(
                "PullImage (1 MiB layer)",
                _ok(res, f"PullImage {ref}"),
                group=GROUP,
                size=PULL_LAYER,
            )
    finally:
        cri.call("RemoveImage", image=spec)
