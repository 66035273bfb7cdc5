"""Variant mutants of the namespaces and devices areas (config-linux.md sysctl, devices):
each breaks one behaviour in one variant class only (reports/variants.py). The tests
that catch them are in suites/oci_runtime/test_namespace_variants.py. Standard library
only (see declare.py).
"""

from __future__ import annotations

from selftest.declare import edit_mutant

V = "test_namespace_variants.py::"


@edit_mutant(
    "variant-sysctl-lost-in-userns",
    variant="privilege",
    breaks="with a user namespace linux.sysctl is not applied",
    fails=[V + "test_sysctls_are_set_in_a_user_namespace"],
    requirements=["config-linux.sysctl.applied"],
)
def _(cfg: dict) -> bool:
    linux = cfg.get("linux") or {}
    userns = any(n.get("type") == "user" for n in linux.get("namespaces", []))
    if not userns or not linux.get("sysctl"):
        return False
    del linux["sysctl"]
    return True


@edit_mutant(
    "variant-devices-first-four",
    variant="scale-order",
    breaks="only the first 4 linux.devices are created",
    fails=[V + "test_every_device_of_a_long_list_is_created"],
    requirements=["config-linux.devices.available"],
)
def _(cfg: dict) -> bool:
    devices = (cfg.get("linux") or {}).get("devices") or []
    if len(devices) <= 4:
        return False
    cfg["linux"]["devices"] = devices[:4]
    return True


@edit_mutant(
    "variant-device-minor-zero-skipped",
    variant="boundary",
    breaks="a linux.devices entry whose minor number is 0 is skipped (0 taken for 'unset')",
    fails=[V + "test_a_device_with_minor_zero_is_created"],
    requirements=["config-linux.devices.available"],
)
def _(cfg: dict) -> bool:
    devices = (cfg.get("linux") or {}).get("devices") or []
    kept = [d for d in devices if d.get("type") == "p" or d.get("minor", 0) != 0]
    if len(kept) == len(devices):
        return False
    cfg["linux"]["devices"] = kept
    return True
