"""What each kind resolved and started in a run, shared by every process of the run.

Two steps, each done once per run by the first process that gets there, holding the
run's file lock (fcntl.flock), and recorded in `STATE_BASE/RUN_ID/kind-NAME.json`; the
other processes (xdist workers) wait for the lock and read that file:
- `resolve`: when collection first meets the kind's fixture (pytest_generate_tests), the
  subjects, so that every process parametrizes with the same subject ids;
- `start`: after deselection (-k, -m, --deselect), when a selected test uses the kind:
  its services, once per run (docs/architecture.md, Runs under xdist).
The controller reads the files at the end of the run to stop the services and to list
the subjects of the kinds the selected tests `needed` in the report. The files sit at the
top of the run's state directory, which the sweeper removes; for a remote target (ssh,
VMs) in the harness's own CONTROL_BASE/RUN_ID (`RunContext.control_base`), which the
controller removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from infra.kinds.base import Kind, KindUnavailable
from infra.run import RunContext
from infra.subjects import Subject

LOCK_NAME = "kinds.lock"
#: (run id, kind name) -> the kind's run, as this process knows it
_RUNS: dict[tuple[str, str], KindRun] = {}


@dataclass
class KindRun:
    """One kind's part of a run.

    Attributes:
        kind: the kind's name.
        subjects: its subjects (empty when `unavailable`).
        needed: a selected test uses the kind (its services were started for it).
        services: what its `start` returned (JSON-able), or None.
        error: why its services did not start, or "" (its fixtures report it).
        unavailable: why no subject could be resolved, or "" (its tests end as error).
    """

    kind: str
    subjects: list[Subject] = field(default_factory=list)
    needed: bool = False
    services: dict | None = None
    error: str = ""
    unavailable: str = ""

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "subjects": [s.to_dict() for s in self.subjects],
            "needed": self.needed,
            "services": self.services,
            "error": self.error,
            "unavailable": self.unavailable,
        }

    @classmethod
    def from_dict(cls, data: dict) -> KindRun:
        data = dict(data)
        data["subjects"] = [Subject.from_dict(s) for s in data["subjects"]]
        return cls(**data)


def kind_file(ctx: RunContext, name: str) -> str:
    """Where the run records kind `name`."""
    return os.path.join(ctx.control_base, f"kind-{name}.json")


def resolve(kind: Kind, *, share: bool) -> KindRun:
    """The run of `kind` in this process: its subjects, resolved by the first process
    that asks and read by the others.

    `share`: the run's directory exists (False under --collect-only): resolve under the
    lock and share the result; else resolve for this process only."""
    key = (kind.ctx.run_id, kind.name)
    if key not in _RUNS:
        if share:
            with _locked(kind.ctx):
                _RUNS[key] = _read(kind) or _write(kind, _resolve(kind))
        else:
            _RUNS[key] = _resolve(kind)
    return _RUNS[key]


def start(kind: Kind) -> KindRun:
    """Mark `kind` needed by the run and start its services, once per run (the first
    process to ask starts them; the others read what it recorded)."""
    key = (kind.ctx.run_id, kind.name)
    with _locked(kind.ctx):
        run = _read(kind) or _resolve(kind)
        if not run.needed:
            run.needed = True
            if not run.unavailable:
                # recorded before the services start, so that an interrupted start still
                # leaves the subjects for the (incomplete) report
                run.error = f"the {kind.name} services were still starting when the run ended"
                _write(kind, run)
                _start(kind, run)
            _write(kind, run)
    cached = _RUNS.get(key)
    if cached is None:
        _RUNS[key] = run
        return run
    # the tests were parametrized with the cached subjects: give them what the start
    # learnt (the endpoint of an embedded service, its version)
    started = {s.id: s for s in run.subjects}
    for s in cached.subjects:
        if s.id in started:
            vars(s).update(vars(started[s.id]))
    cached.needed, cached.services, cached.error = run.needed, run.services, run.error
    return cached


@contextlib.contextmanager
def _locked(ctx: RunContext) -> Iterator[None]:
    with open(os.path.join(ctx.control_base, LOCK_NAME), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _read(kind: Kind) -> KindRun | None:
    try:
        with open(kind_file(kind.ctx, kind.name), encoding="utf-8") as fh:
            return KindRun.from_dict(json.load(fh))
    except FileNotFoundError:
        return None


def _write(kind: Kind, run: KindRun) -> KindRun:
    path = kind_file(kind.ctx, kind.name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(run.to_dict(), fh)
    os.replace(tmp, path)
    return run


def _resolve(kind: Kind) -> KindRun:
    subjects = kind.ctx.explicit.get(kind.name)
    if subjects is None:
        try:
            subjects = kind.resolve()
        except KindUnavailable as exc:
            return KindRun(kind.name, unavailable=str(exc).replace("\n", " "))
    subjects = [Subject.from_dict(s.to_dict()) for s in subjects]  # the context's stay as given
    for s in subjects:  # every subject knows its target; with several, its id says it
        s.target = kind.ctx.target_spec
        if kind.ctx.tag:
            s.id = f"{s.id}@{kind.ctx.tag}"
    return KindRun(kind.name, subjects)


def _start(kind: Kind, run: KindRun) -> None:
    try:
        run.services, run.error = kind.start(run.subjects)
    except Exception as exc:  # a kind's start must not break collection
        run.services = None
        run.error = f"the {kind.name} services did not start: {type(exc).__name__}: {exc}"


def current(ctx: RunContext, name: str) -> KindRun | None:
    """The run of kind `name` in this process, or None when no test has needed it yet."""
    return _RUNS.get((ctx.run_id, name))


def load_all(ctx: RunContext, names: list[str]) -> dict[str, KindRun]:
    """Controller, end of run: the recorded runs of the kinds of `names` that a selected
    test needed, in `names` order."""
    out = {}
    for name in names:
        try:
            with open(kind_file(ctx, name), encoding="utf-8") as fh:
                run = KindRun.from_dict(json.load(fh))
        except FileNotFoundError:
            continue
        if run.needed:
            out[name] = run
    return out
