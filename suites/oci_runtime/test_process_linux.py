"""config.md#linux-process: no_new_privs, oom_score_adj, scheduling, I/O priority, CPU
affinity and the LSM labels of the program."""

from __future__ import annotations

import pytest

from infra.probe import parse_status
from suites.messages import violation
from suites.oci_runtime.features import needs_feature


@pytest.mark.requirement("config.process.no-new-privileges")
def test_no_new_privileges_sets_the_flag(containers):
    b = containers.bundle()
    b.config["process"]["noNewPrivileges"] = True
    report = containers.probe(b)
    assert report.no_new_privs, violation(
        "config.process.no-new-privileges",
        wanted="prctl(PR_GET_NO_NEW_PRIVS) is 1",
        seen="it is 0",
        evidence=[report.evidence],
    )


@pytest.mark.parametrize(
    "value",
    [123, pytest.param(-7, marks=pytest.mark.requires("cap_sys_resource"))],
    ids=["positive", "negative"],
)
@pytest.mark.requirement("config.process.oom-score-adj-set")
def test_oom_score_adj_is_set(containers, value):
    b = containers.bundle()
    b.config["process"]["oomScoreAdj"] = value
    report = containers.probe(b)
    assert report.oom_score_adj == value, violation(
        "config.process.oom-score-adj-set",
        wanted=f"/proc/self/oom_score_adj {value}",
        seen=f"{report.oom_score_adj}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.oom-score-adj-unset")
def test_without_oom_score_adj_the_value_is_left_alone(containers, host):
    b = containers.bundle()
    b.config["process"].pop("oomScoreAdj", None)
    callers = int((host.read_text("/proc/self/oom_score_adj") or "0").strip())
    report = containers.probe(b)
    assert report.oom_score_adj == callers, violation(
        "config.process.oom-score-adj-unset",
        wanted=f"oom_score_adj {callers}, as the runtime's caller has it",
        seen=f"{report.oom_score_adj}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.scheduler-policy")
def test_the_program_runs_under_scheduler_policy(containers):
    b = containers.bundle()
    b.config["process"]["scheduler"] = {"policy": "SCHED_BATCH"}
    report = containers.probe(b)
    assert report.sched_policy == "SCHED_BATCH", violation(
        "config.process.scheduler-policy",
        wanted="sched_getscheduler() is SCHED_BATCH",
        seen=f"{report.sched_policy}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.scheduler-nice")
def test_the_program_runs_with_scheduler_nice(containers):
    b = containers.bundle()
    b.config["process"]["scheduler"] = {"policy": "SCHED_OTHER", "nice": 7}
    report = containers.probe(b)
    assert report.nice == 7, violation(
        "config.process.scheduler-nice",
        wanted="nice value 7",
        seen=f"nice value {report.nice}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("rt_scheduling")
@pytest.mark.requirement("config.process.scheduler-priority")
def test_the_program_runs_with_scheduler_priority(containers):
    b = containers.bundle()
    b.config["process"]["scheduler"] = {"policy": "SCHED_RR", "priority": 3}
    report = containers.probe(b)
    seen = (report.sched_policy, report.sched_priority)
    assert seen == ("SCHED_RR", 3), violation(
        "config.process.scheduler-priority",
        wanted="SCHED_RR at static priority 3",
        seen=f"{seen[0]} at static priority {seen[1]}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.io-priority")
def test_the_program_runs_with_io_priority(containers):
    b = containers.bundle()
    b.config["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    report = containers.probe(b)
    assert report.ioprio == ("IOPRIO_CLASS_BE", 6), violation(
        "config.process.io-priority",
        wanted="ioprio_get() is class IOPRIO_CLASS_BE, level 6",
        seen=f"class {report.ioprio[0]}, level {report.ioprio[1]}",
        evidence=[report.evidence],
    )


def cpu_list(text: str) -> list[int]:
    """ "0-3,7" -> [0, 1, 2, 3, 7] (the kernel's CPU list format)."""
    out: list[int] = []
    for part in filter(None, text.strip().split(",")):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


@pytest.mark.requires("multi_cpu")
@pytest.mark.requirement("config.process.exec-cpu-affinity-not-init")
def test_exec_cpu_affinity_leaves_the_init_process_alone(containers, host):
    callers = cpu_list(parse_status(host.read_text("/proc/self/status"))["Cpus_allowed_list"])
    b = containers.bundle()
    b.config["process"]["execCPUAffinity"] = {"initial": "0", "final": "0"}
    report = containers.probe(b)
    assert report.cpus == callers, violation(
        "config.process.exec-cpu-affinity-not-init",
        wanted=f"the init process keeps the caller's CPUs {callers}",
        seen=f"CPUs {report.cpus}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("apparmor_docker_default")
@pytest.mark.requirement("config.process.apparmor-profile")
def test_the_program_runs_under_the_apparmor_profile(containers, runtime):
    needs_feature(runtime, "linux", "apparmor")
    b = containers.bundle()
    b.config["process"]["apparmorProfile"] = "docker-default"
    report = containers.probe(b)
    assert (report.label or "").split(" ")[0] == "docker-default", violation(
        "config.process.apparmor-profile",
        wanted='/proc/self/attr/current names "docker-default"',
        seen=f"{report.label!r}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("selinux_container_t")
@pytest.mark.requirement("config.process.selinux-label")
def test_the_program_runs_with_the_selinux_label(containers, runtime):
    needs_feature(runtime, "linux", "selinux")
    label = "system_u:system_r:container_t:s0:c111,c222"
    b = containers.bundle()
    b.config["process"]["selinuxLabel"] = label
    report = containers.probe(b)
    assert report.label == label, violation(
        "config.process.selinux-label",
        wanted=f"/proc/self/attr/current is {label!r}",
        seen=f"{report.label!r}",
        evidence=[report.evidence],
    )
