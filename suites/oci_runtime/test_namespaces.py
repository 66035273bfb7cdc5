"""config-linux.md#namespaces: new namespaces, joined ones, inherited ones, bad entries.

The runtime's own namespaces are those of a shell on the target (`host.namespace("self",
...)`): the runtime runs there. Namespaces to join are those of a running container of
this test, never the host's.
"""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.features import needs_feature
from suites.oci_runtime.helpers import host_devices_kept, state_of

#: config.json namespace type -> its name under /proc/PID/ns
NS_FILE = {
    "pid": "pid",
    "network": "net",
    "mount": "mnt",
    "ipc": "ipc",
    "uts": "uts",
    "user": "user",
    "cgroup": "cgroup",
    "time": "time",
}
#: a user namespace needs mappings: root inside is uid/gid 100000 outside
ID_MAPPING = [{"containerID": 0, "hostID": 100000, "size": 65536}]


@pytest.fixture(autouse=True)
def _devices_kept(host):
    """Put back host device nodes a runtime changed (crun chowns /dev/null for userns)."""
    with host_devices_kept(host, "100000:100000"):
        yield


def set_namespace(config: dict, ns_type: str, path: str | None = None) -> None:
    """Make linux.namespaces hold one entry of `ns_type` (with `path` when given)."""
    entry = {"type": ns_type, **({"path": path} if path else {})}
    spaces = [n for n in config["linux"]["namespaces"] if n["type"] != ns_type]
    config["linux"]["namespaces"] = [*spaces, entry]
    if ns_type == "user":
        config["linux"]["uidMappings"] = ID_MAPPING
        config["linux"]["gidMappings"] = ID_MAPPING
    if ns_type == "time":
        config["ociVersion"] = "1.1.0"  # the time namespace type exists since 1.1.0


def drop_namespace(config: dict, ns_type: str) -> None:
    config["linux"]["namespaces"] = [
        n for n in config["linux"]["namespaces"] if n["type"] != ns_type
    ]
    if ns_type == "uts":
        config.pop("hostname", None)  # a hostname needs a uts namespace of its own


def write_config(bundle, *actions: str) -> None:
    """Write config.json with the probe (and `actions`) as the process; the packaged
    (1.0.2) schema does not know the time namespace, so that one goes unvalidated."""
    bundle.config["process"]["args"] = probe_args(*actions)
    if any(n["type"] == "time" for n in bundle.config["linux"]["namespaces"]):
        bundle.write_unvalidated(bundle.config)
    else:
        bundle.write()


def running_peer(containers, runtime, rid: str, *ns_types: str) -> int:
    """The host pid of a running container of this test, with new namespaces `ns_types`
    added to the baseline's (the namespaces the test then joins)."""
    b = containers.bundle(args=["sleep", "100000"])
    for t in ns_types:
        set_namespace(b.config, t)
    c = containers.create(b)
    assert c.created, "setup: create of the peer failed\n" + c.create_result.evidence.brief()
    rr = runtime.start(c.id)
    assert rr.ok, "setup: start of the peer failed\n" + rr.evidence.brief()
    doc, _ = state_of(runtime, c.id, rid)
    return int(doc["pid"])


#: the types and the ids each case checks (the time type exists since 1.1.0 only)
NEW_TYPES = [
    *(
        pytest.param(
            t,
            marks=pytest.mark.requirement(
                "config-linux.namespaces.new-without-path",
                "config-linux.namespaces.types-supported",
            ),
        )
        for t in ("pid", "network", "mount", "ipc", "uts", "user", "cgroup")
    ),
    pytest.param("time", marks=pytest.mark.requirement("config-linux.namespaces.time-supported")),
]


@pytest.mark.requires("root")
@pytest.mark.parametrize("ns_type", NEW_TYPES)
def test_a_namespace_without_path_is_new(containers, runtime, host, ns_type):
    needs_feature(runtime, "linux", "namespaces", value=ns_type)
    b = containers.bundle()
    set_namespace(b.config, ns_type)
    write_config(b)
    supported = "config-linux.namespaces." + (
        "time-supported" if ns_type == "time" else "types-supported"
    )
    try:
        report = containers.probe(b)
    except AssertionError as exc:
        if not str(exc).startswith("setup: create failed"):
            raise
        raise AssertionError(
            violation(
                supported,
                wanted=f"create succeeds with a new {ns_type} namespace asked for",
                seen="create failed",
            )
            + "\n"
            + str(exc)
        ) from None
    name = NS_FILE[ns_type]
    inside, runtimes = report.namespaces.get(name), host.namespace("self", name)
    rid = "config-linux.namespaces." + (
        "time-supported" if ns_type == "time" else "new-without-path"
    )
    assert inside and inside != runtimes, violation(
        rid,
        wanted=f"a new {ns_type} namespace (not the runtime's {runtimes})",
        seen=f"the container process is in {inside}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.namespaces.unlisted-inherited")
@pytest.mark.parametrize("ns_type", ["pid", "network", "ipc", "uts", "cgroup", "user"])
def test_a_namespace_type_not_listed_is_the_runtimes(containers, host, ns_type):
    b = containers.bundle()
    drop_namespace(b.config, ns_type)
    report = containers.probe(b)
    name = NS_FILE[ns_type]
    inside, runtimes = report.namespaces.get(name), host.namespace("self", name)
    assert inside == runtimes, violation(
        "config-linux.namespaces.unlisted-inherited",
        wanted=f"no {ns_type} entry in linux.namespaces: the runtime's own {runtimes}",
        seen=f"the container process is in {inside}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.namespaces.path-joined")
@pytest.mark.parametrize("ns_type", ["network", "ipc", "uts", "pid", "cgroup"])
def test_a_namespace_path_is_joined(containers, runtime, host, ns_type):
    name = NS_FILE[ns_type]
    peer = running_peer(containers, runtime, "config-linux.namespaces.path-joined", ns_type)
    target_ns = host.namespace(peer, name)
    b = containers.bundle()
    set_namespace(b.config, ns_type, f"/proc/{peer}/ns/{name}")
    report = containers.probe(b)
    inside = report.namespaces.get(name)
    assert inside == target_ns, violation(
        "config-linux.namespaces.path-joined",
        wanted=f"the {ns_type} namespace at /proc/{peer}/ns/{name}: {target_ns}",
        seen=f"the container process is in {inside}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.namespaces.path-wrong-type-errors")
@pytest.mark.parametrize("what", ["namespace of another type", "file that is no namespace"])
def test_a_namespace_path_of_the_wrong_kind_fails_create(containers, runtime, what):
    peer = running_peer(containers, runtime, "config-linux.namespaces.path-wrong-type-errors")
    b = containers.bundle()
    path = f"/proc/{peer}/ns/uts" if what.startswith("namespace") else f"{b.path}/config.json"
    set_namespace(b.config, "network", path)
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.namespaces.path-wrong-type-errors",
        wanted=f"create fails: the network namespace path {path} is a {what}",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.namespaces.path-absolute")
def test_a_relative_namespace_path_fails_create(containers, runtime):
    peer = running_peer(containers, runtime, "config-linux.namespaces.path-absolute", "network")
    b = containers.bundle()
    path = f"proc/{peer}/ns/net"  # names the peer's namespace if taken from /
    set_namespace(b.config, "network", path)
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.namespaces.path-absolute",
        wanted=f"create fails: the namespace path {path!r} is not absolute",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.namespaces.duplicate-errors")
@pytest.mark.variant("scale-order")
def test_duplicate_namespace_types_fail_create(containers):
    b = containers.bundle()
    b.config["linux"]["namespaces"].append({"type": "uts"})
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.namespaces.duplicate-errors",
        wanted="create fails: linux.namespaces lists type uts twice",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
