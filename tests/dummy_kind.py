"""A test-only subject kind, loaded with `-p tests.dummy_kind` (tests/test_kinds.py).

It shows what a new kind is: one small class and its registration. Its one subject
needs nothing on the host; its "service" is a file in the run's work directory, created
once per run and removed at the end; each start is also logged to STARTS_LOG in the
working directory, for the test to count.
"""

from __future__ import annotations

import os

from infra.kinds import Kind, register
from infra.subjects import Subject

STARTS_LOG = "dummy-starts.log"


class DummyKind(Kind):
    """One subject, `dummy-one`; fixture `dummy_subject`."""

    name = "dummy"
    fixture = "dummy_subject"

    def resolve(self) -> list[Subject]:
        return [Subject(kind=self.name, id="dummy-one", name="dummy", version="1.0")]

    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        path = os.path.join(self.ctx.work_base, "dummy-service")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"started by pid {os.getpid()}\n")
        with open(STARTS_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"{self.ctx.run_id} {os.getpid()}\n")
        return {"path": path}, ""

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        if services:
            os.remove(services["path"])
        return []

    def schemas(self) -> dict[str, dict]:
        return {"dummy-spec": {"dir": "", "version": "0.1"}}


register(DummyKind)
