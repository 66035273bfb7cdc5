"""Fixtures of the CRI suite: the client, the run's images, pods that clean up.

`cri_subject` is parametrized by the infra plugin (one case per runtime handler; the cri
kind, infra/kinds/cri.py, resolves the subjects and starts the services once per run).
When the CRI services (registries, embedded containerd) did not start, every test
ends as `error` with the reason, rather than as a page of failures.
"""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from infra.drivers.cri import CriClient
from infra.evidence import EvidenceLog
from infra.kinds import cri as cri_kind
from infra.run import RunContext
from infra.services.cri import CriServices
from infra.subjects import Subject
from infra.targets import Target
from suites.cri.pods import PodSession


class CriServicesFailed(Exception):
    """The registries or the embedded containerd did not start (outcome: error)."""


@pytest.fixture
def images(ocitest_run: RunContext) -> CriServices:
    """The run's registries and images (references, digests, credentials)."""
    services, error = cri_kind.services(ocitest_run)
    if error == cri_kind.ROOTLESS_SKIP:
        pytest.skip(error)
    if services is None or error:  # an endpoint scheme's failure comes with services
        raise CriServicesFailed(error or "the CRI services were not started")
    return services


@pytest.fixture
def cri(cri_subject: Subject, images: CriServices, evidence: EvidenceLog) -> CriClient:
    """The CRI endpoint under test; every call goes to the test's evidence."""
    client = CriClient(cri_subject.endpoint, evidence, image_endpoint=images.image_endpoint)
    if cri_subject.endpoint not in _PULLED:  # an external endpoint may lack the test image
        quiet = CriClient(cri_subject.endpoint, EvidenceLog(), image_endpoint=images.image_endpoint)
        quiet.call("PullImage", image=pb.ImageSpec(image=images.images["busybox"]), deadline=120)
        _PULLED.add(cri_subject.endpoint)
    return client


_PULLED: set[str] = set()


def _short(worker_id: str) -> str:
    return "m" if worker_id == "master" else worker_id


@pytest.fixture
def pods(
    cri: CriClient,
    cri_subject: Subject,
    ocitest_run: RunContext,
    worker_id: str,
    images: CriServices,
    target: Target,
):
    """Makes pods and containers on the subject's handler; removes them at teardown."""
    session = PodSession(
        cri,
        cri_subject,
        ocitest_run.run_id,
        _short(worker_id),
        ocitest_run.work_base,
        images.images["busybox"],
    )
    yield session
    session.cleanup(target)
