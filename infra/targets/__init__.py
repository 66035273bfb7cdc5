"""Where tests run: a registry of target kinds, each giving a testinfra host.

A target spec is what `--target` takes: `local` (the default), `ssh://USER@HOST[:PORT]`,
`vagrant:NAME`, `qemu:IMAGE`. `open_target(spec, ...)` returns a `Target`; an
unknown or not yet supported kind, or a host that does not answer, raises `TargetError`,
which the plugin turns into a usage error.
"""

from __future__ import annotations

from infra.targets.base import CommandResult, Target, TargetError
from infra.targets.local import LocalTarget
from infra.targets.qemu import QemuTarget
from infra.targets.ssh import SshTarget
from infra.targets.vagrant import VagrantTarget

#: kind -> class; a new kind is one class and one entry.
TARGET_KINDS: dict[str, type[Target]] = {
    "local": LocalTarget, "ssh": SshTarget, "qemu": QemuTarget, "vagrant": VagrantTarget,
}  # fmt: skip

#: kinds the contract names that no class serves yet, with what is missing.
PLANNED_KINDS: dict[str, str] = {}


def open_target(
    spec: str, ssh_key: str = "", run_id: str = "", attach: str = "", keep_vm: bool = False
) -> Target:
    """Return the target for `spec`; `ssh_key`: private key file for ssh targets ("":
    OCITEST_SSH_KEY, else the agent). A VM kind (qemu, vagrant) boots its VM, named after
    `run_id`, unless `attach` gives the `ssh://` spec of the one the controller booted;
    `keep_vm`: a vagrant machine is left running at the end.

    Raises:
        TargetError: the spec is malformed or names a kind that is not available.
    """
    kind = spec.split(":", 1)[0] if spec else ""
    if kind == "ssh":
        return SshTarget(spec, ssh_key)
    if kind == "qemu":
        return QemuTarget(spec, run_id=run_id, attach=attach, key=ssh_key)
    if kind == "vagrant":
        return VagrantTarget(spec, run_id=run_id, attach=attach, key=ssh_key, keep=keep_vm)
    if kind in TARGET_KINDS:
        return TARGET_KINDS[kind](spec)
    if kind in PLANNED_KINDS:
        raise TargetError(f"--target {spec}: {PLANNED_KINDS[kind]}; use --target local")
    known = ", ".join(sorted(TARGET_KINDS))
    raise TargetError(f"--target {spec!r}: unknown target kind (known: {known})")


__all__ = ["CommandResult", "Target", "TargetError", "open_target"]
