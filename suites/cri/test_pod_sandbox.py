"""RuntimeService pod sandbox RPCs: run, status, list, stop, remove, and the pod config."""

from __future__ import annotations

import ipaddress
import secrets

import pytest
from cri_api.v1 import api_pb2 as pb

from suites.cri.helpers import must_fail, must_succeed
from suites.messages import violation


def _status(cri, pod_id: str, rid: str):
    res = must_succeed(cri.call("PodSandboxStatus", pod_sandbox_id=pod_id), rid)
    return res.response.status, res


@pytest.mark.requirement("cri.pod.run-ready")
def test_run_pod_sandbox_gives_a_ready_sandbox(pods, cri):
    res = must_succeed(pods.run_pod(), "cri.pod.run-ready")
    pod_id = res.response.pod_sandbox_id
    st, sr = _status(cri, pod_id, "cri.pod.run-ready")
    assert pod_id and st.state == pb.SANDBOX_READY, violation(
        "cri.pod.run-ready",
        wanted="a sandbox id, then state SANDBOX_READY",
        seen=f"id {pod_id!r}, state {pb.PodSandboxState.Name(st.state)}",
        evidence=[res, sr],
    )


@pytest.mark.requirement("cri.pod.status-fields")
def test_pod_sandbox_status_echoes_the_config(pods, cri):
    cfg = pods.pod_config()
    cfg.labels["ocitest.label"] = "l1"
    cfg.annotations["ocitest.annotation"] = "a1"
    pod_id, _ = pods.pod(cfg)
    st, sr = _status(cri, pod_id, "cri.pod.status-fields")
    wrong = []
    if st.id != pod_id:
        wrong.append(f"id {st.id!r}")
    if st.metadata != cfg.metadata:
        wrong.append(f"metadata {st.metadata}")
    if dict(st.labels) != dict(cfg.labels):
        wrong.append(f"labels {dict(st.labels)}")
    if dict(st.annotations).get("ocitest.annotation") != "a1":
        wrong.append(f"annotations {dict(st.annotations)}")
    if st.created_at <= 0:
        wrong.append(f"created_at {st.created_at}")
    assert not wrong, violation(
        "cri.pod.status-fields",
        wanted="id, metadata, labels and annotations as given and a creation time",
        seen="; ".join(wrong),
        evidence=[sr],
    )


@pytest.mark.requirement("cri.pod.status-ip")
def test_pod_sandbox_reports_its_ip(pods, cri, images, cri_subject):
    pod_id, _ = pods.pod()
    st, sr = _status(cri, pod_id, "cri.pod.status-ip")
    ip = st.network.ip
    try:
        ipaddress.ip_address(ip)
        good = True
    except ValueError:
        good = False
    subnet = (images.containerd_of(cri_subject) or {}).get("subnet")
    if good and subnet:
        good = ipaddress.ip_address(ip) in ipaddress.ip_network(subnet)
    assert good, violation(
        "cri.pod.status-ip",
        wanted=f"network.ip an address{' in ' + subnet if subnet else ''}",
        seen=f"network.ip {ip!r}",
        evidence=[sr],
    )


@pytest.mark.requirement("cri.pod.list-filter")
def test_list_pod_sandbox_filters(pods, cri):
    cfg_a = pods.pod_config()
    cfg_a.labels["ocitest.pick"] = pods.name("pick")
    a, _ = pods.pod(cfg_a)
    b, _ = pods.pod()
    by_id = cri.call("ListPodSandbox", filter=pb.PodSandboxFilter(id=a))
    by_label = cri.call(
        "ListPodSandbox",
        filter=pb.PodSandboxFilter(label_selector=dict(cfg_a.labels)),
    )
    must_succeed(cri.call("StopPodSandbox", pod_sandbox_id=b), "cri.pod.list-filter")
    ready = cri.call(
        "ListPodSandbox",
        filter=pb.PodSandboxFilter(
            state=pb.PodSandboxStateValue(state=pb.SANDBOX_READY),
            label_selector={"ocitest.run": cfg_a.labels["ocitest.run"]},
        ),
    )
    for r in (by_id, by_label, ready):
        must_succeed(r, "cri.pod.list-filter")
    ids = {
        "id": [p.id for p in by_id.response.items],
        "label": [p.id for p in by_label.response.items],
        "ready": [p.id for p in ready.response.items],
    }
    good = ids["id"] == [a] and ids["label"] == [a] and a in ids["ready"] and b not in ids["ready"]
    assert good, violation(
        "cri.pod.list-filter",
        wanted=f"filter id -> [{a[:12]}], labels -> [{a[:12]}], state READY -> "
        f"{a[:12]} but not the stopped {b[:12]}",
        seen=str({k: [i[:12] for i in v] for k, v in ids.items()}),
        evidence=[by_id, by_label, ready],
    )


@pytest.mark.requirement("cri.pod.stop-not-ready")
def test_stop_pod_sandbox_makes_it_not_ready_and_stops_containers(pods, cri):
    pod = pods.pod()
    cid = pods.running(pod)
    res = must_succeed(cri.call("StopPodSandbox", pod_sandbox_id=pod[0]), "cri.pod.stop-not-ready")
    st, sr = _status(cri, pod[0], "cri.pod.stop-not-ready")
    cs = pods.status(cid)
    good = st.state == pb.SANDBOX_NOTREADY and cs is not None and cs.state == pb.CONTAINER_EXITED
    assert good, violation(
        "cri.pod.stop-not-ready",
        wanted="sandbox SANDBOX_NOTREADY and its container CONTAINER_EXITED",
        seen=f"sandbox {pb.PodSandboxState.Name(st.state)}, container "
        f"{pb.ContainerState.Name(cs.state) if cs else 'no status'}",
        evidence=[res, sr],
    )


@pytest.mark.requirement("cri.pod.stop-idempotent")
@pytest.mark.variant("state-present")
def test_stop_pod_sandbox_twice_succeeds(pods, cri):
    pod_id, _ = pods.pod()
    must_succeed(cri.call("StopPodSandbox", pod_sandbox_id=pod_id), "cri.pod.stop-idempotent")
    must_succeed(
        cri.call("StopPodSandbox", pod_sandbox_id=pod_id),
        "cri.pod.stop-idempotent",
        wanted="a second StopPodSandbox returns OK",
    )


@pytest.mark.requirement("cri.pod.stop-not-found")
def test_stop_pod_sandbox_of_an_unknown_id_succeeds(cri):
    must_succeed(
        cri.call("StopPodSandbox", pod_sandbox_id=secrets.token_hex(32)),
        "cri.pod.stop-not-found",
        wanted="StopPodSandbox of an id the runtime never had returns OK",
    )


@pytest.mark.requirement("cri.pod.remove")
def test_remove_pod_sandbox_removes_it_and_its_containers(pods, cri):
    pods.pod()  # another pod stays: the list by the removed id must still be empty
    pod = pods.pod()
    cid = pods.running(pod)
    must_succeed(cri.call("StopPodSandbox", pod_sandbox_id=pod[0]), "cri.pod.remove")
    res = must_succeed(cri.call("RemovePodSandbox", pod_sandbox_id=pod[0]), "cri.pod.remove")
    ps = cri.call("PodSandboxStatus", pod_sandbox_id=pod[0])
    cs = cri.call("ContainerStatus", container_id=cid)
    listed = cri.call("ListPodSandbox", filter=pb.PodSandboxFilter(id=pod[0]))
    gone = not ps.ok and not cs.ok and listed.ok and not listed.response.items
    assert gone, violation(
        "cri.pod.remove",
        wanted="sandbox and container statuses fail, and the list filtered by its id is "
        "empty (while another pod exists)",
        seen=f"PodSandboxStatus {ps.code_name}, ContainerStatus {cs.code_name}, "
        f"listed {len(listed.response.items) if listed.ok else listed.code_name}",
        evidence=[res, ps, cs, listed],
    )


@pytest.mark.requirement("cri.pod.remove-idempotent")
@pytest.mark.variant("state-present")
def test_remove_pod_sandbox_twice_succeeds(pods, cri):
    pod_id, _ = pods.pod()
    must_succeed(cri.call("StopPodSandbox", pod_sandbox_id=pod_id), "cri.pod.remove-idempotent")
    must_succeed(cri.call("RemovePodSandbox", pod_sandbox_id=pod_id), "cri.pod.remove-idempotent")
    must_succeed(
        cri.call("RemovePodSandbox", pod_sandbox_id=pod_id),
        "cri.pod.remove-idempotent",
        wanted="a second RemovePodSandbox returns OK",
    )


def _exec_out(pods, cid: str, cmd: list[str], rid: str) -> str:
    res = must_succeed(pods.exec(cid, cmd), rid)
    return res.response.stdout.decode(errors="replace")


@pytest.mark.requirement("cri.pod.hostname")
def test_containers_see_the_pod_hostname(pods):
    cfg = pods.pod_config(hostname="ocitest-host")
    cid = pods.running(pods.pod(cfg))
    seen = _exec_out(pods, cid, ["hostname"], "cri.pod.hostname").strip()
    assert seen == "ocitest-host", violation(
        "cri.pod.hostname", wanted="hostname ocitest-host", seen=repr(seen), evidence=[]
    )


@pytest.mark.requirement("cri.pod.dns-config")
def test_dns_config_reaches_resolv_conf(pods):
    cfg = pods.pod_config()
    cfg.dns_config.CopyFrom(
        pb.DNSConfig(servers=["10.231.0.10"], searches=["ocitest.svc"], options=["ndots:3"])
    )
    cid = pods.running(pods.pod(cfg))
    text = _exec_out(pods, cid, ["cat", "/etc/resolv.conf"], "cri.pod.dns-config")
    missing = [
        w for w in ("nameserver 10.231.0.10", "search ocitest.svc", "ndots:3") if w not in text
    ]
    assert not missing, violation(
        "cri.pod.dns-config",
        wanted="resolv.conf with the server, search and option given",
        seen=f"missing {missing} in {text!r}",
    )


@pytest.mark.requirement("cri.pod.sysctls")
def test_pod_sysctls_are_set(pods):
    cfg = pods.pod_config()
    cfg.linux.sysctls["net.ipv4.ip_unprivileged_port_start"] = "81"
    cfg.linux.sysctls["kernel.shm_rmid_forced"] = "1"
    cid = pods.running(pods.pod(cfg))
    out = _exec_out(
        pods,
        cid,
        [
            "cat",
            "/proc/sys/net/ipv4/ip_unprivileged_port_start",
            "/proc/sys/kernel/shm_rmid_forced",
        ],
        "cri.pod.sysctls",
    ).split()
    assert out == ["81", "1"], violation(
        "cri.pod.sysctls",
        wanted="ip_unprivileged_port_start 81 and shm_rmid_forced 1",
        seen=str(out),
    )


def _ns_of(pods, cid: str, ns: str, rid: str) -> str:
    return _exec_out(pods, cid, ["readlink", f"/proc/self/ns/{ns}"], rid).strip()


@pytest.mark.parametrize(
    "ns, mode_field, rid",
    [  # one requirement per case: a failure of one namespace is charged to it alone
        pytest.param(ns, field, rid, id=ns, marks=pytest.mark.requirement(rid))
        for ns, field, rid in (
            ("net", "network", "cri.pod.host-network"),
            ("pid", "pid", "cri.pod.host-pid"),
            ("ipc", "ipc", "cri.pod.host-ipc"),
        )
    ],
)
def test_node_namespace_mode_uses_the_host_namespace(pods, host, ns, mode_field, rid):
    cfg = pods.pod_config()
    opts = pb.NamespaceOption(pid=pb.CONTAINER)
    setattr(opts, mode_field, pb.NODE)
    cfg.linux.security_context.namespace_options.CopyFrom(opts)
    # as the kubelet does: the same namespace options for the pod and its containers
    ctx = pb.LinuxContainerSecurityContext(namespace_options=opts)
    cid = pods.running(pods.pod(cfg), linux=pb.LinuxContainerConfig(security_context=ctx))
    inside = _ns_of(pods, cid, ns, rid)
    outside = host.namespace("self", ns)
    assert inside and inside == outside, violation(
        rid, wanted=f"the host's {ns} namespace {outside}", seen=f"{inside!r}"
    )


@pytest.mark.requirement("cri.pod.isolated-namespaces")
def test_default_pod_namespaces_are_not_the_hosts(pods, host):
    cid = pods.running()
    shared = [
        ns
        for ns in ("net", "pid", "ipc")
        if _ns_of(pods, cid, ns, "cri.pod.isolated-namespaces") == host.namespace("self", ns)
    ]
    assert not shared, violation(
        "cri.pod.isolated-namespaces",
        wanted="network, PID and IPC namespaces other than the host's",
        seen=f"shares the host's {shared}",
    )


@pytest.mark.requirement("cri.pod.shared-pid")
def test_pod_pid_mode_shares_the_sandbox_pid_namespace(pods):
    cfg = pods.pod_config()
    cfg.linux.security_context.namespace_options.CopyFrom(pb.NamespaceOption(pid=pb.POD))
    pod = pods.pod(cfg)
    ctx = pb.LinuxContainerSecurityContext(namespace_options=pb.NamespaceOption(pid=pb.POD))
    cid = pods.running(pod, linux=pb.LinuxContainerConfig(security_context=ctx))
    first = _exec_out(pods, cid, ["cat", "/proc/1/cmdline"], "cri.pod.shared-pid")
    assert first.split("\0")[0].endswith("pause"), violation(
        "cri.pod.shared-pid",
        wanted="pid 1 of the container's PID namespace is the sandbox's pause process",
        seen=f"/proc/1/cmdline {first!r}",
    )


@pytest.mark.requirement("cri.pod.shared-network")
def test_containers_of_a_pod_share_its_network(pods):
    rid = "cri.pod.shared-network"
    pod = pods.pod()
    token = pods.name("served")
    server = pods.running(
        pod,
        command=[
            "sh",
            "-c",
            f"mkdir -p /www && echo {token} > /www/index.html && "
            "exec httpd -f -p 127.0.0.1:8080 -h /www",
        ],
    )
    client = pods.running(pod)
    # nc, not busybox wget: that wget crashes (SIGSEGV) when the connection is refused
    fetch = ["sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 127.0.0.1 8080"]
    pods.wait_for(
        "the other container's server answers on 127.0.0.1:8080",
        lambda: (r := pods.exec(client, fetch)).ok and r.response.exit_code == 0,
        timeout=15,
    )
    got = pods.exec(client, fetch)
    seen = (
        f"nc exit {got.response.exit_code}: {got.response.stdout[:100]!r} "
        f"{got.response.stderr[:200]!r}"
        if got.ok
        else got.code_name
    )
    good = got.ok and got.response.exit_code == 0 and token.encode() in got.response.stdout
    assert good, violation(
        rid,
        wanted=f"a container reaches, on 127.0.0.1:8080, the server its pod sibling "
        f"{server[:12]} listens on there (page {token!r})",
        seen=seen,
        evidence=[got],
    )


@pytest.mark.requirement("cri.pod.runtime-handler")
def test_pod_status_reports_the_runtime_handler(pods, cri, cri_subject):
    pod_id, _ = pods.pod()
    st, sr = _status(cri, pod_id, "cri.pod.runtime-handler")
    assert st.runtime_handler == cri_subject.handler, violation(
        "cri.pod.runtime-handler",
        wanted=f"runtime_handler {cri_subject.handler!r}",
        seen=f"runtime_handler {st.runtime_handler!r}",
        evidence=[sr],
    )


@pytest.mark.requirement("cri.pod.unknown-handler-errors")
@pytest.mark.variant("failure-path")
def test_run_pod_sandbox_with_an_unknown_handler_fails(pods, cri):
    cfg = pods.pod_config()
    res = pods.run_pod(cfg, handler="ocitest-no-such-handler")
    must_fail(res, "cri.pod.unknown-handler-errors", "RunPodSandbox fails")
    listed = must_succeed(cri.call("ListPodSandbox"), "cri.pod.unknown-handler-errors")
    mine = [p.id for p in listed.response.items if p.metadata.name == cfg.metadata.name]
    assert not mine, violation(
        "cri.pod.unknown-handler-errors",
        wanted="no sandbox left after the failed RunPodSandbox",
        seen=f"sandboxes named {cfg.metadata.name}: {mine}",
        evidence=[res, listed],
    )
