"""Exec, Attach and PortForward: the endpoint hands out a streaming URL, and the stream
behind it works.

Each test calls the RPC, checks the URL, then drives the stream as kubectl does (a
websocket with the v4.channel.k8s.io subprotocol; see infra/drivers/cri_stream.py):
stdout and stderr of an exec arrive on their channels, stdin reaches the command, the
exit status arrives on the error channel, attach reaches the container's own stdin and
stdout, and port-forward reaches a server listening inside the pod.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from cri_api.v1 import api_pb2 as pb

from infra.drivers.cri_stream import (
    ERROR,
    PORT_FORWARD_PROTOCOLS,
    STDERR,
    STDIN,
    STDOUT,
    stream,
)
from infra.services import free_port
from suites.cri.helpers import must_succeed
from suites.messages import violation

#: seconds a stream may take
STREAM_DEADLINE = 15.0
#: the port of the tiny server in the port-forward pod (0x1F90 in /proc/net/tcp, tcp6)
POD_PORT = 8080


def _url(res, rid: str) -> str:
    url = urlparse(res.response.url)
    assert url.scheme in ("http", "https", "ws", "wss") and url.netloc, violation(
        rid, wanted="an absolute http(s) or ws(s) URL", seen=repr(res.response.url), evidence=[res]
    )
    return res.response.url


def _exec(cri, cid: str, cmd: list[str], **streams):
    rid = "cri.exec.stream"
    return _url(must_succeed(cri.call("Exec", container_id=cid, cmd=cmd, **streams), rid), rid)


@pytest.mark.requirement("cri.exec.stream")
def test_exec_stream_returns_stdout_and_stderr(pods, cri):
    cid = pods.running()
    url = _exec(
        cri, cid, ["sh", "-c", "echo ocitest-out; echo ocitest-err >&2"], stdout=True, stderr=True
    )
    s = stream(url, cri.log, deadline=STREAM_DEADLINE)
    out, err = s.data(STDOUT), s.data(STDERR)
    assert out == b"ocitest-out\n" and err == b"ocitest-err\n", violation(
        "cri.exec.stream",
        wanted="stdout channel b'ocitest-out\\n', stderr channel b'ocitest-err\\n'",
        seen=f"stdout {out!r}, stderr {err!r}, {s.error or 'closed by the server'}",
        evidence=[s],
    )


@pytest.mark.requirement("cri.exec.stream")
def test_exec_stream_passes_stdin(pods, cri):
    cid = pods.running()
    url = _exec(cri, cid, ["sh", "-c", 'read l; echo "got:$l"'], stdin=True, stdout=True)
    s = stream(
        url,
        cri.log,
        send=[(STDIN, b"ocitest-in\n")],
        until=lambda ch: b"\n" in ch.get(STDOUT, b""),
        deadline=STREAM_DEADLINE,
    )
    out = s.data(STDOUT)
    assert out == b"got:ocitest-in\n", violation(
        "cri.exec.stream",
        wanted="stdout b'got:ocitest-in\\n' (the line sent on stdin, read by the command)",
        seen=f"stdout {out!r}, {s.error or 'stream ended'}",
        evidence=[s],
    )


@pytest.mark.requirement("cri.exec.stream-tty")
def test_exec_stream_with_a_tty(pods, cri):
    rid = "cri.exec.stream-tty"
    cid = pods.running()
    script = '[ -t 0 ] && [ -t 1 ] && echo tty-yes || echo tty-no; read l; echo "got:$l"'
    res = must_succeed(
        cri.call(
            "Exec", container_id=cid, cmd=["sh", "-c", script], tty=True, stdin=True, stdout=True
        ),
        rid,
    )
    s = stream(
        _url(res, rid),
        cri.log,
        send=[(STDIN, b"ocitest-in\n")],
        until=lambda ch: b"got:ocitest-in\r\n" in ch.get(STDOUT, b""),
        deadline=STREAM_DEADLINE,
    )
    out = s.data(STDOUT)
    # a terminal's line discipline ends output lines with CR LF
    assert b"tty-yes\r\n" in out and b"got:ocitest-in\r\n" in out, violation(
        rid,
        wanted="stdin and stdout are a terminal (tty-yes), and the line sent on stdin is read "
        "(got:ocitest-in), lines ending in CR LF",
        seen=f"stdout {out[:300]!r}, stderr {s.data(STDERR)[:200]!r}, "
        f"{s.error or 'closed by the server'}",
        evidence=[res, s],
    )


@pytest.mark.requirement("cri.exec.stream")
@pytest.mark.parametrize("code", [0, 7])
def test_exec_stream_reports_the_exit_status(pods, cri, code):
    cid = pods.running()
    url = _exec(cri, cid, ["sh", "-c", f"exit {code}"], stdout=True, stderr=True)
    s = stream(url, cri.log, deadline=STREAM_DEADLINE)
    st = s.status() or {}
    causes = {c.get("reason"): c.get("message") for c in st.get("details", {}).get("causes", [])}
    if code == 0:
        good = st.get("status") == "Success"
        wanted = 'v4 status {"status": "Success"} on the error channel'
    else:
        good = st.get("status") == "Failure" and causes.get("ExitCode") == str(code)
        wanted = f'v4 status "Failure" with cause ExitCode {code} on the error channel'
    assert good, violation(
        "cri.exec.stream",
        wanted=wanted,
        seen=f"protocol {s.protocol!r}, error channel {s.data(ERROR)[:300]!r}, "
        f"{s.error or 'closed by the server'}",
        evidence=[s],
    )


@pytest.mark.requirement("cri.attach.stream")
def test_attach_stream_reaches_the_container_stdio(pods, cri):
    rid = "cri.attach.stream"
    cid = pods.running(
        command=["sh", "-c", 'echo ocitest-started; while read l; do echo "echo:$l"; done'],
        stdin=True,
    )
    res = must_succeed(cri.call("Attach", container_id=cid, stdin=True, stdout=True), rid)
    want = b"echo:ocitest-attach\n"
    s = stream(
        _url(res, rid),
        cri.log,
        send=[(STDIN, b"ocitest-attach\n")],
        until=lambda ch: want in ch.get(STDOUT, b""),
        deadline=STREAM_DEADLINE,
    )
    assert want in s.data(STDOUT), violation(
        rid,
        wanted=f"stdout {want!r}: the container's program echoes the line sent on stdin",
        seen=f"stdout {s.data(STDOUT)[:300]!r}, {s.error or 'stream ended'}",
        evidence=[s],
    )


def _port_forward(pods, cri, pod, port: int) -> None:
    """Start a server on `port` in `pod`, then reach it through PortForward."""
    rid = "cri.port-forward.stream"
    server = f"nc -ll -p {port} -e sh -c 'read l; echo \"pong:$l\"'"
    cid = pods.running(pod, command=["sh", "-c", server])
    listening = f":{port:04X} ".encode()
    seen = []

    def serving() -> bool:
        seen[:] = [pods.exec(cid, ["cat", "/proc/net/tcp", "/proc/net/tcp6"])]
        return seen[0].ok and listening in seen[0].response.stdout

    assert pods.wait_for(f"a server listens on port {port} in the pod", serving), (
        f"setup: nothing listens on port {port} in the pod\n" + seen[0].evidence.brief()
    )
    res = must_succeed(cri.call("PortForward", pod_sandbox_id=pod[0], port=[port]), rid)
    want = b"pong:ocitest-pf\n"
    s = stream(
        _url(res, rid),
        cri.log,
        protocols=PORT_FORWARD_PROTOCOLS,
        send=[(0, b"ocitest-pf\n")],
        until=lambda ch: want in ch.get(0, b""),
        port_prefix=True,
        deadline=STREAM_DEADLINE,
    )
    assert want in s.data(0) and s.ports.get(0) == port, violation(
        rid,
        wanted=f"data channel 0 opened with port {port} and carrying the answer {want!r}",
        seen=f"ports {s.ports}, data {s.data(0)[:200]!r}, error channel {s.data(1)[:200]!r}, "
        f"{s.error or 'stream ended'}",
        evidence=[s],
    )


@pytest.mark.requirement("cri.port-forward.stream")
def test_port_forward_stream_reaches_a_server_in_the_pod(pods, cri):
    _port_forward(pods, cri, pods.pod(), POD_PORT)


@pytest.mark.requirement("cri.port-forward.stream")
def test_port_forward_in_a_host_network_pod(pods, cri):
    # issue 15 (critest "portforward in host network"): the pod's network is the host's,
    # so the server listens on a port free on the host
    cfg = pods.pod_config()
    cfg.linux.security_context.namespace_options.network = pb.NODE
    _port_forward(pods, cri, pods.pod(cfg), free_port())
