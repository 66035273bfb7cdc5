"""CRI mutants of CreateContainer's security context (each loses one field, as a runtime
ignoring it would): each is the gRPC proxy of cri_proxy.py with one RPC altered, run as
`--cri-endpoint mutant:NAME` (the embedded containerd behind the proxy), and the tests
of suites/cri it must fail.

Declared as declare.py says (`@cri_mutant`). tests/test_cri_mutants.py runs each against
the test files of its `fails` (runc handler) and checks that exactly those fail beyond
what the real containerd fails there.
"""

from __future__ import annotations

from cri_api.v1 import api_pb2 as pb

from selftest.declare import cri_mutant


def _sc(req):
    """The security context of a CreateContainerRequest."""
    return req.config.linux.security_context


@cri_mutant(
    "create-drops-run-as-user",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores run_as_user and run_as_username",
    fails=[
        "test_security_context.py::test_run_as_user_sets_the_uid",
        "test_security_context.py::test_run_as_username_is_resolved_in_the_image",
        "test_security_context.py::test_run_as_group_sets_the_gid",
        "test_security_context.py::test_supplemental_groups_are_added_to_the_image_groups",
    ],
    requirements=[
        "cri.security.run-as-user",
        "cri.security.run-as-username",
        "cri.security.run-as-group",
        "cri.security.supplemental-groups",
    ],
)
def _(req) -> None:
    _sc(req).ClearField("run_as_user")
    _sc(req).run_as_username = ""


@cri_mutant(
    "create-ignores-readonly-rootfs",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores readonly_rootfs",
    fails=["test_security_context.py::test_readonly_rootfs_refuses_writes_to_the_root"],
    requirements=["cri.security.readonly-rootfs"],
)
def _(r) -> None:
    _sc(r).readonly_rootfs = False


@cri_mutant(
    "create-ignores-privileged",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores privileged",
    fails=[
        "test_security_context.py::test_privileged_container_has_every_capability_and_the_host_devices",
    ],
    requirements=["cri.security.privileged"],
)
def _(r) -> None:
    _sc(r).privileged = False


@cri_mutant(
    "create-drops-capabilities",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores add_capabilities and drop_capabilities",
    fails=["test_security_context.py::test_capabilities_are_added_and_dropped"],
    requirements=["cri.security.capabilities"],
)
def _(req) -> None:
    _sc(req).ClearField("capabilities")


@cri_mutant(
    "create-ignores-no-new-privs",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores no_new_privs",
    fails=["test_security_context.py::test_no_new_privs_sets_the_flag"],
    requirements=["cri.security.no-new-privs"],
)
def _(r) -> None:
    _sc(r).no_new_privs = False


@cri_mutant(
    "create-drops-masked-readonly-paths",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores masked_paths and readonly_paths",
    fails=[
        "test_security_context.py::test_masked_path_cannot_be_read",
        "test_security_context.py::test_readonly_path_cannot_be_written",
    ],
    requirements=[
        "cri.security.masked-paths",
        "cri.security.readonly-paths",
    ],
)
def _(req) -> None:
    del _sc(req).masked_paths[:]
    del _sc(req).readonly_paths[:]


@cri_mutant(
    "create-drops-seccomp",
    rpc="CreateContainer",
    alters="request",
    breaks="CreateContainer ignores the seccomp profile",
    fails=[
        "test_security_context.py::test_seccomp_profile_type_filters_or_not[RuntimeDefault-2]",
        "test_security_context.py::test_seccomp_localhost_profile_is_applied",
    ],
    requirements=[
        "cri.security.seccomp-runtime-default",
        "cri.security.seccomp-localhost",
    ],
)
def _(req) -> None:
    _sc(req).ClearField("seccomp")
    _sc(req).seccomp_profile_path = ""


def _ns_case(ns: str) -> str:
    return f"test_pod_sandbox.py::test_node_namespace_mode_uses_the_host_namespace[{ns}]"


def _ignores_node(field: str, instead: int):
    """An edit of a RunPodSandbox or CreateContainer request (both hold
    config.linux.security_context.namespace_options) that turns NODE into `instead`."""

    def edit(req) -> None:
        opts = req.config.linux.security_context.namespace_options
        if getattr(opts, field) == pb.NODE:
            setattr(opts, field, instead)

    return edit


# network and IPC namespaces are the pod's (RunPodSandbox), the PID one the container's
for _name, _rpc, _ns, _field, _instead, _rid in (
    ("pod-ignores-host-network", "RunPodSandbox", "net", "network", pb.POD, "cri.pod.host-network"),
    ("pod-ignores-host-ipc", "RunPodSandbox", "ipc", "ipc", pb.POD, "cri.pod.host-ipc"),
    ("create-ignores-host-pid", "CreateContainer", "pid", "pid", pb.CONTAINER, "cri.pod.host-pid"),
):
    cri_mutant(
        _name,
        rpc=_rpc,
        alters="request",
        breaks=f"{_rpc} gives its own {_field} namespace when NODE is asked",
        fails=[_ns_case(_ns)],
        requirements=[_rid],
    )(_ignores_node(_field, _instead))
