"""Driver for a CRI endpoint: RuntimeService and ImageService over gRPC (cri-api v1).

The stubs are those of the `container-runtime-interface-api` package (`cri_api.v1`,
pinned in pyproject.toml). Every call:
- has a deadline (DEFAULT_DEADLINE seconds unless the caller gives one);
- is recorded as Evidence: `RuntimeService/NAME request`, the gRPC status code (its
  number as exit status, its name in the note), a summary of the response, the error
  details, and the call's duration (seconds; later benchmarks build on it).
A status code other than OK is a result, not an exception: the tests judge it.
Endpoints: `unix:///path/to.sock` or `tcp://host:port`. Channels are cached per process.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from cri_api.v1 import api_pb2 as pb
from google.protobuf import text_format

from infra.drivers import call_timeout
from infra.evidence import Evidence, EvidenceLog

#: seconds one RPC may take unless the caller says otherwise
DEFAULT_DEADLINE = 30.0
#: the protobuf package of the v1 API
PACKAGE = "runtime.v1"
SERVICES = {s.name: [m.name for m in s.methods] for s in pb.DESCRIPTOR.services_by_name.values()}
#: RPC name -> service name, for every RPC of the pinned v1 stubs
RPC_SERVICE = {rpc: svc for svc, rpcs in SERVICES.items() for rpc in rpcs}
#: RPCs whose response is a stream
STREAMING = {"GetContainerEvents"}
#: characters of a request or response kept in the evidence
SUMMARY_CHARS = 1500

_channels: dict[str, grpc.Channel] = {}
_lock = threading.Lock()


class EndpointError(Exception):
    """An endpoint URI is malformed (a usage error)."""


def grpc_target(endpoint: str) -> str:
    """The grpcio target for a CRI endpoint URI. Raises EndpointError."""
    if endpoint.startswith("unix://") and len(endpoint) > len("unix://"):
        if len(endpoint[len("unix://") :].encode()) > 107:  # sun_path holds 108 bytes with NUL
            raise EndpointError(f"{endpoint[:60]!r}...: a socket path is at most 107 bytes")
        return endpoint
    if endpoint.startswith("tcp://") and ":" in endpoint[6:]:
        host, _, port = endpoint[6:].rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise EndpointError(f"{endpoint!r}: the port must be 1 to 65535")
        if not host or re.search(r"[\x00-\x20\x7f/]", host):
            raise EndpointError(f"{endpoint!r}: expected tcp://host:port")
        return endpoint[6:]
    raise EndpointError(f"{endpoint!r}: expected unix:///path/to.sock or tcp://host:port")


def channel(endpoint: str) -> grpc.Channel:
    """The process's channel to `endpoint` (made on first use)."""
    with _lock:
        if endpoint not in _channels:
            _channels[endpoint] = grpc.insecure_channel(
                grpc_target(endpoint),
                options=[("grpc.max_receive_message_length", 16 * 1024 * 1024)],
            )
        return _channels[endpoint]


def summary(msg) -> str:
    """A one-line text form of a protobuf message, cut to SUMMARY_CHARS."""
    if msg is None:
        return ""
    text = text_format.MessageToString(msg, as_one_line=True)
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS] + " ..."


@dataclass
class CriResult:
    """One RPC: its status code, the response (None unless OK) and its evidence."""

    rpc: str
    code: grpc.StatusCode
    response: object
    details: str
    duration: float
    evidence: Evidence

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK

    @property
    def unimplemented(self) -> bool:
        return self.code == grpc.StatusCode.UNIMPLEMENTED

    @property
    def code_name(self) -> str:
        return self.code.name


class CriClient:
    """Calls one CRI endpoint (and its image endpoint) for one test.

    Args:
        endpoint: runtime service URI.
        image_endpoint: image service URI ("" for the same as `endpoint`).
        log: where each call's evidence goes.
        deadline: default deadline per call, seconds (default: $OCITEST_CALL_TIMEOUT,
            else DEFAULT_DEADLINE).
    """

    def __init__(
        self,
        endpoint: str,
        log: EvidenceLog,
        image_endpoint: str = "",
        deadline: float | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.image_endpoint = image_endpoint or endpoint
        self.log = log
        self.deadline = deadline or call_timeout(DEFAULT_DEADLINE)

    def _method(self, rpc: str, stream: bool = False):
        svc = RPC_SERVICE[rpc]
        ch = channel(self.image_endpoint if svc == "ImageService" else self.endpoint)
        resp_cls = getattr(pb, _response_name(rpc))
        kind = ch.unary_stream if stream else ch.unary_unary
        return kind(
            f"/{PACKAGE}.{svc}/{rpc}",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=resp_cls.FromString,
        )

    def request(self, rpc: str, **fields):
        """An empty or filled request message for `rpc`."""
        return getattr(pb, _request_name(rpc))(**fields)

    def call(self, rpc: str, request=None, *, deadline: float | None = None, **fields) -> CriResult:
        """Call `rpc` with `request` (or a request built from `fields`, which may include
        the request's own `timeout` field); `deadline` is the gRPC deadline in seconds."""
        if request is None:
            request = self.request(rpc, **fields)
        deadline = deadline if deadline is not None else self.deadline
        method = self._method(rpc)
        start = time.monotonic()
        response, details = None, ""
        try:
            response = method(request, timeout=deadline)
            code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            code, details = exc.code(), exc.details() or ""
        return self._record(rpc, request, code, response, details, start, deadline)

    def _record(self, rpc, request, code, response, details, start, deadline) -> CriResult:
        duration = time.monotonic() - start
        note = code.name
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            note += f" (timed out after {deadline:g} s)"
        ev = self.log.add(
            Evidence(
                command=f"{RPC_SERVICE[rpc]}/{rpc} {summary(request)}".rstrip(),
                exit_status=code.value[0],
                stdout=summary(response),
                stderr=details,
                duration=round(duration, 4),
                note=note,
            )
        )
        return CriResult(rpc, code, response, details, duration, ev)

    def stream(
        self, rpc: str, request=None, *, deadline: float = DEFAULT_DEADLINE, **fields
    ) -> EventStream:
        """Open a server stream (GetContainerEvents); read it with EventStream.wait."""
        if request is None:
            request = self.request(rpc, **fields)
        call = self._method(rpc, stream=True)(request, timeout=deadline)
        return EventStream(self, rpc, request, call, deadline)


class EventStream:
    """A server stream being read in a background thread; `take` waits for messages."""

    def __init__(self, client: CriClient, rpc: str, request, call, deadline: float) -> None:
        self.client, self.rpc, self.request, self.call = client, rpc, request, call
        self.deadline = deadline
        self.start = time.monotonic()
        self.messages: list = []
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for msg in self.call:
                with self._cond:
                    self.messages.append(msg)
                    self._cond.notify_all()
            code = grpc.StatusCode.OK
        except grpc.RpcError as exc:
            code, self.details = exc.code(), exc.details() or ""
        with self._cond:
            self.code = code
            self._cond.notify_all()

    def wait(self, predicate, timeout: float) -> bool:
        """Wait until `predicate(messages)` holds or the stream ends; False on timeout."""
        end = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                left = end - time.monotonic()
                if left <= 0 or self.code not in (None,):
                    return predicate(self.messages)
                self._cond.wait(left)
            return True

    def close(self) -> CriResult:
        """Cancel the stream and record one evidence line for it."""
        self.call.cancel()
        self._thread.join(5)
        code = self.code or grpc.StatusCode.OK
        if code == grpc.StatusCode.CANCELLED:
            code = grpc.StatusCode.OK
        resp = f"{len(self.messages)} messages: " + "; ".join(summary(m) for m in self.messages)
        res = self.client._record(
            self.rpc, self.request, code, None, self.details, self.start, self.deadline
        )
        res.evidence.stdout = resp[:SUMMARY_CHARS]
        res.response = list(self.messages)
        return res

    def items(self) -> Iterator:
        return iter(list(self.messages))


def _request_name(rpc: str) -> str:
    return pb.DESCRIPTOR.services_by_name[RPC_SERVICE[rpc]].methods_by_name[rpc].input_type.name


def _response_name(rpc: str) -> str:
    return pb.DESCRIPTOR.services_by_name[RPC_SERVICE[rpc]].methods_by_name[rpc].output_type.name


# Calls made by the harness itself (start, stop, subject resolution), not by tests.
def status_ready(endpoint: str, timeout: float = 5.0) -> bool:
    """True when Status reports RuntimeReady and NetworkReady."""
    res = CriClient(endpoint, EvidenceLog(), deadline=timeout).call("Status")
    if not res.ok:
        return False
    conds = {c.type: c.status for c in res.response.status.conditions}
    return conds.get("RuntimeReady", False) and conds.get("NetworkReady", False)


def remove_all_pods(endpoint: str, prefix: str = "", timeout: float = 30.0) -> list[str]:
    """Stop and remove every pod (whose metadata namespace starts with `prefix`).

    Returns the ids removed."""
    c = CriClient(endpoint, EvidenceLog(), deadline=timeout)
    res = c.call("ListPodSandbox")
    if not res.ok:
        return []
    gone = []
    for pod in res.response.items:
        if prefix and not pod.metadata.namespace.startswith(prefix):
            continue
        c.call("StopPodSandbox", pod_sandbox_id=pod.id)
        if c.call("RemovePodSandbox", pod_sandbox_id=pod.id).ok:
            gone.append(pod.id)
    return gone
