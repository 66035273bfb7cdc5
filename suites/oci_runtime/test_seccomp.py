"""config-linux.md#seccomp: the filter, its default and rule actions, errno values, args.

The probe makes one harmless syscall (`syscall:getppid` and friends) and reports its
return value and errno; a missing report means the call killed it. Neither runc's nor
crun's own code calls getppid between loading the filter and exec'ing the probe.
"""

from __future__ import annotations

import re

import pytest

from suites.messages import violation

EPERM, ENOSYS, EXDEV = 1, 38, 18
#: headers that list the target's syscall names (x86_64, then the generic table)
SYSCALL_TABLES = [
    "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    "/usr/include/asm-generic/unistd.h",
]


def seccomp(default: str = "SCMP_ACT_ALLOW", *rules: dict, **extra) -> dict:
    return {"defaultAction": default, "syscalls": list(rules), **extra}


def rule(names: list[str], action: str, **extra) -> dict:
    return {"names": names, "action": action, **extra}


def all_syscalls_but(host, excluded: str) -> list[str]:
    """Every syscall name of the target's table except `excluded` (an allow list that
    leaves only `excluded` to the default action)."""
    for path in SYSCALL_TABLES:
        text = host.read_text(path)
        if text:
            return sorted(set(re.findall(r"#define __NR3?2?_?(\w+)\s", text)) - {excluded})
    pytest.skip(f"needs a syscall table header (one of {SYSCALL_TABLES}) on the target")


def run_syscall(containers, config_seccomp: dict, call: str = "getppid", validated=True):
    b = containers.bundle()
    b.config["linux"]["seccomp"] = config_seccomp
    if not validated:  # fields the packaged 1.0.2 schema predates
        from infra.probe import probe_args

        b.config["process"]["args"] = probe_args(f"syscall:{call}")
        b.write_unvalidated(b.config)
    report = containers.probe(b, f"syscall:{call}")
    return report, report.action("syscall", call)


def outcome(report, call: str) -> str:
    """'killed', 'ok', or the errno name of the call (e.g. 'EPERM')."""
    res = report.action("syscall", call)
    if res is None:
        return "killed"
    return "ok" if res["ok"] else str(res.get("error"))


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.filter-installed")
def test_a_seccomp_config_installs_a_filter(containers):
    report, _ = run_syscall(containers, seccomp("SCMP_ACT_ALLOW", rule(["acct"], "SCMP_ACT_ERRNO")))
    assert report.seccomp_mode == 2, violation(
        "config-linux.seccomp.filter-installed",
        wanted="Seccomp: 2 (filter) in /proc/self/status",
        seen=f"Seccomp: {report.seccomp_mode}",
        evidence=[report.evidence],
    )


#: action -> what the call to a matched syscall gives (TRACE without a tracer: ENOSYS)
RULE_ACTIONS = [
    pytest.param(a, want, marks=pytest.mark.requirement(rid))
    for a, want, rid in [
        ("SCMP_ACT_ERRNO", "failed", "config-linux.seccomp.rule-action"),
        ("SCMP_ACT_KILL", "killed", "config-linux.seccomp.rule-action"),
        ("SCMP_ACT_TRAP", "killed", "config-linux.seccomp.rule-action"),
        ("SCMP_ACT_TRACE", "ENOSYS", "config-linux.seccomp.rule-action"),
        ("SCMP_ACT_KILL_PROCESS", "killed", "config-linux.seccomp.kill-process-thread"),
        ("SCMP_ACT_KILL_THREAD", "killed", "config-linux.seccomp.kill-process-thread"),
    ]
]


@pytest.mark.requires("root")
@pytest.mark.parametrize("action, wanted", RULE_ACTIONS)
def test_a_rule_gives_the_named_syscall_its_action(containers, request, action, wanted):
    report, _ = run_syscall(containers, seccomp("SCMP_ACT_ALLOW", rule(["getppid"], action)))
    seen = outcome(report, "getppid")
    ok = seen not in ("ok", "killed") if wanted == "failed" else seen == wanted
    rid = next(request.node.iter_markers("requirement")).args[0]
    assert ok, violation(
        rid,
        wanted=f"getppid under {action}: {wanted}",
        seen=f"getppid: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.default-action")
def test_a_syscall_no_rule_names_gets_the_default_action(containers, host):
    allowed = rule(all_syscalls_but(host, "getppid"), "SCMP_ACT_ALLOW")
    report, _ = run_syscall(containers, seccomp("SCMP_ACT_ERRNO", allowed))
    seen = outcome(report, "getppid")
    assert seen not in ("ok", "killed"), violation(
        "config-linux.seccomp.default-action",
        wanted="getppid, named by no rule, fails under defaultAction SCMP_ACT_ERRNO",
        seen=f"getppid: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.errno-default-eperm")
def test_errno_without_errnoret_is_eperm(containers):
    report, _ = run_syscall(
        containers, seccomp("SCMP_ACT_ALLOW", rule(["getppid"], "SCMP_ACT_ERRNO"))
    )
    seen = outcome(report, "getppid")
    assert seen == "EPERM", violation(
        "config-linux.seccomp.errno-default-eperm",
        wanted="getppid under SCMP_ACT_ERRNO without errnoRet: EPERM",
        seen=f"getppid: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.errnoret-applied")
def test_errnoret_is_the_errno_of_the_matched_syscall(containers):
    matched = rule(["getppid"], "SCMP_ACT_ERRNO", errnoRet=EXDEV)
    report, _ = run_syscall(containers, seccomp("SCMP_ACT_ALLOW", matched))
    seen = outcome(report, "getppid")
    assert seen == "EXDEV", violation(
        "config-linux.seccomp.errnoret-applied",
        wanted=f"getppid under SCMP_ACT_ERRNO with errnoRet {EXDEV}: EXDEV",
        seen=f"getppid: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.default-errnoret-applied")
def test_default_errnoret_is_the_errno_of_unmatched_syscalls(containers, host):
    allowed = rule(all_syscalls_but(host, "getppid"), "SCMP_ACT_ALLOW")
    sc = seccomp("SCMP_ACT_ERRNO", allowed, defaultErrnoRet=EXDEV)
    report, _ = run_syscall(containers, sc, validated=False)
    seen = outcome(report, "getppid")
    assert seen == "EXDEV", violation(
        "config-linux.seccomp.default-errnoret-applied",
        wanted=f"getppid under defaultAction SCMP_ACT_ERRNO, defaultErrnoRet {EXDEV}: EXDEV",
        seen=f"getppid: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.errnoret-unsupported-action-errors")
@pytest.mark.parametrize(
    "where, config_seccomp",
    [
        ("errnoRet", seccomp("SCMP_ACT_ALLOW", rule(["acct"], "SCMP_ACT_KILL", errnoRet=EXDEV))),
        ("defaultErrnoRet", seccomp("SCMP_ACT_ALLOW", defaultErrnoRet=EXDEV)),
    ],
)
def test_an_errno_on_an_action_without_one_fails_create(containers, where, config_seccomp):
    b = containers.bundle()
    b.config["linux"]["seccomp"] = config_seccomp
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created and c.create_result.stderr.strip(), violation(
        "config-linux.seccomp.errnoret-unsupported-action-errors",
        wanted=f"create prints an error and fails: {where} on an action that takes no errno",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.args-matched")
@pytest.mark.parametrize("arg0, wanted", [(0xFFFFFFFF, "failed"), (0, "ok")])
def test_a_rule_with_args_matches_only_calls_that_pass_them(containers, arg0, wanted):
    # the probe's personality call is the query personality(0xffffffff)
    comparison = {"index": 0, "value": arg0, "op": "SCMP_CMP_EQ"}
    matched = rule(["personality"], "SCMP_ACT_ERRNO", args=[comparison])
    report, _ = run_syscall(containers, seccomp("SCMP_ACT_ALLOW", matched), call="personality")
    seen = outcome(report, "personality")
    ok = seen == "ok" if wanted == "ok" else seen not in ("ok", "killed")
    assert ok, violation(
        "config-linux.seccomp.args-matched",
        wanted=f"personality(0xffffffff) with a rule for arg0 == {arg0:#x}: {wanted}",
        seen=f"personality: {seen}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.names-non-empty")
def test_a_rule_without_names_fails_create(containers):
    b = containers.bundle()
    b.config["linux"]["seccomp"] = seccomp("SCMP_ACT_ALLOW", rule([], "SCMP_ACT_ERRNO"))
    b.write_unvalidated(b.config)  # the schema itself wants at least one name
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.seccomp.names-non-empty",
        wanted="create fails: a syscalls entry with an empty names list",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.listener-send-failure-errors")
def test_a_listener_path_nobody_listens_on_fails_create(containers):
    b = containers.bundle()
    notify = rule(["getppid"], "SCMP_ACT_NOTIFY")
    sock = f"{b.path}/no-listener.sock"
    b.config["linux"]["seccomp"] = seccomp("SCMP_ACT_ALLOW", notify, listenerPath=sock)
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.seccomp.listener-send-failure-errors",
        wanted=f"create fails: nothing listens on listenerPath {sock}",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config-linux.seccomp.listener-metadata-needs-path")
def test_listener_metadata_without_a_listener_path_fails_create(containers):
    b = containers.bundle()
    b.config["linux"]["seccomp"] = seccomp("SCMP_ACT_ALLOW", listenerMetadata="ocitest")
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config-linux.seccomp.listener-metadata-needs-path",
        wanted="create fails: listenerMetadata is set, listenerPath is not",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
