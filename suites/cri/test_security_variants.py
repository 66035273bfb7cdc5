"""LinuxContainerSecurityContext at its edges (issue 15, the critest rows not yet
covered): the ALL capability keyword, added and dropped; run_as_group without a user;
the Strict supplemental groups policy (containerd 2.x).

Each case starts from a state that differs from the one wanted (the default capability
set holds neither SYS_ADMIN nor SYS_MODULE, and does hold CHOWN), and a negative case
has its positive control beside it.
"""

from __future__ import annotations

import pytest
from cri_api.v1 import api_pb2 as pb

from infra.outcomes import unsupported
from suites.cri.helpers import must_succeed
from suites.messages import violation

#: capability bits (linux/capability.h): not in a runtime's default set, and in it
CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_CHOWN = 16, 21, 0
#: the image's user ocitest, and its group `extra` of which ocitest is a member
USER, GROUP = 1234, 5678


def _cap_eff(pods, cid: str, rid: str) -> tuple[int, object]:
    res = must_succeed(pods.exec(cid, ["grep", "^CapEff:", "/proc/1/status"]), rid)
    text = res.response.stdout.decode().partition(":")[2].strip()
    return int(text or "0", 16), res


@pytest.mark.requirement("cri.security.capabilities")
@pytest.mark.parametrize("how", ["add", "drop"])
def test_the_all_capability_keyword(pods, how):
    rid = "cri.security.capabilities"
    caps = pb.Capability(**{f"{how}_capabilities": ["ALL"]})
    cfg = pods.container_config()
    cfg.linux.security_context.capabilities.CopyFrom(caps)
    cid = must_succeed(pods.create(pods.pod(), cfg), rid).response.container_id
    must_succeed(pods.cri.call("StartContainer", container_id=cid), rid)
    eff, res = _cap_eff(pods, cid, rid)
    if how == "add":
        good = all(eff >> bit & 1 for bit in (CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_CHOWN))
        wanted = "add_capabilities [ALL]: CapEff with SYS_MODULE, SYS_ADMIN and CHOWN"
    else:
        good = eff == 0
        wanted = "drop_capabilities [ALL]: CapEff 0 (the default set had CHOWN and more)"
    assert good, violation(rid, wanted=wanted, seen=f"CapEff {eff:016x}", evidence=[res])


@pytest.mark.requirement("cri.security.run-as-group-needs-user")
def test_run_as_group_without_a_user_is_refused(pods, cri):
    rid = "cri.security.run-as-group-needs-user"
    pod = pods.pod()
    # positive control: the same group with a user is accepted
    control = pods.container_config()
    control.linux.security_context.run_as_user.value = USER
    control.linux.security_context.run_as_group.value = GROUP
    ok = pods.create(pod, control)
    assert ok.ok, "control: CreateContainer with run_as_user and run_as_group failed\n" + (
        ok.evidence.brief()
    )
    cfg = pods.container_config()
    cfg.linux.security_context.run_as_group.value = GROUP
    res = pods.create(pod, cfg)
    listed = must_succeed(
        cri.call("ListContainers", filter=pb.ContainerFilter(pod_sandbox_id=pod[0])), rid
    )
    names = [c.metadata.name for c in listed.response.containers]
    assert not res.ok and cfg.metadata.name not in names, violation(
        rid,
        wanted=f"CreateContainer with run_as_group {GROUP} and no user fails, no container left",
        seen=f"CreateContainer -> {res.code_name}: {res.details[:200]}; containers {names}",
        evidence=[res, listed],
    )


@pytest.mark.requirement("cri.security.supplemental-groups-policy")
def test_strict_supplemental_groups_policy_leaves_out_the_image_groups(pods, cri):
    rid = "cri.security.supplemental-groups-policy"
    status = must_succeed(cri.call("Status"), rid)
    if not status.response.features.supplemental_groups_policy:
        unsupported("Status.features.supplemental_groups_policy is false: no Strict policy")
    cfg = pods.container_config()
    sc = cfg.linux.security_context
    sc.run_as_user.value = USER
    sc.supplemental_groups.append(4242)
    sc.supplemental_groups_policy = pb.SupplementalGroupsPolicy.Strict
    cid = must_succeed(pods.create(pods.pod(), cfg), rid).response.container_id
    must_succeed(pods.cri.call("StartContainer", container_id=cid), rid)
    res = must_succeed(pods.exec(cid, ["grep", "^Groups:", "/proc/1/status"]), rid)
    groups = set(res.response.stdout.decode().partition(":")[2].split())
    # the starting state differs: under the default policy (Merge) the image's group
    # `extra` is there too (test_security_context.py::test_supplemental_groups_...)
    assert "4242" in groups and str(GROUP) not in groups, violation(
        rid,
        wanted=f"Groups with 4242 (given) and without {GROUP} (the image's group of the user)",
        seen=f"Groups {sorted(groups)}",
        evidence=[res],
    )
