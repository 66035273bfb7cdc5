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
