"""config.json that create must refuse (config.md, runtime.md#create), and refuse cleanly
(runtime.md#errors): no container in state or list, no cgroup, no mount left behind.

Each case breaks the baseline config in one place and is written with
`Bundle.write_unvalidated()`.
"""

from __future__ import annotations

import json

import pytest

from infra.images.rootfs import is_bundle_overlay
from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.helpers import LONG_RUNNING


def _leftovers(containers, runtime, host, c) -> list[str]:
    """What a refused create left: the container, its cgroups (removed here, so the run's
    leak check does not count them twice), mounts under the bundle."""
    left = []
    if runtime.state(c.id).ok:
        left.append(f"state of {c.id} succeeds")
    if c.id in runtime.list_ids().stdout.split():
        left.append(f"list shows {c.id}")
    cgroups = host.cgroup_dirs("/" + c.id)
    if cgroups:
        left.append(f"cgroups {cgroups} (removed by the test)")
        host.remove_cgroup(sorted(cgroups, reverse=True))
    mounts = [ln for ln in (host.read_text("/proc/self/mountinfo") or "").splitlines()]
    under = [
        ln.split()[4]
        for ln in mounts
        if f" {c.bundle.path}/" in f" {ln.split()[4]}/"
        and not is_bundle_overlay(ln, c.bundle.path)  # the harness's own rootfs mount
    ]
    if under:
        left.append(f"mounts {under}")
    return left


def _broken(containers, edit) -> tuple:
    """A bundle broken by `edit` and the container of its create, after a positive
    control: the same baseline config unbroken creates (else the test errs at setup,
    since a refusal would prove nothing about the one broken field)."""
    containers.created(args=LONG_RUNNING)
    b = containers.bundle(args=LONG_RUNNING)
    cfg = json.loads(json.dumps(b.config))
    text = edit(cfg)
    b.write_unvalidated(text if isinstance(text, str) else cfg)
    return b, containers.create(b)


def _del(path: str):
    def edit(cfg):
        *parents, last = path.split(".")
        node = cfg
        for p in parents:
            node = node[p]
        del node[last]

    return edit


def _set(path: str, value):
    def edit(cfg):
        *parents, last = path.split(".")
        node = cfg
        for p in parents:
            node = node[p]
        node[last] = value

    return edit


CASES = [
    ("not-json", lambda cfg: json.dumps(cfg)[:-20], ["config.errors.not-json"]),
    ("process-is-a-string", _set("process", "sh"), ["config.errors.wrong-type"]),
    ("root-without-path", _del("root.path"), ["config.errors.root-path-required"]),
]
RELATIVE_TMPFS = {"destination": "ocitest-rel", "type": "tmpfs", "source": "tmpfs"}


@pytest.mark.parametrize(
    "edit, rids",
    [
        pytest.param(
            edit, rids, marks=pytest.mark.requirement(*rids, "runtime.errors.no-side-effects"), id=n
        )
        for n, edit, rids in CASES
    ],
)
def test_create_refuses_a_broken_config_and_leaves_nothing_behind(
    containers, runtime, host, edit, rids
):
    _, c = _broken(containers, edit)
    assert not c.created, violation(
        rids[0],
        wanted="create fails",
        seen="exit status 0",
        evidence=[c.create_result],
    )
    left = _leftovers(containers, runtime, host, c)
    assert not left, violation(
        "runtime.errors.no-side-effects",
        wanted="nothing left by the refused create",
        seen="; ".join(left),
        evidence=[c.create_result],
    )


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_del("process"), id="no-process"),
        pytest.param(_set("process.args", []), id="empty-args"),
    ],
)
@pytest.mark.requirement("runtime.start.no-process-errors", "runtime.errors.no-side-effects")
def test_a_config_without_a_program_fails_at_create_or_start(containers, runtime, host, edit):
    _, c = _broken(containers, edit)
    results = [c.create_result]
    if c.created:
        rr = runtime.start(c.id)
        results.append(rr)
        assert not rr.ok, violation(
            "runtime.start.no-process-errors",
            wanted="create or start fails: config.json names no program to run",
            seen="create and start both exit 0",
            evidence=results,
        )
        return
    left = _leftovers(containers, runtime, host, c)
    assert not left, violation(
        "runtime.errors.no-side-effects",
        wanted="nothing left by the refused create",
        seen="; ".join(left),
        evidence=results,
    )


@pytest.mark.requirement("config.errors.mount-destination-absolute")
def test_create_refuses_a_relative_mount_destination_before_1_2_0(containers, runtime, host):
    _, c = _broken(containers, lambda cfg: cfg["mounts"].append(dict(RELATIVE_TMPFS)))
    left = [] if c.created else _leftovers(containers, runtime, host, c)
    assert not c.created and not left, violation(
        "config.errors.mount-destination-absolute",
        wanted='create fails for the mount destination "ocitest-rel" (spec < 1.2.0) and '
        "leaves nothing behind",
        seen=f"exit status {c.create_result.exit_status}; left: {left or 'nothing'}",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.errors.mount-destination-relative-from-root")
def test_a_relative_mount_destination_is_taken_from_the_root(containers):
    b = containers.bundle(args=probe_args())
    b.config["process"]["cwd"] = "/tmp"  # so "from the root" and "from the cwd" differ
    b.config["mounts"].append(dict(RELATIVE_TMPFS))
    b.write_unvalidated(b.config)  # the schemas before 1.2.0 may call it invalid
    report = containers.probe(b)
    mount, wrong = report.mount("/ocitest-rel"), report.mount("/tmp/ocitest-rel")
    assert mount is not None and mount.fstype == "tmpfs" and wrong is None, violation(
        "config.errors.mount-destination-relative-from-root",
        wanted='the tmpfs with destination "ocitest-rel" mounted at /ocitest-rel '
        "(process cwd /tmp), not at /tmp/ocitest-rel",
        seen=f"mount at /ocitest-rel: {mount}; at /tmp/ocitest-rel: {wrong}",
        evidence=[report.evidence],
    )
