"""config.md#linux-process: the capability sets of the program.

What the program sees is what execve(2) derives from the sets the runtime applied
(capabilities(7)): bounding and inheritable pass unchanged; for root, permitted becomes
bounding | inheritable, capped at the old permitted set when no_new_privs is on (the
baseline sets noNewPrivileges); for other users permitted and effective become the
ambient set. The effective set itself never survives execve (see the catalogue).
"""

from __future__ import annotations

import pytest

from infra.images.bundle import DEFAULT_CAPS
from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.features import needs_feature

#: a capability name no kernel knows
UNKNOWN_CAP = "CAP_OCITEST_UNKNOWN"


def _caps(b) -> dict:
    return b.config["process"]["capabilities"]


def _needs(runtime, *caps: str) -> None:
    """`unsupported` when the runtime's features document does not know one of `caps`."""
    for cap in caps:
        needs_feature(runtime, "linux", "capabilities", value=cap)


@pytest.mark.requirement("config.process.capabilities-bounding")
def test_the_bounding_set_is_capabilities_bounding(containers, runtime):
    b = containers.bundle()
    bounding = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETGID", "CAP_SETUID"]
    _needs(runtime, *bounding)
    _caps(b)["bounding"] = bounding
    report = containers.probe(b)
    seen = report.caps["bounding"]
    assert seen == set(bounding), violation(
        "config.process.capabilities-bounding",
        wanted=f"bounding set {sorted(bounding)}",
        seen=f"bounding set {sorted(seen)}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.capabilities-permitted")
def test_the_permitted_set_is_capabilities_permitted(containers, runtime):
    b = containers.bundle()
    b.config["process"]["noNewPrivileges"] = True  # else execve gives root the bounding set
    permitted = [c for c in DEFAULT_CAPS if c not in ("CAP_NET_RAW", "CAP_MKNOD")]
    _needs(runtime, *permitted)
    _caps(b)["permitted"] = permitted
    _caps(b)["effective"] = permitted  # effective must stay within permitted
    report = containers.probe(b)
    seen = report.caps["permitted"]
    assert seen == set(permitted), violation(
        "config.process.capabilities-permitted",
        wanted=f"permitted set {sorted(permitted)} (root, no_new_privs, bounding {DEFAULT_CAPS})",
        seen=f"permitted set {sorted(seen)}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.capabilities-inheritable")
def test_the_inheritable_set_is_capabilities_inheritable(containers, runtime):
    _needs(runtime, "CAP_CHOWN", "CAP_KILL")
    b = containers.bundle()
    _caps(b)["inheritable"] = ["CAP_CHOWN", "CAP_KILL"]
    report = containers.probe(b)
    seen = report.caps["inheritable"]
    assert seen == {"CAP_CHOWN", "CAP_KILL"}, violation(
        "config.process.capabilities-inheritable",
        wanted="inheritable set ['CAP_CHOWN', 'CAP_KILL']",
        seen=f"inheritable set {sorted(seen)}",
        evidence=[report.evidence],
    )


@pytest.mark.requires("root")  # rootless maps only container uid 0
@pytest.mark.requirement("config.process.capabilities-ambient")
def test_the_ambient_set_is_capabilities_ambient(containers, runtime):
    _needs(runtime, "CAP_NET_BIND_SERVICE")
    b = containers.bundle()
    b.config["process"]["user"] = {"uid": 1234, "gid": 1234}  # ambient is for non-root
    _caps(b)["ambient"] = ["CAP_NET_BIND_SERVICE"]
    _caps(b)["inheritable"] = ["CAP_NET_BIND_SERVICE"]  # Linux raises only inheritable ones
    report = containers.probe(b)
    seen = report.caps["ambient"]
    assert seen == {"CAP_NET_BIND_SERVICE"}, violation(
        "config.process.capabilities-ambient",
        wanted="ambient set ['CAP_NET_BIND_SERVICE'] (uid 1234)",
        seen=f"ambient set {sorted(seen)}; all sets {report.caps}",
        evidence=[report.evidence],
    )


def _with_unknown_capability(containers):
    b = containers.bundle(args=probe_args())
    for kind in ("bounding", "effective", "permitted"):
        _caps(b)[kind] = [*_caps(b)[kind], UNKNOWN_CAP]
    b.write_unvalidated(b.config)
    return containers.create(b)


@pytest.mark.requirement("config.process.capabilities-unknown-errors")
def test_an_unknown_capability_is_an_error(containers):
    c = _with_unknown_capability(containers)
    assert not c.created, violation(
        "config.process.capabilities-unknown-errors",
        wanted=f"create fails: {UNKNOWN_CAP} maps to no kernel capability",
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.process.capabilities-ungrantable-no-fail")
def test_an_unknown_capability_does_not_fail_create(containers):
    c = _with_unknown_capability(containers)
    assert c.created, violation(
        "config.process.capabilities-ungrantable-no-fail",
        wanted=f"create succeeds despite {UNKNOWN_CAP} (a warning at most)",
        seen=f"exit status {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.process.capabilities-unknown-warns")
def test_an_unknown_capability_is_logged_as_a_warning(containers, runtime):
    c = _with_unknown_capability(containers)
    results = [c.create_result]
    if c.created:
        results.append(runtime.start(c.id))
    said = " ".join(rr.stderr for rr in results)
    assert UNKNOWN_CAP in said, violation(
        "config.process.capabilities-unknown-warns",
        wanted=f"a warning naming {UNKNOWN_CAP} on the runtime's stderr (create or start)",
        seen="no mention of it",
        evidence=results,
    )
