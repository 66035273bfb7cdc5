"""The runtime kind: OCI runtimes driven through their CLI (runtime-spec, runtime.md).

Options (docs/architecture.md, Contracts / Options): `--runtime NAME|PATH` (repeatable; default:
runc and crun, those found on the target's PATH), `--runtime-arg ARG` (a global argument
of the `--runtime` before it), `--schema-dir DIR` (runtime-spec schemas newer than the
packaged ones). Subjects: one per `--runtime`, ids from `assign_ids` (runc, crun,
runc@usr-local-bin, ...). Once per run each subject gets its own state root
(`STATE_BASE/RUN_ID/SUBJECT_ID`, `--root`), which the sweeper knows by its `.runtime` file.
"""

from __future__ import annotations

import argparse

from infra import gobuild, schemas
from infra.kinds.base import Kind, KindUnavailable, KindUsageError
from infra.subjects import Subject, SubjectError, assign_ids, resolve_runtime
from infra.sweep import prepare_state_root

DEFAULT_RUNTIMES = ("runc", "crun")
#: the runtime-spec schemas the tests validate state and config with
SCHEMA_FILES = ("state-schema.json", "config-schema.json")


class _RuntimeAction(argparse.Action):
    """--runtime appends [value, []]; --runtime-arg appends to the last --runtime."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        if option_string == "--runtime-arg":
            if not items:  # reported as a one-line usage error by RuntimeKind.check
                items.append((None, [values]))
            else:
                items[-1] = (items[-1][0], [*items[-1][1], values])
        else:
            items.append((values, []))
        setattr(namespace, self.dest, items)


def _nonempty(option: str):
    def convert(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(f"{option}: empty value")
        return value

    return convert


class RuntimeKind(Kind):
    """OCI runtimes (runc, crun, or a path); fixture `runtime_subject`."""

    name = "runtime"
    fixture = "runtime_subject"

    @classmethod
    def add_options(cls, group) -> None:
        group.addoption(
            "--runtime",
            action=_RuntimeAction,
            dest="ocitest_runtimes",
            default=None,
            metavar="NAME|PATH",
            help="OCI runtime to test (repeatable; default: runc and crun found on PATH, "
            "and the runtimes built at setup, e.g. runc-1.5.3)",
        )
        group.addoption(
            "--runtime-arg",
            action=_RuntimeAction,
            dest="ocitest_runtimes",
            metavar="ARG",
            help="global argument for the --runtime before it, "
            "e.g. --runtime crun --runtime-arg=--cgroup-manager=cgroupfs",
        )
        group.addoption(
            "--schema-dir",
            dest="ocitest_schema_dir",
            default=None,
            metavar="DIR",
            type=_nonempty("--schema-dir"),
            help="runtime-spec schema directory newer than the packaged one",
        )

    def check(self) -> list[Subject] | None:
        """Checks --schema-dir and every --runtime given; records `ctx.schema_dir`
        (the packaged directory, checked only when runtimes are needed, by default)."""
        given = self.options.ocitest_schema_dir
        self.ctx.schema_dir = given or str(
            gobuild.schema_dir("runtime-spec") or schemas.PACKAGED["runtime-spec"]
        )
        requested = self.options.ocitest_runtimes
        if given or requested is not None:
            try:
                self._check_schemas()
            except schemas.SchemaError as exc:
                raise KindUsageError(str(exc)) from None
        if requested is None:
            return None
        if requested[0][0] is None:
            raise KindUsageError(f"--runtime-arg {requested[0][1][0]}: must follow a --runtime")
        seen = set()
        for spec, args in requested:
            if (spec, tuple(args)) in seen:
                raise KindUsageError(f"--runtime {spec}: given twice with the same arguments")
            seen.add((spec, tuple(args)))
        try:
            subjects = [resolve_runtime(self.target, spec, args) for spec, args in requested]
        except SubjectError as exc:
            raise KindUsageError(str(exc)) from None
        assign_ids(subjects)
        return subjects

    def _check_schemas(self) -> None:
        sdir = str(schemas.schema_dir("runtime-spec", self.options.ocitest_schema_dir))
        schemas.check(sdir, SCHEMA_FILES)
        self.ctx.schema_dir = sdir

    def resolve(self) -> list[Subject]:
        """runc and crun, those found on the target's PATH, and the runtimes built at setup
        (infra/gobuild.py, e.g. runc-1.5.3)."""
        try:
            self._check_schemas()
        except schemas.SchemaError as exc:
            raise KindUnavailable(str(exc)) from None
        subjects = []
        for name in (*DEFAULT_RUNTIMES, *gobuild.built_runtimes()):
            try:
                subjects.append(resolve_runtime(self.target, name, []))
            except SubjectError:
                continue
        if not subjects:
            raise KindUnavailable(
                "no OCI runtime found: install runc or crun, or name one with --runtime"
            )
        assign_ids(subjects)
        return subjects

    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        """Each subject's state root, marked with its binary for the sweeper."""
        for s in subjects:
            prepare_state_root(self.target, self.ctx.state_root(s), s.path)
        return None, ""

    def schemas(self) -> dict[str, dict]:
        sdir = self.ctx.schema_dir
        return {"runtime-spec": {"dir": sdir, "version": schemas.schema_version(sdir)}}
