"""PodSandboxConfig.port_mappings: a host port on 127.0.0.1 forwards to the container.

The embedded containerd's CNI list ends with the portmap plugin (DNAT from the host
port to the pod's address, with SNAT so loopback traffic finds its way back). The
test runs a tiny server in the pod and talks to it through 127.0.0.1:HOST_PORT only.
"""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from infra.drivers.cri_stream import free_port, tcp_exchange
from suites.cri.helpers import must_succeed
from suites.messages import violation

#: the port the server in the pod listens on (0x1F91 in /proc/net/tcp, tcp6)
CONTAINER_PORT = 8081


@pytest.mark.requirement("cri.pod.port-mapping")
def test_host_port_forwards_to_the_container_port(pods, cri):
    rid = "cri.pod.port-mapping"
    host_port = free_port("127.0.0.1")
    mapping = pb.PortMapping(
        protocol=pb.TCP, container_port=CONTAINER_PORT, host_port=host_port, host_ip="127.0.0.1"
    )
    cfg = pods.pod_config()
    cfg.port_mappings.append(mapping)
    res = must_succeed(pods.run_pod(cfg), rid, "RunPodSandbox with a port mapping succeeds")
    pod = (res.response.pod_sandbox_id, cfg)
    server = f"nc -ll -p {CONTAINER_PORT} -e sh -c 'read l; echo \"pong:$l\"'"
    cid = pods.running(pod, command=["sh", "-c", server])
    listening = f":{CONTAINER_PORT:04X} ".encode()
    seen = []

    def serving() -> bool:
        seen[:] = [pods.exec(cid, ["cat", "/proc/net/tcp", "/proc/net/tcp6"])]
        return seen[0].ok and listening in seen[0].response.stdout

    assert pods.wait_for(f"a server listens on port {CONTAINER_PORT} in the pod", serving), (
        f"setup: nothing listens on port {CONTAINER_PORT} in the pod\n" + seen[0].evidence.brief()
    )
    got, error = tcp_exchange("127.0.0.1", host_port, b"ocitest-pm\n", cri.log, deadline=10)
    want = b"pong:ocitest-pm\n"
    assert got == want, violation(
        rid,
        wanted=f"127.0.0.1:{host_port} (host port) answers {want!r} from the pod's port "
        f"{CONTAINER_PORT}",
        seen=f"{got[:200]!r}, {error or 'connection closed'}",
        evidence=[res, cri.log.records[-1]],
    )
