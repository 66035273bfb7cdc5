"""config-linux.md#network-devices (since 1.3.0): host network devices moved into the
container's network namespace.

Each test makes its own veth pair in the host's namespace, named after the run (the
sweeper knows such names), moves one end, with a /32 address from TEST-NET-1 (192.0.2.0/24) where the
address matters: no route beyond the address itself, and no traffic at all. The probe
lists /sys/class/net, reads the device's flags, and /proc/net/fib_trie for addresses.
"""

from __future__ import annotations

import itertools

import pytest

from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.features import needs_feature

#: the name a moved device gets inside
INSIDE = "ocitest0"
#: a permanent global-scope address the move must keep (TEST-NET-1, /32: no subnet route)
ADDRESS = "192.0.2.77"
IFF_UP = 0x1

_names = itertools.count(1)


@pytest.fixture
def dummy(host, ocitest_run, worker_id):
    """One end of a veth pair in the host's namespace, deleted at teardown wherever it is."""
    worker = "m" if worker_id == "master" else worker_id
    name = f"{ocitest_run.run_id}{worker}{next(_names)}"[:14]
    res = host.add_veth_device(name, f"{ADDRESS}/32")
    assert res.exit_status == 0, f"setup: ip link add {name} type veth failed: {res.stderr}"
    yield name
    host.delete_device(name)


def moving(containers, runtime, devices: dict, *actions: str):
    """A bundle whose linux.netDevices is `devices`, running the probe with `actions`
    (config.json is written here: probe the bundle with the same actions). Its
    ociVersion stays the baseline's: a runtime that knows netDevices applies it whatever
    version the config declares, and one that refuses an ociVersion it does not know
    (crun 1.8.1 refuses "1.3.0") would fail these tests for that instead."""
    needs_feature(runtime, "linux", "netDevices")
    b = containers.bundle()
    b.config["linux"]["netDevices"] = devices
    b.config["process"]["args"] = probe_args(*actions)
    b.write_unvalidated(b.config)  # the packaged 1.0.2 schema predates netDevices
    return b


def flags(report, name: str) -> int | None:
    text = report.read(f"/sys/class/net/{name}/flags")
    return int(text, 16) if text else None


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.netdevices.available", "config-linux.netdevices.set-up")
def test_a_net_device_is_moved_in_renamed_and_up(containers, runtime, dummy):
    actions = ("list:/sys/class/net", f"read:/sys/class/net/{INSIDE}/flags")
    b = moving(containers, runtime, {dummy: {"name": INSIDE}}, *actions)
    report = containers.probe(b, *actions)
    seen = (report.action("list", "/sys/class/net") or {}).get("entries")
    assert seen and INSIDE in seen, violation(
        "config-linux.netdevices.available",
        wanted=f"host device {dummy} inside the container as {INSIDE}",
        seen=f"devices inside: {seen}",
        evidence=[report.evidence],
    )
    f = flags(report, INSIDE)
    assert f is not None and f & IFF_UP, violation(
        "config-linux.netdevices.set-up",
        wanted=f"{INSIDE} up (IFF_UP in /sys/class/net/{INSIDE}/flags)",
        seen=f"flags {f if f is None else hex(f)}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.netdevices.addresses-preserved")
def test_a_moved_net_device_keeps_its_address(containers, runtime, dummy):
    b = moving(containers, runtime, {dummy: {"name": INSIDE}}, "read:/proc/net/fib_trie")
    report = containers.probe(b, "read:/proc/net/fib_trie")
    trie = report.read("/proc/net/fib_trie") or ""
    assert ADDRESS in trie, violation(
        "config-linux.netdevices.addresses-preserved",
        wanted=f"{ADDRESS}/32 (set on {dummy} before the move) among the container's addresses",
        seen=f"/proc/net/fib_trie inside: {trie[:600]!r}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.netdevices.name-template-allowed")
def test_a_name_template_lets_the_kernel_pick_the_name(containers, runtime, dummy):
    b = moving(containers, runtime, {dummy: {"name": "octmpl%d"}}, "list:/sys/class/net")
    report = containers.probe(b, "list:/sys/class/net")
    seen = (report.action("list", "/sys/class/net") or {}).get("entries") or []
    assert any(n.startswith("octmpl") and n[6:].isdigit() for n in seen), violation(
        "config-linux.netdevices.name-template-allowed",
        wanted="a device named octmpl<N> inside (the kernel filled in %d)",
        seen=f"devices inside: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.netdevices.name-conflict-errors")
def test_a_name_taken_inside_fails_create(containers, runtime, dummy):
    b = moving(containers, runtime, {dummy: {"name": "lo"}})
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.netdevices.name-conflict-errors",
        wanted=f"create fails: {dummy} would be renamed to lo, which every network namespace has",
        seen="create succeeded",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.netdevices.check-possible")
def test_a_device_that_does_not_exist_fails_create(containers, runtime, ocitest_run):
    missing = f"{ocitest_run.run_id}none"[:15]
    b = moving(containers, runtime, {missing: {"name": INSIDE}})
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.netdevices.check-possible",
        wanted=f"create fails: there is no host device {missing} to move",
        seen="create succeeded",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.netdevices.not-moved-back")
def test_a_moved_device_is_not_moved_back_by_delete(containers, runtime, host, dummy):
    b = moving(containers, runtime, {dummy: {"name": INSIDE}})
    c = containers.create(b)
    assert c.created, "setup: create failed\n" + c.create_result.evidence.brief()
    assert not host.device_exists(dummy), (
        f"setup: create left {dummy} in the host's namespace (see netdevices.available)"
    )
    runtime.kill(c.id, "KILL")
    containers.wait_status(c.id, "stopped")
    rr = runtime.delete(c.id)
    back = host.device_exists(dummy) or host.device_exists(INSIDE)
    assert not back, violation(
        "config-linux.netdevices.not-moved-back",
        wanted=f"after delete, the device stays with the container's namespace (a veth "
        f"pair goes with it), not back in the host's as {dummy} or {INSIDE}",
        seen="it is back in the host's namespace",
        evidence=[c.create_result, rr],
    )
