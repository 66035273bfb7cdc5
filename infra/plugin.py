"""ocitest's infra plugin: options, run context, subject kinds, conditions, the sweep.

Options follow docs/architecture.md (Contracts / Options). Usage errors raise `pytest.UsageError`
with one line, which pytest prints as "ERROR: ..." and exits 4.
On the controller (or a run without xdist) `pytest_configure` opens each target (`--target`
is repeatable; a VM target boots here, once per run), makes one run context per target (a
"lane": its own run id, directories and kind files) and lets every registered subject
kind (infra/kinds/) check its explicitly given options on each; xdist workers receive the
contexts through `workerinput` and attach to the same targets, so every process agrees
on run ids and directories. Subjects are resolved per target and the kinds' fixtures
parametrized with all of them (subject x target; with several targets each id ends with
`@TARGET`), so xdist spreads the tests of every target over its workers. The `target`
and `ocitest_run` fixtures give the lane of the test's subject. Which kinds a run needs follows
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
from infra.subjects import Subject, target_tag
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

CTX = pytest.StashKey[RunContext]()  # the first target's run context (all processes)
TARGET = pytest.StashKey[Target]()  # the first opened target (all processes)
LANES = pytest.StashKey[list]()  # [(RunContext, Target)] per --target, in option order
SWEEP = pytest.StashKey[bool]()  # controller: the run's directories exist, sweep at the end
CONDS = pytest.StashKey[dict]()  # target spec -> conditions evaluated on it (per process)
LEFTOVERS = pytest.StashKey[list]()  # controller: what the end-of-run sweep found
DEVICES = pytest.StashKey[dict]()  # controller: host device nodes at the start
OPENED = pytest.StashKey[list]()  # controller: the targets to close at the end
USED = pytest.StashKey[list]()  # controller: [(lane, {kind name -> KindRun})] of the run


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("ocitest", "ocitest subjects and targets")
    g.addoption(
        "--target",
        dest="ocitest_target",
        action="append",
        default=None,
        help="where subjects run: local (default), ssh://USER@HOST[:PORT], qemu:debian, "
        "qemu:linuxkit, vagrant:NAME (a machine of infra/Vagrantfile); repeatable: one column "
        "per subject and target",
    )
    g.addoption(
        "--keep-vm",
        dest="ocitest_keep_vm",
        action="store_true",
        default=False,
        help="vagrant targets: leave the machine running at the end (it prints how to reach it)",
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


def _kind(config: pytest.Config, name: str, lane: tuple | None = None) -> Kind:
    ctx, target = lane or (config.stash[CTX], config.stash[TARGET])
    return lookup(name)(config.option, target, ctx)


def lanes(config: pytest.Config) -> list[tuple[RunContext, Target]]:
    """(run context, target) of each `--target`, in option order (all processes)."""
    return config.stash[LANES]


def lane_of(config: pytest.Config, params: dict) -> tuple[RunContext, Target]:
    """The lane of a test from its parameters: its subject's target, else the first."""
    all_lanes = config.stash[LANES]
    if len(all_lanes) > 1:
        for value in params.values():
            spec = getattr(value, "target", "") if isinstance(value, Subject) else ""
            for lane in all_lanes:
                if spec and lane[0].target_spec == spec:
                    return lane
    return all_lanes[0]


def target_specs(config: pytest.Config) -> list[str]:
    """The `--target` values (default ["local"]); one given twice is a usage error."""
    specs = config.option.ocitest_target or ["local"]
    for i, spec in enumerate(specs):
        if spec in specs[:i]:
            raise _usage(f"--target {spec}: given twice")
    return specs


def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        opened = []
        for data in json.loads(config.workerinput[_KEY]):
            ctx = RunContext.from_dict(data)
            target = open_target(
                ctx.target_spec, ctx.ssh_key, run_id=ctx.run_id, attach=ctx.attach_spec
            )
            opened.append((ctx, target))
        config.stash[LANES] = opened
        config.stash[CTX], config.stash[TARGET] = opened[0]
        return
    bad = _not_utf8(config.invocation_params.args)
    if bad:
        raise _usage(bad)
    key = config.option.ocitest_ssh_key
    specs = target_specs(config)
    config.stash[OPENED] = opened = []
    config.stash[LANES] = []
    try:
        try:
            rootfs_mode()  # $OCITEST_ROOTFS: a bad value is a usage error before anything runs
            call_timeout()  # $OCITEST_CALL_TIMEOUT likewise
            for spec in specs:
                run_id = new_run_id()
                opened.append(
                    open_target(spec, key, run_id=run_id, keep_vm=config.option.ocitest_keep_vm)
                )
                tag = target_tag(spec) if len(specs) > 1 else ""
                _configure(config, opened[-1], key, run_id, tag=tag)
        except (TargetError, RootfsModeError, CallTimeoutError) as exc:
            raise _usage(str(exc)) from None
    except BaseException:
        del config.stash[OPENED]
        for target in opened:
            target.close()
        raise
    config.stash[CTX], config.stash[TARGET] = config.stash[LANES][0]


def _configure(config: pytest.Config, target: Target, key: str, run_id: str, tag: str) -> None:
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
        tag=tag,
    )
    config.stash[LANES].append((ctx, target))
    for name in KINDS:
        try:
            subjects = _kind(config, name, (ctx, target)).check()
        except KindUsageError as exc:
            raise _usage(f"{exc} (--target {target.spec})" if tag else str(exc)) from None
        if subjects is not None:
            ctx.explicit[name] = subjects
    if not config.option.collectonly:
        problem = _rootless_problem(target, layout) or check_roots(target, layout)
        if problem:
            raise _usage(f"--target {target.spec}: {problem}" if tag else problem)


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
    config.stash[SWEEP] = True
    _terminate_as_interrupt()
    config.stash[DEVICES] = {}
    for ctx, target in lanes(config):
        for run, removed in sweep_stale(target, ctx.layout).items():
            if removed:
                print(f"ocitest: swept {len(removed)} leftovers of an earlier run {run}")
        config.stash[DEVICES][ctx.run_id] = device_snapshot(target)
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
    node.workerinput[_KEY] = json.dumps([ctx.to_dict() for ctx, _ in lanes(node.config)])


def run_context(config: pytest.Config) -> RunContext:
    return config.stash[CTX]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize each kind's fixture with its subjects on every target (resolved on
    first need, per target)."""
    config = metafunc.config
    for fixture, kind in fixtures().items():
        if fixture not in metafunc.fixturenames:
            continue
        params: list = []
        ids: list[str] = []
        for lane in lanes(config):
            # the run's directory exists but with --collect-only (then nothing starts)
            run = runs.resolve(_kind(config, kind.name, lane), share=not config.option.collectonly)
            if run.unavailable:
                params.append(Unavailable(kind.name, run.unavailable))
                ids.append(f"no-{kind.name}" + (f"@{lane[0].tag}" if lane[0].tag else ""))
                continue
            params += run.subjects
            ids += [s.id for s in run.subjects]
        metafunc.parametrize(fixture, params, ids=ids, scope="function")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the services of each kind that a selected test uses (after -k, -m and
    --deselect), once per run."""
    config = session.config
    if config.option.collectonly:
        return
    for fixture, kind in fixtures().items():
        if any(fixture in getattr(item, "fixturenames", ()) for item in session.items):
            for lane in lanes(config):
                runs.start(_kind(config, kind.name, lane))


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
    ctx, target = lane_of(item.config, params)
    caches = item.config.stash.setdefault(CONDS, {})
    cache = caches.get(ctx.target_spec)
    if cache is None:
        cache = caches[ctx.target_spec] = ConditionCache(target)
    unmet = cache.unmet(needed)
    if unmet:
        pytest.skip("needs " + "; ".join(unmet))


def _params(request: pytest.FixtureRequest) -> dict:
    return getattr(getattr(request.node, "callspec", None), "params", {})


@pytest.fixture
def ocitest_run(request: pytest.FixtureRequest) -> RunContext:
    """The run context (run id, directories) of the test's target (its subject's)."""
    return lane_of(request.config, _params(request))[0]


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Target:
    """The target the test's commands go to: its subject's (the first `--target` for a
    test without a subject)."""
    return lane_of(request.config, _params(request))[1]


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
            for target in opened:
                _close(target)


def _close(target: Target) -> None:
    try:
        target.close()
    except Exception as exc:  # the other targets must still close
        print(f"\nocitest: closing --target {target.spec} failed: {exc}")


def _sweep(config: pytest.Config) -> None:
    if _is_worker(config) or not config.stash.get(SWEEP, False):
        return
    config.stash[SWEEP] = False
    config.stash[USED] = []
    config.stash[LEFTOVERS] = []
    for lane in lanes(config):
        ctx = lane[0]
        removed = _sweep_lane(config, lane)
        where = f" on {ctx.target_spec}" if ctx.tag else ""
        config.stash[LEFTOVERS] += [f"{r}{where}" for r in removed]
        if removed:
            print(
                f"\nocitest: leak check of run {ctx.run_id}{where}: {len(removed)} problem(s), "
                "swept: " + "; ".join(removed[:10])
            )


def _sweep_lane(config: pytest.Config, lane: tuple[RunContext, Target]) -> list[str]:
    ctx, target = lane
    used = runs.load_all(ctx, list(KINDS))
    config.stash[USED].append((lane, used))
    removed: list[str] = []
    for name, run in used.items():
        removed += _kind(config, name, lane).stop(run.subjects, run.services)
    removed += sweep_run(target, ctx.run_id, ctx.layout)
    if removed:
        # an interrupted run may have had a helper or service just starting (spawned before
        # the sweep's scan, writing after it): a second pass a moment later catches it
        time.sleep(1)
        removed += [r for r in sweep_run(target, ctx.run_id, ctx.layout) if r not in removed]
    before = config.stash.get(DEVICES, {}).get(ctx.run_id, {})
    removed += device_changes(before, device_snapshot(target))
    if ctx.remote:
        shutil.rmtree(ctx.control_base, ignore_errors=True)
    return removed


def used_kinds(config: pytest.Config) -> list[tuple[tuple, dict[str, runs.KindRun]]]:
    """Controller, after the sweep: per target, its lane and kind name -> its run, for
    the kinds the run used there."""
    return config.stash.get(USED, [])


def kind_schemas(config: pytest.Config) -> dict[str, dict]:
    """The schema sets of the kinds the run used (the report's schemas block)."""
    out: dict[str, dict] = {}
    for lane, used in used_kinds(config):
        for name, run in used.items():
            if run.subjects:
                out.update(_kind(config, name, lane).schemas())
    return out


def subject_facts(config: pytest.Config) -> list[dict]:
    """The report's subject objects of the kinds the run used: kinds in registry order,
    each kind's subjects target by target."""
    order = list(KINDS)
    facts = [
        (order.index(name) if name in order else len(order), _kind(config, name, lane).facts(s))
        for lane, used in used_kinds(config)
        for name, run in used.items()
        for s in run.subjects
    ]
    return [f for _, f in sorted(facts, key=lambda pair: pair[0])]


def target_facts(config: pytest.Config) -> list[dict]:
    """The report's targets block: spec, host facts and the names of the logs (`target_logs`)
    of each `--target`. A target that no longer answers gives "?" facts."""
    out = []
    for ctx, target in lanes(config):
        try:
            facts = target.facts()
        except Exception as exc:  # a lost VM must not cost the report
            facts = {"hostname": f"? ({type(exc).__name__})"}
        out.append({"spec": ctx.target_spec, "facts": facts, "logs": sorted(target.logs())})
    return out


def target_logs(config: pytest.Config) -> dict[str, str]:
    """Report file name -> local path of every target's logs (a VM's console)."""
    return {name: path for _, target in lanes(config) for name, path in target.logs().items()}


def leftovers(config: pytest.Config) -> list[str]:
    """What the sweeper had to remove at the end of the run (empty: nothing leaked)."""
    return config.stash.get(LEFTOVERS, [])
