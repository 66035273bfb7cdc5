#!/usr/bin/python3 -I
"""A deliberately broken OCI runtime for ocitest's self-tests (a mutant, never a subject).

Each mutant wraps a real runtime and breaks exactly one behaviour. The mutant is chosen
by the name this script is invoked as: infra/mutants/bin/mutant-<name> (wrapping runc)
or mutant-crun-<name> (wrapping crun) is a symlink to this file. registry.py lists what
each one breaks and which tests must catch it. Standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

# run as a script (python3 -I): make the checkout importable for the shared bases
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))

from infra.mutants.runtime_base import (
    TIMEOUT,
    ConfigEditing,
    Mutant,
    StateRewriting,
    _note_created,
    _was_created,
    declared_class,
)


class MissingIdOk(Mutant):
    """state/start/kill/delete/create without a container id exit 0."""

    def run(self) -> int:
        if self.command in ("state", "start", "kill", "delete", "create") and not self.ids:
            return 0
        return self.passthrough()


class StateUnknownOk(Mutant):
    """state of an id never created answers with an invented state."""

    def run(self) -> int:
        if (
            self.command == "state"
            and self.ids
            and self.state(self.ids[0]) is None
            and not _was_created(self.globals, self.ids[0])
        ):
            print(
                json.dumps(
                    {"ociVersion": "1.0.2", "id": self.ids[0], "status": "stopped", "bundle": "/"}
                )
            )
            return 0
        if self.command == "create" and self.ids:
            res = subprocess.run([self.base, *self.argv], timeout=TIMEOUT)
            if res.returncode == 0:
                _note_created(self.globals, self.ids[0])
            return res.returncode
        return self.passthrough()


class StateNoBundle(Mutant):
    """The state JSON lacks the required bundle property."""

    def run(self) -> int:
        if self.command == "state" and self.ids:
            res = self.real("state", *self.args)
            if res.returncode == 0:
                doc = json.loads(res.stdout)
                doc.pop("bundle", None)
                print(json.dumps(doc))
            else:
                sys.stderr.write(res.stderr)
            return res.returncode
        return self.passthrough()


class CreateDuplicateOk(Mutant):
    """create with an id in use exits 0 (and does nothing)."""

    def run(self) -> int:
        if self.command == "create" and self.ids and self.state(self.ids[-1]) is not None:
            return 0
        return self.passthrough()


class StartNotCreatedOk(Mutant):
    """start of a container that is running or stopped exits 0 (and does nothing)."""

    def run(self) -> int:
        if self.command == "start" and self.ids:
            st = self.state(self.ids[0])
            if st is not None and st.get("status") in ("running", "stopped"):
                return 0
        return self.passthrough()


class KillWrongSignal(Mutant):
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


class KillStoppedOk(Mutant):
    """kill of a stopped container exits 0."""

    def run(self) -> int:
        if self.command == "kill" and self.ids:
            st = self.state(self.ids[0])
            if st is not None and st.get("status") == "stopped":
                return 0
        return self.passthrough()


class DeleteRunningOk(Mutant):
    """delete of a running container force-deletes it and exits 0."""

    def run(self) -> int:
        if self.command == "delete" and self.ids and "--force" not in self.args:
            st = self.state(self.ids[0])
            if st is not None and st.get("status") == "running":
                return self.real("delete", "--force", self.ids[0]).returncode
        return self.passthrough()


class DeleteKeepsContainer(Mutant):
    """delete (without --force) exits 0 but removes nothing."""

    def run(self) -> int:
        if self.command == "delete" and self.ids and "--force" not in self.args:
            return 0
        return self.passthrough()


class NoDevSymlinks(Mutant):
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


class LeaksFd(Mutant):
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


def skips_hooks(kind: str) -> type[ConfigEditing]:
    class SkipsHooks(ConfigEditing):
        __doc__ = f"{kind} hooks never run (dropped from config.json for create)."

        def edit(self, cfg: dict) -> bool:
            return bool(cfg.get("hooks", {}).pop(kind, None))

    return SkipsHooks


class IgnoresHookFailures(ConfigEditing):
    """Every hook's failure is ignored (each hook is wrapped to exit 0)."""

    def edit(self, cfg: dict) -> bool:
        hooks = cfg.get("hooks") or {}
        for entries in hooks.values():
            for h in entries:
                args = h.get("args") or [h["path"]]
                h["args"] = ["sh", "-c", '"$0" "$@"; exit 0', h["path"], *args[1:]]
                h["path"] = "/bin/sh"
        return bool(hooks)


class StopsAtFailingPoststop(ConfigEditing):
    """After the first failing poststop hook, the remaining ones never run."""

    def edit(self, cfg: dict) -> bool:
        hooks = cfg.get("hooks", {}).get("poststop") or []
        failing = [i for i, h in enumerate(hooks) if "exit 3" in " ".join(h.get("args", []))]
        if not failing or failing[0] == len(hooks) - 1:
            return False
        cfg["hooks"]["poststop"] = hooks[: failing[0] + 1]
        return True


class HostnameIgnored(ConfigEditing):
    """hostname is not applied (dropped from config.json for create)."""

    def edit(self, cfg: dict) -> bool:
        return cfg.pop("hostname", None) is not None


class IgnoresRootPath(ConfigEditing):
    """root.path is ignored: the rootfs is always BUNDLE/rootfs."""

    def edit(self, cfg: dict) -> bool:
        if cfg.get("root", {}).get("path", "rootfs") == "rootfs":
            return False
        cfg["root"]["path"] = "rootfs"
        return True


class StateWrongPid(StateRewriting):
    """The state reports a pid that is not the container process (above Linux's largest
    possible pid_max, 4194304, so it can never name a real process)."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("pid"):
            doc["pid"] = 4_194_304 + 1 + doc["pid"] % 100_000


class StateNoAnnotations(StateRewriting):
    """The state never carries annotations."""

    def rewrite(self, doc: dict) -> None:
        doc.pop("annotations", None)


class StateBadVersion(StateRewriting):
    """The state's ociVersion is not a version."""

    def rewrite(self, doc: dict) -> None:
        doc["ociVersion"] = "latest"


class StateStuckCreated(StateRewriting):
    """A running container is reported as "created"."""

    def rewrite(self, doc: dict) -> None:
        if doc.get("status") == "running":
            doc["status"] = "created"


class DropsEnv(ConfigEditing):
    """process.env is not applied beyond PATH."""

    def edit(self, cfg: dict) -> bool:
        env = cfg.get("process", {}).get("env")
        if not env or len(env) <= 1:
            return False
        cfg["process"]["env"] = [e for e in env if e.startswith("PATH=")]
        return True


class DeleteRemovesMountSources(Mutant):
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


MUTANT_CLASSES: dict[str, type[Mutant]] = {
    "missing-id-ok": MissingIdOk,
    "state-unknown-ok": StateUnknownOk,
    "state-no-bundle": StateNoBundle,
    "create-duplicate-ok": CreateDuplicateOk,
    "start-not-created-ok": StartNotCreatedOk,
    "kill-wrong-signal": KillWrongSignal,
    "kill-stopped-ok": KillStoppedOk,
    "delete-running-ok": DeleteRunningOk,
    "delete-keeps-container": DeleteKeepsContainer,
    "no-dev-symlinks": NoDevSymlinks,
    "leaks-fd": LeaksFd,
    "skips-poststop-hooks": skips_hooks("poststop"),
    "skips-prestart-hooks": skips_hooks("prestart"),
    "skips-create-runtime-hooks": skips_hooks("createRuntime"),
    "skips-create-container-hooks": skips_hooks("createContainer"),
    "skips-start-container-hooks": skips_hooks("startContainer"),
    "ignores-hook-failures": IgnoresHookFailures,
    "hostname-ignored": HostnameIgnored,
    "ignores-root-path": IgnoresRootPath,
    "skips-poststart-hooks": skips_hooks("poststart"),
    "stops-at-failing-poststop": StopsAtFailingPoststop,
    "state-wrong-pid": StateWrongPid,
    "state-no-annotations": StateNoAnnotations,
    "state-bad-version": StateBadVersion,
    "state-stuck-created": StateStuckCreated,
    "drops-env": DropsEnv,
    "delete-removes-mount-sources": DeleteRemovesMountSources,
}


def main() -> int:
    key = os.path.basename(sys.argv[0]).removeprefix("mutant-")
    base_name, name = "runc", key
    if name.startswith("crun-"):
        base_name, name = "crun", name.removeprefix("crun-")
    cls = MUTANT_CLASSES.get(name) or declared_class(key)
    base = shutil.which(base_name) or ""
    if cls is None or not base:
        sys.stderr.write(f"runtime_mutant: unknown mutant {name!r} or no base runtime\n")
        return 2
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    return cls(base, sys.argv[1:]).run()


if __name__ == "__main__":
    sys.exit(main())
