"""config.md#posix-platform-hooks: the hook entries in depth.

Per kind: the order of its hooks, the state on stdin, the namespace its path resolves
in and the one it runs in; the entry's args, env and timeout; when prestart,
createRuntime and poststart run relative to the container's creation. What each kind
does in the lifecycle (runtime.md) is test_lifecycle_hooks.py's.
"""

from __future__ import annotations

import json

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import LONG_RUNNING, assert_created
from suites.oci_runtime.hooks import bundle_with_hooks, hooks_log, require_hook_kind

KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
#: where each kind's path resolves and where it runs: "runtime" or "container"
PATH_NS = {k: "container" if k == "startContainer" else "runtime" for k in KINDS}
EXEC_NS = {
    k: "container" if k in ("createContainer", "startContainer") else "runtime" for k in KINDS
}
NS_IDS = {
    "prestart": ("config.hooks.prestart-path-runtime-ns", "config.hooks.prestart-runtime-ns"),
    "createRuntime": (
        "config.hooks.create-runtime-path-runtime-ns",
        "config.hooks.create-runtime-runtime-ns",
    ),
    "createContainer": (
        "config.hooks.create-container-path-runtime-ns",
        "config.hooks.create-container-container-ns",
        # its output file is a host path outside the rootfs: reachable only before pivot_root
        "config.hooks.create-container-timing",
    ),
    "startContainer": (
        "config.hooks.start-container-path-container-ns",
        "config.hooks.start-container-container-ns",
    ),
    "poststart": ("config.hooks.poststart-path-runtime-ns", "config.hooks.poststart-runtime-ns"),
    "poststop": ("config.hooks.poststop-path-runtime-ns", "config.hooks.poststop-runtime-ns"),
}
#: a program that runs briefly (so one test can walk the whole lifecycle) and prints its
#: mount namespace (busybox's readlink runs inside the shell: this is the program's own)
BRIEF = ["sh", "-c", "echo ocitest-started; readlink /proc/self/ns/mnt"]


def _file(bundle, kind: str, name: str) -> tuple[str, str]:
    """(path a hook of `kind` writes to, the same file seen from the host): startContainer
    hooks run inside the container, so theirs is in the rootfs."""
    if kind == "startContainer":
        return f"/ocitest-{name}", f"{bundle.rootfs}/ocitest-{name}"
    return (f"{bundle.path}/ocitest-{name}",) * 2


def _sh(script: str, **extra) -> dict:
    return {"path": "/bin/sh", "args": ["sh", "-c", script], **extra}


def _lifecycle(containers, runtime, host, bundle) -> dict:
    """create, start, wait until the program exits, delete. Returns the container's mount
    namespace (as the program printed it) and the runtime results."""
    c = containers.create(bundle)
    assert c.created, "setup: create failed\n" + c.create_result.evidence.brief()
    started = runtime.start(c.id)
    assert started.ok, "setup: start failed\n" + started.evidence.brief()
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    deleted = runtime.delete(c.id)
    assert deleted.ok, "setup: delete failed\n" + deleted.evidence.brief()
    mnt = next((w for w in containers.output(c).split() if w.startswith("mnt:")), "")
    return {"container": c, "mnt": mnt, "results": [c.create_result, started, deleted]}


def _kind_params(ids):
    return [pytest.param(k, marks=pytest.mark.requirement(*ids(k)), id=k) for k in KINDS]


@pytest.mark.parametrize("kind", _kind_params(lambda k: ["config.hooks.order"]))
@pytest.mark.variant("scale-order")
def test_hooks_of_a_kind_are_called_in_the_listed_order(containers, runtime, host, kind):
    require_hook_kind(runtime, kind)
    b = containers.bundle(args=BRIEF)
    inside, outside = _file(b, kind, "order")
    b.config["hooks"] = {kind: [_sh(f"cat >/dev/null; echo {n} >> {inside}") for n in "123"]}
    life = _lifecycle(containers, runtime, host, b)
    seen = (host.read_text(outside) or "").split()
    assert seen == ["1", "2", "3"], violation(
        "config.hooks.order",
        wanted=f"the three {kind} hooks ran in the listed order: 1 2 3",
        seen=f"{outside}: {seen}",
        evidence=life["results"],
    )


@pytest.mark.parametrize("kind", _kind_params(lambda k: ["config.hooks.state-on-stdin"]))
def test_hooks_receive_the_state_on_stdin(containers, runtime, host, kind):
    require_hook_kind(runtime, kind)
    b = containers.bundle(args=BRIEF)
    inside, outside = _file(b, kind, "state")
    b.config["hooks"] = {kind: [_sh(f"cat > {inside}")]}
    life = _lifecycle(containers, runtime, host, b)
    text = host.read_text(outside) or ""
    try:
        state = json.loads(text)
    except ValueError:
        state = None
    cid = life["container"].id
    ok = isinstance(state, dict) and state.get("id") == cid and state.get("bundle") == b.path
    assert ok, violation(
        "config.hooks.state-on-stdin",
        wanted=f"the {kind} hook reads the state on stdin: JSON with id {cid}, bundle {b.path}",
        seen=f"stdin held {text[:300]!r}",
        evidence=life["results"],
    )


@pytest.mark.parametrize("kind", _kind_params(lambda k: NS_IDS[k]))
def test_each_hook_kind_resolves_and_runs_in_its_namespace(containers, runtime, host, kind):
    path_rid, exec_rid = NS_IDS[kind][:2]
    b = containers.bundle(args=BRIEF)
    inside, outside = _file(b, kind, "mntns")
    # the hook program exists only where its path must resolve
    if PATH_NS[kind] == "container":
        program, program_on_host = "/ocitest-hook", f"{b.rootfs}/ocitest-hook"
    else:
        program = program_on_host = f"{b.path}/ocitest-hook"
    host.target.write_text(
        program_on_host, f"#!/bin/sh\ncat >/dev/null\nreadlink /proc/self/ns/mnt > {inside}\n"
    )
    host.target.run(["chmod", "755", program_on_host], timeout=15)
    b.config["hooks"] = {kind: [{"path": program}]}
    life = _lifecycle(containers, runtime, host, b)
    seen = (host.read_text(outside) or "").strip()
    assert seen, violation(
        path_rid,
        wanted=f"the {kind} hook {program} found in the {PATH_NS[kind]} namespace and run",
        seen=f"no output in {outside}",
        evidence=life["results"],
    )
    wanted = life["mnt"] if EXEC_NS[kind] == "container" else host.namespace("self", "mnt")
    assert seen == wanted, violation(
        exec_rid,
        wanted=f"the {kind} hook in the {EXEC_NS[kind]} mount namespace {wanted}",
        seen=f"it ran in {seen} (container {life['mnt']})",
        evidence=life["results"],
    )


@pytest.mark.requirement("config.hooks.args", "config.hooks.env")
def test_a_hook_runs_with_its_args_and_env_exactly(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    argv_file, env_file = f"{b.path}/ocitest-argv", f"{b.path}/ocitest-env"
    script = (
        f'cat >/dev/null; tr "\\0" "\\n" < /proc/$$/cmdline > {argv_file}; '
        f'tr "\\0" "\\n" < /proc/$$/environ > {env_file}'
    )
    args = ["ocitest-argv0", "-c", script, "one", "two words"]
    env = ["OCITEST_HOOK=yes", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": args, "env": env}]}
    c = containers.create(b)
    assert_created(c, "config.hooks.args")
    argv = (host.read_text(argv_file) or "").split("\n")[:-1]
    environ = (host.read_text(env_file) or "").split("\n")[:-1]
    assert argv == args, violation(
        "config.hooks.args",
        wanted=f"the hook's argv {args}",
        seen=f"{argv}",
        evidence=[c.create_result],
    )
    assert environ == env, violation(
        "config.hooks.env",
        wanted=f"the hook's environment exactly {env}",
        seen=f"{environ}",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.hooks.timeout", "runtime.lifecycle.create-runtime-failure")
@pytest.mark.variant("failure-path")
def test_a_hook_past_its_timeout_is_aborted(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    pid_file = f"{b.path}/ocitest-hook-pid"
    b.config["hooks"] = {
        "createRuntime": [_sh(f"cat >/dev/null; echo $$ > {pid_file}; exec sleep 10", timeout=1)]
    }
    c = containers.create(b)
    took = c.create_result.evidence.duration or 0
    pid = (host.read_text(pid_file) or "").strip()
    alive = bool(pid.isdigit() and host.pid_alive(int(pid)))
    assert not c.created and took < 8 and not alive, violation(
        "config.hooks.timeout",
        wanted="the createRuntime hook (sleep 10, timeout 1) aborted after about 1 s: "
        "create fails well before the hook would end, and the hook is gone",
        seen=f"create exit {c.create_result.exit_status} after {took:.1f} s, "
        f"hook pid {pid or '?'} alive: {alive}",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.hooks.prestart-at-start")
def test_prestart_hooks_run_once_start_is_called(containers, runtime, host):
    b = bundle_with_hooks(containers, ["prestart"])
    c = containers.create(b)
    assert_created(c, "config.hooks.prestart-at-start")
    after_create = hooks_log(host, b)
    rr = runtime.start(c.id)
    containers.wait_output(c, "ocitest-started")
    after_start = hooks_log(host, b)
    assert after_create == [] and after_start == ["prestart"], violation(
        "config.hooks.prestart-at-start",
        wanted="(spec 1.0.0, 1.0.1) no prestart hook during create; it runs once start is called",
        seen=f"hooks.log after create {after_create}, after start {after_start}",
        evidence=[c.create_result, rr],
    )


@pytest.mark.requirement(
    "config.hooks.prestart-at-create", "config.hooks.prestart-before-create-runtime"
)
def test_prestart_hooks_run_during_create_before_create_runtime(containers, host):
    b = bundle_with_hooks(containers, ["createRuntime", "prestart"])
    c = containers.create(b)
    log = hooks_log(host, b)
    seen = f"create exit {c.create_result.exit_status}, hooks.log {log}"
    assert c.created and "prestart" in log, violation(
        "config.hooks.prestart-at-create",
        wanted="(spec >= 1.1.0) create exits 0, having run the prestart hook",
        seen=seen,
        evidence=[c.create_result],
    )
    assert log == ["prestart", "createRuntime"], violation(
        "config.hooks.prestart-before-create-runtime",
        wanted="(spec >= 1.1.0) the prestart hook, then the createRuntime hook, once each",
        seen=seen,
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.hooks.create-runtime-timing")
def test_create_runtime_hooks_run_once_the_container_namespaces_exist(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    out = f"{b.path}/ocitest-container-mntns"
    script = (
        'pid=$(sed -n "s/.*\\"pid\\": *\\([0-9]*\\).*/\\1/p"); '
        f'readlink "/proc/$pid/ns/mnt" > {out}'
    )
    b.config["hooks"] = {"createRuntime": [_sh(script)]}
    c = containers.create(b)
    assert_created(c, "config.hooks.create-runtime-timing")
    seen = (host.read_text(out) or "").strip()
    ours = host.namespace("self", "mnt")
    assert seen.startswith("mnt:") and seen != ours, violation(
        "config.hooks.create-runtime-timing",
        wanted="the createRuntime hook finds the container process (pid in its state) in "
        "its own, new mount namespace",
        seen=f"mount namespace {seen!r} (the host's is {ours})",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.hooks.poststart-timing")
def test_poststart_hooks_run_after_the_program_is_executed_before_start_returns(
    containers, runtime, host
):
    b = containers.bundle(args=LONG_RUNNING)
    out = f"{b.path}/ocitest-poststart-cmdline"
    script = (
        'pid=$(sed -n "s/.*\\"pid\\": *\\([0-9]*\\).*/\\1/p"); '
        f'tr "\\0" " " < "/proc/$pid/cmdline" > {out}'
    )
    b.config["hooks"] = {"poststart": [_sh(script)]}
    c = containers.create(b)
    assert_created(c, "config.hooks.poststart-timing")
    before = host.read_text(out)
    rr = runtime.start(c.id)
    seen = host.read_text(out)
    ran_program = bool(seen) and seen.split()[0] in ("sh", "sleep")
    assert before is None and rr.ok and ran_program, violation(
        "config.hooks.poststart-timing",
        wanted="nothing from the poststart hook after create; when start returns, the hook "
        "has run and saw the container process running the program (sh or sleep)",
        seen=f"after create {before!r}, after start {seen!r} (start exit {rr.exit_status})",
        evidence=[c.create_result, rr],
    )
