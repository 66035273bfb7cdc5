"""config-linux.md#sysctl and #devices in the variants where runtimes take a path of their
own (CONVENTIONS.md, "Variants, the way bugs ship"): a user namespace, a long list.
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import with_identity_user_namespace

#: isolated by the baseline's ipc and network namespaces
SYSCTLS = {"kernel.shmmni": "2345", "net.ipv4.ip_forward": "1"}


def proc_path(name: str) -> str:
    return "/proc/sys/" + name.replace(".", "/")


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config-linux.sysctl.applied")
def test_sysctls_are_set_in_a_user_namespace(containers):
    b = containers.bundle()
    with_identity_user_namespace(b)  # the variant is the namespace, not the ids
    b.config["linux"]["sysctl"] = dict(SYSCTLS)
    report = containers.probe(b, *(f"read:{proc_path(k)}" for k in SYSCTLS))
    seen = {k: (report.read(proc_path(k)) or "").strip() for k in SYSCTLS}
    assert seen == SYSCTLS, violation(
        "config-linux.sysctl.applied",
        wanted=f"inside: {SYSCTLS} (with a user namespace)",
        seen=f"inside: {seen}",
        evidence=[report.evidence],
    )


#: the null device under many names: more than a few-entry table holds
MANY_DEVICES = [
    {"path": f"/dev/ocitest-many-{i}", "type": "c", "major": 1, "minor": 3} for i in range(10)
]


@pytest.mark.requires("root")
@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config-linux.devices.available")
def test_every_device_of_a_long_list_is_created(containers):
    b = containers.bundle()
    b.config["linux"]["devices"] = [dict(d) for d in MANY_DEVICES]
    probe = containers.probe(b, *(f"stat:{d['path']}" for d in MANY_DEVICES))
    missing = [
        d["path"] for d in MANY_DEVICES if (probe.stat(d["path"]) or {}).get("type") != "chr"
    ]
    assert not missing, violation(
        "config-linux.devices.available",
        wanted=f"all {len(MANY_DEVICES)} linux.devices as character devices 1:3",
        seen=f"missing or not a character device: {missing}",
        evidence=[probe],
    )


#: a character device numbered 5:0 (the controlling tty's numbers; never opened here)
MINOR_ZERO = {"path": "/dev/ocitest-minor-zero", "type": "c", "major": 5, "minor": 0}


@pytest.mark.requires("root")
@pytest.mark.variant("boundary")
@pytest.mark.requirement("config-linux.devices.available")
def test_a_device_with_minor_zero_is_created(containers):
    b = containers.bundle()
    b.config["linux"]["devices"] = [dict(MINOR_ZERO)]
    probe = containers.probe(b, f"stat:{MINOR_ZERO['path']}")
    st = probe.stat(MINOR_ZERO["path"])
    seen = (st["type"], st["major"], st["minor"]) if st else None
    assert seen == ("chr", 5, 0), violation(
        "config-linux.devices.available",
        wanted=f"{MINOR_ZERO['path']}: a character device 5:0 (minor 0 is a number, not 'unset')",
        seen=f"{seen or 'no file there'}",
        evidence=[probe],
    )
