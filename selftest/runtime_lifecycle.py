"""Runtime mutants of runtime.md's lifecycle and operations: a bundle without config.json
that still runs, a program started by create, a config re-read at start, a stopped
container reported running, an operation refused, a state that is no state.

Declared as declare.py says; standard library only (runtime_mutant.py imports this
module under the system python with -I).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

from selftest.declare import edit_mutant, runtime_mutant
from selftest.runtime_base import (
    TIMEOUT,
    StateRewriting,
    Wrapper,
    _bundle_of,
    _note_created,
    _root,
    _was_created,
)

S = "test_state.py::"
C = "test_create.py::"


@runtime_mutant(
    "default-config-when-missing",
    breaks="a bundle without config.json is created from a default config",
    fails=["test_bundle.py::test_a_bundle_without_config_json_cannot_be_created"],
    requirements=["bundle.config-json"],
)
class DefaultConfigWhenMissing(Wrapper):
    """create of a bundle that has no config.json writes the runtime's default one
    (`spec`, without a terminal), creates from it, then removes it again."""

    def run(self) -> int:
        bundle = _bundle_of(self.args)
        path = os.path.join(bundle, "config.json")
        if self.command != "create" or not self.ids or os.path.exists(path):
            return self.passthrough()
        made = self.real("spec", "--bundle", bundle)
        if made.returncode != 0:
            return self.passthrough()
        try:
            with open(path) as fh:
                cfg = json.load(fh)
            cfg["process"]["terminal"] = False
            with open(path, "w") as fh:
                json.dump(cfg, fh)
            return subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
        finally:
            os.unlink(path)


@runtime_mutant(
    "state-stopped-as-running",
    breaks='a container whose program exited is reported as "running"',
    fails=[S + "test_status_follows_the_lifecycle"],
    requirements=["runtime.state.status-stopped"],
)
class StateStoppedAsRunning(StateRewriting):
    """A stopped container's status reads "running"."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("status") == "stopped":
            doc["status"] = "running"


@runtime_mutant(
    "delete-refuses-stopped",
    breaks="delete (without --force) of a stopped container is refused to its creator",
    fails=[S + "test_status_follows_the_lifecycle"],
    requirements=["runtime.scope.operations-on-own-container"],
)
class DeleteRefusesStopped(Wrapper):
    """delete without --force of a stopped container exits 1 "permission denied"."""

    def run(self) -> int:
        forced = any(a in ("--force", "-f") for a in self.args)
        if self.command == "delete" and self.ids and not forced and self._stopped():
            sys.stderr.write(f"delete {self.ids[0]}: permission denied\n")
            return 1
        return self.passthrough()

    def _stopped(self) -> bool:
        return (self.state(self.ids[0]) or {}).get("status") == "stopped"


@runtime_mutant(
    "kill-unsupported",
    breaks="the kill operation is not supported",
    fails=[S + "test_status_follows_the_lifecycle"],
    requirements=["runtime.operations.supported"],
)
class KillUnsupported(Wrapper):
    """kill always exits 1 "operation not supported"."""

    def run(self) -> int:
        if self.command == "kill":
            sys.stderr.write("kill: operation not supported\n")
            return 1
        return self.passthrough()


@runtime_mutant(
    "state-no-status",
    breaks="the state JSON lacks status",
    fails=[
        S + "test_status_follows_the_lifecycle",
        S + "test_state_validates_against_the_state_schema",
    ],
    requirements=["runtime.state.status"],
)
class StateNoStatus(StateRewriting):
    """The state never carries status."""

    def rewrite(self, doc: dict) -> None:
        doc.pop("status", None)


@runtime_mutant(
    "state-as-text",
    breaks="state prints the state as text lines, not JSON",
    fails=[
        S + "test_state_validates_against_the_state_schema",
        S + "test_state_bundle_is_the_absolute_bundle_path",
        S + "test_state_carries_the_annotations",
        S + "test_state_pid_is_the_container_process",
        S + "test_state_reports_the_id_and_an_oci_version",
        S + "test_status_follows_the_lifecycle",
    ],
    requirements=["runtime.state-op.returns-state"],
)
class StateAsText(Wrapper):
    """state prints "key: value" lines instead of the JSON document."""

    def run(self) -> int:
        if self.command != "state" or not self.ids:
            return self.passthrough()
        doc = self.state(self.ids[0])
        if doc is None:
            return self.passthrough()
        print("\n".join(f"{k}: {v}" for k, v in doc.items()))
        return 0


@runtime_mutant(
    "starts-at-create",
    breaks="create runs the program right away (create then start)",
    fails=[C + "test_create_does_not_run_the_program"],
    requirements=[
        "runtime.lifecycle.program-not-run-at-create",
        "runtime.create.process-args-deferred",
    ],
)
class StartsAtCreate(Wrapper):
    """create is followed by start, so the program runs before start is asked for; until
    start is asked for, state still reports "created", and that start exits 0 without
    doing anything."""

    def _asked(self) -> str:
        return f"{_root(self.globals).rstrip('/')}.mutant-start-asked-{self.ids[0]}"

    def run(self) -> int:
        if self.command not in ("create", "start", "state") or not self.ids:
            return self.passthrough()
        early = _was_created(self.globals, self.ids[0])
        if self.command == "state":
            doc = self.state(self.ids[0])
            if doc is None or not early or os.path.exists(self._asked()):
                return self.passthrough()
            if doc.get("status") == "running":
                doc["status"] = "created"
            print(json.dumps(doc))
            return 0
        if self.command == "start":
            if not early:
                return self.passthrough()
            with open(self._asked(), "w"):
                pass
            return 0
        rc = subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
        if rc == 0 and self.real("start", self.ids[0]).returncode == 0:
            _note_created(self.globals, self.ids[0])
        return rc


def _saved(globals_: list[str], cid: str) -> str:
    return f"{_root(globals_).rstrip('/')}.mutant-config-{cid}"


@runtime_mutant(
    "start-rereads-config",
    breaks="start re-reads config.json and re-creates the container when it changed",
    fails=[C + "test_config_changes_after_create_have_no_effect"],
    requirements=["runtime.lifecycle.config-updates-ignored"],
)
class StartRereadsConfig(Wrapper):
    """create keeps a copy of config.json; start compares the bundle's config.json with
    it and, when it changed, deletes the container and creates it again from the new one
    (on the stdio the first one had), then starts it."""

    def run(self) -> int:
        if self.command == "create" and self.ids:
            rc = subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
            if rc == 0:
                with open(os.path.join(_bundle_of(self.args), "config.json")) as fh:
                    text = fh.read()
                with open(_saved(self.globals, self.ids[0]), "w") as fh:
                    json.dump({"config": text, "argv": self.argv, "cwd": os.getcwd()}, fh)
            return rc
        if self.command == "delete" and self.ids:
            with contextlib.suppress(OSError):
                os.unlink(_saved(self.globals, self.ids[0]))
        if self.command != "start" or not self.ids:
            return self.passthrough()
        cid = self.ids[0]
        try:
            with open(_saved(self.globals, cid)) as fh:
                saved = json.load(fh)
        except (OSError, ValueError):
            return self.passthrough()
        doc = self.state(cid) or {}
        try:
            with open(os.path.join(doc.get("bundle", ""), "config.json")) as fh:
                now = fh.read()
        except OSError:
            return self.passthrough()
        if now == saved["config"] or not doc.get("pid"):
            return self.passthrough()
        fds = [
            os.open(
                f"/proc/{doc['pid']}/fd/{n}", os.O_RDONLY if n == 0 else os.O_WRONLY | os.O_APPEND
            )
            for n in (0, 1, 2)
        ]
        try:
            self.real("delete", "--force", cid)
            subprocess.run(
                [self.base, *saved["argv"]],
                stdin=fds[0],
                stdout=fds[1],
                stderr=fds[2],
                cwd=saved["cwd"],
                timeout=TIMEOUT,
            )
        finally:
            for fd in fds:
                os.close(fd)
        return self.passthrough()


@edit_mutant(
    "skips-missing-bind-sources",
    breaks="a bind mount whose source does not exist is left out instead of failing create",
    fails=[C + "test_create_fails_when_a_mount_source_is_missing"],
    requirements=[
        "runtime.create.unapplicable-property-errors",
        "runtime.lifecycle.create-error-when-impossible",
    ],
)
def _(cfg: dict) -> bool:
    mounts = cfg.get("mounts") or []
    kept = [
        m
        for m in mounts
        if not (m.get("type") == "bind" or {"bind", "rbind"} & set(m.get("options") or []))
        or os.path.exists(m.get("source", ""))
    ]
    if len(kept) == len(mounts):
        return False
    cfg["mounts"] = kept
    return True


@runtime_mutant(
    "ptmx-is-the-hosts-node",
    breaks="/dev/ptmx in the container is a device node of the host's pty multiplexer",
    fails=["test_devices.py::test_dev_ptmx_is_the_containers_own_pts_ptmx"],
    requirements=["config-linux.default-devices.ptmx"],
)
class PtmxIsTheHostsNode(Wrapper):
    """After create, the container's /dev/ptmx is replaced by a char node 5:2 (the
    multiplexer of the host's devpts), not its own pts/ptmx."""

    def run(self) -> int:
        if self.command != "create" or not self.ids:
            return self.passthrough()
        rc = subprocess.run([self.base, *self.argv], timeout=TIMEOUT).returncode
        pid = (self.state(self.ids[0]) or {}).get("pid") if rc == 0 else None
        if pid:
            node = f"/proc/{pid}/root/dev/ptmx"
            try:
                os.unlink(node)
                os.mknod(node, 0o20666, os.makedev(5, 2))
            except OSError as exc:
                sys.stderr.write(f"mutant: {node}: {exc}\n")
        return rc


@edit_mutant(
    "drops-sys-mount",
    breaks="the sysfs mount at /sys (and the mounts under it) is not made",
    fails=["test_mounts.py::test_default_filesystem_is_mounted[sys]"],
    requirements=["config-linux.default-filesystems.sys"],
)
def _(cfg: dict) -> bool:
    mounts = cfg.get("mounts") or []
    kept = [m for m in mounts if not (m.get("destination", "") + "/").startswith("/sys/")]
    if len(kept) == len(mounts):
        return False
    cfg["mounts"] = kept
    return True


@edit_mutant(
    "shares-host-network",
    breaks="the network namespace config.json asks for is never made (the host's is shared)",
    fails=[C + "test_create_builds_the_environment_before_start"],
    requirements=["runtime.lifecycle.create-environment"],
)
def _(cfg: dict) -> bool:
    spaces = (cfg.get("linux") or {}).get("namespaces") or []
    kept = [n for n in spaces if not (n.get("type") == "network" and not n.get("path"))]
    if len(kept) == len(spaces):
        return False
    cfg["linux"]["namespaces"] = kept
    return True


@edit_mutant(
    "stderr-dropped-without-terminal",
    breaks="a process with no terminal field gets /dev/null as stderr, not the stderr handed over",
    fails=["test_process.py::test_without_terminal_the_process_keeps_the_stdio_it_was_handed"],
    requirements=["config.process.terminal-default"],
)
def _(cfg: dict) -> bool:
    process = cfg.get("process") or {}
    if "terminal" in process or not process.get("args"):
        return False
    process["args"] = ["sh", "-c", 'exec "$@" 2>/dev/null', "sh", *process["args"]]
    return True


@edit_mutant(
    "drops-proc-mount",
    breaks="the proc mount at /proc is not made",
    fails=["test_mounts.py::test_default_filesystem_is_mounted[proc]"],
    requirements=["config-linux.default-filesystems.proc"],
)
def _(cfg: dict) -> bool:
    mounts = cfg.get("mounts") or []
    kept = [m for m in mounts if m.get("destination") != "/proc"]
    if len(kept) == len(mounts):
        return False
    cfg["mounts"] = kept
    return True
