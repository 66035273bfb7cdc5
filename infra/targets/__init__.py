"""Where tests run: a registry of target kinds, each giving a testinfra host.

A target spec is what `--target` takes: `local` (the default), later `ssh://...`,
`vagrant:NAME`, `qemu:IMAGE`. `open_target(spec)` returns a `Target`; an unknown or not
yet supported kind raises `TargetError`, which the plugin turns into a usage error.
"""

from __future__ import annotations

from infra.targets.base import CommandResult, Target, TargetError
from infra.targets.local import LocalTarget

#: kind -> class; a new kind is one class and one entry.
TARGET_KINDS: dict[str, type[Target]] = {"local": LocalTarget}

#: kinds the contract names that no class serves yet, with what is missing.
PLANNED_KINDS = {
    "ssh": "the ssh target is not implemented yet",
    "vagrant": "the vagrant target is not implemented yet",
    "qemu": "the qemu target is not implemented yet",
}


def open_target(spec: str) -> Target:
    """Return the target for `spec`.

    Raises:
        TargetError: the spec is malformed or names a kind that is not available.
    """
    kind = spec.split(":", 1)[0] if spec else ""
    if kind in TARGET_KINDS:
        return TARGET_KINDS[kind](spec)
    if kind in PLANNED_KINDS:
        raise TargetError(f"--target {spec}: {PLANNED_KINDS[kind]}; use --target local")
    known = ", ".join(sorted(TARGET_KINDS))
    raise TargetError(f"--target {spec!r}: unknown target kind (known: {known})")


__all__ = ["CommandResult", "Target", "TargetError", "open_target"]
