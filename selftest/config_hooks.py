"""Mutants of area "hooks" (config.md#posix-platform-hooks): hooks out of order, a hook
that never sees the state on stdin, a timeout that is not enforced.

Each edits config.json just before the real runtime's create (see declare.py). The
mutants that skip a kind of hook or ignore failures are in registry.py.
"""

from __future__ import annotations

from selftest.declare import edit_mutant

H = "test_config_hooks.py::"
KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")


@edit_mutant(
    "reverses-hook-order",
    breaks="the hooks of each kind run last to first",
    fails=[f"{H}test_hooks_of_a_kind_are_called_in_the_listed_order[{k}]" for k in KINDS],
    requirements=["config.hooks.order"],
)
def _(cfg: dict) -> bool:
    changed = False
    for hooks in (cfg.get("hooks") or {}).values():
        if len(hooks) > 1:
            hooks.reverse()
            changed = True
    return changed


@edit_mutant(
    "hooks-get-no-state",
    breaks="hooks get an empty stdin instead of the state (sh -c hooks start with exec </dev/null)",
    fails=[
        *(f"{H}test_hooks_receive_the_state_on_stdin[{k}]" for k in KINDS),
        H + "test_create_runtime_hooks_run_once_the_container_namespaces_exist",
    ],
    requirements=["config.hooks.state-on-stdin", "config.hooks.create-runtime-timing"],
)
def _(cfg: dict) -> bool:
    changed = False
    for hooks in (cfg.get("hooks") or {}).values():
        for h in hooks:
            args = h.get("args") or []
            if args[:2] == ["sh", "-c"] and len(args) > 2:
                args[2] = "exec </dev/null; " + args[2]
                changed = True
    return changed


@edit_mutant(
    "ignores-hook-timeout",
    breaks="a hook's timeout is not enforced",
    fails=[H + "test_a_hook_past_its_timeout_is_aborted"],
    requirements=["config.hooks.timeout"],
)
def _(cfg: dict) -> bool:
    found = [
        h.pop("timeout") for hs in (cfg.get("hooks") or {}).values() for h in hs if "timeout" in h
    ]
    return bool(found)
