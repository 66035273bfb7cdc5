"""Variant mutants of the hooks area (config.md posix-platform-hooks): each breaks one
behaviour in one variant class only (reports/variants.py): a fixed-size table that drops
the tail of a long list, an empty environment taken for "unset". The tests that catch
them are in suites/oci_runtime/test_hook_variants.py. Standard library only (see
declare.py).
"""

from __future__ import annotations

from selftest.declare import edit_mutant

V = "test_hook_variants.py::"


def _hooks(cfg: dict) -> list[dict]:
    return [h for hooks in (cfg.get("hooks") or {}).values() for h in hooks]


def _first_eight(cfg: dict, field: str) -> bool:
    """Cut every hook's `field` list (env, args) to its first 8 entries; whether any was."""
    cut = [h for h in _hooks(cfg) if len(h.get(field) or []) > 8]
    for h in cut:
        h[field] = h[field][:8]
    return bool(cut)


@edit_mutant(
    "variant-hook-env-first-eight",
    variant="scale-order",
    breaks="a hook gets only the first 8 entries of its env",
    fails=[V + "test_a_hook_gets_a_long_environment_whole"],
    requirements=["config.hooks.env"],
)
def _(cfg: dict) -> bool:
    return _first_eight(cfg, "env")


@edit_mutant(
    "variant-hook-empty-env-inherits",
    variant="boundary",
    breaks="a hook whose env is [] is run as if env were absent: with the runtime's own "
    "environment",
    fails=[V + "test_a_hook_with_an_empty_env_gets_an_empty_environment"],
    requirements=["config.hooks.env"],
)
def _(cfg: dict) -> bool:
    changed = False
    for h in _hooks(cfg):
        if h.get("env", None) == []:
            del h["env"]
            changed = True
    return changed


@edit_mutant(
    "variant-hook-args-first-eight",
    variant="scale-order",
    breaks="a hook gets only the first 8 entries of its args",
    fails=[V + "test_a_hook_gets_a_long_argv_whole"],
    requirements=["config.hooks.args"],
)
def _(cfg: dict) -> bool:
    return _first_eight(cfg, "args")


@edit_mutant(
    "variant-hooks-first-eight-of-a-kind",
    variant="scale-order",
    breaks="only the first 8 hooks of a kind run",
    fails=[V + "test_many_hooks_of_a_kind_all_run_in_the_listed_order"],
    requirements=["config.hooks.order"],
)
def _(cfg: dict) -> bool:
    changed = False
    for kind, hooks in (cfg.get("hooks") or {}).items():
        if len(hooks) > 8:
            cfg["hooks"][kind] = hooks[:8]
            changed = True
    return changed


@edit_mutant(
    "variant-hook-env-lost-in-userns",
    variant="privilege",
    breaks="with a user namespace hooks run with the runtime's environment, not their env",
    fails=[V + "test_a_hook_gets_its_env_when_the_container_has_a_user_namespace"],
    requirements=["config.hooks.env"],
)
def _(cfg: dict) -> bool:
    userns = any(n.get("type") == "user" for n in (cfg.get("linux") or {}).get("namespaces", []))
    hooks = [h for h in _hooks(cfg) if "env" in h]
    if not userns or not hooks:
        return False
    for h in hooks:
        del h["env"]
    return True


@edit_mutant(
    "variant-hooks-reversed-when-many",
    variant="scale-order",
    breaks="more than 8 hooks of a kind run in reverse order",
    fails=[V + "test_many_hooks_of_a_kind_all_run_in_the_listed_order"],
    requirements=["config.hooks.order"],
)
def _(cfg: dict) -> bool:
    changed = False
    for kind, hooks in (cfg.get("hooks") or {}).items():
        if len(hooks) > 8:
            cfg["hooks"][kind] = hooks[::-1]
            changed = True
    return changed
