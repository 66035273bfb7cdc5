"""Mutants of the isolation area (config-linux.md namespaces, user namespace mappings,
sysctl, seccomp) and of the features document. Each edit touches only the configs the
isolation tests write (recognised by what they set), so other areas' tests are not hit.
Standard library only (see declare.py).
"""

from __future__ import annotations

from infra.mutants.declare import edit_mutant, features_mutant

_NS = "test_namespaces.py::"
_SC = "test_seccomp.py::"


def _namespaces(cfg: dict) -> list[dict]:
    return (cfg.get("linux") or {}).get("namespaces") or []


@edit_mutant(
    "shares-host-ipc",
    breaks="a new ipc namespace asked for last in linux.namespaces is not made (the host's is shared)",
    fails=[_NS + "test_a_namespace_without_path_is_new[ipc]"],
    requirements=["config-linux.namespaces.new-without-path"],
)
def _(cfg: dict) -> bool:
    spaces = _namespaces(cfg)
    if not spaces or spaces[-1] != {"type": "ipc"}:
        return False
    cfg["linux"]["namespaces"] = spaces[:-1]
    return True


@edit_mutant(
    "ignores-namespace-path",
    breaks="a namespace path is ignored: a new namespace is made instead of joining it",
    fails=[
        *(_NS + f"test_a_namespace_path_is_joined[{t}]" for t in ("network", "ipc", "uts")),
        *(_NS + f"test_a_namespace_path_is_joined[{t}]" for t in ("pid", "cgroup")),
        _NS + "test_a_namespace_path_of_the_wrong_kind_fails_create[namespace of another type]",
        _NS + "test_a_namespace_path_of_the_wrong_kind_fails_create[file that is no namespace]",
        _NS + "test_a_relative_namespace_path_fails_create",
    ],
    requirements=[
        "config-linux.namespaces.path-absolute",
        "config-linux.namespaces.path-joined",
        "config-linux.namespaces.path-wrong-type-errors",
    ],
)
def _(cfg: dict) -> bool:
    hit = False
    for n in _namespaces(cfg):
        if n.pop("path", None):
            hit = True
    return hit


@edit_mutant(
    "accepts-duplicate-namespaces",
    breaks="duplicate namespace types are merged instead of refused",
    fails=[_NS + "test_duplicate_namespace_types_fail_create"],
    requirements=["config-linux.namespaces.duplicate-errors"],
)
def _(cfg: dict) -> bool:
    spaces, seen = _namespaces(cfg), set()
    kept = [n for n in spaces if not (n["type"] in seen or seen.add(n["type"]))]
    if len(kept) == len(spaces):
        return False
    cfg["linux"]["namespaces"] = kept
    return True


@edit_mutant(
    "ignores-uid-mappings",
    breaks="uidMappings are not applied as given (host ids shifted by 1000)",
    fails=["test_user_namespace.py::test_uid_and_gid_mappings_become_the_user_namespace_maps"],
    requirements=["config-linux.userns.mappings-applied"],
)
def _(cfg: dict) -> bool:
    maps = (cfg.get("linux") or {}).get("uidMappings") or []
    if not any(m.get("hostID") == 200000 for m in maps):  # test_user_namespace's mapping
        return False
    for m in maps:
        m["hostID"] += 1000
    return True


@edit_mutant(
    "drops-sysctl",
    breaks="linux.sysctl is ignored",
    fails=[
        "test_sysctl.py::test_sysctls_are_set_inside_the_container",
        "test_sysctl.py::test_a_sysctl_the_namespaces_do_not_isolate_fails_create"
        "[vm.swappiness-no namespace isolates it]",
        "test_sysctl.py::test_a_sysctl_the_namespaces_do_not_isolate_fails_create"
        "[net.ipv4.ip_forward-network]",
    ],
    requirements=["config-linux.sysctl.applied", "config-linux.sysctl.not-isolated-errors"],
)
def _(cfg: dict) -> bool:
    return (cfg.get("linux") or {}).pop("sysctl", None) is not None


@edit_mutant(
    "ignores-seccomp-default",
    breaks="seccomp defaultAction is ignored (taken as SCMP_ACT_ALLOW)",
    fails=[_SC + "test_a_syscall_no_rule_names_gets_the_default_action"],
    requirements=["config-linux.seccomp.default-action"],
)
def _(cfg: dict) -> bool:
    sc = (cfg.get("linux") or {}).get("seccomp") or {}
    if sc.get("defaultAction") in (None, "SCMP_ACT_ALLOW"):
        return False
    sc["defaultAction"] = "SCMP_ACT_ALLOW"
    sc["syscalls"] = [r for r in sc.get("syscalls") or [] if r.get("action") != "SCMP_ACT_ALLOW"]
    return True


@edit_mutant(
    "seccomp-kill-as-errno",
    breaks="seccomp SCMP_ACT_KILL rules return an errno instead of killing",
    fails=[_SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_KILL-killed]"],
    requirements=["config-linux.seccomp.rule-action"],
)
def _(cfg: dict) -> bool:
    hit = False
    for r in ((cfg.get("linux") or {}).get("seccomp") or {}).get("syscalls") or []:
        if r.get("action") == "SCMP_ACT_KILL" and r.get("names") == ["getppid"]:
            r["action"] = "SCMP_ACT_ERRNO"
            hit = True
    return hit


@features_mutant(
    "features-lists-time-namespace",
    breaks="features lists the time namespace, which runc 1.1.5 cannot create",
    fails=["test_features.py::test_a_listed_namespace_type_can_be_created[time]"],
    requirements=["features-linux.namespaces-recognized"],
)
def _(doc: dict) -> None:
    spaces = doc.setdefault("linux", {}).setdefault("namespaces", [])
    if "time" not in spaces:
        spaces.append("time")


@features_mutant(
    "features-min-above-max",
    breaks="features.ociVersionMin is above ociVersionMax",
    fails=["test_features.py::test_oci_version_max_is_not_below_min"],
    requirements=["features.max-not-below-min"],
)
def _(doc: dict) -> None:
    doc["ociVersionMin"] = "1.1.0"


@features_mutant(
    "features-unknown-property",
    breaks="features holds a property no spec version defines",
    fails=["test_features.py::test_features_holds_only_properties_of_its_version"],
    requirements=["features.no-undefined-properties"],
)
def _(doc: dict) -> None:
    doc["ocitestUndefined"] = True
