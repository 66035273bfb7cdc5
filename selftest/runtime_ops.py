"""Runtime mutants of runtime.md's operations (create, start, kill, delete) and of what
create builds (/dev, open fds, hostname, root.path, env): each breaks one behaviour of
the runtime it wraps.

Declared as declare.py says; standard library only (runtime_mutant.py imports this
module under the system python with -I).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from selftest.declare import runtime_mutant
from selftest.runtime_base import TIMEOUT, ConfigEditing, Wrapper, _bundle_of


@runtime_mutant(
    "missing-id-ok",
    breaks="state/create/start/kill/delete without an id exit 0",
    fails=[
        "test_state.py::test_state_without_an_id_fails",
        "test_create.py::test_create_without_an_id_fails",
        "test_start.py::test_start_without_an_id_fails",
        "test_kill.py::test_kill_without_an_id_fails",
        "test_delete.py::test_delete_without_an_id_fails",
    ],
    requirements=[
        "runtime.state-op.missing-id-errors",
        "runtime.create.missing-args-errors",
        "runtime.start.missing-id-errors",
        "runtime.kill.missing-id-errors",
        "runtime.delete.missing-id-errors",
    ],
)
class MissingIdOk(Wrapper):
    """state/start/kill/delete/create without a container id exit 0."""

    def run(self) -> int:
        if self.command in ("state", "start", "kill", "delete", "create") and not self.ids:
            return 0
        return self.passthrough()


@runtime_mutant(
    "create-duplicate-ok",
    breaks="create with an id in use exits 0",
    fails=[
        "test_create.py::test_create_with_an_id_in_use_fails",
    ],
    requirements=[
        "runtime.create.duplicate-id-errors",
        "runtime.state.id-unique",
    ],
)
class CreateDuplicateOk(Wrapper):
    """create with an id in use exits 0 (and does nothing)."""

    def run(self) -> int:
        if self.command == "create" and self.ids and self.state(self.ids[-1]) is not None:
            return 0
        return self.passthrough()


@runtime_mutant(
    "start-not-created-ok",
    breaks="start of a running or stopped container exits 0",
    fails=[
        "test_start.py::test_start_of_a_running_container_fails",
        "test_start.py::test_start_of_a_stopped_container_fails",
    ],
    requirements=[
        "runtime.start.not-created-errors",
    ],
)
class StartNotCreatedOk(Wrapper):
    """start of a container that is running or stopped exits 0 (and does nothing)."""

    def run(self) -> int:
        if self.command == "start" and self.ids:
            st = self.state(self.ids[0])
            if st is not None and st.get("status") in ("running", "stopped"):
                return 0
        return self.passthrough()


@runtime_mutant(
    "kill-wrong-signal",
    breaks="kill sends SIGUSR2 instead of the named signal",
    fails=[
        "test_kill.py::test_kill_delivers_the_named_signal",
    ],
    requirements=[
        "runtime.kill.sends-signal",
    ],
)
class KillWrongSignal(Wrapper):
    """kill sends SIGUSR2 whatever signal was asked for (except KILL)."""

    def run(self) -> int:
        if (
            self.command == "kill"
            and len(self.ids) >= 2
            and self.ids[1] not in ("KILL", "9", "SIGKILL")
        ):
            args = [a for a in self.args if a != self.ids[1]]
            os.execv(self.base, [self.base, *self.globals, "kill", *args, "USR2"])
        return self.passthrough()


@runtime_mutant(
    "kill-stopped-ok",
    breaks="kill of a stopped container exits 0",
    fails=[
        "test_kill.py::test_kill_of_a_stopped_container_fails",
    ],
    requirements=[
        "runtime.kill.not-running-errors",
    ],
)
class KillStoppedOk(Wrapper):
    """kill of a stopped container exits 0."""

    def run(self) -> int:
        if self.command == "kill" and self.ids:
            st = self.state(self.ids[0])
            if st is not None and st.get("status") == "stopped":
                return 0
        return self.passthrough()


@runtime_mutant(
    "delete-running-ok",
    breaks="delete of a running container force-deletes it",
    fails=[
        "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
    ],
    requirements=[
        "runtime.delete.not-stopped-errors",
    ],
)
class DeleteRunningOk(Wrapper):
    """delete of a running container force-deletes it and exits 0."""

    def run(self) -> int:
        if self.command == "delete" and self.ids and "--force" not in self.args:
            st = self.state(self.ids[0])
            if st is not None and st.get("status") == "running":
                return self.real("delete", "--force", self.ids[0]).returncode
        return self.passthrough()


@runtime_mutant(
    "delete-keeps-container",
    breaks="delete exits 0 and removes nothing",
    fails=[
        "test_delete.py::test_delete_of_a_container_not_stopped_fails[running]",
        "test_delete.py::test_delete_removes_the_container_its_process_and_cgroup",
        "test_delete.py::test_a_deleted_id_can_be_used_again",
        "test_lifecycle_hooks.py::test_poststop_hook_runs_at_delete",
        "test_config_hooks.py::test_each_hook_kind_resolves_and_runs_in_its_namespace[poststop]",
        "test_config_hooks.py::test_hooks_of_a_kind_are_called_in_the_listed_order[poststop]",
        "test_config_hooks.py::test_hooks_receive_the_state_on_stdin[poststop]",
    ],
    requirements=[
        "runtime.delete.removes-created-resources",
        "runtime.delete.id-reusable",
        "runtime.lifecycle.poststop-invoked",
        "config.hooks.poststop-path-runtime-ns",
        "runtime.delete.not-stopped-errors",
        "runtime.lifecycle.destroy-on-delete",
    ],
)
class DeleteKeepsContainer(Wrapper):
    """delete (without --force) exits 0 but removes nothing."""

    def run(self) -> int:
        if self.command == "delete" and self.ids and "--force" not in self.args:
            return 0
        return self.passthrough()


@runtime_mutant(
    "no-dev-symlinks",
    breaks="create leaves out the /dev symlinks",
    fails=[
        "test_linux.py::test_create_makes_the_dev_symlinks",
    ],
    requirements=[
        "runtime.linux.dev-symlinks",
    ],
)
class NoDevSymlinks(Wrapper):
    """create leaves out /dev/fd, /dev/stdin, /dev/stdout and /dev/stderr."""

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        res = subprocess.run([self.base, *self.argv], timeout=TIMEOUT)
        if res.returncode == 0:
            st = self.state(self.ids[-1]) or {}
            for name in ("fd", "stdin", "stdout", "stderr"):
                path = f"/proc/{st.get('pid')}/root/dev/{name}"
                if os.path.islink(path):
                    os.unlink(path)
        return res.returncode


@runtime_mutant(
    "leaks-fd",
    breaks="the container process gets an extra fd 3",
    fails=[
        "test_linux.py::test_the_program_has_only_stdin_stdout_stderr_open",
    ],
    requirements=[
        "runtime.linux.default-fds",
    ],
)
class LeaksFd(Wrapper):
    """create passes an extra open file descriptor (fd 3) to the container process."""

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        fd = os.open("/dev/null", os.O_RDONLY)
        if fd != 3:
            os.dup2(fd, 3)
        os.set_inheritable(3, True)
        args = ["create", "--preserve-fds", "1", *self.args]
        os.execv(self.base, [self.base, *self.globals, *args])
        return 127


@runtime_mutant(
    "hostname-ignored",
    breaks="hostname is not applied",
    fails=[
        "test_create.py::test_create_builds_the_environment_before_start",
        "test_hostname.py::test_the_program_sees_hostname",
        "test_config_extensibility.py::test_a_value_of_the_wrong_type_is_rejected[hostname]",
    ],
    requirements=[
        "runtime.create.applies-config",
        "config.hostname.applied",
        "config.valid-values.invalid-errors",
    ],
)
class HostnameIgnored(ConfigEditing):
    """hostname is not applied (dropped from config.json for create)."""

    def edit(self, cfg: dict) -> bool:
        return cfg.pop("hostname", None) is not None


@runtime_mutant(
    "ignores-root-path",
    breaks="root.path is ignored (always BUNDLE/rootfs)",
    fails=[
        "test_bundle.py::test_root_path_names_the_rootfs_directory",
        "test_root.py::test_root_path_that_is_not_a_directory_is_rejected[missing]",
        "test_root.py::test_root_path_that_is_not_a_directory_is_rejected[a regular file]",
    ],
    requirements=[
        "bundle.root-path",
        "config.root.path-exists",
    ],
)
class IgnoresRootPath(ConfigEditing):
    """root.path is ignored: the rootfs is always BUNDLE/rootfs."""

    def edit(self, cfg: dict) -> bool:
        if cfg.get("root", {}).get("path", "rootfs") == "rootfs":
            return False
        cfg["root"]["path"] = "rootfs"
        return True


@runtime_mutant(
    "drops-env",
    breaks="process.env is not applied beyond PATH",
    fails=[
        "test_start.py::test_start_runs_the_program_as_process_says",
        "test_process.py::test_the_environment_is_process_env",
    ],
    requirements=[
        "runtime.start.runs-program",
        "config.process.env",
    ],
)
class DropsEnv(ConfigEditing):
    """process.env is not applied beyond PATH."""

    def edit(self, cfg: dict) -> bool:
        env = cfg.get("process", {}).get("env")
        if not env or len(env) <= 1:
            return False
        cfg["process"]["env"] = [e for e in env if e.startswith("PATH=")]
        return True


@runtime_mutant(
    "delete-removes-mount-sources",
    breaks="delete removes the bind mounts' sources",
    fails=[
        "test_delete.py::test_delete_keeps_the_bundle_and_mount_sources",
    ],
    requirements=[
        "runtime.delete.keeps-foreign-resources",
    ],
)
class DeleteRemovesMountSources(Wrapper):
    """delete also removes the sources of the container's bind mounts."""

    def run(self) -> int:
        if self.command != "delete" or not self.ids:
            return self.passthrough()
        st = self.state(self.ids[-1]) or {}
        sources = []
        try:
            with open(os.path.join(st.get("bundle", "/nonexistent"), "config.json")) as fh:
                cfg = json.load(fh)
            sources = [
                m["source"]
                for m in cfg.get("mounts", [])
                if m.get("type") == "bind" and m.get("source", "").startswith(st["bundle"])
            ]
        except (OSError, ValueError, KeyError):
            pass
        rc = subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
        if rc == 0:
            for src in sources:
                shutil.rmtree(src, ignore_errors=True)
        return rc


@runtime_mutant(
    "root-path-defaults-to-rootfs",
    breaks="a root without path is taken as root.path rootfs",
    fails=[
        "test_config_errors.py::test_create_refuses_a_broken_config_and_leaves_nothing_behind"
        "[root-without-path]",
    ],
    requirements=[
        "config.errors.root-path-required",
    ],
)
class RootPathDefaultsToRootfs(ConfigEditing):
    """A root object without path gets path "rootfs" instead of an error."""

    def edit(self, cfg: dict) -> bool:
        if not isinstance(cfg.get("root"), dict) or "path" in cfg["root"]:
            return False
        cfg["root"]["path"] = "rootfs"
        return True


@runtime_mutant(
    "string-process-taken-as-args",
    breaks="process given as a string runs that string as the program",
    fails=[
        "test_config_errors.py::test_create_refuses_a_broken_config_and_leaves_nothing_behind"
        "[process-is-a-string]",
    ],
    requirements=[
        "config.errors.wrong-type",
    ],
)
class StringProcessTakenAsArgs(ConfigEditing):
    """A process of the wrong type (a string) becomes a process running that string."""

    def edit(self, cfg: dict) -> bool:
        if not isinstance(cfg.get("process"), str):
            return False
        cfg["process"] = {
            "args": [cfg["process"]],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
        }
        return True


@runtime_mutant(
    "lenient-config-json",
    breaks="a config.json that is not JSON is replaced by a default config",
    fails=[
        "test_config_errors.py::test_create_refuses_a_broken_config_and_leaves_nothing_behind"
        "[not-json]",
    ],
    requirements=[
        "config.errors.not-json",
    ],
)
class LenientConfigJson(ConfigEditing):
    """A config.json that does not parse is swapped for a minimal valid one (rootfs at
    BUNDLE/rootfs, `sh` as the program) for the create, and put back after it."""

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        path = os.path.join(_bundle_of(self.args), "config.json")
        try:
            with open(path) as fh:
                original = fh.read()
            json.loads(original)
            return self.passthrough()
        except OSError:
            return self.passthrough()
        except ValueError:
            pass
        minimal = {
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {
                "args": ["sh"],
                "cwd": "/",
                "user": {"uid": 0, "gid": 0},
                "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            },
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]},
        }
        return self.create_with(path, json.dumps(minimal), original)
