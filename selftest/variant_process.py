"""Variant mutants of the process area (config.md process and user): each breaks one
behaviour in one variant class only (reports/variants.py), as runtimes really ship such
bugs: a zero taken for "unset", a fixed-size table, a path of its own for a user
namespace. Each edits config.json before `create`; the test that catches it is in
suites/oci_runtime/test_process_variants.py and test_user_variants.py (or the area's own file) and carries the
same variant marker. Standard library only (see declare.py).
"""

from __future__ import annotations

from selftest.declare import edit_mutant

V = "test_process_variants.py::"
U = "test_user_variants.py::"
RLIMITS = "test_process_rlimits.py::"
SYSCTL = "test_sysctl.py::"


def _user(cfg: dict) -> dict:
    return (cfg.get("process") or {}).get("user") or {}


def _has_userns(cfg: dict) -> bool:
    return any(n.get("type") == "user" for n in (cfg.get("linux") or {}).get("namespaces", []))


@edit_mutant(
    "variant-gid-zero-unset",
    variant="boundary",
    breaks="user.gid 0 is taken for 'unset': a non-root uid runs with gid = uid",
    fails=[U + "test_gid_zero_is_applied_for_a_non_root_uid"],
    requirements=["config.user.gid"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if user.get("uid", 0) == 0 or user.get("gid", 0) != 0:
        return False
    user["gid"] = user["uid"]
    return True


@edit_mutant(
    "variant-additional-gid-zero-dropped",
    variant="boundary",
    breaks="a 0 in user.additionalGids is dropped (taken for an empty slot)",
    fails=[U + "test_additional_gid_zero_is_a_supplementary_group"],
    requirements=["config.user.additional-gids"],
)
def _(cfg: dict) -> bool:
    gids = _user(cfg).get("additionalGids") or []
    if 0 not in gids:
        return False
    _user(cfg)["additionalGids"] = [g for g in gids if g != 0]
    return True


@edit_mutant(
    "variant-additional-gids-first-eight",
    variant="scale-order",
    breaks="only the first 8 user.additionalGids are set (a fixed-size table)",
    fails=[U + "test_many_additional_gids_are_all_supplementary_groups"],
    requirements=["config.user.additional-gids"],
)
def _(cfg: dict) -> bool:
    gids = _user(cfg).get("additionalGids") or []
    if len(gids) <= 8:
        return False
    _user(cfg)["additionalGids"] = gids[:8]
    return True


@edit_mutant(
    "variant-umask-zero-unset",
    variant="boundary",
    breaks="user.umask 0 is taken for 'unset': the program gets the default 022",
    fails=[U + "test_umask_zero_is_applied"],
    requirements=["config.user.umask"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if user.get("umask", None) != 0:
        return False
    user["umask"] = 0o022
    return True


@edit_mutant(
    "variant-env-first-sixteen",
    variant="scale-order",
    breaks="only the first 16 entries of process.env reach the program",
    fails=[V + "test_a_long_environment_is_passed_whole"],
    requirements=["config.process.env"],
)
def _(cfg: dict) -> bool:
    env = (cfg.get("process") or {}).get("env") or []
    if len(env) <= 16:
        return False
    cfg["process"]["env"] = env[:16]
    return True


@edit_mutant(
    "variant-rlimit-zero-ignored",
    variant="boundary",
    breaks="an rlimit whose hard limit is 0 is skipped (0 taken for 'unset')",
    fails=[V + "test_a_zero_rlimit_is_applied"],
    requirements=["config.process.rlimits-hard"],
)
def _(cfg: dict) -> bool:
    rl = (cfg.get("process") or {}).get("rlimits") or []
    kept = [r for r in rl if r.get("hard") != 0]
    if len(kept) == len(rl):
        return False
    cfg["process"]["rlimits"] = kept
    return True


@edit_mutant(
    "variant-rlimit-soft-equals-hard-skipped",
    variant="boundary",
    breaks="an rlimit (other than the baseline's RLIMIT_NOFILE) whose soft equals its hard "
    "is skipped",
    fails=[V + "test_an_rlimit_whose_soft_equals_its_hard_is_applied"],
    requirements=["config.process.rlimits-soft"],
)
def _(cfg: dict) -> bool:
    rl = (cfg.get("process") or {}).get("rlimits") or []
    kept = [
        r
        for r in rl
        if r.get("type") == "RLIMIT_NOFILE" or r.get("soft") != r.get("hard") or r.get("hard") == 0
    ]
    if len(kept) == len(rl):
        return False
    cfg["process"]["rlimits"] = kept
    return True


@edit_mutant(
    "variant-rlimits-first-four",
    variant="scale-order",
    breaks="only the first 4 entries of process.rlimits are applied",
    fails=[RLIMITS + "test_each_rlimit_is_applied_as_soft_and_hard"],
    requirements=["config.process.rlimits-soft"],
)
def _(cfg: dict) -> bool:
    rl = (cfg.get("process") or {}).get("rlimits") or []
    if len(rl) <= 4:
        return False
    cfg["process"]["rlimits"] = rl[:4]
    return True


@edit_mutant(
    "variant-empty-bounding-default",
    variant="boundary",
    breaks="an empty capabilities.bounding is taken for 'unset': the default set is kept",
    fails=[V + "test_an_empty_bounding_set_is_applied"],
    requirements=["config.process.capabilities-bounding"],
)
def _(cfg: dict) -> bool:
    caps = (cfg.get("process") or {}).get("capabilities") or {}
    if caps.get("bounding", None) != []:
        return False
    caps["bounding"] = ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]
    return True


@edit_mutant(
    "variant-hostname-lost-in-userns",
    variant="privilege",
    breaks="hostname is not set when the container has a user namespace",
    fails=[V + "test_hostname_is_applied_in_a_user_namespace"],
    requirements=["config.hostname.applied"],
)
def _(cfg: dict) -> bool:
    if not _has_userns(cfg) or "hostname" not in cfg:
        return False
    del cfg["hostname"]
    return True


@edit_mutant(
    "variant-readonly-root-lost-in-userns",
    variant="privilege",
    breaks="root.readonly is not applied when the container has a user namespace",
    fails=[V + "test_readonly_root_refuses_writes_in_a_user_namespace"],
    requirements=["config.root.readonly"],
)
def _(cfg: dict) -> bool:
    if not _has_userns(cfg) or not (cfg.get("root") or {}).get("readonly"):
        return False
    cfg["root"]["readonly"] = False
    return True


@edit_mutant(
    "variant-umask-lost-in-userns",
    variant="privilege",
    breaks="user.umask is not applied when the container has a user namespace",
    fails=[U + "test_umask_is_applied_in_a_user_namespace"],
    requirements=["config.user.umask"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if not _has_userns(cfg) or "umask" not in user:
        return False
    del user["umask"]
    return True


@edit_mutant(
    "variant-sysctl-only-one",
    variant="scale-order",
    breaks="linux.sysctl is applied only when it holds one entry",
    fails=[SYSCTL + "test_sysctls_are_set_inside_the_container"],
    requirements=["config-linux.sysctl.applied"],
)
def _(cfg: dict) -> bool:
    sysctl = (cfg.get("linux") or {}).get("sysctl") or {}
    if len(sysctl) <= 1:
        return False
    del cfg["linux"]["sysctl"]
    return True


@edit_mutant(
    "variant-uid-zero-forces-gid-zero",
    variant="boundary",
    breaks="uid 0 runs with gid 0 whatever user.gid says",
    fails=[U + "test_a_non_zero_gid_is_applied_for_uid_zero"],
    requirements=["config.user.gid"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if user.get("uid", 0) != 0 or user.get("gid", 0) == 0:
        return False
    user["gid"] = 0
    return True


@edit_mutant(
    "variant-additional-gid-equal-to-gid-dropped",
    variant="boundary",
    breaks="an additionalGids entry equal to user.gid is dropped from the groups",
    fails=[U + "test_an_additional_gid_equal_to_gid_is_kept"],
    requirements=["config.user.additional-gids"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    gids = user.get("additionalGids") or []
    if user.get("gid") not in gids:
        return False
    user["additionalGids"] = [g for g in gids if g != user.get("gid")]
    return True


@edit_mutant(
    "variant-duplicate-additional-gids-ignored",
    variant="scale-order",
    breaks="user.additionalGids holding a duplicate is ignored whole",
    fails=[U + "test_duplicate_additional_gids_still_set_the_groups"],
    requirements=["config.user.additional-gids"],
)
def _(cfg: dict) -> bool:
    gids = _user(cfg).get("additionalGids") or []
    if len(set(gids)) == len(gids):
        return False
    del _user(cfg)["additionalGids"]
    return True


@edit_mutant(
    "variant-empty-additional-gids-leak",
    variant="boundary",
    breaks="an empty user.additionalGids leaves the runtime's own supplementary group 0",
    fails=[U + "test_empty_additional_gids_leave_no_supplementary_group"],
    requirements=["config.user.additional-gids"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if user.get("additionalGids", None) != [] or user.get("uid", 0) == 0:
        return False
    user["additionalGids"] = [0]
    return True


@edit_mutant(
    "variant-env-empty-value-dropped",
    variant="boundary",
    breaks="a process.env entry with an empty value (NAME=) is dropped",
    fails=[V + "test_an_env_entry_with_an_empty_value_is_set"],
    requirements=["config.process.env"],
)
def _(cfg: dict) -> bool:
    env = (cfg.get("process") or {}).get("env") or []
    kept = [e for e in env if not e.endswith("=")]
    if len(kept) == len(env):
        return False
    cfg["process"]["env"] = kept
    return True


@edit_mutant(
    "variant-umask-root-only",
    variant="privilege",
    breaks="user.umask is applied for uid 0 only",
    fails=[U + "test_umask_is_applied_for_a_non_root_user"],
    requirements=["config.user.umask"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if user.get("uid", 0) == 0 or "umask" not in user:
        return False
    del user["umask"]
    return True


@edit_mutant(
    "variant-user-lost-in-userns",
    variant="privilege",
    breaks="with a user namespace the program runs as 0:0 without additionalGids",
    fails=[U + "test_user_and_groups_are_applied_in_a_user_namespace"],
    requirements=["config.user.uid"],
)
def _(cfg: dict) -> bool:
    user = _user(cfg)
    if not _has_userns(cfg) or (user.get("uid", 0), user.get("gid", 0)) == (0, 0):
        return False
    user.update(uid=0, gid=0)
    user.pop("additionalGids", None)
    return True


@edit_mutant(
    "variant-rlimits-lost-in-userns",
    variant="privilege",
    breaks="with a user namespace only the RLIMIT_NOFILE entry of process.rlimits is applied",
    fails=[V + "test_rlimits_are_applied_in_a_user_namespace"],
    requirements=["config.process.rlimits-soft"],
)
def _(cfg: dict) -> bool:
    rl = (cfg.get("process") or {}).get("rlimits") or []
    kept = [r for r in rl if r.get("type") == "RLIMIT_NOFILE"]
    if not _has_userns(cfg) or len(kept) == len(rl):
        return False
    cfg["process"]["rlimits"] = kept
    return True


@edit_mutant(
    "variant-hostname-truncated",
    variant="boundary",
    breaks="hostname is cut to 32 characters (a buffer too short for HOST_NAME_MAX)",
    fails=[V + "test_the_longest_hostname_is_applied_whole"],
    requirements=["config.hostname.applied"],
)
def _(cfg: dict) -> bool:
    if len(cfg.get("hostname") or "") <= 32:
        return False
    cfg["hostname"] = cfg["hostname"][:32]
    return True
