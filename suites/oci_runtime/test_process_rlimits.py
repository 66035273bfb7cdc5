"""config.md#posix-process: process.rlimits, each applied as its soft and hard limit."""

from __future__ import annotations

import pytest

from infra.probe import parse_limits, probe_args
from suites.messages import requirement_headers, violation

#: a hard limit per type, lowered further to the caller's own hard limit where that is
#: smaller (lowering needs no privilege); the soft limit is half of it
CEILINGS = {
    "RLIMIT_CPU": 3600,
    "RLIMIT_FSIZE": 1 << 30,
    "RLIMIT_DATA": 1 << 31,
    "RLIMIT_STACK": 16 << 20,
    "RLIMIT_CORE": 1 << 20,
    "RLIMIT_RSS": 1 << 31,
    "RLIMIT_NPROC": 4096,
    "RLIMIT_NOFILE": 512,
    "RLIMIT_MEMLOCK": 1 << 20,
    "RLIMIT_AS": 1 << 32,
    "RLIMIT_LOCKS": 1000,
    "RLIMIT_SIGPENDING": 1000,
    "RLIMIT_MSGQUEUE": 409600,
    "RLIMIT_NICE": 20,
    "RLIMIT_RTPRIO": 10,
    "RLIMIT_RTTIME": 1_000_000,
}


def lowered_rlimits(host) -> list[dict]:
    """One rlimits entry per type whose hard limit can be lowered from the caller's."""
    mine = parse_limits(host.read_text("/proc/self/limits") or "")
    out = []
    for kind, ceiling in CEILINGS.items():
        _, hard_now = mine.get(kind, (None, None))
        hard = ceiling if hard_now is None else min(hard_now, ceiling)
        if hard >= 2:
            out.append({"type": kind, "soft": hard // 2, "hard": hard})
    return out


def _mismatch(report, rlimits: list[dict]) -> tuple[str, list[str], list[str]]:
    """(requirement id, differences, further broken ids) between the probe's limits and
    `rlimits`: a soft and a hard limit both wrong name both ids."""
    seen = report.rlimits
    missing = [r["type"] for r in rlimits if r["type"] not in seen]
    if missing:
        return "config.process.rlimits-getrlimit", [f"{t}: no limit reported" for t in missing], []
    soft = [
        f"{r['type']}: soft {seen[r['type']][0]} (wanted {r['soft']})"
        for r in rlimits
        if seen[r["type"]][0] != r["soft"]
    ]
    hard = [
        f"{r['type']}: hard {seen[r['type']][1]} (wanted {r['hard']})"
        for r in rlimits
        if seen[r["type"]][1] != r["hard"]
    ]
    if soft:
        return (
            "config.process.rlimits-soft",
            soft + hard,
            ["config.process.rlimits-hard"] if hard else [],
        )
    return "config.process.rlimits-hard", hard, []


@pytest.mark.requirement(
    "config.process.rlimits-soft", "config.process.rlimits-hard", "config.process.rlimits-getrlimit"
)
@pytest.mark.variant("scale-order")
def test_each_rlimit_is_applied_as_soft_and_hard(containers, host):
    b = containers.bundle()
    rlimits = lowered_rlimits(host)
    b.config["process"]["rlimits"] = rlimits
    report = containers.probe(b)
    rid, differences, more = _mismatch(report, rlimits)
    assert not differences, violation(
        rid,
        wanted=f"each of {len(rlimits)} rlimits as configured: {rlimits}",
        seen="; ".join(differences),
        evidence=[report.evidence],
    ) + ("\n" + requirement_headers(more) if more else "")


@pytest.mark.requires("cap_sys_resource")
@pytest.mark.requirement("config.process.rlimits-soft", "config.process.rlimits-hard")
@pytest.mark.variant("boundary")
def test_rlimits_above_the_callers_own_are_applied(containers, host):
    mine = parse_limits(host.read_text("/proc/self/limits") or "")
    _, nofile_hard = mine["RLIMIT_NOFILE"]
    rlimits = [
        {"type": "RLIMIT_NICE", "soft": 10, "hard": 20},
        {"type": "RLIMIT_RTPRIO", "soft": 1, "hard": 5},
        {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": (nofile_hard or 1 << 20) + 1024},
    ]
    b = containers.bundle()
    b.config["process"]["rlimits"] = rlimits
    report = containers.probe(b)
    rid, differences, more = _mismatch(report, rlimits)
    assert not differences, violation(
        rid,
        wanted=f"raised limits as configured: {rlimits}",
        seen="; ".join(differences),
        evidence=[report.evidence],
    ) + ("\n" + requirement_headers(more) if more else "")


@pytest.mark.requirement(
    "config.process.rlimits-unknown-type-errors", "config.valid-values.invalid-errors"
)
def test_an_unknown_rlimit_type_is_an_error(containers):
    b = containers.bundle(args=probe_args())
    b.config["process"]["rlimits"].append({"type": "RLIMIT_OCITEST", "soft": 1, "hard": 1})
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config.process.rlimits-unknown-type-errors",
        wanted="create fails: RLIMIT_OCITEST maps to no kernel resource",
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.process.rlimits-duplicate-errors")
@pytest.mark.variant("scale-order")
def test_duplicate_rlimit_types_are_an_error(containers):
    b = containers.bundle(args=probe_args())
    b.config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512},
        {"type": "RLIMIT_NOFILE", "soft": 256, "hard": 256},  # lower: allowed on its own
    ]
    c = containers.create(b)
    assert not c.created, violation(
        "config.process.rlimits-duplicate-errors",
        wanted="create fails: rlimits holds RLIMIT_NOFILE twice",
        seen="exit status 0",
        evidence=[c.create_result],
    )
