"""Exec, Attach and PortForward: the endpoint hands out a streaming URL.

Only the first half of each requirement is checked so far: the RPC returns an absolute
http(s) or ws(s) URL on the streaming server. Driving the stream itself (websocket
v4/v5.channel.k8s.io, portforward.k8s.io) is not done yet.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from suites.cri.helpers import must_succeed
from suites.messages import violation


def _assert_url(res, rid: str) -> None:
    url = urlparse(res.response.url)
    assert url.scheme in ("http", "https", "ws", "wss") and url.netloc, violation(
        rid, wanted="an absolute http(s) or ws(s) URL", seen=repr(res.response.url), evidence=[res]
    )


@pytest.mark.requirement("cri.exec.stream")
def test_exec_returns_a_streaming_url(pods, cri):
    cid = pods.running()
    res = must_succeed(
        cri.call("Exec", container_id=cid, cmd=["echo", "hi"], stdout=True), "cri.exec.stream"
    )
    _assert_url(res, "cri.exec.stream")


@pytest.mark.requirement("cri.attach.stream")
def test_attach_returns_a_streaming_url(pods, cri):
    cid = pods.running()
    res = must_succeed(cri.call("Attach", container_id=cid, stdout=True), "cri.attach.stream")
    _assert_url(res, "cri.attach.stream")


@pytest.mark.requirement("cri.port-forward.stream")
def test_port_forward_returns_a_streaming_url(pods, cri):
    pod_id, _ = pods.pod()
    res = must_succeed(
        cri.call("PortForward", pod_sandbox_id=pod_id, port=[8080]), "cri.port-forward.stream"
    )
    _assert_url(res, "cri.port-forward.stream")
