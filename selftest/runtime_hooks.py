"""Runtime mutants of runtime.md's lifecycle hooks (prestart, createRuntime,
createContainer, startContainer, poststart, poststop): hooks skipped, failures ignored.

Declared as declare.py says; standard library only (runtime_mutant.py imports this
module under the system python with -I).
"""

from __future__ import annotations

from selftest.declare import edit_mutant, runtime_mutant
from selftest.runtime_base import ConfigEditing


@edit_mutant(
    "skips-poststop-hooks",
    breaks="poststop hooks never run",
    fails=[
        "test_lifecycle_hooks.py::test_poststop_hook_runs_at_delete",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[poststop]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[poststop]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[poststop]",
    ],
    requirements=[
        "runtime.lifecycle.poststop-invoked",
        "config.hooks.poststop-path-runtime-ns",
        "config.hooks.order",
        "config.hooks.state-on-stdin",
    ],
)
def _(cfg: dict) -> bool:
    """poststop hooks never run (dropped from config.json for create)."""
    return bool(cfg.get("hooks", {}).pop("poststop", None))


@edit_mutant(
    "skips-prestart-hooks",
    breaks="prestart hooks never run",
    fails=[
        "test_lifecycle_hooks.py::test_prestart_hook_runs_before_the_program",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[prestart]",
        "test_lifecycle_hooks.py::test_the_operation_a_hook_fails_in_exits_non_zero[prestart]",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[prestart]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[prestart]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[prestart]",
    ],
    requirements=[
        "runtime.lifecycle.prestart-invoked",
        "runtime.lifecycle.prestart-failure",
        "config.hooks.prestart-path-runtime-ns",
    ],
)
def _(cfg: dict) -> bool:
    """prestart hooks never run (dropped from config.json for create)."""
    return bool(cfg.get("hooks", {}).pop("prestart", None))


@edit_mutant(
    "skips-create-runtime-hooks",
    breaks="createRuntime hooks never run",
    fails=[
        "test_lifecycle_hooks.py::test_create_hooks_run_during_create_in_order",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createRuntime]",
        "test_lifecycle_hooks.py::test_the_operation_a_hook_fails_in_exits_non_zero[createRuntime]",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[createRuntime]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[createRuntime]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[createRuntime]",
        "test_config_hooks.py::test_a_hook_past_its_timeout_is_aborted",
        "test_config_hooks.py::test_a_hook_runs_with_its_args_and_env_exactly",
        "test_config_hooks.py::test_create_runtime_hooks_run_once_the_container_namespaces_exist",
        "test_features.py::test_every_listed_hook_runs",
    ],
    requirements=[
        "features.hooks-supported",
        "runtime.lifecycle.create-runtime-failure",
        "config.hooks.create-runtime-path-runtime-ns",
        "config.hooks.args",
        "config.hooks.create-runtime-timing",
        "runtime.lifecycle.create-runtime-invoked",
    ],
)
def _(cfg: dict) -> bool:
    """createRuntime hooks never run (dropped from config.json for create)."""
    return bool(cfg.get("hooks", {}).pop("createRuntime", None))


@edit_mutant(
    "skips-create-container-hooks",
    breaks="createContainer hooks never run",
    fails=[
        "test_lifecycle_hooks.py::test_create_hooks_run_during_create_in_order",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createContainer]",
        "test_lifecycle_hooks.py::test_the_operation_a_hook_fails_in_exits_non_zero[createContainer]",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[createContainer]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[createContainer]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[createContainer]",
    ],
    requirements=[
        "runtime.lifecycle.create-container-invoked",
        "runtime.lifecycle.create-container-failure",
        "config.hooks.create-container-path-runtime-ns",
    ],
)
def _(cfg: dict) -> bool:
    """createContainer hooks never run (dropped from config.json for create)."""
    return bool(cfg.get("hooks", {}).pop("createContainer", None))


@edit_mutant(
    "skips-start-container-hooks",
    breaks="startContainer hooks never run",
    fails=[
        "test_lifecycle_hooks.py::test_start_container_hook_runs_at_start_before_the_program",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[startContainer]",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[startContainer]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[startContainer]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[startContainer]",
    ],
    requirements=[
        "runtime.lifecycle.start-container-invoked",
        "config.hooks.start-container-path-container-ns",
    ],
)
def _(cfg: dict) -> bool:
    """startContainer hooks never run (dropped from config.json for create)."""
    return bool(cfg.get("hooks", {}).pop("startContainer", None))


@runtime_mutant(
    "ignores-hook-failures",
    breaks="a failing hook is treated as a successful one",
    fails=[
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[prestart]",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createRuntime]",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createContainer]",
        "test_lifecycle_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[startContainer]",
        "test_lifecycle_hooks.py::test_the_operation_a_hook_fails_in_exits_non_zero[prestart]",
        "test_lifecycle_hooks.py::test_the_operation_a_hook_fails_in_exits_non_zero[createRuntime]",
        "test_lifecycle_hooks.py::test_the_operation_a_hook_fails_in_exits_non_zero[createContainer]",
        "test_config_hooks.py::test_a_hook_past_its_timeout_is_aborted",
        "test_config_hooks.py::test_a_hook_runs_with_its_args_and_env_exactly",
    ],
    requirements=[
        "runtime.lifecycle.prestart-failure",
        "runtime.lifecycle.create-runtime-failure",
        "runtime.lifecycle.create-container-failure",
        "runtime.lifecycle.start-container-failure",
        "runtime.lifecycle.hook-failure-reported",
    ],
    also_passes=[
        "test_lifecycle_hooks.py::test_a_failing_poststart_hook_only_warns",
        "test_lifecycle_hooks.py::test_a_failing_poststop_hook_only_warns",
    ],
)
class IgnoresHookFailures(ConfigEditing):
    """Every hook's failure is ignored (each hook is wrapped to exit 0)."""

    def edit(self, cfg: dict) -> bool:
        hooks = cfg.get("hooks") or {}
        for entries in hooks.values():
            for h in entries:
                args = h.get("args") or [h["path"]]
                h["args"] = ["sh", "-c", '"$0" "$@"; exit 0', h["path"], *args[1:]]
                h["path"] = "/bin/sh"
        return bool(hooks)


@edit_mutant(
    "skips-poststart-hooks",
    breaks="poststart hooks never run",
    fails=[
        "test_lifecycle_hooks.py::test_poststart_hook_runs_after_start",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[poststart]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[poststart]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[poststart]",
        "test_config_hooks.py::test_poststart_hooks_run_after_the_program_is_executed_before_start_returns",
    ],
    requirements=[
        "runtime.lifecycle.poststart-invoked",
        "config.hooks.poststart-path-runtime-ns",
        "config.hooks.poststart-timing",
    ],
    base="crun",
)
def _(cfg: dict) -> bool:
    """poststart hooks never run (dropped from config.json for create)."""
    return bool(cfg.get("hooks", {}).pop("poststart", None))


@runtime_mutant(
    "stops-at-failing-poststop",
    breaks="poststop hooks after a failing one never run",
    fails=[
        "test_lifecycle_hooks.py::test_a_failing_poststop_hook_only_warns",
    ],
    requirements=[
        "runtime.lifecycle.poststop-failure-warns",
    ],
    base="crun",
)
class StopsAtFailingPoststop(ConfigEditing):
    """After the first failing poststop hook, the remaining ones never run."""

    def edit(self, cfg: dict) -> bool:
        hooks = cfg.get("hooks", {}).get("poststop") or []
        failing = [i for i, h in enumerate(hooks) if "exit 3" in " ".join(h.get("args", []))]
        if not failing or failing[0] == len(hooks) - 1:
            return False
        cfg["hooks"]["poststop"] = hooks[: failing[0] + 1]
        return True


@edit_mutant(
    "hook-env-not-exact",
    breaks="a hook with env also gets a variable of the runtime's own",
    fails=[
        "test_config_hooks.py::test_a_hook_runs_with_its_args_and_env_exactly",
    ],
    requirements=[
        "config.hooks.env",
    ],
)
def _(cfg: dict) -> bool:
    """Every hook that has env gets HOME=/root added (as if the runtime merged its own)."""
    changed = False
    for hooks in (cfg.get("hooks") or {}).values():
        for hook in hooks:
            if hook.get("env"):
                hook["env"] = [*hook["env"], "HOME=/root"]
                changed = True
    return changed
