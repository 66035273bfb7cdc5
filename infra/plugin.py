"""ocitest's infra plugin: options, run context, subject kinds, conditions, the sweep.

Options follow docs/architecture.md (Contracts / Options). Usage errors raise `pytest.UsageError`
with one line, which pytest prints as "ERROR: ..." and exits 4.
On the controller (or a run without xdist) `pytest_configure` opens the target, makes
the run context and lets every registered subject kind (infra/kinds/) check its
explicitly given options; xdist workers receive the context through `workerinput`, so
every process agrees on the run id and directories. Which kinds a run needs follows
from the collected tests: the first time `pytest_generate_tests` meets a kind's fixture,
the kind's subjects are resolved; once deselection (-k, -m) is done, the services of
the kinds that selected tests use are started; each step once per run, under a file
lock (infra/kinds/runs.py). The controller stops those services and sweeps the run at
the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time

import pytest

from infra.conditions import CONDITIONS, ConditionCache
from infra.drivers import CallTimeoutError, call_timeout
from infra.images.rootfs import RootfsModeError, rootfs_mode
from infra.kinds import KINDS, Kind, KindUsageError, Unavailable, fixtures, lookup, runs
from infra.run import Layout, RunContext, new_run_id, user_layout
from infra.sweep import (
    check_roots,
    device_changes,
    device_snapshot,
    prepare_run,
    sweep_run,
    sweep_stale,
)
from infra.targets import Target, TargetError, open_target

_KEY = "ocitest_ctx"

CTX = pytest.StashKey[RunContext]()  # the run context (all processes)
TARGET = pytest.StashKey[Target]()  # the opened target (all processes)
SWEEP = pytest.StashKey[bool]()  # controller: the run's directories exist, sweep at the end
CONDS = pytest.StashKey[ConditionCache]()  # conditions evaluated on this process's target
LEFTOVERS = pytest.StashKey[list]()  # controller: what the end-of-run sweep found
DEVICES = pytest.StashKey[dict]()  # controller: host device nodes at the start
OPENED = pytest.StashKey[Target]()  # controller: the target to close at the end
USED = pytest.StashKey[dict]()  # controller: kind name -> KindRun of the kinds the run used


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ocitest", "ocitest subjects and targets")
    g.addoption(
        "--target",
        dest="ocitest_target",
        default="local",
        help="where subjects run: local (default), ssh://USER@HOST[:PORT], qemu:debian",
    )
    g.addoption(
        "--ssh-key",
        dest="ocitest_ssh_key",
        default="",
        help="private key for an ssh target (default: $OCITEST_SSH_KEY, else the ssh agent)",
    )
    for kind in KINDS.values():
        kind.add_options(g)


def _usage(msg: str) -> pytest.UsageError:
    return pytest.UsageError(msg.replace("\n", " "))


def _not_utf8(args) -> str:
    """Why an option value of `args` is unusable ("" when none is): bytes that are not
    UTF-8 (a surrogate escape) cannot go into a path, URL, RPC or report."""
    args = [str(a) for a in args]
    for i, a in enumerate(args):
        try:
            a.encode("utf-8")
        except UnicodeEncodeError:
            if a.startswith("--") and "=" in a:
                flag, a = a.split("=", 1)
            elif i and args[i - 1].startswith("-"):
                flag = args[i - 1]
            else:
                continue  # a path for pytest to collect: its business
            shown = a.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return f"{flag} {shown}: not UTF-8 text"
    return ""


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _kind(config: pytest.Config, name: str) -> Kind:
    return lookup(name)(config.option, config.stash[TARGET], config.stash[CTX])


def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        ctx = RunContext.from_dict(json.loads(config.workerinput[_KEY]))
        config.stash[CTX] = ctx
        config.stash[TARGET] = open_target(
            ctx.target_spec, ctx.ssh_key, run_id=ctx.run_id, attach=ctx.attach_spec
        )
        return
    bad = _not_utf8(config.invocation_params.args)
    if bad:
        raise _usage(bad)
    key = config.option.ocitest_ssh_key
    run_id = new_run_id()
    try:
        target = open_target(config.option.ocitest_target, key, run_id=run_id)
        rootfs_mode()  # $OCITEST_ROOTFS: a bad value is a usage error before anything runs
        call_timeout()  # $OCITEST_CALL_TIMEOUT likewise
    except (TargetError, RootfsModeError, CallTimeoutError) as exc:
        raise _usage(str(exc)) from None
    config.stash[OPENED] = target
    try:
        _configure(config, target, key, run_id)
    except BaseException:
        del config.stash[OPENED]
        target.close()
        raise


def _configure(config: pytest.Config, target: Target, key: str, run_id: str) -> None:
    try:
        layout = user_layout(target)
    except OSError as exc:
        raise _usage(str(exc)) from None
    ctx = RunContext(
        run_id=run_id,
        target_spec=target.spec,
        cache_dir=layout.cache,
        layout=layout,
        ssh_key=getattr(target, "key", key),
        remote=target.remote,
        attach_spec=getattr(target, "attach_spec", ""),
    )
    config.stash[CTX], config.stash[TARGET] = ctx, target
    for name in KINDS:
        try:
            subjects = _kind(config, name).check()
        except KindUsageError as exc:
            raise _usage(str(exc)) from None
        if subjects is not None:
            ctx.explicit[name] = subjects
    if not config.option.collectonly:
        problem = _rootless_problem(target, layout) or check_roots(target, layout)
        if problem:
            raise _usage(problem)


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
    pytest_configure leaves nothing behind. Always done (but with --collect-only): which
    kinds the run needs is known only once the workers have collected."""
    config = session.config
    if _is_worker(config) or config.option.collectonly:
        return
    ctx, target = config.stash[CTX], config.stash[TARGET]
    for run, removed in sweep_stale(target, ctx.layout).items():
        if removed:
            print(f"ocitest: swept {len(removed)} leftovers of an earlier run {run}")
    config.stash[SWEEP] = True
    _terminate_as_interrupt()
    config.stash[DEVICES] = device_snapshot(target)
    prepare_run(target, ctx.run_id, target.owner_pid(), ctx.layout)
    if ctx.remote:
        os.makedirs(ctx.control_base, exist_ok=True)


def _terminate_as_interrupt() -> None:
    """SIGTERM (timeout, CI cancellation) ends the run like Ctrl-C: sweep, then report."""

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: the group may send it twice
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def pytest_configure_node(node) -> None:  # xdist hook, controller side
    node.workerinput[_KEY] = json.dumps(node.config.stash[CTX].to_dict())


def run_context(config: pytest.Config) -> RunContext:
    return config.stash[CTX]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize each kind's fixture with its subjects (resolved on first need)."""
    config = metafunc.config
    for fixture, kind in fixtures().items():
        if fixture not in metafunc.fixturenames:
            continue
        # the run's directory exists but with --collect-only (then nothing starts)
        run = runs.resolve(_kind(config, kind.name), share=not config.option.collectonly)
        if run.unavailable:
            metafunc.parametrize(
                fixture,
                [Unavailable(kind.name, run.unavailable)],
                ids=[f"no-{kind.name}"],
                scope="function",
            )
            continue
        ids = [s.id for s in run.subjects]
        metafunc.parametrize(fixture, run.subjects, ids=ids, scope="function")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the services of each kind that a selected test uses (after -k, -m and
    --deselect), once per run."""
    config = session.config
    if config.option.collectonly:
        return
    for fixture, kind in fixtures().items():
        if any(fixture in getattr(item, "fixturenames", ()) for item in session.items):
            runs.start(_kind(config, kind.name))


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
    """A kind without subjects ends its tests as error; unmet conditions skip."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    for value in params.values():
        if isinstance(value, Unavailable):
            pytest.fail(f"no {value.kind} subject: {value.reason}", pytrace=False)
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
    """A second chance for the sweep when the session never finished normally; then
    the target is closed (its connection, its VM)."""
    try:
        _sweep(config)
    finally:
        opened = config.stash.get(OPENED, None)
        if opened is not None and not _is_worker(config):
            del config.stash[OPENED]
            opened.close()


def _sweep(config: pytest.Config) -> None:
    if _is_worker(config) or not config.stash.get(SWEEP, False):
        return
    config.stash[SWEEP] = False
    ctx, target = config.stash[CTX], config.stash[TARGET]
    used = runs.load_all(ctx, list(KINDS))
    config.stash[USED] = used
    removed: list[str] = []
    for name, run in used.items():
        removed += _kind(config, name).stop(run.subjects, run.services)
    removed += sweep_run(target, ctx.run_id, ctx.layout)
    if removed:
        # an interrupted run may have had a helper or service just starting (spawned before
        # the sweep's scan, writing after it): a second pass a moment later catches it
        time.sleep(1)
        removed += [r for r in sweep_run(target, ctx.run_id, ctx.layout) if r not in removed]
    removed += device_changes(config.stash.get(DEVICES, {}), device_snapshot(target))
    if ctx.remote:
        shutil.rmtree(ctx.control_base, ignore_errors=True)
    config.stash[LEFTOVERS] = removed
    if removed:
        print(
            f"\nocitest: leak check of run {ctx.run_id}: {len(removed)} problem(s), swept: "
            + "; ".join(removed[:10])
        )


def used_kinds(config: pytest.Config) -> dict[str, runs.KindRun]:
    """Controller, after the sweep: kind name -> its run, for the kinds the run used."""
    return config.stash.get(USED, {})


def kind_schemas(config: pytest.Config) -> dict[str, dict]:
    """The schema sets of the kinds the run used (the report's schemas block)."""
    out: dict[str, dict] = {}
    for name, run in used_kinds(config).items():
        if run.subjects:
            out.update(_kind(config, name).schemas())
    return out


def subject_facts(config: pytest.Config) -> list[dict]:
    """The report's subject objects of the kinds the run used, in registry order."""
    return [
        _kind(config, name).facts(s)
        for name, run in used_kinds(config).items()
        for s in run.subjects
    ]


def leftovers(config: pytest.Config) -> list[str]:
    """What the sweeper had to remove at the end of the run (empty: nothing leaked)."""
    return config.stash.get(LEFTOVERS, [])
