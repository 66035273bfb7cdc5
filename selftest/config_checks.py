"""Mutants whose create checks config.json wrongly: too strictly (a valid version,
capability, namespace type or seccomp architecture refused) or too laxly (a seccomp
listener nobody listens on, or the whole filter, ignored).

Declared as declare.py says; standard library only (runtime_mutant.py imports this
module under the system python with -I).
"""

from __future__ import annotations

import json
import os
import sys

from selftest.declare import edit_mutant, runtime_mutant
from selftest.runtime_base import Wrapper, _bundle_of

SC = "test_seccomp.py::"

#: capability names Linux 5.9+ knows (CAP_CHECKPOINT_RESTORE is number 40)
KNOWN_CAPS = {
    "CAP_" + n
    for n in str.split(
        "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
        "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
        "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
        "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
        "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
        "CHECKPOINT_RESTORE"
    )
}


class RefusingCreate(Wrapper):
    """Base: create fails with `refuse(cfg)`'s message when it gives one."""

    def refuse(self, cfg: dict) -> str | None:
        raise NotImplementedError

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        try:
            with open(os.path.join(_bundle_of(self.args), "config.json")) as fh:
                cfg = json.load(fh)
        except (OSError, ValueError):
            return self.passthrough()
        why = self.refuse(cfg)
        if not why:
            return self.passthrough()
        sys.stderr.write(f"create {self.ids[0]}: {why}\n")
        return 1


@runtime_mutant(
    "version-bounds-exclusive",
    breaks="create refuses an ociVersion equal to features' ociVersionMin or ociVersionMax",
    fails=[
        f"test_features.py::test_the_runtime_accepts_its_declared_versions[{b}]"
        for b in ("ociVersionMin", "ociVersionMax")
    ],
    requirements=["features.min-accepted", "features.max-accepted"],
)
class VersionBoundsExclusive(RefusingCreate):
    """Only versions strictly between the declared bounds are accepted."""

    def refuse(self, cfg: dict) -> str | None:
        res = self.real("features")
        try:
            doc = json.loads(res.stdout)
        except ValueError:
            return None
        bounds = (doc.get("ociVersionMin"), doc.get("ociVersionMax"))
        if cfg.get("ociVersion") in bounds:
            return f"ociVersion {cfg['ociVersion']} is not supported"
        return None


@runtime_mutant(
    "unknown-capability-fails-create",
    breaks="a capability the runtime does not know makes create fail",
    fails=["test_process_caps.py::test_an_unknown_capability_does_not_fail_create"],
    requirements=["config.process.capabilities-ungrantable-no-fail"],
)
class UnknownCapabilityFailsCreate(RefusingCreate):
    """create fails naming the first unknown capability (so it is still reported)."""

    def refuse(self, cfg: dict) -> str | None:
        caps = (cfg.get("process") or {}).get("capabilities") or {}
        unknown = sorted({c for s in caps.values() for c in s} - KNOWN_CAPS)
        return f"unknown capability {unknown[0]}" if unknown else None


@runtime_mutant(
    "refuses-cgroup-namespace",
    breaks="create fails when a new cgroup namespace is asked for",
    fails=["test_namespaces.py::test_a_namespace_without_path_is_new[cgroup]"],
    requirements=["config-linux.namespaces.types-supported"],
)
class RefusesCgroupNamespace(RefusingCreate):
    """A cgroup namespace entry without path is refused."""

    def refuse(self, cfg: dict) -> str | None:
        spaces = (cfg.get("linux") or {}).get("namespaces") or []
        if any(n.get("type") == "cgroup" and not n.get("path") for n in spaces):
            return "namespace type cgroup is not supported"
        return None


@runtime_mutant(
    "refuses-listed-seccomp-arch",
    breaks="features lists SCMP_ARCH_X32, but create refuses a filter naming it",
    fails=["test_features_linux.py::test_listed_seccomp_values_are_recognized[archs]"],
    requirements=["features-linux.seccomp-archs-recognized"],
)
class RefusesListedSeccompArch(RefusingCreate):
    """A seccomp filter whose architectures hold SCMP_ARCH_X32 is refused."""

    def refuse(self, cfg: dict) -> str | None:
        archs = ((cfg.get("linux") or {}).get("seccomp") or {}).get("architectures") or []
        return "unknown seccomp architecture SCMP_ARCH_X32" if "SCMP_ARCH_X32" in archs else None


@edit_mutant(
    "ignores-unreachable-seccomp-listener",
    breaks="a listenerPath nobody listens on is dropped (with its SCMP_ACT_NOTIFY rules)",
    fails=[SC + "test_a_listener_path_nobody_listens_on_fails_create"],
    requirements=["config-linux.seccomp.listener-send-failure-errors"],
)
def _(cfg: dict) -> bool:
    sc = (cfg.get("linux") or {}).get("seccomp") or {}
    path = sc.get("listenerPath")
    if not path or os.path.exists(path):
        return False
    sc.pop("listenerPath")
    sc.pop("listenerMetadata", None)
    sc["syscalls"] = [r for r in sc.get("syscalls") or [] if r.get("action") != "SCMP_ACT_NOTIFY"]
    return True


@edit_mutant(
    "ignores-seccomp",
    breaks="linux.seccomp is not applied",
    fails=[
        SC + "test_a_listener_path_nobody_listens_on_fails_create",
        SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_ERRNO-failed]",
        SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_KILL-killed]",
        SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_KILL_PROCESS-killed]",
        SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_KILL_THREAD-killed]",
        SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_TRACE-ENOSYS]",
        SC + "test_a_rule_gives_the_named_syscall_its_action[SCMP_ACT_TRAP-killed]",
        SC + "test_a_rule_with_args_matches_only_calls_that_pass_them[4294967295-failed]",
        SC + "test_a_seccomp_config_installs_a_filter",
        SC + "test_a_syscall_no_rule_names_gets_the_default_action",
        SC + "test_default_errnoret_is_the_errno_of_unmatched_syscalls",
        SC + "test_errno_without_errnoret_is_eperm",
        SC + "test_errnoret_is_the_errno_of_the_matched_syscall",
    ],
    requirements=["config-linux.seccomp.filter-installed"],
)
def _(cfg: dict) -> bool:
    return (cfg.get("linux") or {}).pop("seccomp", None) is not None
