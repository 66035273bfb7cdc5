"""CRI mutants: each is the mutant gRPC proxy (cri_proxy.py) with one altered response,
run as `--cri-endpoint mutant:NAME`, and the tests of suites/cri it must fail.

tests/test_cri_mutants.py runs each against the modules in `modules` (runc handler) and
checks that exactly `fails` fail beyond what the real containerd fails there.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.mutants.cri_proxy import CRI_MUTANTS


@dataclass(frozen=True)
class CriMutant:
    name: str
    breaks: str
    modules: tuple[str, ...]
    fails: tuple[str, ...]
    requirements: tuple[str, ...]


def _m(name, breaks, fails, requirements) -> CriMutant:
    modules = tuple(sorted({f.split("::")[0] for f in fails}))
    return CriMutant(name, breaks, modules, tuple(fails), tuple(requirements))


CRI_MUTANT_TESTS: dict[str, CriMutant] = {
    m.name: m
    for m in [
        _m(
            "exec-sync-exit-zero",
            "ExecSync always reports exit code 0",
            ["test_exec.py::test_exec_sync_returns_the_exit_code[7]"],
            ["cri.exec-sync.exit-code"],
        ),
        _m(
            "exec-sync-swaps-streams",
            "ExecSync returns stdout as stderr and stderr as stdout",
            ["test_exec.py::test_exec_sync_returns_stdout_and_stderr_apart"],
            ["cri.exec-sync.output"],
        ),
        _m(
            "pod-status-drops-labels",
            "PodSandboxStatus loses the sandbox's labels",
            ["test_pod_sandbox.py::test_pod_sandbox_status_echoes_the_config"],
            ["cri.pod.status-fields"],
        ),
        _m(
            "list-pods-ignores-filter",
            "ListPodSandbox ignores its filter",
            [
                "test_pod_sandbox.py::test_list_pod_sandbox_filters",
                "test_pod_sandbox.py::test_remove_pod_sandbox_removes_it_and_its_containers",
            ],
            ["cri.pod.list-filter", "cri.pod.remove"],
        ),
        _m(
            "remove-pod-not-idempotent",
            "a second RemovePodSandbox answers NotFound",
            ["test_pod_sandbox.py::test_remove_pod_sandbox_twice_succeeds"],
            ["cri.pod.remove-idempotent"],
        ),
        _m(
            "unknown-container-status-ok",
            "ContainerStatus of an unknown id answers OK",
            ["test_errors.py::test_status_of_an_unknown_container_is_not_found"],
            ["cri.errors.unknown-container"],
        ),
        _m(
            "network-not-ready",
            "Status reports NetworkReady false",
            ["test_runtime_info.py::test_status_reports_runtime_and_network_ready"],
            ["cri.status.conditions"],
        ),
        _m(
            "image-status-absent-errors",
            "ImageStatus of an absent image answers NotFound",
            [
                "test_images.py::test_image_status_of_an_absent_image_is_empty",
                "test_images.py::test_pull_of_a_missing_image_fails",
                "test_images.py::test_remove_image_removes_it",
                "test_images.py::test_a_reference_without_tag_means_latest",
                "test_images.py::test_remove_image_by_one_tag_removes_every_tag",
                "test_images.py::test_simultaneous_remove_image_calls_all_succeed",
            ],
            [
                "cri.image.status-absent",
                "cri.image.pull-missing-errors",
                "cri.image.remove",
                "cri.image.pull-default-tag",
                "cri.image.remove-all-tags",
                "cri.image.remove-concurrent",
            ],
        ),
        _m(
            "container-exit-code-wrong",
            "ContainerStatus reports an exited container's exit code plus one",
            [
                "test_container.py::test_exited_container_reports_its_exit_code[0]",
                "test_container.py::test_exited_container_reports_its_exit_code[3]",
                "test_container.py::test_stop_container_kills_after_the_timeout",
                "test_container.py::test_stop_container_sends_sigterm_first",
                "test_container.py::test_a_container_over_its_memory_limit_is_oom_killed",
            ],
            [
                "cri.container.exit-code",
                "cri.container.stop-timeout",
                "cri.container.stop-signal",
                "cri.container.memory-limit",
            ],
        ),
        _m(
            "container-stats-wrong-id",
            "ContainerStats names another container",
            ["test_stats.py::test_container_stats_report_cpu_memory_and_writable_layer"],
            ["cri.container.stats"],
        ),
        _m(
            "pull-ignores-auth-failure",
            "PullImage from a registry that asks for credentials succeeds without them",
            ["test_images.py::test_pull_image_needs_and_uses_credentials"],
            ["cri.image.pull-auth"],
        ),
        # streams: the request is altered on its way to the runtime
        _m(
            "exec-stream-drops-stdout",
            "Exec asks the runtime for no stdout",
            [
                "test_streaming.py::test_exec_stream_returns_stdout_and_stderr",
                "test_streaming.py::test_exec_stream_passes_stdin",
                "test_streaming.py::test_exec_stream_with_a_tty",
            ],
            ["cri.exec.stream", "cri.exec.stream-tty"],
        ),
        _m(
            "exec-stream-exit-zero",
            "Exec runs the command so that it always exits 0",
            ["test_streaming.py::test_exec_stream_reports_the_exit_status[7]"],
            ["cri.exec.stream"],
        ),
        _m(
            "exec-stream-drops-tty",
            "Exec runs the command without a terminal though tty is asked",
            ["test_streaming.py::test_exec_stream_with_a_tty"],
            ["cri.exec.stream-tty"],
        ),
        _m(
            "attach-ignores-stdin",
            "Attach leaves the container's stdin unattached",
            ["test_streaming.py::test_attach_stream_reaches_the_container_stdio"],
            ["cri.attach.stream"],
        ),
        _m(
            "port-forward-wrong-port",
            "PortForward forwards to the next port up",
            ["test_streaming.py::test_port_forward_stream_reaches_a_server_in_the_pod"],
            ["cri.port-forward.stream"],
        ),
        _m(
            "pod-drops-port-mappings",
            "RunPodSandbox ignores the pod's port mappings",
            ["test_port_mapping.py::test_host_port_forwards_to_the_container_port"],
            ["cri.pod.port-mapping"],
        ),
        # security context: CreateContainer loses one field, as a runtime ignoring it would
        _m(
            "create-drops-run-as-user",
            "CreateContainer ignores run_as_user and run_as_username",
            [
                "test_security_context.py::test_run_as_user_sets_the_uid",
                "test_security_context.py::test_run_as_username_is_resolved_in_the_image",
                "test_security_context.py::test_run_as_group_sets_the_gid",
                "test_security_context.py::test_supplemental_groups_are_added_to_the_image_groups",
            ],
            [
                "cri.security.run-as-user",
                "cri.security.run-as-username",
                "cri.security.run-as-group",
                "cri.security.supplemental-groups",
            ],
        ),
        _m(
            "create-ignores-readonly-rootfs",
            "CreateContainer ignores readonly_rootfs",
            ["test_security_context.py::test_readonly_rootfs_refuses_writes_to_the_root"],
            ["cri.security.readonly-rootfs"],
        ),
        _m(
            "create-ignores-privileged",
            "CreateContainer ignores privileged",
            [
                "test_security_context.py::test_privileged_container_has_every_capability_and_the_host_devices"
            ],
            ["cri.security.privileged"],
        ),
        _m(
            "create-drops-capabilities",
            "CreateContainer ignores add_capabilities and drop_capabilities",
            ["test_security_context.py::test_capabilities_are_added_and_dropped"],
            ["cri.security.capabilities"],
        ),
        _m(
            "create-ignores-no-new-privs",
            "CreateContainer ignores no_new_privs",
            ["test_security_context.py::test_no_new_privs_sets_the_flag"],
            ["cri.security.no-new-privs"],
        ),
        _m(
            "create-drops-masked-readonly-paths",
            "CreateContainer ignores masked_paths and readonly_paths",
            [
                "test_security_context.py::test_masked_path_cannot_be_read",
                "test_security_context.py::test_readonly_path_cannot_be_written",
            ],
            ["cri.security.masked-paths", "cri.security.readonly-paths"],
        ),
        _m(
            "create-drops-seccomp",
            "CreateContainer ignores the seccomp profile",
            [
                "test_security_context.py::test_seccomp_profile_type_filters_or_not[RuntimeDefault-2]",
                "test_security_context.py::test_seccomp_localhost_profile_is_applied",
            ],
            ["cri.security.seccomp-runtime-default", "cri.security.seccomp-localhost"],
        ),
        # resources and images
        _m(
            "create-drops-memory-limit",
            "CreateContainer ignores memory_limit_in_bytes",
            ["test_container.py::test_a_container_over_its_memory_limit_is_oom_killed"],
            ["cri.container.memory-limit"],
        ),
        _m(
            "oom-reason-dropped",
            "ContainerStatus reports reason Error where containerd says OOMKilled",
            ["test_container.py::test_a_container_over_its_memory_limit_is_oom_killed"],
            ["cri.container.oom-reason"],
        ),
        _m(
            "list-images-first-tag-only",
            "ListImages lists only the first tag of each image",
            ["test_images.py::test_tags_of_one_manifest_are_one_image_with_every_tag"],
            ["cri.image.tags-one-image"],
        ),
        _m(
            "remove-image-not-idempotent",
            "a RemoveImage of a reference already removed answers NotFound",
            [
                "test_images.py::test_remove_of_an_absent_image_succeeds",
                "test_images.py::test_simultaneous_remove_image_calls_all_succeed",
            ],
            ["cri.image.remove-idempotent", "cri.image.remove-concurrent"],
        ),
        _m(
            "remove-image-untags-only",
            "RemoveImage by one tag removes only that tag (the image keeps its other tags)",
            ["test_images.py::test_remove_image_by_one_tag_removes_every_tag"],
            ["cri.image.remove-all-tags"],
        ),
        _m(
            "list-container-stats-ignores-filter",
            "ListContainerStats ignores its filter",
            [
                "test_stats.py::test_container_stats_report_cpu_memory_and_writable_layer",
                "test_stats.py::test_list_container_stats_without_filter_and_by_label",
            ],
            ["cri.container.stats", "cri.container.stats-list"],
        ),
        _m(
            "image-status-drops-user",
            "ImageStatus leaves out the image's uid and username",
            ["test_images.py::test_image_status_gives_the_image_user_as_uid_or_username"],
            ["cri.image.status-user"],
        ),
        _m(
            "pull-default-tag-wrong",
            "PullImage of a reference without tag asks for tag 1.0, not latest",
            ["test_images.py::test_a_reference_without_tag_means_latest"],
            ["cri.image.pull-default-tag"],
        ),
    ]
}

assert set(CRI_MUTANT_TESTS) == set(CRI_MUTANTS), "every proxy mutant is listed once"


def cri_proofs() -> dict[str, list[str]]:
    """requirement id -> the CRI mutants that prove its tests can fail."""
    out: dict[str, list[str]] = {}
    for m in CRI_MUTANT_TESTS.values():
        for rid in m.requirements:
            out.setdefault(rid, []).append(f"cri-{m.name}")
    return out
