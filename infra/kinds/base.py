"""A subject kind: one small class per kind of thing under test (runtime, cri, ...).

The shape follows pytest-testinfra's backends: a plain registry (infra/kinds/__init__.py)
of small classes. A kind supplies its options, the fixture its tests take, how its
subjects are resolved, the services it starts and stops once per run, the schemas it
validates with and the facts the report prints about each subject. Nothing outside a
kind's own module branches on the kind's name.

When each method is called, and by which process (see infra/plugin.py):
- `add_options` (class method): every process, while pytest reads its options.
- `check`: the controller, in pytest_configure, for every registered kind: explicitly
  given options are checked here (a bad value is a usage error, exit 4); what they name
  may be resolved here and then travels to the workers in the run context.
- `resolve`: the first process of the run whose collection meets the kind's fixture
  (pytest_generate_tests; an xdist worker, or the only process), under the run's file
  lock; the subjects are written to the run directory and every other process reads them.
- `start`: once deselection (-k, -m, --deselect) is done (pytest_collection_finish), by
  the first process whose selected tests use the kind, under the same lock; likewise
  recorded and read by the others.
- `stop`, `schemas`, `facts`: the controller at the end of the run, for the kinds that
  some selected test used (infra/kinds/runs.py records which).
"""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from infra.run import RunContext
from infra.subjects import Subject
from infra.targets import Target


class KindUsageError(Exception):
    """An explicitly given option of the kind is wrong (one line; the run exits 4)."""


class KindUnavailable(Exception):
    """The kind's default subjects cannot be resolved here (one line naming what is
    missing); every test of the kind ends as `error` with it."""


class Kind:
    """Base class of a subject kind. Subclasses set `name` and `fixture`.

    An instance lives in one process and holds the parsed options, the target and the
    run context; it keeps no state of its own between calls (what it resolved and
    started is a `KindRun`, see infra/kinds/runs.py).

    Attributes:
        name: the kind's name, also `Subject.kind` ("runtime", "cri").
        fixture: the test argument parametrized with its subjects ("runtime_subject").
    """

    name: ClassVar[str] = ""
    fixture: ClassVar[str] = ""

    def __init__(self, options: argparse.Namespace, target: Target, ctx: RunContext) -> None:
        self.options = options
        self.target = target
        self.ctx = ctx

    @classmethod
    def add_options(cls, group: Any) -> None:
        """Add the kind's command-line options to pytest's option `group`."""

    def check(self) -> list[Subject] | None:
        """Controller, at start: check the explicitly given options.

        Returns the subjects they name (resolved now, so that bad input is a usage
        error before anything runs), or None when no option was given and `resolve`
        is to find the defaults if a collected test needs them. May record run-wide
        settings of the kind in the run context (the runtime kind: `schema_dir`).

        Raises:
            KindUsageError: an option is wrong.
        """
        return None

    def resolve(self) -> list[Subject]:
        """The default subjects (no option given), with unique ids.

        Raises:
            KindUnavailable: none can be resolved here (one line naming what is missing).
        """
        raise NotImplementedError

    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        """Start what the kind's tests need once per run (may update `subjects` in place,
        e.g. with versions the started service reports).

        Returns (services as a JSON-able dict or None, why they could not start or "").
        Must not raise for a service that fails: the tests report the reason."""
        return None, ""

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        """Stop what `start` started; return what had to be removed by force."""
        return []

    def schemas(self) -> dict[str, dict]:
        """The schema sets the kind validates with, for the report's schemas block:
        spec name -> {"dir": path, "version": version}."""
        return {}

    def facts(self, subject: Subject) -> dict:
        """The subject object of results.json (reports/schemas/results.schema.json)."""
        return subject.summary()


class Unavailable:
    """The parameter a kind's fixture gets when its subjects could not be resolved:
    the test ends as `error` with `reason` before it runs (infra/plugin.py)."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unavailable({self.kind!r})"
