"""Mutants of mount options and process fields that runtime-spec added in 1.1.0 and
later (bind, rbind, rprivate, tmpcopyup; execCPUAffinity; prestart at create): the
tests of those requirements run only against a runtime that declares such a version,
so each mutant also declares 1.3.0 (@edit_mutant(claims=...)); its baseline is the
claims mutant of its base, which declares 1.3.0 and does what the base does.

Each edits config.json just before the real runtime's create (see declare.py).
"""

from __future__ import annotations

from selftest.config_hooks import _deferred
from selftest.declare import edit_mutant

MO = "test_mount_options.py::"


def _mounts_with(cfg: dict, option: str) -> list[dict]:
    return [m for m in cfg.get("mounts") or [] if option in (m.get("options") or [])]


def _replace_option(cfg: dict, old: str, new: str, alone: bool = False) -> bool:
    """Replace `old` by `new` in each mount's options (`alone`: only where `old` is its
    only option)."""
    changed = False
    for m in _mounts_with(cfg, old):
        if alone and m["options"] != [old]:
            continue
        m["options"] = [new if o == old else o for o in m["options"]]
        changed = True
    return changed


@edit_mutant(
    "rprivate-as-private",
    breaks="mount option rprivate makes only the mount itself private, not its submounts",
    fails=[MO + "test_propagation_mount_option_is_applied[rprivate]"],
    requirements=["config.mounts.option-rprivate"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _replace_option(cfg, "rprivate", "private")


@edit_mutant(
    "bind-as-rbind",
    breaks="mount option bind makes a recursive bind mount (submounts carried along)",
    fails=[MO + "test_bind_mount_carries_submounts_only_when_recursive[bind]"],
    requirements=["config.mounts.option-bind"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _replace_option(cfg, "bind", "rbind")


@edit_mutant(
    "lone-rbind-as-bind",
    breaks="a mount whose only option is rbind is made as a plain bind (submounts left out)",
    fails=[MO + "test_bind_mount_carries_submounts_only_when_recursive[rbind]"],
    requirements=["config.mounts.option-rbind"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _replace_option(cfg, "rbind", "bind", alone=True)


@edit_mutant(
    "ignores-tmpcopyup",
    breaks="mount option tmpcopyup is dropped: the tmpfs starts empty",
    fails=[MO + "test_tmpcopyup_fills_the_tmpfs_with_the_directory_content"],
    requirements=["config.mounts.option-tmpcopyup"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    mounts = _mounts_with(cfg, "tmpcopyup")
    for m in mounts:
        m["options"] = [o for o in m["options"] if o != "tmpcopyup"]
    return bool(mounts)


@edit_mutant(
    "exec-cpu-affinity-on-init",
    breaks="execCPUAffinity.final is applied to the init process too (taskset)",
    fails=["test_process_linux.py::test_exec_cpu_affinity_leaves_the_init_process_alone"],
    requirements=["config.process.exec-cpu-affinity-not-init"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    process = cfg.get("process") or {}
    final = (process.get("execCPUAffinity") or {}).get("final")
    if final is None or not process.get("args"):
        return False
    process["args"] = ["taskset", "-c", final, *process["args"]]  # busybox's taskset
    return True


@edit_mutant(
    "prestart-hooks-deferred",
    breaks="prestart hooks run in the background, 2 s after create returned",
    fails=[
        "test_config_hooks.py::test_prestart_hooks_run_during_create_before_create_runtime",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[prestart]",
    ],
    requirements=["config.hooks.prestart-at-create"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    return _deferred(cfg, "prestart")


@edit_mutant(
    "prestart-hooks-after-create-runtime",
    breaks="prestart hooks run after the createRuntime hooks (as createRuntime hooks)",
    fails=["test_config_hooks.py::test_prestart_hooks_run_during_create_before_create_runtime"],
    requirements=["config.hooks.prestart-before-create-runtime"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    hooks = cfg.get("hooks") or {}
    if not (hooks.get("prestart") and hooks.get("createRuntime")):
        return False
    hooks["createRuntime"] = hooks["createRuntime"] + hooks.pop("prestart")
    return True


@edit_mutant(
    "devices-outside-dev-skipped",
    breaks="a linux.devices entry whose path is outside /dev is left out",
    fails=["test_devices.py::test_device_may_live_outside_dev"],
    requirements=["config-linux.devices.any-path"],
    claims="1.3.0",
)
def _(cfg: dict) -> bool:
    devices = (cfg.get("linux") or {}).get("devices") or []
    kept = [d for d in devices if d.get("path", "").startswith("/dev/")]
    if len(kept) == len(devices):
        return False
    cfg["linux"]["devices"] = kept
    return True
