"""CRI mutants of pod and container settings and of the idempotent calls (issue 17:
requirements no mutant had proven): each is the gRPC proxy of cri_proxy.py with one RPC
altered, run as `--cri-endpoint mutant:NAME`, and the tests of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`).
"""

from __future__ import annotations

import grpc

from selftest.cri_proxy import Abort
from selftest.declare import cri_mutant


@cri_mutant(
    "pod-ignores-hostname",
    rpc="RunPodSandbox",
    alters="request",
    breaks="RunPodSandbox drops the pod's hostname (the runtime picks one)",
    fails=["test_pod_sandbox.py::test_containers_see_the_pod_hostname"],
    requirements=["cri.pod.hostname"],
)
def _(req) -> None:
    if req.config.hostname == "ocitest-host":
        req.config.hostname = ""


@cri_mutant(
    "pod-ignores-dns-config",
    rpc="RunPodSandbox",
    alters="request",
    breaks="RunPodSandbox drops the pod's DNS config",
    fails=["test_pod_sandbox.py::test_dns_config_reaches_resolv_conf"],
    requirements=["cri.pod.dns-config"],
)
def _(req) -> None:
    req.config.ClearField("dns_config")


@cri_mutant(
    "create-drops-config-env",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer drops the envs of the container config",
    fails=["test_container.py::test_command_args_env_and_working_dir"],
    requirements=["cri.container.command-env-workdir"],
)
def _(req) -> None:
    kept = [e for e in req.config.envs if not e.key.startswith("OCITEST_ENV")]
    del req.config.envs[:]
    req.config.envs.extend(kept)


def _second_call_not_found(what: str):
    """An alteration answering NotFound to the second call for the same container id
    (the first goes through); `what` names the call in the error."""

    def alter(req, resp, err, ctx):
        key = f"{what}:{req.container_id}"
        with ctx.lock:
            if key in ctx.removed:
                raise Abort(grpc.StatusCode.NOT_FOUND, f"mutant: container already {what}")
            ctx.removed.add(key)
        return resp

    return alter


cri_mutant(
    "stop-container-not-idempotent",
    rpc="StopContainer",
    breaks="a second StopContainer of a stopped container answers NotFound",
    fails=["test_container.py::test_stop_container_twice_succeeds"],
    requirements=["cri.container.stop-idempotent"],
)(_second_call_not_found("stopped"))

cri_mutant(
    "remove-container-not-idempotent",
    rpc="RemoveContainer",
    breaks="a second RemoveContainer answers NotFound",
    fails=["test_container.py::test_remove_container_twice_succeeds"],
    requirements=["cri.container.remove-idempotent"],
)(_second_call_not_found("removed"))
