"""Spec version strings, how they compare, and which requirements a version holds to.

OCI specs mark the development line after release X as "X-dev" (runtime-spec's
version.go: commit c4ee7d1 released 1.0.2, the next, 1ac6f8d, set "1.0.2-dev"), unlike
SemVer where a pre-release comes before X. Release candidates ("1.1.0-rc.1") come before
their release, as in SemVer.

A "-dev" version names a snapshot somewhere between release X and the next one, so it is
not simply "at least X": its text may already hold some of the next release's changes.
`holds` judges it against the text of that snapshot where `SNAPSHOTS` knows it (runc
1.0.x and 1.1.x declare 1.0.2-dev and vendor runtime-spec commit 1c3f411f0417, which
already has 1.1.0's capability, seccomp and unified-cgroup text), else as the release X
it follows: a requirement `since` a later release does not apply, one `until` a later
release does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+](.*))?$")


def parse(version: str) -> tuple[int, int, int, int]:
    """A sortable key for `version`: (major, minor, patch, stage).

    stage is 0 for a release candidate (or other pre-release), 1 for the release and
    2 for "-dev". Raises ValueError for a string that is not a version.
    """
    m = _VERSION.match(version.strip())
    if not m:
        raise ValueError(f"not a spec version: {version!r}")
    major, minor, patch, rest = m.groups()
    stage = 1
    if rest:
        stage = 2 if rest.startswith("dev") else 0
    return int(major), int(minor), int(patch or 0), stage


def at_least(version: str, floor: str) -> bool:
    """True when `version` declares at least `floor` (see the module's note on -dev)."""
    return parse(version) >= parse(floor)


def before(version: str, ceiling: str) -> bool:
    """True when `version` is older than `ceiling`."""
    return parse(version) < parse(ceiling)


@dataclass(frozen=True)
class Snapshot:
    """The spec text a "-dev" declaration stands for, for one known implementation.

    program: the first word of the subject's `--version` output ("runc").
    versions: a regular expression its own version matches ("1.1.5").
    declared: the spec version it declares ("1.0.2-dev").
    commit: the runtime-spec commit whose text it vendors.
    has: catalogue ids `since` a later release whose text the commit already holds.
    lacks: catalogue ids `until` a later release whose text the commit already replaced.
    """

    program: str
    versions: str
    declared: str
    commit: str
    has: frozenset[str]
    lacks: frozenset[str]


#: Known "-dev" snapshots. runc v1.0.0 to v1.1.15 vendor runtime-spec
#: v1.0.3-0.20210326190908-1c3f411f0417 (go.mod); `git log v1.0.2..1c3f411f0417` there
#: shows which 1.1.0 text it holds (seccomp errnoRet, kill actions and notify: 3bfcde2,
#: a9f1170, 2fe0475, f7ef278, ec964df, 58798e7; unified cgroup v2: 7571d3d; capabilities
#: that cannot be granted are a warning, not an error: 8c363e8). Mount options, cgroup
#: ownership, scheduler, ioPriority, domainname, time namespaces, prestart-at-create came
#: after it, and relative mount destinations only in 1.2.0.
SNAPSHOTS: tuple[Snapshot, ...] = (
    Snapshot(
        program="runc",
        versions=r"^1\.[01]\.",
        declared="1.0.2-dev",
        commit="1c3f411f0417",
        has=frozenset(
            {
                "config.process.capabilities-unknown-warns",
                "config.process.capabilities-ungrantable-no-fail",
                "config-linux.seccomp.kill-process-thread",
                "config-linux.seccomp.errno-default-eperm",
                "config-linux.seccomp.errnoret-applied",
                "config-linux.seccomp.default-errnoret-applied",
                "config-linux.seccomp.errnoret-unsupported-action-errors",
                "config-linux.seccomp.listener-send-failure-errors",
                "config-linux.seccomp.listener-metadata-needs-path",
                "config-linux.unified.enables-controllers",
                "config-linux.unified.unknown-keys-written",
                "config-linux.unified.missing-controller-errors",
                "config-linux.unified.conversion-impossible-errors",
            }
        ),
        lacks=frozenset({"config.process.capabilities-unknown-errors"}),
    ),
)


def snapshot_of(version_output: str, version: str, declared: str) -> Snapshot | None:
    """The known snapshot for a subject whose `--version` output, own version and
    declared spec version are given; None when it is not one of `SNAPSHOTS`."""
    words = version_output.split()
    program = words[0] if words else ""
    for snap in SNAPSHOTS:
        if (
            snap.program == program
            and snap.declared == declared
            and re.match(snap.versions, version or "")
        ):
            return snap
    return None


def holds(
    declared: str, since: str, until: str, rid: str = "", snapshot: Snapshot | None = None
) -> bool:
    """True when a requirement (`since`/`until`, "" when unbounded; catalogue id `rid`)
    applies to a subject declaring `declared`, judged at `snapshot` when one is known
    (see the module's note). Raises ValueError for a declared string that is not a
    version."""
    if snapshot is not None and rid in snapshot.has:
        return True
    if snapshot is not None and rid in snapshot.lacks:
        return False
    if since and before(declared, since):
        return False
    return not (until and not before(declared, until))
