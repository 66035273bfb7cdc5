"""runtime.md#lifecycle steps 3-13: when each kind of hook runs, and what a failing one does.

The hooks log their names (suites/oci_runtime/hooks.py), so the tests can tell what ran
before what. Hook order, stdin state, timeouts and namespaces in depth are
test_config_hooks.py's (config.md#posix-platform-hooks).
"""

from __future__ import annotations

import pytest

from suites.messages import requirement_headers, violation
from suites.oci_runtime.helpers import assert_created
from suites.oci_runtime.hooks import bundle_with_hooks, hooks_log, logging_hook, require_hook_kind


@pytest.mark.requirement("runtime.lifecycle.prestart-invoked")
def test_prestart_hook_runs_before_the_program(containers, runtime, host):
    b = bundle_with_hooks(containers, ["prestart"])
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.prestart-invoked")
    rr = runtime.start(c.id)
    containers.wait_output(c, "ocitest-started")
    log = hooks_log(host, b)
    assert rr.ok and log == ["prestart"], violation(
        "runtime.lifecycle.prestart-invoked",
        wanted="the prestart hook ran once by start",
        seen=f"hooks.log {log}",
        evidence=[c.create_result, rr],
    )


@pytest.mark.requirement(
    "runtime.lifecycle.create-runtime-invoked",
    "runtime.lifecycle.create-container-invoked",
    "config.hooks.create-container-after-create-runtime",
)
def test_create_hooks_run_during_create_in_order(containers, host):
    b = bundle_with_hooks(containers, ["createContainer", "createRuntime"])
    c = containers.create(b)
    log = hooks_log(host, b)
    seen = f"exit status {c.create_result.exit_status}, hooks.log {log}"
    assert c.created and "createRuntime" in log, violation(
        "runtime.lifecycle.create-runtime-invoked",
        wanted="create exits 0, having run the createRuntime hook",
        seen=seen,
        evidence=[c.create_result],
    )
    assert "createContainer" in log, violation(
        "runtime.lifecycle.create-container-invoked",
        wanted="create has run the createContainer hook",
        seen=seen,
        evidence=[c.create_result],
    )
    assert log == ["createRuntime", "createContainer"], violation(
        "config.hooks.create-container-after-create-runtime",
        wanted="createRuntime, then createContainer, once each",
        seen=seen,
        evidence=[c.create_result],
    )


@pytest.mark.requirement(
    "runtime.lifecycle.start-container-invoked", "config.hooks.start-container-timing"
)
def test_start_container_hook_runs_at_start_before_the_program(containers, runtime, host):
    b = bundle_with_hooks(
        containers,
        ["startContainer"],
        args=["sh", "-c", "echo ocitest-started; cat /hooks.log; exec sleep 100000"],
    )
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.start-container-invoked")
    before = hooks_log(host, b)
    rr = runtime.start(c.id)
    containers.wait_output(c, "ocitest-started")
    containers.wait_for(
        "the program printed its output", lambda: containers.output(c).count("\n") >= 2
    )
    out = containers.output(c)
    assert before == [], violation(
        "config.hooks.start-container-timing",
        wanted="no startContainer hook run by create (it belongs to start)",
        seen=f"hooks.log after create {before}",
        evidence=[c.create_result],
    )
    if rr.ok and "startContainer" not in out:  # not run, or run after the program began?
        late = containers.wait_for(
            "the startContainer hook logged", lambda: "startContainer" in hooks_log(host, b), 5
        )
        assert not late, violation(
            "config.hooks.start-container-timing",
            wanted="the hook runs before the program: the program's cat /hooks.log shows it",
            seen=f"the program printed {out!r}; the hook logged only afterwards",
            evidence=[rr],
        )
    assert rr.ok and "startContainer" in out, violation(
        "runtime.lifecycle.start-container-invoked",
        wanted="no hook output after create; after start the program sees /hooks.log",
        seen=f"after create {before}, start exit {rr.exit_status}, program stdout {out!r}",
        evidence=[c.create_result, rr],
    )


@pytest.mark.requirement("runtime.lifecycle.poststart-invoked")
def test_poststart_hook_runs_after_start(containers, runtime, host):
    b = bundle_with_hooks(containers, ["poststart"])
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.poststart-invoked")
    before = hooks_log(host, b)
    rr = runtime.start(c.id)
    ran = containers.wait_for(
        "poststart wrote hooks.log", lambda: hooks_log(host, b) == ["poststart"]
    )
    assert before == [] and rr.ok and ran, violation(
        "runtime.lifecycle.poststart-invoked",
        wanted="poststart not run by create; run once after start",
        seen=f"after create {before}, after start {hooks_log(host, b)}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.lifecycle.poststop-invoked", "config.hooks.poststop-timing")
def test_poststop_hook_runs_at_delete(containers, runtime, host):
    b = bundle_with_hooks(containers, ["poststop"], args=["sh", "-c", "echo ocitest-started"])
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.poststop-invoked")
    assert runtime.start(c.id).ok
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    before = hooks_log(host, b)
    rr = runtime.delete(c.id)
    after = hooks_log(host, b)
    assert before == [], violation(
        "config.hooks.poststop-timing",
        wanted="no poststop hook run before delete",
        seen=f"hooks.log before delete {before}",
        evidence=[rr],
    )
    if rr.ok and not after:  # not run, or run after delete returned?
        late = containers.wait_for("the poststop hook logged", lambda: bool(hooks_log(host, b)), 5)
        assert not late, violation(
            "config.hooks.poststop-timing",
            wanted="the poststop hook has run when delete returns",
            seen=f"hooks.log empty when delete returned, later {hooks_log(host, b)}",
            evidence=[rr],
        )
    assert before == [] and rr.ok and after == ["poststop"], violation(
        "runtime.lifecycle.poststop-invoked",
        wanted="poststop not run before delete; run once by delete",
        seen=f"before delete {before}, after {after}",
        evidence=[rr],
    )


FAILING = [
    ("prestart", "runtime.lifecycle.prestart-failure"),
    ("createRuntime", "runtime.lifecycle.create-runtime-failure"),
    ("createContainer", "runtime.lifecycle.create-container-failure"),
    ("startContainer", "runtime.lifecycle.start-container-failure"),
]


def _run_with_failing_hook(containers, runtime, kind):
    """(container, results, the operation whose exit status reported the failure or None)."""
    b = bundle_with_hooks(containers, [kind], failing=kind)
    c = containers.create(b)
    results = [c.create_result]
    failed_at = "create" if not c.created else None
    if c.created:
        rr = runtime.start(c.id)
        results.append(rr)
        failed_at = "start" if not rr.ok else None
    return c, results, failed_at


@pytest.mark.parametrize(
    "kind", [pytest.param(k, marks=pytest.mark.requirement(rid), id=k) for k, rid in FAILING]
)
@pytest.mark.variant("failure-path")
def test_a_failing_hook_stops_the_container_before_the_program(containers, runtime, kind):
    # "generate an error" as runtime.md#errors defines it: its effect (the container
    # stopped, the program never run); how it is exposed is the MAY test below
    rid = dict(FAILING)[kind]
    c, results, failed_at = _run_with_failing_hook(containers, runtime, kind)
    # runc's start returns once the init is released; the init runs startContainer hooks
    # after that and stops when one fails: wait for that (bounded), then look
    containers.wait_for(
        f"{c.id} is stopped or gone after the failing {kind} hook",
        lambda: (containers.state(c.id) or {"status": "stopped"}).get("status") == "stopped",
    )
    state = containers.state(c.id)
    status = state.get("status") if state else "(gone)"
    out = containers.output(c)
    assert status in ("(gone)", "stopped") and "ocitest-started" not in out, violation(
        rid,
        wanted=f"the {kind} hook exits 3: the container is stopped or gone; the program never ran",
        seen=f"status {status}, stdout {out!r} (failed at: {failed_at or 'neither'})",
        evidence=results,
    )


@pytest.mark.parametrize("kind", [k for k, _ in FAILING])
@pytest.mark.requirement("runtime.lifecycle.hook-failure-reported")
@pytest.mark.variant("failure-path")
def test_the_operation_a_hook_fails_in_exits_non_zero(containers, runtime, kind):
    require_hook_kind(runtime, kind)
    _, results, failed_at = _run_with_failing_hook(containers, runtime, kind)
    assert failed_at, violation(
        "runtime.lifecycle.hook-failure-reported",
        wanted=f"create or start exits non-zero because the {kind} hook exits 3",
        seen="both exit 0",
        evidence=results,
    )


@pytest.mark.requirement("runtime.lifecycle.poststart-failure-warns")
@pytest.mark.variant("failure-path")
def test_a_failing_poststart_hook_only_warns(containers, runtime):
    b = bundle_with_hooks(containers, ["poststart"], failing="poststart")
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.poststart-failure-warns")
    rr = runtime.start(c.id)
    ran = containers.wait_output(c, "ocitest-started")
    status = (containers.state(c.id) or {}).get("status")
    assert rr.ok and ran and status == "running", violation(
        "runtime.lifecycle.poststart-failure-warns",
        wanted="start exits 0 and the container keeps running (a failing poststart hook only warns)",
        seen=f"start exit {rr.exit_status}, program ran: {ran}, status {status!r}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.lifecycle.poststart-failure-errors")
@pytest.mark.variant("failure-path")
def test_a_failing_poststart_hook_is_an_error(containers, runtime):
    b = bundle_with_hooks(containers, ["poststart"], failing="poststart")
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.poststart-failure-errors")
    rr = runtime.start(c.id)
    stopped = containers.wait_for(
        "the container stopped or went away",
        lambda: (containers.state(c.id) or {"status": "stopped"}).get("status") == "stopped",
    )
    assert not rr.ok and stopped, violation(
        "runtime.lifecycle.poststart-failure-errors",
        wanted="start fails and the container is stopped (failing poststart hook, spec >= 1.3.0)",
        seen=f"start exit {rr.exit_status}, stopped: {stopped}",
        evidence=[rr],
    )


@pytest.mark.requirement("runtime.lifecycle.poststop-failure-warns", "runtime.warnings.continue")
@pytest.mark.variant("failure-path")
def test_a_failing_poststop_hook_only_warns(containers, runtime, host):
    b = containers.bundle(args=["sh", "-c", "echo ocitest-started"])
    b.config["hooks"] = {
        "poststop": [logging_hook(b, "poststop", fail=True), logging_hook(b, "poststop-second")]
    }
    c = containers.create(b)
    assert_created(c, "runtime.lifecycle.poststop-failure-warns")
    assert runtime.start(c.id).ok
    assert containers.wait_status(c.id, "stopped"), "setup: the program did not exit"
    rr = runtime.delete(c.id)
    st = runtime.state(c.id)
    log = hooks_log(host, b)
    assert rr.ok and not st.ok and log == ["poststop", "poststop-second"], (
        violation(
            "runtime.lifecycle.poststop-failure-warns",
            wanted="delete exits 0, the container is gone, and the second poststop hook ran",
            seen=f"delete exit {rr.exit_status}, state exit {st.exit_status}, hooks.log {log}",
            evidence=[rr, st],
        )
        + "\n"
        + requirement_headers(["runtime.warnings.continue"])
    )
