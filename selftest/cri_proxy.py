"""Mutant CRI endpoints: a gRPC proxy in front of a real one that alters chosen responses.

`python -m infra.mutants.cri_proxy --listen unix:///p.sock --upstream unix:///c.sock
--mutant NAME` forwards every RuntimeService and ImageService call unchanged (as bytes)
except those the mutant NAME alters (see CRI_MUTANTS). The harness starts one with
`--cri-endpoint mutant:NAME`: its embedded containerd behind this proxy. Each mutant
breaks one behaviour; tests/test_cri_mutants.py checks that exactly the tests listed
for it in infra/mutants/registry.py fail.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures

import grpc
from cri_api.v1 import api_pb2 as pb

#: seconds an upstream call may take when the caller gave no deadline
UPSTREAM_DEADLINE = 120.0


class _Ctx:
    """What an alteration may keep between calls (e.g. ids it has seen removed)."""

    def __init__(self) -> None:
        self.removed: set[str] = set()
        self.lock = threading.Lock()


def _response(rpc: str):
    svc = "ImageService" if rpc in _IMAGE_RPCS else "RuntimeService"
    name = pb.DESCRIPTOR.services_by_name[svc].methods_by_name[rpc].output_type.name
    return getattr(pb, name)


def _request(rpc: str):
    svc = "ImageService" if rpc in _IMAGE_RPCS else "RuntimeService"
    name = pb.DESCRIPTOR.services_by_name[svc].methods_by_name[rpc].input_type.name
    return getattr(pb, name)


_IMAGE_RPCS = {m.name for m in pb.DESCRIPTOR.services_by_name["ImageService"].methods}


class Abort(Exception):
    """Raised by an alteration to answer with a status code instead of the response."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


# An alteration: (request, response or None, upstream error or None, ctx) -> response.
Alteration = Callable[[object, object, object, _Ctx], object]


def _exec_exit_zero(req, resp, err, ctx):
    resp.exit_code = 0
    return resp


def _exec_swaps_streams(req, resp, err, ctx):
    resp.stdout, resp.stderr = resp.stderr, resp.stdout
    return resp


def _pod_status_drops_labels(req, resp, err, ctx):
    resp.status.labels.clear()
    return resp


def _list_pods_ignores_filter(req, resp, err, ctx):
    return resp  # the request is rewritten instead (see _REWRITE)


def _remove_pod_not_idempotent(req, resp, err, ctx):
    with ctx.lock:
        if req.pod_sandbox_id in ctx.removed:
            raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: sandbox already removed")
        ctx.removed.add(req.pod_sandbox_id)
    return resp


def _unknown_container_ok(req, resp, err, ctx):
    if err is not None and err.code() == grpc.StatusCode.NOT_FOUND:
        return pb.ContainerStatusResponse(
            status=pb.ContainerStatus(id=req.container_id, state=pb.CONTAINER_UNKNOWN)
        )
    return resp


def _network_not_ready(req, resp, err, ctx):
    for c in resp.status.conditions:
        if c.type == "NetworkReady":
            c.status = False
    return resp


def _image_status_absent_errors(req, resp, err, ctx):
    if resp is not None and not resp.HasField("image"):
        raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: no such image")
    return resp


def _exit_code_wrong(req, resp, err, ctx):
    if resp.status.state == pb.CONTAINER_EXITED:
        resp.status.exit_code += 1
    return resp


def _stats_wrong_id(req, resp, err, ctx):
    resp.stats.attributes.id = "0" * 64
    return resp


def _pull_ignores_auth_failure(req, resp, err, ctx):
    if err is not None and req.image.image.startswith("auth."):
        return pb.PullImageResponse(image_ref="sha256:" + "0" * 64)
    return resp


def _oom_reason_dropped(req, resp, err, ctx):
    if resp.status.reason == "OOMKilled":
        resp.status.reason = "Error"
    return resp


def _list_images_first_tag_only(req, resp, err, ctx):
    for image in resp.images:
        del image.repo_tags[1:]
    return resp


def _remove_image_not_idempotent(req, resp, err, ctx):
    with ctx.lock:
        if req.image.image in ctx.removed:
            raise Abort(grpc.StatusCode.NOT_FOUND, "mutant: image already removed")
        ctx.removed.add(req.image.image)
    return resp


def _image_status_drops_user(req, resp, err, ctx):
    if resp.HasField("image"):
        resp.image.ClearField("uid")
        resp.image.username = ""
    return resp


def _as_is(req, resp, err, ctx):
    return resp  # the request is rewritten instead (see _REWRITES)


def _sc(req):
    return req.config.linux.security_context


def _drop_run_as_user(req):
    _sc(req).ClearField("run_as_user")
    _sc(req).run_as_username = ""


def _drop_capabilities(req):
    _sc(req).ClearField("capabilities")


def _drop_seccomp(req):
    _sc(req).ClearField("seccomp")
    _sc(req).seccomp_profile_path = ""


def _drop_masked_readonly_paths(req):
    del _sc(req).masked_paths[:]
    del _sc(req).readonly_paths[:]


def _exec_exit_zero_stream(req):
    cmd = ["sh", "-c", '"$@"; exit 0', "sh", *req.cmd]
    del req.cmd[:]
    req.cmd.extend(cmd)


def _wrong_port(req):
    ports = [p + 1 for p in req.port]
    del req.port[:]
    req.port.extend(ports)


def _drop_memory_limit(req):
    req.config.linux.resources.memory_limit_in_bytes = 0


def _default_tag_wrong(req):
    name = req.image.image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        req.image.image = name + ":1.0"


def _untag_only(upstream: grpc.Channel, raw: bytes, forward, deadline: float) -> bytes:
    """RemoveImage as a runtime that drops only the tag named: the image's other tags
    (those of the open registry, which needs no credentials) are pulled back after the
    real removal. One deadline for all the calls; a pull back that fails is skipped."""
    from infra.services.cri import OPEN_HOST

    end = time.monotonic() + deadline
    req = pb.RemoveImageRequest.FromString(raw)
    asked = req.image.image
    if "@" not in asked and ":" not in asked.rsplit("/", 1)[-1]:
        asked += ":latest"
    status = pb.ImageStatusResponse.FromString(
        upstream.unary_unary("/runtime.v1.ImageService/ImageStatus")(
            pb.ImageStatusRequest(image=req.image).SerializeToString(),
            timeout=max(end - time.monotonic(), 0.1),
        )
    )
    out = forward(raw)
    pull = upstream.unary_unary("/runtime.v1.ImageService/PullImage")
    for tag in status.image.repo_tags:
        if tag == asked or not tag.startswith(OPEN_HOST + "/"):
            continue
        with contextlib.suppress(grpc.RpcError):
            pull(
                pb.PullImageRequest(image=pb.ImageSpec(image=tag)).SerializeToString(),
                timeout=max(end - time.monotonic(), 0.1),
            )
    return out


#: mutant name -> (rpc, what runs instead of the plain upstream call: (upstream channel,
#: raw request, forward(raw) -> raw response, deadline s) -> raw response)
_AROUND = {"remove-image-untags-only": ("RemoveImage", _untag_only)}

#: mutant name -> (rpc, edit of the parsed request before it goes upstream)
_REWRITES: dict[str, tuple[str, Callable[[object], None]]] = {
    "exec-stream-drops-stdout": ("Exec", lambda r: setattr(r, "stdout", False)),
    "exec-stream-exit-zero": ("Exec", _exec_exit_zero_stream),
    "attach-ignores-stdin": ("Attach", lambda r: setattr(r, "stdin", False)),
    "port-forward-wrong-port": ("PortForward", _wrong_port),
    "pod-drops-port-mappings": ("RunPodSandbox", lambda r: r.config.ClearField("port_mappings")),
    "create-drops-run-as-user": ("CreateContainer", _drop_run_as_user),
    "create-ignores-readonly-rootfs": (
        "CreateContainer",
        lambda r: setattr(_sc(r), "readonly_rootfs", False),
    ),
    "create-ignores-privileged": (
        "CreateContainer",
        lambda r: setattr(_sc(r), "privileged", False),
    ),
    "create-drops-capabilities": ("CreateContainer", _drop_capabilities),
    "create-ignores-no-new-privs": (
        "CreateContainer",
        lambda r: setattr(_sc(r), "no_new_privs", False),
    ),
    "create-drops-masked-readonly-paths": ("CreateContainer", _drop_masked_readonly_paths),
    "create-drops-seccomp": ("CreateContainer", _drop_seccomp),
    "create-drops-memory-limit": ("CreateContainer", _drop_memory_limit),
    "list-container-stats-ignores-filter": (
        "ListContainerStats",
        lambda r: r.ClearField("filter"),
    ),
    "pull-default-tag-wrong": ("PullImage", _default_tag_wrong),
    "exec-stream-drops-tty": ("Exec", lambda r: setattr(r, "tty", False)),
}

#: mutant name -> (rpc, alteration, also called when upstream fails)
CRI_MUTANTS: dict[str, tuple[str, Alteration, bool]] = {
    "exec-sync-exit-zero": ("ExecSync", _exec_exit_zero, False),
    "exec-sync-swaps-streams": ("ExecSync", _exec_swaps_streams, False),
    "pod-status-drops-labels": ("PodSandboxStatus", _pod_status_drops_labels, False),
    "list-pods-ignores-filter": ("ListPodSandbox", _list_pods_ignores_filter, False),
    "remove-pod-not-idempotent": ("RemovePodSandbox", _remove_pod_not_idempotent, False),
    "unknown-container-status-ok": ("ContainerStatus", _unknown_container_ok, True),
    "network-not-ready": ("Status", _network_not_ready, False),
    "image-status-absent-errors": ("ImageStatus", _image_status_absent_errors, False),
    "container-exit-code-wrong": ("ContainerStatus", _exit_code_wrong, False),
    "container-stats-wrong-id": ("ContainerStats", _stats_wrong_id, False),
    "pull-ignores-auth-failure": ("PullImage", _pull_ignores_auth_failure, True),
    "oom-reason-dropped": ("ContainerStatus", _oom_reason_dropped, False),
    "list-images-first-tag-only": ("ListImages", _list_images_first_tag_only, False),
    "remove-image-not-idempotent": ("RemoveImage", _remove_image_not_idempotent, False),
    "image-status-drops-user": ("ImageStatus", _image_status_drops_user, False),
    **{name: (rpc, _as_is, False) for name, (rpc, _) in _REWRITES.items()},
    **{name: (rpc, _as_is, False) for name, (rpc, _) in _AROUND.items()},
}


def _rewrite_request(mutant: str, rpc: str, raw: bytes) -> bytes:
    if mutant == "list-pods-ignores-filter" and rpc == "ListPodSandbox":
        return pb.ListPodSandboxRequest().SerializeToString()
    if mutant in _REWRITES and _REWRITES[mutant][0] == rpc:
        req = _request(rpc).FromString(raw)
        _REWRITES[mutant][1](req)
        return req.SerializeToString()
    return raw


class _Handler(grpc.GenericRpcHandler):
    def __init__(self, upstream: grpc.Channel, mutant: str) -> None:
        self.upstream = upstream
        self.mutant = mutant
        self.ctx = _Ctx()

    def service(self, details):
        method = details.method
        rpc = method.rsplit("/", 1)[-1]
        if rpc == "GetContainerEvents":
            return grpc.unary_stream_rpc_method_handler(self._stream(method))
        return grpc.unary_unary_rpc_method_handler(self._unary(method, rpc))

    def _stream(self, method):
        def handle(raw, context):
            call = self.upstream.unary_stream(method)(raw, timeout=context.time_remaining())
            context.add_callback(call.cancel)
            try:
                yield from call
            except grpc.RpcError as exc:
                context.abort(exc.code(), exc.details() or "")

        return handle

    def _unary(self, method, rpc):
        target = CRI_MUTANTS.get(self.mutant)
        altered = target is not None and target[0] == rpc

        def handle(raw, context):
            remaining = context.time_remaining()
            deadline = UPSTREAM_DEADLINE if remaining is None or remaining > 1e6 else remaining
            resp_raw, err = None, None

            def forward(request: bytes) -> bytes:
                return self.upstream.unary_unary(method)(request, timeout=deadline)

            try:
                if self.mutant in _AROUND and _AROUND[self.mutant][0] == rpc:
                    resp_raw = _AROUND[self.mutant][1](self.upstream, raw, forward, deadline)
                else:
                    resp_raw = forward(_rewrite_request(self.mutant, rpc, raw))
            except grpc.RpcError as exc:
                err = exc
            if not altered or (err is not None and not target[2]):
                if err is not None:
                    context.abort(err.code(), err.details() or "")
                return resp_raw
            req = _request(rpc).FromString(raw)
            resp = _response(rpc).FromString(resp_raw) if resp_raw is not None else None
            try:
                out = target[1](req, resp, err, self.ctx)
            except Abort as a:
                context.abort(a.code, a.details)
            if out is None and err is not None:
                context.abort(err.code(), err.details() or "")
            return out.SerializeToString()

        return handle


def serve(listen: str, upstream: str, mutant: str) -> grpc.Server:
    """Start the proxy (returns the running server)."""
    if mutant not in CRI_MUTANTS:
        raise SystemExit(f"unknown CRI mutant {mutant!r}; known: {', '.join(sorted(CRI_MUTANTS))}")
    channel = grpc.insecure_channel(upstream)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers([_Handler(channel, mutant)])
    server.add_insecure_port(listen)
    server.start()
    return server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--mutant", required=True)
    ap.add_argument("--run", default="", help="the run id (so the sweeper finds this process)")
    a = ap.parse_args()
    server = serve(a.listen, a.upstream, a.mutant)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
