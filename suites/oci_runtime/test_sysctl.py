"""config-linux.md#sysctl: kernel parameters set for the container, and only for it.

Host sysctls are never changed: the applied ones live in the container's own uts, ipc and
network namespaces, and the refused ones ask for the host's current value (so a runtime
that wrongly writes them changes nothing).
"""

from __future__ import annotations

import pytest

from suites.messages import violation

#: sysctl -> the value asked for; each is isolated by a namespace of the baseline
SYSCTLS = {
    "kernel.domainname": "ocitest.example",  # uts
    "kernel.shmmni": "1234",  # ipc
    "net.ipv4.ip_forward": "1",  # network
}


def proc_path(name: str) -> str:
    return "/proc/sys/" + name.replace(".", "/")


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.sysctl.applied")
@pytest.mark.variant("scale-order")
def test_sysctls_are_set_inside_the_container(containers):
    b = containers.bundle()
    b.config["linux"]["sysctl"] = SYSCTLS
    report = containers.probe(b, *(f"read:{proc_path(k)}" for k in SYSCTLS))
    seen = {k: (report.read(proc_path(k)) or "").strip() for k in SYSCTLS}
    assert seen == SYSCTLS, violation(
        "config-linux.sysctl.applied",
        wanted=f"inside: {SYSCTLS}",
        seen=f"inside: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.sysctl.not-isolated-errors")
@pytest.mark.parametrize(
    "name, shared",
    [("vm.swappiness", "no namespace isolates it"), ("net.ipv4.ip_forward", "network")],
)
def test_a_sysctl_the_namespaces_do_not_isolate_fails_create(containers, host, name, shared):
    current = host.read_text(proc_path(name))
    assert current is not None, f"setup: cannot read {proc_path(name)} on the host"
    b = containers.bundle()
    if shared == "network":
        b.config["linux"]["namespaces"] = [
            n for n in b.config["linux"]["namespaces"] if n["type"] != "network"
        ]
    b.config["linux"]["sysctl"] = {name: current.strip()}
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.sysctl.not-isolated-errors",
        wanted=f"create fails: {name} would be the host's ({shared} shared with the host)",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
