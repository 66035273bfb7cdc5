"""features-linux.md: what the `linux` object of the `features` document lists
(namespaces, capabilities, seccomp values, memory policy modes) is really recognised:
a container using each listed value can be created. The `features` fixture is in this
suite's conftest.py.
"""

from __future__ import annotations

import pytest

from infra.outcomes import unsupported
from infra.probe import cap_names, probe_args
from suites.messages import violation

#: namespace type -> its name under /proc/PID/ns
NS_FILE = {"pid": "pid", "network": "net", "mount": "mnt", "ipc": "ipc", "uts": "uts"}
NS_FILE.update(user="user", cgroup="cgroup", time="time")
ID_MAPPING = [{"containerID": 0, "hostID": 100000, "size": 65536}]


@pytest.mark.requires("root")
@pytest.mark.requirement("features-linux.namespaces-recognized")
@pytest.mark.parametrize("ns_type", list(NS_FILE))
def test_a_listed_namespace_type_can_be_created(containers, host, features, ns_type):
    if ns_type not in ((features.get("linux") or {}).get("namespaces") or []):
        unsupported(f"features does not list namespace {ns_type}")
    b = containers.bundle()
    spaces = [n for n in b.config["linux"]["namespaces"] if n["type"] != ns_type]
    b.config["linux"]["namespaces"] = [*spaces, {"type": ns_type}]
    if ns_type == "user":
        b.config["linux"]["uidMappings"] = b.config["linux"]["gidMappings"] = ID_MAPPING
    b.config["process"]["args"] = probe_args()
    b.write_unvalidated(b.config)  # the 1.0.2 schema does not know every type
    c = containers.create(b)
    assert c.created, violation(
        "features-linux.namespaces-recognized",
        wanted=f"create with a new {ns_type} namespace, which features lists",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("features-linux.capabilities-recognized")
def test_every_listed_capability_is_recognized(containers, host, features):
    caps = (features.get("linux") or {}).get("capabilities") or []
    if not caps:
        unsupported("features lists no capabilities")
    b = containers.bundle()
    b.config["process"]["capabilities"]["bounding"] = caps
    c = containers.create(b)
    assert c.created, violation(
        "features-linux.capabilities-recognized",
        wanted=f"create with the {len(caps)} listed capabilities as the bounding set",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
    # recognised = granted where it can be: the runtime's own bounding set (what the
    # harness runs with) bounds it; one it cannot grant may be left out (since 1.1.0)
    status = host.read_text("/proc/self/status") or ""
    bnd = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("CapBnd:")), "0")
    grantable = cap_names(int(bnd, 16))
    probed = containers.bundle()
    probed.config["process"]["capabilities"]["bounding"] = caps
    report = containers.probe(probed)
    missing = sorted(set(caps) & grantable - report.caps["bounding"])
    assert not missing, violation(
        "features-linux.capabilities-recognized",
        wanted="every listed capability the runtime itself holds is in the bounding set asked for",
        seen=f"left out: {missing}",
        evidence=[c.create_result, report.evidence],
    )


#: syscalls neither runtime nor probe make after the filter loads: safe to give any action
UNUSED_SYSCALLS = ["acct", "swapon", "swapoff", "syslog", "vhangup", "quotactl", "kexec_load"]
UNUSED_SYSCALLS += ["init_module", "delete_module", "iopl", "ioperm", "uselib"]


#: host machine -> the seccomp architectures a filter on it can hold together
NATIVE_ARCHS = {
    "x86_64": ("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
    "aarch64": ("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"),
    "ppc64le": ("SCMP_ARCH_PPC64LE",),
    "s390x": ("SCMP_ARCH_S390X", "SCMP_ARCH_S390"),
    "riscv64": ("SCMP_ARCH_RISCV64",),
}


def seccomp_using(kind: str, listed: list[str], host_arch: str = "") -> dict:
    """A seccomp config that uses every listed value of `kind`."""
    if kind == "actions":  # NOTIFY needs a listener: left out
        acts = [a for a in listed if a not in ("SCMP_ACT_ALLOW", "SCMP_ACT_NOTIFY")]
        rules = [{"names": [UNUSED_SYSCALLS[i]], "action": a} for i, a in enumerate(acts)]
        return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}
    if kind == "operators":
        rules = [
            {
                "names": [UNUSED_SYSCALLS[i]],
                "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": 7, "valueTwo": 7, "op": op}],
            }
            for i, op in enumerate(listed)
        ]
        return {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}
    rule = [{"names": ["acct"], "action": "SCMP_ACT_ERRNO"}]
    if kind == "archs":  # one filter holds only archs of the host's byte order
        listed = [a for a in listed if a in NATIVE_ARCHS.get(host_arch, ())]
    key = "architectures" if kind == "archs" else "flags"
    return {"defaultAction": "SCMP_ACT_ALLOW", key: listed, "syscalls": rule}


SECCOMP_KINDS = [
    pytest.param(k, marks=pytest.mark.requirement(rid))
    for k, rid in [
        ("actions", "features-linux.seccomp-actions-recognized"),
        ("operators", "features-linux.seccomp-operators-recognized"),
        ("archs", "features-linux.seccomp-archs-recognized"),
        ("supportedFlags", "features-linux.seccomp-supported-flags-work"),
    ]
]


@pytest.mark.requires("root")
@pytest.mark.parametrize("kind", SECCOMP_KINDS)
def test_listed_seccomp_values_are_recognized(containers, host, features, request, kind):
    listed = ((features.get("linux") or {}).get("seccomp") or {}).get(kind) or []
    if not listed:
        unsupported(f"features lists no seccomp {kind}")
    machine = (host.read_text("/proc/sys/kernel/arch") or "").strip()
    rid = next(request.node.iter_markers("requirement")).args[0]
    bundles = [containers.bundle() for _ in range(2)]  # one to create, one to probe
    for b in bundles:
        b.config["linux"]["seccomp"] = seccomp_using(kind, listed, machine)
        b.config["process"]["args"] = probe_args()
        b.write_unvalidated(b.config)
    c = containers.create(bundles[0])
    assert c.created, violation(
        rid,
        wanted=f"create accepts a filter using every listed {kind}: {listed}",
        seen=f"create exited {c.create_result.exit_status}: "
        f"{(c.create_result.stderr or '').strip()[-300:]}",
        evidence=[c.create_result],
    )
    report = containers.probe(bundles[1])
    assert report.seccomp_mode == 2, violation(
        rid,
        wanted=f"the container runs under a filter using every listed {kind}: {listed}",
        seen=f"Seccomp: {report.seccomp_mode}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("features-linux.memory-policy-recognized")
def test_listed_memory_policy_modes_are_recognized(containers, features):
    policy = (features.get("linux") or {}).get("memoryPolicy") or {}
    if not policy.get("modes"):
        unsupported("features lists no memoryPolicy modes")
    failed = {}
    for mode in policy["modes"]:
        nodes = {} if mode in ("MPOL_DEFAULT", "MPOL_LOCAL") else {"nodes": "0"}
        b = containers.bundle()
        b.config["ociVersion"] = "1.3.0"
        b.config["linux"]["memoryPolicy"] = {"mode": mode, **nodes}
        b.write_unvalidated(b.config)
        c = containers.create(b)
        if not c.created:
            failed[mode] = c.create_result
    assert not failed, violation(
        "features-linux.memory-policy-recognized",
        wanted=f"create accepts every listed memoryPolicy mode {policy['modes']}",
        seen=f"refused: {sorted(failed)}",
        evidence=list(failed.values())[:2],
    )
