"""The run context: one id and one set of directories per pytest run.

Everything a run creates carries the run id (containers, cgroups, directories) and lives
under our own roots, so the sweeper and the leak check know exactly what is ours:
- /run/ocitest/RUN_ID/SUBJECT_ID/   runtime state roots (`--root`)
- /var/lib/ocitest/runs/RUN_ID/     bundles and container stdio
- /var/cache/ocitest/               the rootfs cache (kept between runs)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import asdict, dataclass, field

from infra.subjects import Subject

STATE_BASE = "/run/ocitest"
WORK_BASE = "/var/lib/ocitest/runs"
CACHE_DIR = os.environ.get("OCITEST_CACHE", "/var/cache/ocitest")


def new_run_id() -> str:
    """A short id for a run: "oct" and 6 hex digits (kept short: it prefixes container ids)."""
    return "oct" + secrets.token_hex(3)


@dataclass
class RunContext:
    """What every process of a run (controller and xdist workers) shares."""

    run_id: str
    target_spec: str
    schema_dir: str
    subjects: list[Subject] = field(default_factory=list)
    cache_dir: str = CACHE_DIR

    @property
    def state_base(self) -> str:
        return f"{STATE_BASE}/{self.run_id}"

    @property
    def work_base(self) -> str:
        return f"{WORK_BASE}/{self.run_id}"

    def state_root(self, subject: Subject) -> str:
        return f"{self.state_base}/{subject.id}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["subjects"] = [s.to_dict() for s in self.subjects]
        return d

    @classmethod
    def from_dict(cls, data: dict) -> RunContext:
        data = dict(data)
        data["subjects"] = [Subject.from_dict(s) for s in data["subjects"]]
        return cls(**data)
