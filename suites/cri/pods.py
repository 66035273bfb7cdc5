"""Pods and containers of one test on one CRI subject, removed whatever happens.

`PodSession` is what the `pods` fixture hands a test. Every pod it makes carries the
run id in its metadata namespace (RUN_ID-WORKER) and the run's cgroup parent, so
parallel workers never collide and the sweeper knows what is ours. At teardown it stops
and removes every pod it made (their containers go with them) and their log dirs.
Waiting polls with a deadline; the polls' own calls are kept out of the evidence.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

from cri_api.v1 import api_pb2 as pb

from infra.drivers import call_timeout
from infra.drivers.cri import CriClient, CriResult
from infra.evidence import EvidenceLog
from infra.services.containerd import cgroup_parent
from infra.subjects import Subject
from infra.wait import wait_recorded

#: prints a marker, then waits without end
LONG_RUNNING = ["sh", "-c", "echo ocitest-started; exec sleep 100000"]
#: seconds to wait for a state change
WAIT_TIMEOUT = 20.0

_counter = itertools.count(1)


class PodSession:
    """Makes pods and containers for one test; removes them at teardown."""

    def __init__(
        self, cri: CriClient, subject: Subject, run_id: str, worker: str, work: str, image: str
    ):
        self.cri = cri
        self.subject = subject
        self.run_id = run_id
        self.worker = worker
        self.work = work
        self.image = image
        self.pods: list[str] = []
        self.log_dirs: list[str] = []

    @property
    def namespace(self) -> str:
        return f"{self.run_id}-{self.worker}"

    def name(self, what: str = "pod") -> str:
        return f"{what}-{self.worker}-{next(_counter):04d}"

    # pods ------------------------------------------------------------------------------
    def pod_config(self, **fields) -> pb.PodSandboxConfig:
        """A baseline pod config; keyword arguments set top-level fields."""
        name = self.name()
        log_dir = f"{self.work}/cri-logs/{name}"
        self.log_dirs.append(log_dir)
        cfg = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(
                name=name, uid=uuid.uuid4().hex, namespace=self.namespace, attempt=0
            ),
            log_directory=log_dir,
            labels={"ocitest.run": self.run_id},
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=cgroup_parent(self.run_id),
                # as the kubelet does: PID mode POD (the zero value) only when asked
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(pid=pb.CONTAINER)
                ),
            ),
        )
        for k, v in fields.items():
            if isinstance(v, dict):
                getattr(cfg, k).update(v)
            else:
                getattr(cfg, k).CopyFrom(v) if hasattr(v, "CopyFrom") else setattr(cfg, k, v)
        return cfg

    def run_pod(self, config: pb.PodSandboxConfig | None = None, handler: str | None = None):
        """RunPodSandbox; returns its CriResult (the pod is removed at teardown)."""
        config = config or self.pod_config()
        res = self.cri.call(
            "RunPodSandbox",
            config=config,
            runtime_handler=self.subject.handler if handler is None else handler,
        )
        if res.ok and res.response.pod_sandbox_id:
            self.pods.append(res.response.pod_sandbox_id)
        return res

    def pod(self, config: pb.PodSandboxConfig | None = None) -> tuple[str, pb.PodSandboxConfig]:
        """A ready pod: (id, config), or an AssertionError saying why not."""
        config = config or self.pod_config()
        res = self.run_pod(config)
        assert res.ok, "setup: RunPodSandbox failed\n" + res.evidence.brief()
        return res.response.pod_sandbox_id, config

    # containers ------------------------------------------------------------------------
    def container_config(self, command: list[str] = LONG_RUNNING, **fields) -> pb.ContainerConfig:
        name = self.name("ctr")
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            linux=pb.LinuxContainerConfig(
                security_context=pb.LinuxContainerSecurityContext(
                    namespace_options=pb.NamespaceOption(pid=pb.CONTAINER)
                )
            ),
            image=pb.ImageSpec(image=self.image),
            command=command,
            log_path=f"{name}.log",
            labels={"ocitest.run": self.run_id},
        )
        for k, v in fields.items():
            if isinstance(v, dict):
                getattr(cfg, k).update(v)
            elif isinstance(v, list):
                getattr(cfg, k).extend(v)
            elif hasattr(v, "CopyFrom"):
                getattr(cfg, k).CopyFrom(v)
            else:
                setattr(cfg, k, v)
        return cfg

    def create(self, pod: tuple[str, pb.PodSandboxConfig], config: pb.ContainerConfig) -> CriResult:
        return self.cri.call(
            "CreateContainer", pod_sandbox_id=pod[0], config=config, sandbox_config=pod[1]
        )

    def created(self, pod=None, command: list[str] = LONG_RUNNING, **fields) -> str:
        """A created container's id (in a new pod unless `pod` is given)."""
        pod = pod or self.pod()
        res = self.create(pod, self.container_config(command, **fields))
        assert res.ok, "setup: CreateContainer failed\n" + res.evidence.brief()
        return res.response.container_id

    def running(self, pod=None, command: list[str] = LONG_RUNNING, **fields) -> str:
        """A started container's id."""
        cid = self.created(pod, command, **fields)
        res = self.cri.call("StartContainer", container_id=cid)
        assert res.ok, "setup: StartContainer failed\n" + res.evidence.brief()
        return cid

    def status(self, cid: str) -> pb.ContainerStatus | None:
        res = self.cri.call("ContainerStatus", container_id=cid)
        return res.response.status if res.ok else None

    def exec(self, cid: str, cmd: list[str], timeout: int = 10) -> CriResult:
        """ExecSync of `cmd` with its `timeout` (seconds); the RPC's deadline gives the
        endpoint the call deadline ($OCITEST_CALL_TIMEOUT, else 20 s) beyond that."""
        return self.cri.call(
            "ExecSync",
            container_id=cid,
            cmd=cmd,
            timeout=timeout,
            deadline=timeout + call_timeout(20.0),
        )

    def wait_for(
        self, what: str, predicate: Callable[[], object], timeout: float = WAIT_TIMEOUT
    ) -> bool:
        """Poll `predicate()` until true or `timeout` s (infra/wait.py); one evidence line
        for the wait, the polls' own calls left out (only the last one kept). False when
        the deadline passed."""
        return wait_recorded(what, predicate, timeout, self.cri)

    def wait_state(self, cid: str, state: int, timeout: float = WAIT_TIMEOUT) -> bool:
        name = pb.ContainerState.Name(state)
        return self.wait_for(
            f"ContainerStatus {cid[:12]} reports {name}",
            lambda: (st := self.status(cid)) is not None and st.state == state,
            timeout,
        )

    def wait_exited(self, cid: str, timeout: float = WAIT_TIMEOUT) -> bool:
        return self.wait_state(cid, pb.CONTAINER_EXITED, timeout)

    def log_file(self, pod_config: pb.PodSandboxConfig, config: pb.ContainerConfig) -> str:
        return f"{pod_config.log_directory}/{config.log_path}"

    # teardown --------------------------------------------------------------------------
    def cleanup(self, target) -> None:
        """Stop and remove every pod made; raise when one is still there afterwards."""
        quiet = EvidenceLog()
        loud, self.cri.log = self.cri.log, quiet
        left = []
        try:
            for pid in self.pods:
                self.cri.call("StopPodSandbox", pod_sandbox_id=pid)
                self.cri.call("RemovePodSandbox", pod_sandbox_id=pid)
                if self.cri.call("PodSandboxStatus", pod_sandbox_id=pid).ok:
                    left.append(pid)
            for d in self.log_dirs:
                target.remove_tree(d)
        finally:
            self.cri.log = loud
        if left:
            for ev in quiet.records:
                loud.add(ev)
            raise AssertionError(f"teardown: pods {left} still reported after stop and remove")
