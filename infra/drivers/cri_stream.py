"""Driver for what a CRI endpoint serves beside gRPC: its streaming server, and ports.

Exec, Attach and PortForward answer with a URL on the runtime's streaming server (the
kubelet's `cri/streaming` package inside containerd). `stream` drives that URL over a
websocket (websocket-client), as `kubectl` does:
- exec and attach: subprotocol `v4.channel.k8s.io`; every frame starts with a channel
  byte: 0 stdin, 1 stdout, 2 stderr, 3 error (v4: a metav1.Status JSON, the exit
  status), 4 resize;
- port-forward: subprotocol `v4.channel.k8s.io` (or `portforward.k8s.io`); per
  forwarded port two channels (2i data, 2i+1 error), each opened by the server with the
  port number (2 bytes, little endian).
`tcp_exchange` sends bytes to a TCP address and reads the answer (port mappings).
`stream` dials only a loopback streaming server (another URL is recorded as not
dialled); `tcp_exchange` only the address the caller names (loopback). Both have a
deadline, and record one Evidence line per call: the URL or address, what was sent,
what came back per channel, and how it ended.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

import websocket

from infra.evidence import Evidence, EvidenceLog

#: subprotocols offered for exec and attach (the server picks one)
EXEC_PROTOCOLS = ("v4.channel.k8s.io", "channel.k8s.io")
#: subprotocols offered for port-forward
PORT_FORWARD_PROTOCOLS = ("v4.channel.k8s.io", "portforward.k8s.io")
STDIN, STDOUT, STDERR, ERROR = 0, 1, 2, 3
#: seconds a stream may take unless the caller says otherwise
DEFAULT_DEADLINE = 15.0
#: bytes of each channel kept in the evidence
SHOWN = 600


@dataclass
class StreamResult:
    """One streaming session.

    Attributes:
        url: the websocket URL dialled.
        protocol: the subprotocol the server chose ("" when none).
        channels: channel number -> bytes received (port-forward: without the port).
        ports: port-forward only: channel -> the port number that opened it.
        closed: the server closed the stream (rather than our deadline or `until`).
        error: a transport failure ("" when none): refused, handshake, deadline.
        duration: seconds from dialling to the end.
    """

    url: str
    protocol: str = ""
    channels: dict[int, bytes] = field(default_factory=dict)
    ports: dict[int, int] = field(default_factory=dict)
    closed: bool = False
    error: str = ""
    duration: float = 0.0
    evidence: Evidence | None = None

    def data(self, channel: int) -> bytes:
        return self.channels.get(channel, b"")

    def status(self) -> dict | None:
        """The v4 error channel's metav1.Status as a dict (None when absent or not JSON)."""
        raw = self.data(ERROR)
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None


def websocket_url(url: str) -> str:
    """http(s)://... -> ws(s)://... (a ws(s) URL is returned unchanged)."""
    if url.startswith("http://") or url.startswith("https://"):
        return "ws" + url[4:]
    return url


def is_loopback(url: str) -> bool:
    """True when the URL's host is a loopback address or `localhost` (the only streaming
    servers the harness dials: it sends traffic only to loopback and to its own pods;
    README, The CRI suite)."""
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def stream(
    url: str,
    log: EvidenceLog,
    *,
    protocols: tuple[str, ...] = EXEC_PROTOCOLS,
    send: list[tuple[int, bytes]] = (),
    until: Callable[[dict[int, bytes]], bool] | None = None,
    port_prefix: bool = False,
    deadline: float = DEFAULT_DEADLINE,
) -> StreamResult:
    """Dial `url` (a streaming URL from Exec, Attach or PortForward), send `send` (each
    (channel, bytes) as one frame), and read until the server closes, `until(channels)`
    holds, or `deadline` seconds pass. Never raises for the stream's own failures: they
    are in `error`."""
    res = StreamResult(url=websocket_url(url))
    start = time.monotonic()
    ws = None
    if not is_loopback(res.url):
        res.error = f"not dialled: {urlparse(res.url).hostname!r} is not a loopback address"
        res.evidence = log.add(_evidence(res, protocols, send))
        return res
    try:
        ws = websocket.create_connection(
            res.url, subprotocols=list(protocols), timeout=deadline, enable_multithread=False
        )
        res.protocol = ws.getsubprotocol() or ""
        for ch, data in send:
            ws.send_binary(bytes([ch]) + data)
        while not (until and until(res.channels)):
            left = deadline - (time.monotonic() - start)
            if left <= 0:
                res.error = f"deadline of {deadline:g} s passed"
                break
            ws.settimeout(left)
            opcode, frame = ws.recv_data(control_frame=False)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                res.closed = True
                break
            _take(res, frame if isinstance(frame, bytes) else frame.encode(), port_prefix)
    except websocket.WebSocketTimeoutException:
        res.error = f"deadline of {deadline:g} s passed"
    except websocket.WebSocketConnectionClosedException:
        res.closed = True
    except (websocket.WebSocketException, OSError) as exc:
        res.error = f"{type(exc).__name__}: {exc}"
    finally:
        if ws is not None:
            ws.close(timeout=1)
    res.duration = time.monotonic() - start
    res.evidence = log.add(_evidence(res, protocols, send))
    return res


def _take(res: StreamResult, frame: bytes, port_prefix: bool) -> None:
    if not frame:
        return
    ch, data = frame[0], frame[1:]
    if port_prefix and ch not in res.ports and len(data) >= 2:
        res.ports[ch] = struct.unpack("<H", data[:2])[0]
        data = data[2:]
    res.channels[ch] = res.channels.get(ch, b"") + data


def _evidence(res: StreamResult, protocols, send) -> Evidence:
    sent = "; ".join(f"ch{ch} {data[:80]!r}" for ch, data in send)
    got = "; ".join(f"ch{ch} {data[:SHOWN]!r}" for ch, data in sorted(res.channels.items()))
    ended = "server closed" if res.closed else (res.error or "stopped reading (done)")
    return Evidence(
        command=f"websocket {res.url} protocols {','.join(protocols)}"
        + (f" send {sent}" if sent else ""),
        exit_status=1 if res.error else 0,
        stdout=f"protocol {res.protocol!r}; " + (got or "nothing received"),
        stderr=res.error,
        duration=round(res.duration, 4),
        note=ended,
    )


def tcp_exchange(
    host: str, port: int, data: bytes, log: EvidenceLog, deadline: float = 10.0
) -> tuple[bytes, str]:
    """Connect to host:port, send `data`, read until the peer closes or `deadline`.

    Returns (bytes received, error or "")."""
    start = time.monotonic()
    got, error = b"", ""
    try:
        with socket.create_connection((host, port), timeout=deadline) as s:
            s.sendall(data)
            while time.monotonic() - start < deadline:
                s.settimeout(max(0.1, deadline - (time.monotonic() - start)))
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    log.add(
        Evidence(
            command=f"tcp {host}:{port} send {data[:80]!r}",
            exit_status=1 if error else 0,
            stdout=repr(got[:SHOWN]),
            stderr=error,
            duration=round(time.monotonic() - start, 4),
        )
    )
    return got, error


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at `host` now (the kernel's choice)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
