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


@edit_mutant(
    "hooks-in-a-private-mount-ns",
    breaks="hooks given as a path alone run in a mount namespace of their own (unshare -m)",
    fails=[f"{H}test_each_hook_kind_resolves_and_runs_in_its_namespace[{k}]" for k in KINDS],
    requirements=[
        "config.hooks.prestart-runtime-ns",
        "config.hooks.create-runtime-runtime-ns",
        "config.hooks.create-container-container-ns",
        "config.hooks.poststart-runtime-ns",
        "config.hooks.poststop-runtime-ns",
    ],
)
def _(cfg: dict) -> bool:
    changed = False
    for hooks in (cfg.get("hooks") or {}).values():
        for h in hooks:
            if h.get("path") and not h.get("args"):
                # /bin/unshare: util-linux on the host, busybox's applet in the rootfs
                h["args"] = ["unshare", "-m", h["path"]]
                h["path"] = "/bin/unshare"
                changed = True
    return changed


L = "test_lifecycle_hooks.py::"


@edit_mutant(
    "create-container-hooks-first",
    breaks="createContainer hooks run before the createRuntime hooks",
    fails=[L + "test_create_hooks_run_during_create_in_order"],
    requirements=["config.hooks.create-container-after-create-runtime"],
)
def _(cfg: dict) -> bool:
    hooks = cfg.get("hooks") or {}
    if not (hooks.get("createRuntime") and hooks.get("createContainer")):
        return False
    hooks["createRuntime"] = hooks.pop("createContainer") + hooks["createRuntime"]
    return True


def _deferred(cfg: dict, kind: str) -> bool:
    """Make each succeeding `kind` sh -c hook read its state, then do its work 2 s
    later in the background (a failing one, "exit N", is left alone)."""
    changed = False
    for h in (cfg.get("hooks") or {}).get(kind) or []:
        args = h.get("args") or []
        if args[:2] == ["sh", "-c"] and len(args) > 2 and "exit" not in args[2]:
            args[2] = f'st=$(cat); (sleep 2; echo "$st" | {{ {args[2]}; }}) >/dev/null 2>&1 &'
            changed = True
    return changed


@edit_mutant(
    "poststop-hooks-after-delete",
    breaks="poststop hooks run in the background, after delete has returned",
    fails=[L + "test_poststop_hook_runs_at_delete"],
    requirements=["config.hooks.poststop-timing"],
)
def _(cfg: dict) -> bool:
    return _deferred(cfg, "poststop")


@edit_mutant(
    "start-container-hooks-after-the-program",
    breaks="startContainer hooks run in the background, so the program starts before them",
    fails=[L + "test_start_container_hook_runs_at_start_before_the_program"],
    requirements=["config.hooks.start-container-timing"],
)
def _(cfg: dict) -> bool:
    return _deferred(cfg, "startContainer")
