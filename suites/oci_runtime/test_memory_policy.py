"""config-linux.md#memory-policy: the NUMA memory policy of the container process.

/proc/self/numa_maps shows, for mappings without a policy of their own, the task's
policy ("interleave:0", "bind:0", ...), which is what memoryPolicy sets.
"""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation
from suites.oci_runtime.features import needs_feature

#: memoryPolicy mode -> how numa_maps names it (node 0 exists on every NUMA kernel)
MODES = {"MPOL_INTERLEAVE": "interleave:0", "MPOL_BIND": "bind:0", "MPOL_PREFERRED": "prefer:0"}


@pytest.mark.requires("root", "numa")
@pytest.mark.requirement("config-linux.memorypolicy.applied")
@pytest.mark.parametrize("mode", sorted(MODES))
def test_memory_policy_is_the_process_numa_policy(containers, runtime, mode):
    needs_feature(runtime, "linux", "memoryPolicy", "modes", value=mode)
    b = containers.bundle()
    b.config["ociVersion"] = "1.3.0"
    b.config["linux"]["memoryPolicy"] = {"mode": mode, "nodes": "0"}
    b.config["process"]["args"] = probe_args("read:/proc/self/numa_maps")
    b.write_unvalidated(b.config)  # the packaged 1.0.2 schema predates memoryPolicy
    report = containers.probe(b, "read:/proc/self/numa_maps")
    policies = {ln.split()[1] for ln in (report.read("/proc/self/numa_maps") or "").splitlines()}
    assert MODES[mode] in policies, violation(
        "config-linux.memorypolicy.applied",
        wanted=f"numa_maps shows the task policy {MODES[mode]} (mode {mode}, nodes 0)",
        seen=f"policies in numa_maps: {sorted(policies)}",
        evidence=[report.evidence],
    )
