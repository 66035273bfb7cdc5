"""CRI mutants of the basic lifecycle, error and info RPCs (issue 17: the CRI
requirements no mutant had proven): each is the gRPC proxy of cri_proxy.py with one RPC
altered, run as `--cri-endpoint mutant:NAME` (the embedded containerd behind the proxy),
and the tests of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`). tests/test_cri_mutants.py runs each against
the test files of its `fails` (runc handler) and checks that exactly those fail beyond
what the real containerd fails there.
"""

from __future__ import annotations

import os
import secrets
import threading

import grpc
from cri_api.v1 import api_pb2 as pb

from selftest.cri_proxy import Abort
from selftest.declare import cri_mutant

_RT = "/runtime.v1.RuntimeService/"


def _upstream(channel: grpc.Channel, rpc: str, req, resp_type, deadline: float):
    """One upstream RuntimeService call: (response, None) or (None, grpc.RpcError)."""
    try:
        raw = channel.unary_unary(_RT + rpc)(req.SerializeToString(), timeout=deadline)
    except grpc.RpcError as exc:
        return None, exc
    return resp_type.FromString(raw), None


def _state(channel: grpc.Channel, cid: str, deadline: float) -> int | None:
    """The container's state as the upstream reports it; None when it has no status."""
    st, _ = _upstream(
        channel,
        "ContainerStatus",
        pb.ContainerStatusRequest(container_id=cid),
        pb.ContainerStatusResponse,
        deadline,
    )
    return st.status.state if st is not None else None


# containers --------------------------------------------------------------------------
@cri_mutant(
    "created-container-state-unknown",
    rpc="ContainerStatus",
    breaks="ContainerStatus of a created (never started) container says CONTAINER_UNKNOWN",
    fails=["test_container.py::test_create_container_gives_a_created_container"],
    requirements=["cri.container.create"],
)
def _(req, resp, err, ctx):
    if resp.status.state == pb.CONTAINER_CREATED:
        resp.status.state = pb.CONTAINER_UNKNOWN
    return resp


@cri_mutant(
    "started-container-stays-created",
    rpc="ContainerStatus",
    breaks="ContainerStatus of a started container still says CONTAINER_CREATED",
    fails=["test_container.py::test_start_container_runs_it"],
    requirements=["cri.container.start"],
)
def _(req, resp, err, ctx):
    if resp.status.state == pb.CONTAINER_RUNNING:
        resp.status.state = pb.CONTAINER_CREATED
    return resp


@cri_mutant(
    "container-status-drops-annotations",
    rpc="ContainerStatus",
    breaks="ContainerStatus loses the container's annotations",
    fails=["test_container.py::test_container_status_echoes_the_config"],
    requirements=["cri.container.status-fields"],
)
def _(req, resp, err, ctx):
    resp.status.annotations.clear()
    return resp


@cri_mutant(
    "list-containers-ignores-state",
    rpc="ListContainers",
    alters="request",
    breaks="ListContainers ignores the state of its filter",
    fails=["test_container.py::test_list_containers_filters"],
    requirements=["cri.container.list-filter"],
)
def _(req) -> None:
    req.filter.ClearField("state")


@cri_mutant(
    "create-mounts-writable",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer mounts a readonly host path read-write",
    fails=["test_container.py::test_host_path_mounts"],
    requirements=["cri.container.mounts"],
)
def _(req) -> None:
    for m in req.config.mounts:
        m.readonly = False


@cri_mutant(
    "create-resolves-symlink-from-root",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer resolves a host path that is a relative symlink against / "
    "instead of the link's directory",
    fails=["test_container.py::test_host_path_mount_through_a_symlink_mounts_its_target"],
    requirements=["cri.container.mounts-symlink"],
)
def _(req) -> None:
    for m in req.config.mounts:
        if os.path.islink(m.host_path) and not os.readlink(m.host_path).startswith("/"):
            m.host_path = "/" + os.readlink(m.host_path)


@cri_mutant(
    "create-gives-a-tty",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer gives every container a terminal: stderr reaches the log "
    "as stdout, lines end in CR",
    fails=["test_container.py::test_container_log_follows_the_cri_format"],
    requirements=["cri.container.log-format"],
)
def _(req) -> None:
    req.config.tty = True


@cri_mutant(
    "remove-keeps-a-running-container",
    rpc="RemoveContainer",
    alters="call",
    breaks="RemoveContainer of a running container answers OK and leaves it there",
    fails=["test_container.py::test_remove_container_removes_a_running_one"],
    requirements=["cri.container.remove"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    req = pb.RemoveContainerRequest.FromString(raw)
    if _state(upstream, req.container_id, deadline) == pb.CONTAINER_RUNNING:
        return pb.RemoveContainerResponse().SerializeToString()
    return forward(raw)


@cri_mutant(
    "update-ignores-memory-limit",
    rpc="UpdateContainerResources",
    alters="request",
    breaks="UpdateContainerResources answers OK but leaves the memory limit as it was",
    fails=["test_container.py::test_update_container_resources_changes_the_memory_limit"],
    requirements=["cri.container.update-resources"],
)
def _(req) -> None:
    req.linux.memory_limit_in_bytes = 0


@cri_mutant(
    "exec-sync-in-a-stopped-container-ok",
    rpc="ExecSync",
    alters="call",
    breaks="ExecSync in a container that is not running answers exit code 0",
    fails=["test_exec.py::test_exec_sync_in_a_created_container_fails"],
    requirements=["cri.exec-sync.not-running-errors"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    req = pb.ExecSyncRequest.FromString(raw)
    if _state(upstream, req.container_id, deadline) == pb.CONTAINER_CREATED:
        return pb.ExecSyncResponse(exit_code=0).SerializeToString()
    return forward(raw)


# errors ------------------------------------------------------------------------------
@cri_mutant(
    "unknown-pod-status-unknown-code",
    rpc="PodSandboxStatus",
    on_error=True,
    breaks="PodSandboxStatus of an unknown id fails with status Unknown, not NotFound",
    fails=["test_errors.py::test_status_of_an_unknown_pod_is_not_found"],
    requirements=["cri.errors.unknown-pod"],
)
def _(req, resp, err, ctx):
    if err is not None and err.code() == grpc.StatusCode.NOT_FOUND:
        raise Abort(grpc.StatusCode.UNKNOWN, f"mutant: {err.details()}")
    return resp


@cri_mutant(
    "start-unknown-container-ok",
    rpc="StartContainer",
    on_error=True,
    breaks="StartContainer of an unknown container id answers OK",
    fails=["test_errors.py::test_operations_on_an_unknown_container_fail[StartContainer-fields0]"],
    requirements=["cri.errors.unknown-id-operations"],
)
def _(req, resp, err, ctx):
    if err is not None and err.code() == grpc.StatusCode.NOT_FOUND:
        return pb.StartContainerResponse()
    return resp


@cri_mutant(
    "create-in-a-missing-pod-ok",
    rpc="CreateContainer",
    alters="call",
    breaks="CreateContainer in a pod that no longer exists answers OK with an id",
    fails=["test_errors.py::test_create_container_in_a_removed_pod_fails"],
    requirements=["cri.errors.create-in-removed-pod"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    req = pb.CreateContainerRequest.FromString(raw)
    _, err = _upstream(
        upstream,
        "PodSandboxStatus",
        pb.PodSandboxStatusRequest(pod_sandbox_id=req.pod_sandbox_id),
        pb.PodSandboxStatusResponse,
        deadline,
    )
    if err is not None and err.code() == grpc.StatusCode.NOT_FOUND:
        return pb.CreateContainerResponse(container_id=secrets.token_hex(32)).SerializeToString()
    return forward(raw)


@cri_mutant(
    "pull-accepts-unparsable-references",
    rpc="PullImage",
    on_error=True,
    breaks="PullImage of a reference it cannot parse answers OK",
    fails=[
        "test_errors.py::test_a_malformed_image_reference_is_refused[ocitest.test/UPPER:case]",
        "test_errors.py::test_a_malformed_image_reference_is_refused[ocitest.test/x:tag:tag]",
        "test_errors.py::test_a_malformed_image_reference_is_refused[::]",
    ],
    requirements=["cri.errors.bad-image-reference"],
)
def _(req, resp, err, ctx):
    if err is not None and "parse" in (err.details() or ""):
        return pb.PullImageResponse(image_ref="sha256:" + "0" * 64)
    return resp


# images ------------------------------------------------------------------------------
@cri_mutant(
    "pull-answers-another-image-ref",
    rpc="PullImage",
    breaks="PullImage answers an image_ref that is not the pulled image's",
    fails=["test_images.py::test_pull_image_by_tag"],
    requirements=["cri.image.pull-tag"],
)
def _(req, resp, err, ctx):
    resp.image_ref = "sha256:" + "0" * 64
    return resp


# pods --------------------------------------------------------------------------------
@cri_mutant(
    "ready-pod-reported-not-ready",
    rpc="PodSandboxStatus",
    breaks="PodSandboxStatus of a ready pod says SANDBOX_NOTREADY",
    fails=["test_pod_sandbox.py::test_run_pod_sandbox_gives_a_ready_sandbox"],
    requirements=["cri.pod.run-ready"],
)
def _(req, resp, err, ctx):
    if resp.status.state == pb.SANDBOX_READY:
        resp.status.state = pb.SANDBOX_NOTREADY
    return resp


@cri_mutant(
    "stopped-pod-reported-ready",
    rpc="PodSandboxStatus",
    breaks="PodSandboxStatus of a stopped pod still says SANDBOX_READY",
    fails=["test_pod_sandbox.py::test_stop_pod_sandbox_makes_it_not_ready_and_stops_containers"],
    requirements=["cri.pod.stop-not-ready"],
)
def _(req, resp, err, ctx):
    if resp.status.state == pb.SANDBOX_NOTREADY:
        resp.status.state = pb.SANDBOX_READY
    return resp


@cri_mutant(
    "pod-status-ip-outside-the-subnet",
    rpc="PodSandboxStatus",
    breaks="PodSandboxStatus reports an address outside the pod network",
    fails=["test_pod_sandbox.py::test_pod_sandbox_reports_its_ip"],
    requirements=["cri.pod.status-ip"],
)
def _(req, resp, err, ctx):
    if resp.status.network.ip:
        resp.status.network.ip = "203.0.113.7"  # TEST-NET-3: never a pod network here
    return resp


@cri_mutant(
    "pod-status-drops-runtime-handler",
    rpc="PodSandboxStatus",
    breaks="PodSandboxStatus leaves out the pod's runtime handler",
    fails=["test_pod_sandbox.py::test_pod_status_reports_the_runtime_handler"],
    requirements=["cri.pod.runtime-handler"],
)
def _(req, resp, err, ctx):
    resp.status.runtime_handler = ""
    return resp


@cri_mutant(
    "stop-pod-not-idempotent",
    rpc="StopPodSandbox",
    breaks="a second StopPodSandbox of a stopped pod answers NotFound",
    fails=["test_pod_sandbox.py::test_stop_pod_sandbox_twice_succeeds"],
    requirements=["cri.pod.stop-idempotent"],
)
def _(req, resp, err, ctx):
    with ctx.lock:
        if req.pod_sandbox_id in ctx.removed:
            raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: sandbox already stopped")
        ctx.removed.add(req.pod_sandbox_id)
    return resp


@cri_mutant(
    "pod-drops-sysctls",
    rpc="RunPodSandbox",
    alters="request",
    breaks="RunPodSandbox ignores the pod's sysctls",
    fails=["test_pod_sandbox.py::test_pod_sysctls_are_set"],
    requirements=["cri.pod.sysctls"],
)
def _(req) -> None:
    req.config.linux.sysctls.clear()


@cri_mutant(
    "unknown-handler-runs-the-default",
    rpc="RunPodSandbox",
    alters="request",
    breaks="RunPodSandbox with a handler it does not know runs the pod with runc",
    fails=["test_pod_sandbox.py::test_run_pod_sandbox_with_an_unknown_handler_fails"],
    requirements=["cri.pod.unknown-handler-errors"],
)
def _(req) -> None:
    if req.runtime_handler not in ("", "runc", "crun"):
        req.runtime_handler = "runc"


@cri_mutant(
    "pod-gets-the-host-ipc-namespace",
    rpc="RunPodSandbox",
    alters="request",
    breaks="RunPodSandbox puts a pod whose IPC mode is POD in the host's IPC namespace "
    "(a pod with sysctls, which the host namespace would refuse, keeps its own)",
    fails=["test_pod_sandbox.py::test_default_pod_namespaces_are_not_the_hosts"],
    requirements=["cri.pod.isolated-namespaces"],
)
def _(req) -> None:
    # containerd joins a container to its sandbox's IPC namespace whatever the container
    # asks, so the sandbox's is the one to change; its PID mode NODE would not reach a
    # container whose own mode is CONTAINER
    opts = req.config.linux.security_context.namespace_options
    if opts.ipc == pb.POD and not req.config.linux.sysctls:
        opts.ipc = pb.NODE


@cri_mutant(
    "create-ignores-pod-pid-mode",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer gives a container whose PID mode is POD a PID namespace of its own",
    fails=["test_pod_sandbox.py::test_pod_pid_mode_shares_the_sandbox_pid_namespace"],
    requirements=["cri.pod.shared-pid"],
)
def _(req) -> None:
    opts = req.config.linux.security_context.namespace_options
    if opts.pid == pb.POD:
        opts.pid = pb.CONTAINER


_PODS_SEEN: set[str] = set()
_PODS_LOCK = threading.Lock()


@cri_mutant(
    "later-containers-leave-the-pod-network",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer gives every container after a pod's first a network "
    "namespace of its own",
    fails=["test_pod_sandbox.py::test_containers_of_a_pod_share_its_network"],
    requirements=["cri.pod.shared-network"],
)
def _(req) -> None:
    with _PODS_LOCK:
        first = req.pod_sandbox_id not in _PODS_SEEN
        _PODS_SEEN.add(req.pod_sandbox_id)
    if first:
        return
    # busybox's unshare gives the process a new network namespace (needs CAP_SYS_ADMIN)
    cmd = ["unshare", "-n", "--", *req.config.command, *req.config.args]
    del req.config.command[:]
    del req.config.args[:]
    req.config.command.extend(cmd)
    req.config.linux.security_context.capabilities.add_capabilities.append("CAP_SYS_ADMIN")


# runtime info ------------------------------------------------------------------------
@cri_mutant(
    "version-without-runtime-version",
    rpc="Version",
    breaks="Version leaves runtime_version empty",
    fails=["test_runtime_info.py::test_version_names_the_runtime_and_its_api"],
    requirements=["cri.version.fields"],
)
def _(req, resp, err, ctx):
    resp.runtime_version = ""
    return resp


@cri_mutant(
    "update-runtime-config-refused",
    rpc="UpdateRuntimeConfig",
    alters="call",
    breaks="UpdateRuntimeConfig with a pod CIDR fails",
    fails=["test_runtime_info.py::test_update_runtime_config_accepts_a_pod_cidr"],
    requirements=["cri.update-runtime-config.ok"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    raise Abort(grpc.StatusCode.INTERNAL, "mutant: cannot apply the pod CIDR")
