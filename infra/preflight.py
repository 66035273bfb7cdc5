"""Preflight: can this runtime create the plainest container here at all?

When even the baseline bundle cannot be created, started and deleted, every lifecycle
test would fail for the same reason, usually the machine's (a chroot whose / is not a
mount point, missing cgroup controllers, ...), and a page of MUST failures would hide
it. The suites' `runtime` fixture runs it once per subject and process, before the first
test that uses the runtime; if it fails, the tests of that subject end as `error` with
the preflight's evidence instead.
"""

from __future__ import annotations

from infra.containers import ContainerSession
from infra.drivers.runtime import RuntimeDriver
from infra.evidence import EvidenceLog
from infra.images.rootfs import cached_rootfs
from infra.run import RunContext
from infra.subjects import Subject
from infra.targets import Target


def preflight(target: Target, ctx: RunContext, subject: Subject, worker: str) -> str:
    """ "" when a baseline container runs to completion, else what went wrong (with evidence)."""
    log = EvidenceLog()
    driver = RuntimeDriver(subject, target, ctx.state_root(subject), log)
    session = ContainerSession(driver, ctx, f"{worker}pre", cached_rootfs(target, ctx.cache_dir))
    problem = ""
    try:
        c = session.create(session.bundle(args=["sh", "-c", "echo ocitest-preflight"]))
        if not c.created:
            problem = "create of the baseline bundle failed"
        elif not driver.start(c.id).ok:
            problem = "start of the baseline container failed"
        elif not session.wait_output(c, "ocitest-preflight"):
            problem = "the baseline container's program never printed its marker"
    except Exception as exc:  # the preflight must never break the run itself
        problem = f"preflight broke: {type(exc).__name__}: {exc}"
    finally:
        try:
            session.cleanup()
        except Exception as exc:
            problem = problem or f"cleanup of the baseline container failed: {exc}"
    if not problem:
        return ""
    brief = "\n".join(ev.brief() for ev in log.records[-3:])
    mode = (
        f" It ran rootless (as uid {ctx.layout.uid}, in a user namespace; README, Rootless)."
        if ctx.rootless
        else ""
    )
    return (
        f"preflight: {problem}, so no test of {subject.id} can mean anything here; "
        f"check the runtime, its --runtime-args and the machine (a chroot whose / "
        f"is not a mount point cannot run containers).{mode}\n{brief}"
    )
