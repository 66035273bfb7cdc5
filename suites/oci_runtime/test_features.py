"""features.md and features-linux.md: the `features` document, checked for its shape and
against what the runtime really does with what it lists.

The packaged schemas (1.0.2-dev) have no features schema: the shape is checked here, and
against features-schema.json too when --schema-dir names a directory that has one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import schemas, specversion
from infra.outcomes import unsupported
from infra.probe import cap_names, probe_args
from suites.messages import violation

STR, BOOL, STRS, MAP = "string", "boolean", "array of strings", "object of strings"
#: property -> (spec version that defines it, its type or its own properties)
PROPERTIES = {
    "ociVersionMin": ("1.1.0", STR),
    "ociVersionMax": ("1.1.0", STR),
    "hooks": ("1.1.0", STRS),
    "mountOptions": ("1.1.0", STRS),
    "annotations": ("1.1.0", MAP),
    "potentiallyUnsafeConfigAnnotations": ("1.2.0", STRS),
    "linux": (
        "1.1.0",
        {
            "namespaces": ("1.1.0", STRS),
            "capabilities": ("1.1.0", STRS),
            "cgroup": (
                "1.1.0",
                {k: ("1.1.0", BOOL) for k in ("v1", "v2", "systemd", "systemdUser", "rdma")},
            ),
            "seccomp": (
                "1.1.0",
                {
                    "enabled": ("1.1.0", BOOL),
                    **{
                        k: ("1.1.0", STRS)
                        for k in ("actions", "operators", "archs", "knownFlags", "supportedFlags")
                    },
                },
            ),
            "apparmor": ("1.1.0", {"enabled": ("1.1.0", BOOL)}),
            "selinux": ("1.1.0", {"enabled": ("1.1.0", BOOL)}),
            "intelRdt": (
                "1.1.0",
                {
                    "enabled": ("1.1.0", BOOL),
                    "schemata": ("1.3.0", BOOL),
                    "monitoring": ("1.3.0", BOOL),
                },
            ),
            "mountExtensions": (
                "1.2.0",
                {"idmap": ("1.2.0", {"enabled": ("1.2.0", BOOL)})},
            ),
            "memoryPolicy": ("1.3.0", {"modes": ("1.3.0", STRS), "flags": ("1.3.0", STRS)}),
            "netDevices": ("1.3.0", {"enabled": ("1.3.0", BOOL)}),
        },
    ),
}
HOOK_NAMES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart")


@pytest.fixture
def features(runtime) -> dict:
    """The runtime's features document (the test ends `unsupported` without one)."""
    rr = runtime.features()
    if not rr.ok:
        unsupported(f"{runtime.subject.id} has no features command (exit {rr.exit_status})")
    try:
        doc = rr.json()
    except ValueError as exc:
        raise AssertionError(
            violation("features.structure", wanted="a JSON object", seen=f"{exc}", evidence=[rr])
        ) from None
    return doc


def features_call(runtime) -> list:
    """The evidence of the `features` call (for violation messages)."""
    return [ev for ev in runtime.log.records if " features" in ev.command][:1]


def type_problems(doc: object, props: dict, version: str, where: str = "") -> list[str]:
    """Properties of `doc` that are undefined at `version` or of the wrong type."""
    if not isinstance(doc, dict):
        return [f"{where or '(top)'}: not an object"]
    out = []
    for key, value in doc.items():
        path = f"{where}.{key}" if where else key
        if key not in props or specversion.before(version, props[key][0]):
            out.append(f"{path}: not defined in {version}")
            continue
        kind = props[key][1]
        if value is None and key not in ("ociVersionMin", "ociVersionMax"):
            continue
        if isinstance(kind, dict):
            out += type_problems(value, kind, version, path)
        elif not has_type(value, kind):
            out.append(f"{path}: {json.dumps(value)[:60]} is not an {kind}")
    return out


def has_type(value: object, kind: str) -> bool:
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def defined_at(features: dict) -> str:
    """The spec version whose properties the document may hold (1.1.0 at least)."""
    top = str(features.get("ociVersionMax", ""))
    try:
        return top if not specversion.before(top, "1.1.0") else "1.1.0"
    except ValueError:
        return "1.3.0"


@pytest.mark.requirement("features.structure")
def test_features_properties_have_their_types(runtime, features, ocitest_run):
    problems = [p for p in type_problems(features, PROPERTIES, "1.3.0") if "not defined" not in p]
    schema = Path(ocitest_run.schema_dir) / "features-schema.json"
    if schema.is_file():
        problems += schemas.errors(ocitest_run.schema_dir, "features-schema.json", features)
    assert not problems, violation(
        "features.structure",
        wanted="every property of the type features.md gives it"
        + (f" and valid against {schema}" if schema.is_file() else ""),
        seen="; ".join(problems[:8]),
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.version-range-present")
def test_oci_version_min_and_max_are_spec_versions(runtime, features):
    seen = {k: features.get(k) for k in ("ociVersionMin", "ociVersionMax")}
    bad = {}
    for key, value in seen.items():
        try:
            specversion.parse(str(value)) if isinstance(value, str) else bad.setdefault(key, value)
        except ValueError:
            bad[key] = value
    assert not bad, violation(
        "features.version-range-present",
        wanted="ociVersionMin and ociVersionMax, each a spec version string",
        seen=f"{seen}",
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.max-not-below-min")
def test_oci_version_max_is_not_below_min(runtime, features):
    low, high = str(features.get("ociVersionMin")), str(features.get("ociVersionMax"))
    try:
        ok = not specversion.before(high, low)
    except ValueError:
        pytest.skip(
            f"needs ociVersionMin and ociVersionMax that parse ({low!r}, {high!r}): "
            "test_oci_version_min_and_max_are_spec_versions reports them"
        )
    assert ok, violation(
        "features.max-not-below-min",
        wanted=f"ociVersionMax >= ociVersionMin ({low})",
        seen=f"ociVersionMax {high}",
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.no-undefined-properties")
def test_features_holds_only_properties_of_its_version(runtime, features):
    version = defined_at(features)
    extra = [p for p in type_problems(features, PROPERTIES, version) if "not defined" in p]
    assert not extra, violation(
        "features.no-undefined-properties",
        wanted=f"only properties defined by runtime-spec {version} (ociVersionMax)",
        seen="; ".join(extra[:8]),
        evidence=features_call(runtime),
    )


@pytest.mark.requires("root")
@pytest.mark.parametrize(
    "bound",
    [
        pytest.param("ociVersionMin", marks=pytest.mark.requirement("features.min-accepted")),
        pytest.param("ociVersionMax", marks=pytest.mark.requirement("features.max-accepted")),
    ],
)
def test_the_runtime_accepts_its_declared_versions(containers, features, bound):
    b = containers.bundle()
    b.config["ociVersion"] = str(features.get(bound))
    b.write_unvalidated(b.config)
    c = containers.create(b)
    rid = "features.min-accepted" if bound == "ociVersionMin" else "features.max-accepted"
    assert c.created, violation(
        rid,
        wanted=f"create accepts ociVersion {features.get(bound)!r} ({bound})",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("features.hooks-supported")
def test_every_listed_hook_runs(containers, features):
    listed = [h for h in features.get("hooks") or [] if h in (*HOOK_NAMES, "poststop")]
    if not listed:
        unsupported("features lists no hooks")
    b = containers.bundle()
    log = f"{b.path}/hooks.log"
    b.config["hooks"] = {
        h: [{"path": "/bin/sh", "args": ["sh", "-c", f"echo {h} >> {log}"]}]
        for h in listed
        if h != "poststop" and h not in ("createContainer", "startContainer")
    }
    for h in {"createContainer", "startContainer"} & set(listed):  # run in the container
        b.config["hooks"][h] = [{"path": "/bin/sh", "args": ["sh", "-c", f"echo {h}"]}]
    report = containers.probe(b)
    seen = set((containers.target.read_text(log) or "").split())
    host_side = {h for h in b.config["hooks"] if h not in ("createContainer", "startContainer")}
    missing = host_side - seen
    assert not missing, violation(
        "features.hooks-supported",
        wanted=f"the listed hooks {listed} run (host-side ones write {log})",
        seen=f"never ran: {sorted(missing)}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("features.mount-options-no-fs-data")
def test_mount_options_hold_no_filesystem_data(runtime, features):
    fs_data = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "inode64", "huge"}
    bad = [o for o in features.get("mountOptions") or [] if "=" in o or o in fs_data]
    assert not bad, violation(
        "features.mount-options-no-fs-data",
        wanted="mountOptions without filesystem-specific data options",
        seen=f"{bad}",
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.annotations-convention")
def test_features_annotations_are_a_string_map(runtime, features):
    notes = features.get("annotations")
    if notes is None:
        unsupported("features has no annotations")
    ok = has_type(notes, MAP) and all(notes)
    assert ok, violation(
        "features.annotations-convention",
        wanted="annotations: non-empty string keys to string values",
        seen=f"{json.dumps(notes)[:200]}",
        evidence=features_call(runtime),
    )


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
