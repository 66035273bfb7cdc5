"""Variant mutants of the mounts area (config.md mounts, config-linux.md maskedPaths and
readonlyPaths): each breaks one behaviour in one variant class only (reports/variants.py):
a fixed-size table that drops the tail of a long list, a destination already in the
rootfs taken as done. The tests that catch them are in
suites/oci_runtime/test_mount_variants.py. Standard library only (see declare.py).
"""

from __future__ import annotations

import os

from selftest.declare import edit_mutant, runtime_mutant
from selftest.runtime_base import ConfigEditing, _bundle_of

V = "test_mount_variants.py::"
#: the baseline config's mount destinations (infra/images/bundle.py): never touched
BASELINE = {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}


def _truncate(cfg: dict, section: str, key: str, keep: int) -> bool:
    owner = (cfg.get(section) or {}) if section else cfg
    items = owner.get(key) or []
    if len(items) <= keep:
        return False
    owner[key] = items[:keep]
    return True


@edit_mutant(
    "variant-masked-paths-first-eight",
    variant="scale-order",
    breaks="only the first 8 linux.maskedPaths are masked",
    fails=[V + "test_every_path_of_a_long_masked_list_is_unreadable"],
    requirements=["config-linux.masked-paths.unreadable"],
)
def _(cfg: dict) -> bool:
    return _truncate(cfg, "linux", "maskedPaths", 8)


@edit_mutant(
    "variant-readonly-paths-first-eight",
    variant="scale-order",
    breaks="only the first 8 linux.readonlyPaths are made read-only",
    fails=[V + "test_every_path_of_a_long_readonly_list_refuses_writes"],
    requirements=["config-linux.readonly-paths.read-only"],
)
def _(cfg: dict) -> bool:
    return _truncate(cfg, "linux", "readonlyPaths", 8)


@edit_mutant(
    "variant-mount-options-first-four",
    variant="scale-order",
    breaks="only the first 4 options of a mount are applied",
    fails=[V + "test_a_mount_with_many_options_has_every_flag"],
    requirements=["config.mounts.mounted-as-asked"],
)
def _(cfg: dict) -> bool:
    changed = False
    for m in cfg.get("mounts") or []:
        if m.get("destination") not in BASELINE and len(m.get("options") or []) > 4:
            m["options"] = m["options"][:4]
            changed = True
    return changed


@edit_mutant(
    "variant-mounts-first-sixteen",
    variant="scale-order",
    breaks="only the first 16 entries of mounts are mounted",
    fails=[V + "test_every_mount_of_a_long_list_is_mounted"],
    requirements=["config.mounts.mounted-as-asked"],
)
def _(cfg: dict) -> bool:
    return _truncate(cfg, "", "mounts", 16)


@runtime_mutant(
    "variant-bind-over-existing-skipped",
    variant="state-present",
    breaks="a bind mount whose destination already exists in the rootfs is taken as done "
    "and skipped",
    fails=[V + "test_a_bind_mount_over_an_existing_file_shows_the_source"],
    requirements=["config.mounts.mounted-as-asked"],
)
class _(ConfigEditing):
    def edit(self, cfg: dict) -> bool:
        root = (cfg.get("root") or {}).get("path", "rootfs")
        rootfs = os.path.join(_bundle_of(self.args), root)
        kept = [
            m
            for m in cfg.get("mounts") or []
            if m.get("destination") in BASELINE
            or not {"bind", "rbind"} & set(m.get("options") or [])
            or not os.path.lexists(rootfs + "/" + m["destination"].lstrip("/"))
        ]
        if len(kept) == len(cfg.get("mounts") or []):
            return False
        cfg["mounts"] = kept
        return True


def _has_userns(cfg: dict) -> bool:
    return any(n.get("type") == "user" for n in (cfg.get("linux") or {}).get("namespaces", []))


#: how many maskedPaths and readonlyPaths the baseline config has (infra/images/bundle.py)
BASELINE_MASKED, BASELINE_READONLY = 4, 5


@edit_mutant(
    "variant-masked-paths-lost-in-userns",
    variant="privilege",
    breaks="with a user namespace only the baseline's maskedPaths are masked",
    fails=[V + "test_a_masked_path_is_unreadable_in_a_user_namespace"],
    requirements=["config-linux.masked-paths.unreadable"],
)
def _(cfg: dict) -> bool:
    return _has_userns(cfg) and _truncate(cfg, "linux", "maskedPaths", BASELINE_MASKED)


@edit_mutant(
    "variant-readonly-paths-lost-in-userns",
    variant="privilege",
    breaks="with a user namespace only the baseline's readonlyPaths are made read-only",
    fails=[V + "test_a_readonly_path_refuses_writes_in_a_user_namespace"],
    requirements=["config-linux.readonly-paths.read-only"],
)
def _(cfg: dict) -> bool:
    return _has_userns(cfg) and _truncate(cfg, "linux", "readonlyPaths", BASELINE_READONLY)


@edit_mutant(
    "variant-ro-mount-writable-in-userns",
    variant="privilege",
    breaks="with a user namespace the ro option of a mount is not applied",
    fails=[V + "test_a_readonly_mount_is_read_only_in_a_user_namespace"],
    requirements=["config.mounts.mounted-as-asked"],
)
def _(cfg: dict) -> bool:
    if not _has_userns(cfg):
        return False
    changed = False
    for m in cfg.get("mounts") or []:
        if m.get("destination") not in BASELINE and "ro" in (m.get("options") or []):
            m["options"] = [o for o in m["options"] if o != "ro"]
            changed = True
    return changed


@edit_mutant(
    "variant-mounts-reversed-when-many",
    variant="scale-order",
    breaks="more than 8 mounts beyond the baseline's are mounted in reverse order",
    fails=[V + "test_a_long_list_of_nested_mounts_is_mounted_in_order"],
    requirements=["config.mounts.in-order"],
)
def _(cfg: dict) -> bool:
    mounts = cfg.get("mounts") or []
    base = [m for m in mounts if m.get("destination") in BASELINE]
    extra = [m for m in mounts if m.get("destination") not in BASELINE]
    if len(extra) <= 8:
        return False
    cfg["mounts"] = base + extra[::-1]
    return True
