"""Mutant CRI endpoints: a gRPC proxy in front of a real one that alters one RPC.

`python -m selftest.cri_proxy --listen unix:///p.sock --upstream unix:///c.sock
--mutant NAME` forwards every RuntimeService and ImageService call unchanged (as bytes)
except the one RPC the CRI mutant NAME alters (declared with @cri_mutant in the cri_*
modules, see declare.py). A self-test run starts one with `--cri-endpoint mutant:NAME`
(the scheme selftest/plugin.py registers): the embedded containerd behind this proxy.
tests/test_cri_mutants.py checks that exactly the tests declared for NAME fail.
"""

from __future__ import annotations

import argparse
import signal
import threading
from concurrent import futures

import grpc
from cri_api.v1 import api_pb2 as pb

from selftest.declare import CriAlteration, load

#: seconds an upstream call may take when the caller gave no deadline
UPSTREAM_DEADLINE = 120.0


class Ctx:
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
#: a faulty endpoint alters no RPC
_NO_ALTERATION = CriAlteration("", "response", lambda *a: None)


class Abort(Exception):
    """Raised by an alteration to answer with a status code instead of the response."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


class _Handler(grpc.GenericRpcHandler):
    """Forwards every call; the mutant's RPC goes through its alteration."""

    def __init__(self, upstream: grpc.Channel, alteration: CriAlteration, fault=None) -> None:
        self.upstream = upstream
        self.alteration = alteration
        self.fault = fault  # a cri_faults.CriFault, or None
        self.ctx = Ctx()

    def service(self, details):
        method = details.method
        rpc = method.rsplit("/", 1)[-1]
        if rpc == "GetContainerEvents":
            alt = self.alteration if self.alteration.rpc == rpc else None
            return grpc.unary_stream_rpc_method_handler(self._stream(method, alt))
        return grpc.unary_unary_rpc_method_handler(self._unary(method, rpc))

    def _stream(self, method, alt=None):
        """The events stream; a "response" alteration sees each event (None drops it)."""

        def handle(raw, context):
            call = self.upstream.unary_stream(method)(raw, timeout=context.time_remaining())
            context.add_callback(call.cancel)
            req = pb.GetEventsRequest.FromString(raw)
            try:
                for msg in call:
                    if alt is None or alt.alters != "response":
                        yield msg
                        continue
                    event = alt.fn(req, pb.ContainerEventResponse.FromString(msg), None, self.ctx)
                    if event is not None:
                        yield event.SerializeToString()
            except grpc.RpcError as exc:
                context.abort(exc.code(), exc.details() or "")

        return handle

    def _unary(self, method, rpc):
        alt = self.alteration if self.alteration.rpc == rpc else None

        def handle(raw, context):
            if self.fault is not None:
                self.fault.before(rpc, raw, context)
            remaining = context.time_remaining()
            deadline = UPSTREAM_DEADLINE if remaining is None or remaining > 1e6 else remaining
            resp_raw, err = None, None

            def forward(request: bytes) -> bytes:
                return self.upstream.unary_unary(method)(request, timeout=deadline)

            try:
                if alt is not None and alt.alters == "call":
                    resp_raw = alt.fn(self.upstream, raw, forward, deadline)
                elif alt is not None and alt.alters == "request":
                    req = _request(rpc).FromString(raw)
                    alt.fn(req)
                    resp_raw = forward(req.SerializeToString())
                else:
                    resp_raw = forward(raw)
            except grpc.RpcError as exc:
                err = exc
            except Abort as a:  # a "call" or "request" alteration answering a status
                context.abort(a.code, a.details)
            if alt is None or alt.alters != "response" or (err is not None and not alt.on_error):
                if err is not None:
                    context.abort(err.code(), err.details() or "")
                return resp_raw
            req = _request(rpc).FromString(raw)
            resp = _response(rpc).FromString(resp_raw) if resp_raw is not None else None
            try:
                out = alt.fn(req, resp, err, self.ctx)
            except Abort as a:
                context.abort(a.code, a.details)
            if out is None and err is not None:
                context.abort(err.code(), err.details() or "")
            return out.SerializeToString()

        return handle


def serve(listen: str, upstream: str, mutant: str, fault: str = "") -> grpc.Server:
    """Start the proxy of the CRI mutant `mutant`, or of the faulty endpoint `fault`
    (cri_faults.py; `mutant` is then ""); returns the running server. Raises SystemExit
    for an unknown mutant or fault."""
    from selftest.cri_faults import FAULTS

    known = {m.name: m for m in load("cri").values()}
    if fault:
        if fault not in FAULTS:
            raise SystemExit(f"unknown CRI fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
        handler = _Handler(grpc.insecure_channel(upstream), _NO_ALTERATION, FAULTS[fault])
    elif mutant not in known:
        raise SystemExit(f"unknown CRI mutant {mutant!r}; known: {', '.join(sorted(known))}")
    else:
        handler = _Handler(grpc.insecure_channel(upstream), known[mutant].behaviour)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers([handler])
    server.add_insecure_port(listen)
    server.start()
    return server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--mutant", default="")
    ap.add_argument("--fault", default="", help="a faulty endpoint of cri_faults.py instead")
    ap.add_argument("--run", default="", help="the run id (so the sweeper finds this process)")
    a = ap.parse_args()
    server = serve(a.listen, a.upstream, a.mutant, a.fault)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.stop(1)
    return 0


if __name__ == "__main__":
    # run the imported module, not __main__: the cri_* modules raise its Abort
    from selftest.cri_proxy import main as _main

    raise SystemExit(_main())
