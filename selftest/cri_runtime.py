"""CRI mutants of pods, containers, exec and its streams, stats: each is the gRPC proxy
of cri_proxy.py with one RPC altered, run as
`--cri-endpoint mutant:NAME` (the embedded containerd behind the proxy), and the tests
of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`). tests/test_cri_mutants.py runs each against
the test files of its `fails` (runc handler) and checks that exactly those fail beyond
what the real containerd fails there.
"""

from __future__ import annotations

import grpc
from cri_api.v1 import api_pb2 as pb

from selftest.cri_proxy import Abort
from selftest.declare import cri_mutant


@cri_mutant(
    "exec-sync-exit-zero",
    rpc="ExecSync",
    breaks="ExecSync always reports exit code 0",
    fails=["test_exec.py::test_exec_sync_returns_the_exit_code[7]"],
    requirements=["cri.exec-sync.exit-code"],
)
def _(req, resp, err, ctx):
    resp.exit_code = 0
    return resp


EXEC_TIMEOUT = "test_exec.py::test_exec_sync_gives_up_after_its_timeout_and_stops_the_command"


@cri_mutant(
    "exec-sync-ignores-timeout",
    rpc="ExecSync",
    alters="request",
    breaks="ExecSync runs the command to its end whatever its timeout",
    fails=[EXEC_TIMEOUT],
    requirements=["cri.exec-sync.timeout"],
)
def _(req) -> None:
    req.timeout = 0


@cri_mutant(
    "exec-sync-timeout-errs-at-once",
    rpc="ExecSync",
    alters="request",
    breaks="ExecSync with a short timeout fails at once, without running the command",
    fails=[EXEC_TIMEOUT],
    requirements=["cri.exec-sync.timeout"],
)
def _(req) -> None:
    if 0 < req.timeout < 5:
        req.cmd[:] = ["/ocitest-no-such-program"]


@cri_mutant(
    "exec-sync-timeout-leaves-the-command",
    rpc="ExecSync",
    alters="request",
    breaks="ExecSync's timeout stops the exec's first process only; the command runs on",
    fails=[EXEC_TIMEOUT],
    requirements=["cri.exec-sync.timeout"],
)
def _(req) -> None:
    if 0 < req.timeout < 5:  # the command runs as a child the timeout's kill misses
        req.cmd[:] = ["sh", "-c", '"$@" & wait', "sh", *req.cmd]


@cri_mutant(
    "exec-sync-swaps-streams",
    rpc="ExecSync",
    breaks="ExecSync returns stdout as stderr and stderr as stdout",
    fails=["test_exec.py::test_exec_sync_returns_stdout_and_stderr_apart"],
    requirements=["cri.exec-sync.output"],
)
def _(req, resp, err, ctx):
    resp.stdout, resp.stderr = resp.stderr, resp.stdout
    return resp


@cri_mutant(
    "pod-status-drops-labels",
    rpc="PodSandboxStatus",
    breaks="PodSandboxStatus loses the sandbox's labels",
    fails=["test_pod_sandbox.py::test_pod_sandbox_status_echoes_the_config"],
    requirements=["cri.pod.status-fields"],
)
def _(req, resp, err, ctx):
    resp.status.labels.clear()
    return resp


@cri_mutant(
    "list-pods-ignores-filter",
    rpc="ListPodSandbox",
    alters="request",
    breaks="ListPodSandbox ignores its filter",
    fails=[
        "test_pod_sandbox.py::test_list_pod_sandbox_filters",
        "test_pod_sandbox.py::test_remove_pod_sandbox_removes_it_and_its_containers",
    ],
    requirements=[
        "cri.pod.list-filter",
        "cri.pod.remove",
    ],
)
def _(req) -> None:
    req.Clear()


@cri_mutant(
    "remove-pod-not-idempotent",
    rpc="RemovePodSandbox",
    breaks="a second RemovePodSandbox answers NotFound",
    fails=["test_pod_sandbox.py::test_remove_pod_sandbox_twice_succeeds"],
    requirements=["cri.pod.remove-idempotent"],
)
def _(req, resp, err, ctx):
    with ctx.lock:
        if req.pod_sandbox_id in ctx.removed:
            raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: sandbox already removed")
        ctx.removed.add(req.pod_sandbox_id)
    return resp


@cri_mutant(
    "unknown-container-status-ok",
    rpc="ContainerStatus",
    on_error=True,
    breaks="ContainerStatus of an unknown id answers OK",
    fails=["test_errors.py::test_status_of_an_unknown_container_is_not_found"],
    requirements=["cri.errors.unknown-container"],
)
def _(req, resp, err, ctx):
    if err is not None and err.code() == grpc.StatusCode.NOT_FOUND:
        return pb.ContainerStatusResponse(
            status=pb.ContainerStatus(id=req.container_id, state=pb.CONTAINER_UNKNOWN)
        )
    return resp


@cri_mutant(
    "network-not-ready",
    rpc="Status",
    breaks="Status reports NetworkReady false",
    fails=["test_runtime_info.py::test_status_reports_runtime_and_network_ready"],
    requirements=["cri.status.conditions"],
)
def _(req, resp, err, ctx):
    for c in resp.status.conditions:
        if c.type == "NetworkReady":
            c.status = False
    return resp


@cri_mutant(
    "container-exit-code-wrong",
    rpc="ContainerStatus",
    breaks="ContainerStatus reports an exited container's exit code plus one",
    fails=[
        "test_container.py::test_exited_container_reports_its_exit_code[0]",
        "test_container.py::test_exited_container_reports_its_exit_code[3]",
        "test_container.py::test_stop_container_kills_after_the_timeout",
        "test_container.py::test_stop_container_sends_sigterm_first",
        "test_container.py::test_a_container_over_its_memory_limit_is_oom_killed",
    ],
    requirements=[
        "cri.container.exit-code",
        "cri.container.stop-timeout",
        "cri.container.stop-signal",
        "cri.container.memory-limit",
    ],
)
def _(req, resp, err, ctx):
    if resp.status.state == pb.CONTAINER_EXITED:
        resp.status.exit_code += 1
    return resp


@cri_mutant(
    "container-stats-wrong-id",
    rpc="ContainerStats",
    breaks="ContainerStats names another container",
    fails=["test_stats.py::test_container_stats_report_cpu_memory_and_writable_layer"],
    requirements=["cri.container.stats"],
)
def _(req, resp, err, ctx):
    resp.stats.attributes.id = "0" * 64
    return resp


@cri_mutant(
    "exec-stream-drops-stdout",
    rpc="Exec",
    alters="request",
    breaks="Exec asks the runtime for no stdout",
    fails=[
        "test_streaming.py::test_exec_stream_returns_stdout_and_stderr",
        "test_streaming.py::test_exec_stream_passes_stdin",
        "test_streaming.py::test_exec_stream_with_a_tty",
    ],
    requirements=[
        "cri.exec.stream",
        "cri.exec.stream-tty",
    ],
)
def _(r) -> None:
    r.stdout = False


@cri_mutant(
    "exec-stream-exit-zero",
    rpc="Exec",
    alters="request",
    breaks="Exec runs the command so that it always exits 0",
    fails=["test_streaming.py::test_exec_stream_reports_the_exit_status[7]"],
    requirements=["cri.exec.stream"],
)
def _(req) -> None:
    cmd = ["sh", "-c", '"$@"; exit 0', "sh", *req.cmd]
    del req.cmd[:]
    req.cmd.extend(cmd)


@cri_mutant(
    "exec-stream-drops-tty",
    rpc="Exec",
    alters="request",
    breaks="Exec runs the command without a terminal though tty is asked",
    fails=["test_streaming.py::test_exec_stream_with_a_tty"],
    requirements=["cri.exec.stream-tty"],
)
def _(r) -> None:
    r.tty = False


@cri_mutant(
    "attach-ignores-stdin",
    rpc="Attach",
    alters="request",
    breaks="Attach leaves the container's stdin unattached",
    fails=["test_streaming.py::test_attach_stream_reaches_the_container_stdio"],
    requirements=["cri.attach.stream"],
)
def _(r) -> None:
    r.stdin = False


@cri_mutant(
    "port-forward-wrong-port",
    rpc="PortForward",
    alters="request",
    breaks="PortForward forwards to the next port up",
    fails=[
        "test_streaming.py::test_port_forward_stream_reaches_a_server_in_the_pod",
        "test_streaming.py::test_port_forward_in_a_host_network_pod",
    ],
    requirements=["cri.port-forward.stream"],
)
def _(req) -> None:
    ports = [p + 1 for p in req.port]
    del req.port[:]
    req.port.extend(ports)


@cri_mutant(
    "pod-drops-port-mappings",
    rpc="RunPodSandbox",
    alters="request",
    breaks="RunPodSandbox ignores the pod's port mappings",
    fails=["test_port_mapping.py::test_host_port_forwards_to_the_container_port"],
    requirements=["cri.pod.port-mapping"],
)
def _(r) -> None:
    r.config.ClearField("port_mappings")


@cri_mutant(
    "create-drops-memory-limit",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores memory_limit_in_bytes",
    fails=["test_container.py::test_a_container_over_its_memory_limit_is_oom_killed"],
    requirements=["cri.container.memory-limit"],
)
def _(req) -> None:
    req.config.linux.resources.memory_limit_in_bytes = 0


@cri_mutant(
    "oom-reason-dropped",
    rpc="ContainerStatus",
    breaks="ContainerStatus reports reason Error where containerd says OOMKilled",
    fails=["test_container.py::test_a_container_over_its_memory_limit_is_oom_killed"],
    requirements=["cri.container.oom-reason"],
)
def _(req, resp, err, ctx):
    if resp.status.reason == "OOMKilled":
        resp.status.reason = "Error"
    return resp


@cri_mutant(
    "list-container-stats-ignores-filter",
    rpc="ListContainerStats",
    alters="request",
    breaks="ListContainerStats ignores its filter",
    fails=[
        "test_stats.py::test_container_stats_report_cpu_memory_and_writable_layer",
        "test_stats.py::test_list_container_stats_without_filter_and_by_label",
    ],
    requirements=[
        "cri.container.stats",
        "cri.container.stats-list",
    ],
)
def _(r) -> None:
    r.ClearField("filter")


@cri_mutant(
    "pod-stats-without-usage",
    rpc="PodSandboxStats",
    breaks="PodSandboxStats reports timestamps but zero CPU and memory usage",
    fails=["test_stats.py::test_pod_sandbox_stats_report_cpu_and_memory"],
    requirements=["cri.pod.stats"],
)
def _(req, resp, err, ctx):
    resp.stats.linux.cpu.ClearField("usage_core_nano_seconds")
    resp.stats.linux.memory.ClearField("working_set_bytes")
    return resp


@cri_mutant(
    "reopen-log-does-nothing",
    rpc="ReopenContainerLog",
    alters="call",
    breaks="ReopenContainerLog answers OK without reopening: output goes on to the moved file",
    fails=["test_container.py::test_reopen_container_log_writes_to_a_new_file"],
    requirements=["cri.container.reopen-log"],
)
def _(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    return pb.ReopenContainerLogResponse().SerializeToString()
