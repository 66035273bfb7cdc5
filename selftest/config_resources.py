"""Mutants of area "resources" (config-linux.md#control-groups): a runtime that ignores a
limit, puts the container in another cgroup, or applies the device allowlist backwards.

Each edits config.json just before the real runtime's create (see declare.py).
"""

from __future__ import annotations

import json
import os
import subprocess

from selftest.declare import edit_mutant, runtime_mutant
from selftest.runtime_base import TIMEOUT, ConfigEditing, Wrapper, _bundle_of, _root

P = "test_resources_pids.py::"
M = "test_resources_memory.py::"
C = "test_cgroups.py::"


def _resources(cfg: dict) -> dict:
    return (cfg.get("linux") or {}).get("resources") or {}


@edit_mutant(
    "ignores-pids-limit",
    breaks="linux.resources.pids is not applied",
    fails=[
        P + "test_pids_limit_becomes_the_cgroup_pids_max",
        P + "test_a_fork_past_the_pids_limit_fails",
    ],
    requirements=["config-linux.pids.limit"],
)
def _(cfg: dict) -> bool:
    return _resources(cfg).pop("pids", None) is not None


@edit_mutant(
    "ignores-memory-limit",
    breaks="a positive memory.limit (and memory.swap with it) is not applied",
    fails=[
        M + "test_memory_limit_becomes_the_cgroup_limit",
        M + "test_a_process_over_the_memory_limit_is_killed",
        M + "test_memory_swap_becomes_the_memory_and_swap_limit",
    ],
    requirements=[
        "config-linux.memory.limit",
        "config-linux.memory.limit-enforced",
        "config-linux.memory.swap",
    ],
)
def _(cfg: dict) -> bool:
    memory = _resources(cfg).get("memory") or {}
    if (memory.get("limit") or 0) <= 0:
        return False
    memory.pop("limit")
    memory.pop("swap", None)
    return True


@edit_mutant(
    "ignores-cpu-quota",
    breaks="cpu.quota and cpu.period are not applied",
    fails=["test_resources_cpu.py::test_cpu_quota_and_period_become_the_bandwidth_limit"],
    requirements=["config-linux.cpu.quota-period"],
)
def _(cfg: dict) -> bool:
    cpu = _resources(cfg).get("cpu") or {}
    return bool([cpu.pop(k) for k in ("quota", "period") if k in cpu])


@edit_mutant(
    "wrong-cgroups-path",
    breaks="the container's cgroup is made beside cgroupsPath (PATH-elsewhere), not at it",
    fails=[
        C + "test_absolute_cgroups_path_is_taken_from_the_cgroup_mount",
        C + "test_an_existing_cgroup_at_cgroups_path_is_joined",
        C + "test_relative_cgroups_path_is_placed_by_the_runtime",
    ],
    requirements=[
        "config-linux.cgroups.path-absolute-from-mount",
        "config-linux.cgroups.created-if-missing",
        "config-linux.cgroups.path-relative",
    ],
)
def _(cfg: dict) -> bool:
    linux = cfg.get("linux") or {}
    if not linux.get("cgroupsPath"):
        return False
    linux["cgroupsPath"] += "-elsewhere"
    return True


@edit_mutant(
    "reverses-device-allowlist",
    breaks="linux.resources.devices entries are applied last to first",
    fails=[
        C + "test_a_denied_device_cannot_be_opened_even_if_its_node_exists",
        C + "test_device_allowlist_entries_apply_in_the_listed_order",
    ],
    requirements=[
        "config-linux.devices-cgroup.applied",
        "config-linux.devices-cgroup.listed-order",
    ],
)
def _(cfg: dict) -> bool:
    devices = _resources(cfg).get("devices") or []
    if len(devices) < 2:
        return False
    devices.reverse()
    return True


def _pop(cfg: dict, section: str, key: str) -> bool:
    part = _resources(cfg).get(section) or {}
    return part.pop(key, None) is not None


@edit_mutant(
    "ignores-memory-reservation",
    breaks="memory.reservation is not applied",
    fails=[M + "test_memory_reservation_becomes_the_soft_limit"],
    requirements=["config-linux.memory.reservation"],
)
def _(cfg: dict) -> bool:
    return _pop(cfg, "memory", "reservation")


@edit_mutant(
    "ignores-memory-swappiness",
    breaks="memory.swappiness is not applied",
    fails=[M + "test_memory_swappiness_becomes_the_cgroup_swappiness"],
    requirements=["config-linux.memory.swappiness"],
)
def _(cfg: dict) -> bool:
    return _pop(cfg, "memory", "swappiness")


@edit_mutant(
    "ignores-disable-oom-killer",
    breaks="memory.disableOOMKiller is not applied",
    fails=[M + "test_disable_oom_killer_turns_the_oom_killer_off"],
    requirements=["config-linux.memory.disable-oom-killer"],
)
def _(cfg: dict) -> bool:
    return _pop(cfg, "memory", "disableOOMKiller")


@edit_mutant(
    "memory-minus-one-as-a-limit",
    breaks="a memory.limit of -1 is applied as a 64 MiB limit",
    fails=[M + "test_memory_limit_minus_one_means_no_limit"],
    requirements=["config-linux.memory.unlimited"],
)
def _(cfg: dict) -> bool:
    memory = _resources(cfg).get("memory") or {}
    if memory.get("limit") != -1:
        return False
    memory["limit"] = 64 * 1024 * 1024
    return True


@edit_mutant(
    "ignores-cpu-shares",
    breaks="cpu.shares is not applied",
    fails=["test_resources_cpu.py::test_cpu_shares_become_the_cgroup_weight"],
    requirements=["config-linux.cpu.shares"],
)
def _(cfg: dict) -> bool:
    return _pop(cfg, "cpu", "shares")


@edit_mutant(
    "ignores-cpus",
    breaks="cpu.cpus is not applied",
    fails=["test_resources_cpu.py::test_cpus_restrict_the_container_to_the_listed_cpus"],
    requirements=["config-linux.cpu.cpus"],
)
def _(cfg: dict) -> bool:
    return _pop(cfg, "cpu", "cpus")


@edit_mutant(
    "ignores-realtime-period",
    breaks="cpu.realtimePeriod is not applied (the kernel's default period stays)",
    fails=["test_resources_cpu.py::test_realtime_runtime_and_period_become_the_rt_bandwidth"],
    requirements=["config-linux.cpu.realtime"],
)
def _(cfg: dict) -> bool:
    return _resources(cfg).get("cpu", {}).pop("realtimePeriod", None) is not None


@runtime_mutant(
    "chowns-v1-cgroup",
    breaks="on cgroup v1 the container's cgroups are handed to the process user anyway",
    fails=[C + "test_cgroup_v1_ownership_is_left_to_root"],
    requirements=["config-linux.cgroups.owner-not-on-v1"],
    claims="1.3.0",
)
class ChownsV1Cgroup(Wrapper):
    """After create, every v1 cgroup directory of the container process is chowned to
    process.user (as delegation on v2 would)."""

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        rc = subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
        pid = (self.state(self.ids[0]) or {}).get("pid") if rc == 0 else None
        try:
            with open(os.path.join(_bundle_of(self.args), "config.json")) as fh:
                user = (json.load(fh).get("process") or {}).get("user") or {}
            with open(f"/proc/{pid}/cgroup") as fh:
                lines = fh.read().splitlines() if pid else []
        except (OSError, ValueError):
            return rc
        for line in lines:
            _, controllers, path = line.split(":", 2)
            name = controllers.removeprefix("name=") or "unified"
            d = f"/sys/fs/cgroup/{name}{path}"
            if os.path.isdir(d) and user.get("uid"):
                os.chown(d, user["uid"], user.get("gid", 0))
        return rc


@edit_mutant(
    "ignores-blkio-throttle",
    breaks="the blockIO throttle*Device limits are not applied",
    fails=["test_resources_blkio.py::test_blkio_throttles_become_per_device_limits"],
    requirements=["config-linux.blkio.throttle"],
)
def _(cfg: dict) -> bool:
    blockio = _resources(cfg).get("blockIO") or {}
    return bool([blockio.pop(k) for k in list(blockio) if k.startswith("throttle")])


@edit_mutant(
    "ignores-hugepage-limits",
    breaks="hugepageLimits are not applied",
    fails=["test_resources_hugetlb.py::test_hugepage_limit_becomes_the_hugetlb_limit"],
    requirements=["config-linux.hugepages.limit"],
)
def _(cfg: dict) -> bool:
    return _resources(cfg).pop("hugepageLimits", None) is not None


@runtime_mutant(
    "cgroups-path-moves-on-reuse",
    breaks="a cgroupsPath used by an earlier container is placed elsewhere (PATH-again)",
    fails=[C + "test_the_same_cgroups_path_attaches_to_the_same_place"],
    requirements=["config-linux.cgroups.path-consistent"],
)
class CgroupsPathMovesOnReuse(ConfigEditing):
    """create remembers each cgroupsPath (beside the runtime's root); a path seen before
    gets "-again" appended."""

    def edit(self, cfg: dict) -> bool:
        path = (cfg.get("linux") or {}).get("cgroupsPath")
        if not path:
            return False
        seen = _root(self.globals).rstrip("/") + ".mutant-cgroups-paths"
        try:
            with open(seen) as fh:
                used = path in fh.read().split()
        except OSError:
            used = False
        if not used:
            with open(seen, "a") as fh:
                fh.write(path + "\n")
            return False
        cfg["linux"]["cgroupsPath"] = path + "-again"
        return True
