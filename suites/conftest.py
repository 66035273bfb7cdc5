"""Fixtures shared by all suites: evidence, drivers, bundles and containers.

Every resource comes from a fixture that removes it whatever happens to the test.
`runtime_subject` is parametrized by the infra plugin (one case per --runtime).
"""

from __future__ import annotations

import pytest

from infra.containers import ContainerSession
from infra.drivers.host import HostInspector
from infra.drivers.runtime import RuntimeDriver
from infra.evidence import EvidenceLog
from infra.images.rootfs import cached_rootfs
from infra.preflight import preflight
from infra.run import RunContext
from infra.subjects import Subject
from infra.targets import Target
from reports.records import EVIDENCE_PROP


@pytest.fixture
def evidence(request: pytest.FixtureRequest):
    """The test's evidence log; attached to the test's report at teardown."""
    log = EvidenceLog()
    yield log
    request.node.user_properties.append((EVIDENCE_PROP, log.as_dicts()))


#: target spec -> the rootfs on it (per process)
_ROOTFS: dict[str, str] = {}


@pytest.fixture
def rootfs(target: Target, ocitest_run: RunContext) -> str:
    """The cached busybox rootfs on the test's target (built once per run and target,
    shared by xdist workers)."""
    if target.spec not in _ROOTFS:
        _ROOTFS[target.spec] = cached_rootfs(target, ocitest_run.cache_dir)
    return _ROOTFS[target.spec]


def _short(worker_id: str) -> str:
    """The worker part of container ids: "gw0", or "m" without xdist."""
    return "m" if worker_id == "master" else worker_id


class PreflightFailed(Exception):
    """The subject could not run even the baseline container here (outcome: error)."""


@pytest.fixture
def runtime(
    runtime_subject: Subject,
    target: Target,
    ocitest_run: RunContext,
    evidence: EvidenceLog,
    worker_id: str,
) -> RuntimeDriver:
    """The runtime under test, with the run's state root.

    Raises PreflightFailed (outcome `error`) when the subject could not run even the
    baseline container at the start of the run (see infra/preflight.py)."""
    problem = _preflight(target, ocitest_run, runtime_subject, worker_id)
    if problem:
        raise PreflightFailed(problem)
    return RuntimeDriver(runtime_subject, target, ocitest_run.state_root(runtime_subject), evidence)


_PREFLIGHT: dict[str, str] = {}


def _preflight(target: Target, ctx: RunContext, subject: Subject, worker: str) -> str:
    """The preflight's verdict for `subject`, run once per process (each xdist worker)."""
    if subject.id not in _PREFLIGHT:
        _PREFLIGHT[subject.id] = preflight(target, ctx, subject, _short(worker))
    return _PREFLIGHT[subject.id]


@pytest.fixture
def host(target: Target, evidence: EvidenceLog) -> HostInspector:
    """Looks at the target host (/proc, cgroups, namespaces) from outside containers."""
    return HostInspector(target, evidence)


@pytest.fixture
def containers(runtime: RuntimeDriver, ocitest_run: RunContext, worker_id: str, rootfs: str):
    """Makes bundles and containers; kills and deletes them all at teardown."""
    session = ContainerSession(runtime, ocitest_run, _short(worker_id), rootfs)
    yield session
    session.cleanup()
