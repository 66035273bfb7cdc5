"""The mutant registry: each mutant breaks one behaviour and names the tests it must fail.

tests/test_mutants.py runs the suites against every mutant and checks that exactly the
listed tests fail (and that the real runtime passes them); the report uses `proofs()`
to say which requirements a mutant has proven testable.
"""

from __future__ import annotations

from infra.mutants.declare import (
    CLAIMS,
    DECLARED,
    EDIT_CLAIMS,
    Mutant,
    load_area_modules,
    runtime_mutant,
)

_m = runtime_mutant


MUTANTS: dict[str, Mutant] = {
    m.key: m
    for m in [
        _m(
            "missing-id-ok",
            "state/create/start/kill/delete without an id exit 0",
            [
                "test_state.py::test_state_without_an_id_fails",
                "test_create.py::test_create_without_an_id_fails",
                "test_start.py::test_start_without_an_id_fails",
                "test_kill.py::test_kill_without_an_id_fails",
                "test_delete.py::test_delete_without_an_id_fails",
            ],
            [
                "runtime.state-op.missing-id-errors",
                "runtime.create.missing-args-errors",
                "runtime.start.missing-id-errors",
                "runtime.kill.missing-id-errors",
                "runtime.delete.missing-id-errors",
            ],
        ),
        _m(
            "state-unknown-ok",
            "state of an id never created invents a state",
            [
                "test_state.py::test_state_of_an_unknown_container_fails",
                "test_create.py::test_create_fails_when_a_mount_source_is_missing",
            ],
            ["runtime.state-op.unknown-id-errors", "runtime.errors.no-side-effects"],
        ),
        _m(
            "state-no-bundle",
            "the state JSON lacks bundle",
            [
                "test_state.py::test_state_validates_against_the_state_schema",
                "test_state.py::test_state_bundle_is_the_absolute_bundle_path",
                "test_create.py::test_create_with_an_id_in_use_fails",
            ],
            ["runtime.state.schema", "runtime.state.bundle", "runtime.create.duplicate-id-errors"],
        ),
        _m(
            "create-duplicate-ok",
            "create with an id in use exits 0",
            ["test_create.py::test_create_with_an_id_in_use_fails"],
            ["runtime.create.duplicate-id-errors", "runtime.state.id-unique"],
        ),
        _m(
            "start-not-created-ok",
            "start of a running or stopped container exits 0",
            [
                "test_start.py::test_start_of_a_running_container_fails",
                "test_start.py::test_start_of_a_stopped_container_fails",
            ],
            ["runtime.start.not-created-errors"],
        ),
        _m(
            "kill-wrong-signal",
            "kill sends SIGUSR2 instead of the named signal",
            ["test_kill.py::test_kill_delivers_the_named_signal"],
            ["runtime.kill.sends-signal"],
        ),
        _m(
            "kill-stopped-ok",
            "kill of a stopped container exits 0",
            ["test_kill.py::test_kill_of_a_stopped_container_fails"],
            ["runtime.kill.not-running-errors"],
        ),
        _m(
            "delete-running-ok",
            "delete of a running container force-deletes it",
            ["test_delete.py::test_delete_of_a_container_not_stopped_fails[running]"],
            ["runtime.delete.not-stopped-errors"],
        ),
        _m(
            "delete-keeps-container",
            "delete exits 0 and removes nothing",
            [
                "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
                "test_delete.py::test_delete_removes_the_container_its_process_and_cgroup",
                "test_delete.py::test_a_deleted_id_can_be_used_again",
                "test_hooks.py::test_poststop_hook_runs_at_delete",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[poststop]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[poststop]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[poststop]",
            ],
            [
                "runtime.delete.removes-created-resources",
                "runtime.lifecycle.destroy-on-delete",
                "runtime.delete.id-reusable",
                "runtime.lifecycle.poststop-invoked",
                "config.hooks.poststop-path-runtime-ns",
                "runtime.delete.not-stopped-errors",
            ],
        ),
        _m(
            "no-dev-symlinks",
            "create leaves out the /dev symlinks",
            ["test_linux.py::test_create_makes_the_dev_symlinks"],
            ["runtime.linux.dev-symlinks"],
        ),
        _m(
            "leaks-fd",
            "the container process gets an extra fd 3",
            ["test_linux.py::test_the_program_has_only_stdin_stdout_stderr_open"],
            ["runtime.linux.default-fds"],
        ),
        _m(
            "skips-poststop-hooks",
            "poststop hooks never run",
            [
                "test_hooks.py::test_poststop_hook_runs_at_delete",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[poststop]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[poststop]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[poststop]",
            ],
            [
                "runtime.lifecycle.poststop-invoked",
                "config.hooks.poststop-path-runtime-ns",
                "config.hooks.order",
                "config.hooks.state-on-stdin",
                "config.hooks.poststop-timing",
            ],
        ),
        _m(
            "skips-prestart-hooks",
            "prestart hooks never run",
            [
                "test_hooks.py::test_prestart_hook_runs_before_the_program",
                "test_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[prestart]",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[prestart]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[prestart]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[prestart]",
            ],
            [
                "runtime.lifecycle.prestart-invoked",
                "runtime.lifecycle.prestart-failure",
                "config.hooks.prestart-path-runtime-ns",
            ],
        ),
        _m(
            "skips-create-runtime-hooks",
            "createRuntime hooks never run",
            [
                "test_hooks.py::test_create_hooks_run_during_create_in_order",
                "test_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createRuntime]",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[createRuntime]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[createRuntime]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[createRuntime]",
                "test_hooks.py::test_a_hook_past_its_timeout_is_aborted",
                "test_hooks.py::test_a_hook_runs_with_its_args_and_env_exactly",
                "test_hooks.py::test_create_runtime_hooks_run_once_the_container_namespaces_exist",
                "test_features.py::test_every_listed_hook_runs",
            ],
            [
                "features.hooks-supported",
                "runtime.lifecycle.create-runtime-invoked",
                "runtime.lifecycle.create-runtime-failure",
                "config.hooks.create-runtime-path-runtime-ns",
                "config.hooks.args",
                "config.hooks.env",
                "config.hooks.create-runtime-timing",
            ],
        ),
        _m(
            "skips-create-container-hooks",
            "createContainer hooks never run",
            [
                "test_hooks.py::test_create_hooks_run_during_create_in_order",
                "test_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createContainer]",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[createContainer]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[createContainer]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[createContainer]",
            ],
            [
                "runtime.lifecycle.create-container-invoked",
                "runtime.lifecycle.create-container-failure",
                "config.hooks.create-container-path-runtime-ns",
                "config.hooks.create-container-after-create-runtime",
            ],
        ),
        _m(
            "skips-start-container-hooks",
            "startContainer hooks never run",
            [
                "test_hooks.py::test_start_container_hook_runs_at_start_before_the_program",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[startContainer]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[startContainer]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[startContainer]",
            ],
            [
                "runtime.lifecycle.start-container-invoked",
                "config.hooks.start-container-path-container-ns",
                "config.hooks.start-container-timing",
            ],
        ),
        _m(
            "ignores-hook-failures",
            "a failing hook is treated as a successful one",
            [
                "test_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[prestart]",
                "test_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createRuntime]",
                "test_hooks.py::test_a_failing_hook_stops_the_container_before_the_program[createContainer]",
                "test_hooks.py::test_a_hook_past_its_timeout_is_aborted",
                "test_hooks.py::test_a_hook_runs_with_its_args_and_env_exactly",
            ],
            [
                "runtime.lifecycle.prestart-failure",
                "runtime.lifecycle.create-runtime-failure",
                "runtime.lifecycle.create-container-failure",
            ],
            also_passes=[
                "test_hooks.py::test_a_failing_poststart_hook_only_warns",
                "test_hooks.py::test_a_failing_poststop_hook_only_warns",
            ],
        ),
        _m(
            "hostname-ignored",
            "hostname is not applied",
            [
                "test_create.py::test_create_builds_the_environment_before_start",
                "test_hostname.py::test_the_program_sees_hostname",
                "test_config_extensibility.py::test_a_value_of_the_wrong_type_is_rejected[hostname]",
            ],
            [
                "runtime.create.applies-config",
                "config.hostname.applied",
                "config.valid-values.invalid-errors",
            ],
        ),
        _m(
            "ignores-root-path",
            "root.path is ignored (always BUNDLE/rootfs)",
            [
                "test_bundle.py::test_root_path_names_the_rootfs_directory",
                "test_root.py::test_root_path_that_is_not_a_directory_is_rejected[missing]",
                "test_root.py::test_root_path_that_is_not_a_directory_is_rejected[a regular file]",
            ],
            ["bundle.root-path", "config.root.path-exists"],
        ),
        _m(
            "state-wrong-pid",
            "the state's pid names no process",
            [
                "test_state.py::test_state_pid_is_the_container_process",
                "test_create.py::test_create_builds_the_environment_before_start",
                "test_linux.py::test_create_makes_the_dev_symlinks",
                "test_linux.py::test_the_program_has_only_stdin_stdout_stderr_open",
                "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
            ],
            ["runtime.state.pid-is-container-process", "runtime.delete.not-stopped-errors"],
        ),
        _m(
            "state-no-annotations",
            "the state never carries annotations",
            ["test_state.py::test_state_carries_the_annotations"],
            ["runtime.state.annotations"],
        ),
        _m(
            "state-bad-version",
            "the state's ociVersion is not a version",
            ["test_state.py::test_state_reports_the_id_and_an_oci_version"],
            ["runtime.state.oci-version"],
        ),
        _m(
            "state-stuck-created",
            'a running container is reported as "created"',
            [
                "test_state.py::test_status_follows_the_lifecycle",
                "test_start.py::test_start_of_a_running_container_fails",
                "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
            ],
            [
                "runtime.state.status-running",
                "runtime.state.status",
                "runtime.start.not-created-errors",
            ],
        ),
        _m(
            "drops-env",
            "process.env is not applied beyond PATH",
            [
                "test_start.py::test_start_runs_the_program_as_process_says",
                "test_process.py::test_the_environment_is_process_env",
            ],
            ["runtime.start.runs-program", "runtime.lifecycle.run-program", "config.process.env"],
        ),
        _m(
            "delete-removes-mount-sources",
            "delete removes the bind mounts' sources",
            ["test_delete.py::test_delete_keeps_the_bundle_and_mount_sources"],
            ["runtime.delete.keeps-foreign-resources"],
        ),
        # crun-based: runc itself fails these tests (see known-failures.yaml), so only a
        # runtime that passes them can show that they fail when the behaviour breaks
        _m(
            "skips-poststart-hooks",
            "poststart hooks never run",
            [
                "test_hooks.py::test_poststart_hook_runs_after_start",
                "test_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[poststart]",
                "test_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[poststart]",
                "test_hooks.py::test_hooks_receive_the_state_on_stdin[poststart]",
                "test_hooks.py::test_poststart_hooks_run_after_the_program_is_executed_before_start_returns",
            ],
            [
                "runtime.lifecycle.poststart-invoked",
                "config.hooks.poststart-path-runtime-ns",
                "config.hooks.poststart-timing",
            ],
            base="crun",
        ),
        _m(
            "stops-at-failing-poststop",
            "poststop hooks after a failing one never run",
            ["test_hooks.py::test_a_failing_poststop_hook_only_warns"],
            ["runtime.lifecycle.poststop-failure-warns", "runtime.warnings.continue"],
            base="crun",
        ),
    ]
}
load_area_modules()
for _d in DECLARED:
    if _d.key in MUTANTS:
        raise ValueError(f"mutant {_d.key} is declared twice")
    MUTANTS[_d.key] = _d
for _d in MUTANTS.values():  # a claiming edit mutant's baseline: the claims mutant of its version
    if _d.baseline and CLAIMS.get(_d.baseline) != EDIT_CLAIMS.get(_d.key):
        raise ValueError(f"mutant {_d.key}: no claims mutant {_d.baseline} of its version")


def proofs() -> dict[str, list[str]]:
    """requirement id -> names of the mutants that prove a test of it can fail."""
    out: dict[str, list[str]] = {}
    for m in MUTANTS.values():
        for rid in m.requirements:
            out.setdefault(rid, []).append(m.name)
    from infra.mutants.cri_mutants import cri_proofs  # CRI: the gRPC proxy's mutants

    for rid, names in cri_proofs().items():
        out.setdefault(rid, []).extend(names)
    return out
