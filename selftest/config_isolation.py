"""Mutants of the isolation area (config-linux.md namespaces, user namespace mappings,
sysctl, seccomp) and of the features document. Each edit touches only the configs the
isolation tests write (recognised by what they set), so other areas' tests are not hit.
Standard library only (see declare.py).
"""

from __future__ import annotations

from selftest.declare import edit_mutant, features_mutant

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
    fails=[
        _SC + "test_a_syscall_no_rule_names_gets_the_default_action",
        _SC + "test_default_errnoret_is_the_errno_of_unmatched_syscalls",
    ],
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


def _seccomp_rules(cfg: dict) -> list[dict]:
    return ((cfg.get("linux") or {}).get("seccomp") or {}).get("syscalls") or []


@edit_mutant(
    "seccomp-ignores-errnoret",
    breaks="seccomp errnoRet and defaultErrnoRet are ignored (EPERM is returned)",
    fails=[
        _SC + "test_default_errnoret_is_the_errno_of_unmatched_syscalls",
        _SC + "test_errnoret_is_the_errno_of_the_matched_syscall",
    ],
    requirements=[
        "config-linux.seccomp.default-errnoret-applied",
        "config-linux.seccomp.errnoret-applied",
    ],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    sc = (cfg.get("linux") or {}).get("seccomp") or {}
    hit = sc.pop("defaultErrnoRet", None) is not None
    for r in _seccomp_rules(cfg):
        if r.get("action") == "SCMP_ACT_ERRNO" and r.pop("errnoRet", None) is not None:
            hit = True
    return hit


@edit_mutant(
    "seccomp-errno-default-eacces",
    breaks="an SCMP_ACT_ERRNO rule without errnoRet returns EACCES, not EPERM",
    fails=[_SC + "test_errno_without_errnoret_is_eperm"],
    requirements=["config-linux.seccomp.errno-default-eperm"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    hit = False
    for r in _seccomp_rules(cfg):
        if r.get("action") == "SCMP_ACT_ERRNO" and "errnoRet" not in r:
            r["errnoRet"] = 13
            hit = True
    return hit


@edit_mutant(
    "seccomp-ignores-args",
    breaks="the args of a seccomp rule are ignored: the rule matches every call",
    fails=[_SC + "test_a_rule_with_args_matches_only_calls_that_pass_them[0-ok]"],
    requirements=["config-linux.seccomp.args-matched"],
)
def _(cfg: dict) -> bool:
    return bool([r.pop("args") for r in _seccomp_rules(cfg) if r.get("args")])


@edit_mutant(
    "seccomp-kill-process-as-errno",
    breaks="SCMP_ACT_KILL_PROCESS and SCMP_ACT_KILL_THREAD rules return an errno",
    fails=[
        _SC + f"test_a_rule_gives_the_named_syscall_its_action[{a}-killed]"
        for a in ("SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD")
    ],
    requirements=["config-linux.seccomp.kill-process-thread"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    hit = False
    for r in _seccomp_rules(cfg):
        if r.get("action") in ("SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD"):
            r["action"] = "SCMP_ACT_ERRNO"
            hit = True
    return hit


@edit_mutant(
    "new-namespaces-for-unlisted",
    breaks="a namespace type the config does not list is made new instead of inherited",
    fails=[
        _NS + f"test_a_namespace_type_not_listed_is_the_runtimes[{t}]"
        for t in ("pid", "network", "ipc", "uts")
    ],
    requirements=["config-linux.namespaces.unlisted-inherited"],
)
def _(cfg: dict) -> bool:
    ns = _namespaces(cfg)
    listed = {n.get("type") for n in ns}
    if "user" in listed or not ns:
        return False
    # the baseline config's types (a new cgroup namespace would move every cgroup test)
    added = [t for t in ("pid", "network", "ipc", "uts", "mount") if t not in listed]
    ns.extend({"type": t} for t in added)
    return bool(added)


@features_mutant(
    "features-lists-time-namespace",
    breaks="features lists the time namespace, which runc 1.1.5 cannot create",
    fails=["test_features_linux.py::test_a_listed_namespace_type_can_be_created[time]"],
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


_F = "test_features.py::"


@features_mutant(
    "features-lists-unknown-seccomp-values",
    breaks="features lists a seccomp action, operator and flag libseccomp does not know (and an arch, which the test leaves out as foreign)",
    fails=[
        f"test_features_linux.py::test_listed_seccomp_values_are_recognized[{k}]"
        for k in ("actions", "operators", "supportedFlags")
    ],
    requirements=[
        "features-linux.seccomp-actions-recognized",
        "features-linux.seccomp-operators-recognized",
        "features-linux.seccomp-supported-flags-work",
    ],
)
def _(doc: dict) -> None:
    sc = doc.setdefault("linux", {}).setdefault("seccomp", {})
    for field, value in (
        ("actions", "SCMP_ACT_OCITEST"),
        ("operators", "SCMP_CMP_OCITEST"),
        ("archs", "SCMP_ARCH_OCITEST"),
        ("supportedFlags", "SECCOMP_FILTER_FLAG_OCITEST"),
    ):
        sc.setdefault(field, []).append(value)


@features_mutant(
    "features-mount-option-with-data",
    breaks="features.mountOptions lists a filesystem data option (size=1m)",
    fails=[_F + "test_mount_options_hold_no_filesystem_data"],
    requirements=["features.mount-options-no-fs-data"],
)
def _(doc: dict) -> None:
    doc.setdefault("mountOptions", []).append("size=1m")


@features_mutant(
    "features-annotations-not-strings",
    breaks="features.annotations holds a value that is not a string",
    fails=[
        _F + "test_features_annotations_are_a_string_map",
        _F + "test_features_properties_have_their_types",
    ],
    requirements=["features.annotations-convention", "features.structure"],
)
def _(doc: dict) -> None:
    doc.setdefault("annotations", {})["org.ocitest.number"] = 7


@features_mutant(
    "features-version-not-semver",
    breaks="features.ociVersionMin is not a version string",
    fails=[_F + "test_oci_version_min_and_max_are_spec_versions"],
    requirements=["features.version-range-present"],
)
def _(doc: dict) -> None:
    doc["ociVersionMin"] = "one"
