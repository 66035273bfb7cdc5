"""ocitest's infra plugin: options, subject resolution, run context, conditions.

Options follow DESIGN.md (Contracts / Options). Usage errors raise `pytest.UsageError`
with one line, which pytest prints as "ERROR: ..." and exits 4.
On the controller (or a run without xdist) `pytest_configure` resolves the target and
the subjects once; xdist workers receive the result through `workerinput`, so every
process agrees on subject ids, versions and the run id.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time

import pytest

from infra import schemas
from infra.conditions import CONDITIONS, ConditionCache
from infra.run import Layout, RunContext, new_run_id, user_layout
from infra.services import cri_plugin
from infra.subjects import SubjectError, assign_ids, resolve_runtime
from infra.sweep import (
    check_roots,
    device_changes,
    device_snapshot,
    prepare_run,
    prepare_state_root,
    sweep_run,
    sweep_stale,
)
from infra.targets import Target, TargetError, open_target

DEFAULT_RUNTIMES = ("runc", "crun")
_KEY = "ocitest_ctx"

CTX = pytest.StashKey[RunContext]()  # the run context (all processes)
TARGET = pytest.StashKey[Target]()  # the opened target (all processes)
SWEEP = pytest.StashKey[bool]()  # controller: the run's directories exist, sweep at the end
CONDS = pytest.StashKey[ConditionCache]()  # conditions evaluated on this process's target
LEFTOVERS = pytest.StashKey[list]()  # controller: what the end-of-run sweep found
DEVICES = pytest.StashKey[dict]()  # controller: host device nodes at the start


class _RuntimeAction(argparse.Action):
    """--runtime appends [value, []]; --runtime-arg appends to the last --runtime."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        if option_string == "--runtime-arg":
            if not items:  # reported as a one-line usage error in pytest_configure
                items.append((None, [values]))
            else:
                items[-1] = (items[-1][0], [*items[-1][1], values])
        else:
            items.append((values, []))
        setattr(namespace, self.dest, items)


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ocitest", "ocitest subjects and targets")
    g.addoption(
        "--runtime",
        action=_RuntimeAction,
        dest="ocitest_runtimes",
        default=None,
        metavar="NAME|PATH",
        help="OCI runtime to test (repeatable; default: runc and crun found on PATH)",
    )
    g.addoption(
        "--runtime-arg",
        action=_RuntimeAction,
        dest="ocitest_runtimes",
        metavar="ARG",
        help="global argument for the --runtime before it, "
        "e.g. --runtime crun --runtime-arg=--cgroup-manager=cgroupfs",
    )
    g.addoption(
        "--target",
        dest="ocitest_target",
        default="local",
        help="where subjects run: local (default), ssh://..., vagrant:NAME, qemu:IMAGE",
    )
    g.addoption(
        "--schema-dir",
        dest="ocitest_schema_dir",
        default=None,
        metavar="DIR",
        type=_nonempty("--schema-dir"),
        help="runtime-spec schema directory newer than the packaged one",
    )
    cri_plugin.add_options(g)


def _nonempty(option: str):
    def convert(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(f"{option}: empty value")
        return value

    return convert


def _usage(msg: str) -> pytest.UsageError:
    return pytest.UsageError(msg.replace("\n", " "))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _wants_runtimes(config: pytest.Config) -> bool:
    """True unless the run only holds the harness's own tests (tests/)."""
    args = [a for a in config.args if not a.startswith("-")] or ["."]
    root = str(config.rootpath)
    for a in args:
        p = os.path.abspath(os.path.join(str(config.invocation_params.dir), a.split("::")[0]))
        rel = os.path.relpath(p, root)
        if rel == "tests" or rel.startswith("tests" + os.sep) or cri_plugin.only_cri(rel):
            continue
        return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        ctx = RunContext.from_dict(json.loads(config.workerinput[_KEY]))
        config.stash[CTX] = ctx
        config.stash[TARGET] = open_target(ctx.target_spec)
        cri_plugin.configure_worker(config)
        return
    try:
        target = open_target(config.option.ocitest_target)
    except TargetError as exc:
        raise _usage(str(exc)) from None
    try:
        sdir = str(schemas.schema_dir("runtime-spec", config.option.ocitest_schema_dir))
        schemas.check(sdir, ("state-schema.json", "config-schema.json"))
    except schemas.SchemaError as exc:
        raise _usage(str(exc)) from None
    try:
        layout = user_layout(target)
    except OSError as exc:
        raise _usage(str(exc)) from None
    ctx = RunContext(
        run_id=new_run_id(),
        target_spec=target.spec,
        schema_dir=sdir,
        cache_dir=layout.cache,
        layout=layout,
    )
    if _wants_runtimes(config):
        ctx.subjects = _resolve_runtimes(config, target)
    if cri_plugin.wants_cri(config):
        try:
            ctx.subjects += cri_plugin.resolve(config, target)
        except cri_plugin.CriUsageError as exc:
            raise _usage(str(exc)) from None
    if ctx.subjects and not config.option.collectonly:
        problem = _rootless_problem(target, layout) or check_roots(target, layout)
        if problem:
            raise _usage(problem)
    config.stash[CTX] = ctx
    config.stash[TARGET] = target


#: rootless mode needs what the runtimes need: a user namespace mapping our own ids
_USERNS = "unshare --user --map-root-user --mount --pid --fork true"


def _rootless_problem(target: Target, layout: Layout) -> str:
    """ "" for root or a user who can make user namespaces, else why not (one line)."""
    if not layout.rootless:
        return ""
    res = target.run(["sh", "-c", _USERNS], timeout=15)
    if res.exit_status == 0:
        return ""
    why = res.stderr.strip().splitlines()[-1:] or [f"exit status {res.exit_status}"]
    return (
        f"uid {layout.uid} cannot create a user namespace on the target ({why[0]}), "
        "which the runtimes' rootless mode needs: run as root, or enable unprivileged "
        "user namespaces (user.max_user_namespaces)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Controller: sweep what dead runs left, then create this run's directories.

    Done here, not in pytest_configure, so that a usage error found by any plugin's
    pytest_configure leaves nothing behind."""
    config = session.config
    if _is_worker(config) or config.option.collectonly:
        return
    ctx, target = config.stash[CTX], config.stash[TARGET]
    if not ctx.subjects:
        return
    for run, removed in sweep_stale(target, ctx.layout).items():
        if removed:
            print(f"ocitest: swept {len(removed)} leftovers of an earlier run {run}")
    config.stash[SWEEP] = True
    _terminate_as_interrupt()
    config.stash[DEVICES] = device_snapshot(target)
    prepare_run(target, ctx.run_id, os.getpid(), ctx.layout)
    for s in ctx.subjects:
        if s.kind == "runtime":
            prepare_state_root(target, ctx.state_root(s), s.path)
    cri_plugin.start_services(config, target, ctx)


def _terminate_as_interrupt() -> None:
    """SIGTERM (timeout, CI cancellation) ends the run like Ctrl-C: sweep, then report."""

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the group may send it twice
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def _resolve_runtimes(config: pytest.Config, target: Target) -> list:
    requested = config.option.ocitest_runtimes
    explicit = requested is not None
    if not explicit:
        requested = [(name, []) for name in DEFAULT_RUNTIMES]
    if requested and requested[0][0] is None:
        raise _usage(f"--runtime-arg {requested[0][1][0]}: must follow a --runtime")
    seen = set()
    for spec, args in requested:
        if (spec, tuple(args)) in seen:
            raise _usage(f"--runtime {spec}: given twice with the same arguments")
        seen.add((spec, tuple(args)))
    subjects = []
    for spec, args in requested:
        try:
            subjects.append(resolve_runtime(target, spec, args))
        except SubjectError as exc:
            if explicit:
                raise _usage(str(exc)) from None
    if not subjects:
        raise _usage("no OCI runtime found: install runc or crun, or name one with --runtime")
    assign_ids(subjects)
    return subjects


def pytest_configure_node(node) -> None:  # xdist hook, controller side
    node.workerinput[_KEY] = json.dumps(node.config.stash[CTX].to_dict())
    cri_plugin.configure_node(node)


def run_context(config: pytest.Config) -> RunContext:
    return config.stash[CTX]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cri_subject" in metafunc.fixturenames:
        cri = [s for s in metafunc.config.stash[CTX].subjects if s.kind == "cri"]
        metafunc.parametrize("cri_subject", cri, ids=[s.id for s in cri], scope="function")
    if "runtime_subject" in metafunc.fixturenames:
        subjects = [s for s in metafunc.config.stash[CTX].subjects if s.kind == "runtime"]
        metafunc.parametrize(
            "runtime_subject", subjects, ids=[s.id for s in subjects], scope="function"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("requires"):
            unknown = [c for c in mark.args if c not in CONDITIONS]
            if unknown:
                raise _usage(
                    f"{item.nodeid}: unknown condition(s) {unknown} in requires(); "
                    f"known: {', '.join(sorted(CONDITIONS))}"
                )


def pytest_runtest_setup(item: pytest.Item) -> None:
    needed = [c for m in item.iter_markers("requires") for c in m.args]
    if not needed:
        return
    cache = item.config.stash.get(CONDS, None)
    if cache is None:
        cache = item.config.stash[CONDS] = ConditionCache(item.config.stash[TARGET])
    unmet = cache.unmet(needed)
    if unmet:
        pytest.skip("needs " + "; ".join(unmet))


@pytest.fixture(scope="session")
def ocitest_run(pytestconfig: pytest.Config) -> RunContext:
    """The run context (run id, directories, subjects)."""
    return pytestconfig.stash[CTX]


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Target:
    """The target every command of this run goes to."""
    return pytestconfig.stash[TARGET]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Sweep the run (also after Ctrl-C or a dead worker), before reports are written."""
    _sweep(session.config)


def pytest_unconfigure(config: pytest.Config) -> None:
    """A second chance for the sweep when the session never finished normally."""
    _sweep(config)


def _sweep(config: pytest.Config) -> None:
    if _is_worker(config) or not config.stash.get(SWEEP, False):
        return
    config.stash[SWEEP] = False
    ctx, target = config.stash[CTX], config.stash[TARGET]
    removed = cri_plugin.stop_services(config, target, ctx)
    removed += sweep_run(target, ctx.run_id, ctx.layout)
    if removed:
        # an interrupted run may have had a helper or service just starting (spawned before
        # the sweep's scan, writing after it): a second pass a moment later catches it
        time.sleep(1)
        removed += [r for r in sweep_run(target, ctx.run_id, ctx.layout) if r not in removed]
    removed += device_changes(config.stash.get(DEVICES, {}), device_snapshot(target))
    config.stash[LEFTOVERS] = removed
    if removed:
        print(
            f"\nocitest: leak check of run {ctx.run_id}: {len(removed)} problem(s), swept: "
            + "; ".join(removed[:10])
        )


def leftovers(config: pytest.Config) -> list[str]:
    """What the sweeper had to remove at the end of the run (empty: nothing leaked)."""
    return config.stash.get(LEFTOVERS, [])
