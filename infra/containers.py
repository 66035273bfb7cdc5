"""Containers and bundles of one test, removed whatever happens to the test.

`ContainerSession` is what the suites' fixtures hand a test: it makes bundles and
containers with the run's id prefix and, at teardown, kills and deletes every container
it made, removes their bundles, and raises `CleanupError` if the runtime left anything.
Waiting is on a condition with a deadline, never a bare sleep.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass

from infra.drivers.host import HostInspector
from infra.drivers.runtime import RuntimeDriver, RuntimeResult
from infra.evidence import Evidence, EvidenceLog
from infra.images.bundle import Bundle, make_bundle
from infra.images.rootfs import remove_bundles
from infra.probe import ProbeOutputError, ProbeReport, parse_report, probe_args
from infra.run import RunContext
from infra.wait import wait_recorded

#: seconds between two polls of a condition
POLL_INTERVAL = 0.02
#: default deadline for a state change, seconds
WAIT_TIMEOUT = 10.0

_counter = itertools.count(1)


def mapped_root(config: dict) -> str:
    """ "uid:gid" on the host of the root of the config's user namespace, or ""."""
    linux = config.get("linux") or {}
    if not any(n.get("type") == "user" for n in linux.get("namespaces") or []):
        return ""
    ids = []
    for key in ("uidMappings", "gidMappings"):
        ids += [m.get("hostID") for m in linux.get(key) or [] if m.get("containerID") == 0][:1]
    return f"{ids[0]}:{ids[1]}" if len(ids) == 2 else ""


def mapped_user(config: dict) -> str:
    """ "uid:gid" on the host of the config's process user, when it has a user namespace
    (its ids through the mappings), or "" (no user namespace, or ids not mapped)."""
    linux = config.get("linux") or {}
    if not any(n.get("type") == "user" for n in linux.get("namespaces") or []):
        return ""
    user = (config.get("process") or {}).get("user") or {}
    ids = []
    for key, cid in (("uidMappings", user.get("uid", 0)), ("gidMappings", user.get("gid", 0))):
        ids += [
            m["hostID"] + cid - m["containerID"]
            for m in linux.get(key) or []
            if isinstance(cid, int)
            and m.get("containerID", 0) <= cid < m.get("containerID", 0) + m.get("size", 0)
        ][:1]
    return f"{ids[0]}:{ids[1]}" if len(ids) == 2 else ""


class CleanupError(Exception):
    """The runtime left a container or files behind after teardown."""


@dataclass
class Container:
    """A container this test created (it may have failed to create)."""

    id: str
    bundle: Bundle
    stdio_dir: str
    create_result: RuntimeResult

    @property
    def created(self) -> bool:
        return self.create_result.ok


class ContainerSession:
    """Bundles and containers of one test on one runtime subject.

    Args:
        driver: the runtime driver for this test (its log is the test's evidence).
        ctx: the run context (ids, directories, cache, schemas).
        worker: the xdist worker id ("gw0") or "main".
        rootfs: the cached rootfs each bundle's own rootfs is made from (an overlay on it,
            or a copy: infra/images/rootfs.py).
    """

    def __init__(self, driver: RuntimeDriver, ctx: RunContext, worker: str, rootfs: str) -> None:
        self.driver = driver
        self.ctx = ctx
        self.worker = worker
        self.rootfs = rootfs
        self.target = driver.target
        self.ids: list[str] = []
        self.created_ids: set[str] = set()
        #: ids whose create timed out or crashed: the container may exist all the same
        self.unanswered: set[str] = set()
        self.bundles: list[str] = []
        self._userns_exclusive = False
        self.mapped_roots: list[str] = []  # "uid:gid" on the host of user namespaces' root
        self._creates = itertools.count(1)

    @property
    def log(self) -> EvidenceLog:
        return self.driver.log

    def new_id(self) -> str:
        """A container id unique in the run: RUN_ID-WORKER-NNNN."""
        return f"{self.ctx.run_id}-{self.worker}-{next(_counter):04d}"

    def bundle(
        self, args: list[str] | None = None, name: str | None = None, rootfs_mode: str | None = None
    ) -> Bundle:
        """A fresh bundle (baseline config, private writable rootfs); config not yet written.

        `rootfs_mode`: "copy" for a test whose point is the rootfs mount itself (its
        propagation: an overlay mount at the rootfs changes what a runtime sees there),
        None for the run's mode ($OCITEST_ROOTFS, infra/images/rootfs.py)."""
        name = name or self.new_id()
        path = f"{self.ctx.work_base}/{name}"
        self.bundles.append(path)
        bundle = make_bundle(
            self.target,
            path,
            self.rootfs,
            self.ctx.schema_dir,
            cgroups_path=f"/{name}",
            args=args,
            rootfs_mode=rootfs_mode,
        )
        return bundle

    def create(
        self, bundle: Bundle, container_id: str | None = None, stdin: str = "/dev/null"
    ) -> Container:
        """Run `create` on `bundle` (writing its config first if the test has not), with
        `stdin` (a path on the target) as the container's stdin."""
        if not bundle.written:
            bundle.write()
        owner = mapped_root(bundle.config)
        # crun 1.8.1 also gives host /dev/null to a user namespace's process user
        for who in (owner, mapped_user(bundle.config)):
            if who and who not in self.mapped_roots:
                self.mapped_roots.append(who)
        cid = container_id or bundle.path.rsplit("/", 1)[-1]
        if cid not in self.ids:
            self.ids.append(cid)
        stdio = f"{bundle.path}.stdio/{next(self._creates)}"
        shared = owner and not self._userns_exclusive
        with self.userns_lock(exclusive=False) if shared else contextlib.nullcontext():
            rr = self.driver.create(cid, bundle.path, stdio, stdin)
        if rr.ok:
            self.created_ids.add(cid)
        elif rr.result.timed_out or rr.result.crash_signal:
            self.unanswered.add(cid)
        return Container(id=cid, bundle=bundle, stdio_dir=stdio, create_result=rr)

    def created(self, args: list[str] | None = None, **config: object) -> Container:
        """A container in the created state, or an AssertionError saying why not.

        Keyword arguments set top-level config fields (e.g. annotations={...}).
        """
        b = self.bundle(args=args)
        b.config.update(config)
        c = self.create(b)
        assert c.created, (
            "setup: create failed, so this test cannot check what it is "
            "for\n" + c.create_result.evidence.brief()
        )
        return c

    def running(self, args: list[str] | None = None, **config: object) -> Container:
        """A container in the running state (created, then started)."""
        c = self.created(args=args, **config)
        rr = self.driver.start(c.id)
        assert rr.ok, "setup: start failed\n" + rr.evidence.brief()
        return c

    @contextlib.contextmanager
    def userns_lock(self, exclusive: bool = True):
        """Hold the run's lock on creating user-namespace containers: every such create
        holds it shared; a test that watches what a create does to shared host nodes
        (crun 1.8.1 chowns host /dev/null) holds it exclusively, so no parallel worker's
        create interleaves. The host's nodes are shared by every run on the machine (the
        harness's self-tests run several at once), so the lock is on the user's state
        directory itself (/run/ocitest for root: no file of its own is left there), not
        the run's; the local target only (a remote target's creates are not serialised)."""
        try:
            fd = os.open(self.ctx.layout.state, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._userns_exclusive = exclusive
            yield
        finally:
            self._userns_exclusive = False
            os.close(fd)

    def probe(
        self, bundle: Bundle | str | None = None, *actions: str, timeout: float = 30.0
    ) -> ProbeReport:
        """Run the probe (infra/images/probe.c) as the container's process and parse its report.

        `bundle` (a fresh baseline one when None; a str is taken as the first action) keeps
        every field the test set; process.args becomes the probe with `actions`. The
        container is created, started and waited for (`timeout` seconds) until stopped.

        Raises:
            AssertionError: "setup: ..." when create or start fails, the probe does not
                stop in time, or prints no report (with the evidence).
        """
        if isinstance(bundle, str):
            bundle, actions = None, (bundle, *actions)
        c = self._start_probe(bundle, list(actions))
        stopped = self.wait_status(c.id, "stopped", timeout)
        assert stopped, f"setup: the probe in {c.id} did not stop within {timeout:g} s\n" + (
            self._probe_output_brief(c)
        )
        return self._report(c, list(actions))

    def probe_running(
        self, bundle: Bundle | None = None, *actions: str, timeout: float = 30.0
    ) -> tuple[Container, ProbeReport]:
        """Like `probe`, but the container stays running after its report (the probe then
        pauses) so the host side can be inspected; teardown kills it."""
        c = self._start_probe(bundle, [*actions, "pause"])
        lines = len(actions) + 2
        reported = self.wait_for(
            f"the probe in {c.id} reported {len(actions)} actions",
            lambda: self.output(c).count("\n") >= lines,
            timeout,
        )
        assert reported, f"setup: the probe in {c.id} did not report within {timeout:g} s\n" + (
            self._probe_output_brief(c)
        )
        return c, self._report(c, [*actions, "pause"])

    def _start_probe(self, bundle: Bundle | None, actions: list[str]) -> Container:
        b = bundle or self.bundle()
        b.config.setdefault("process", {})["args"] = probe_args(*actions)
        c = self.create(b)
        assert c.created, "setup: create failed\n" + c.create_result.evidence.brief()
        rr = self.driver.start(c.id)
        assert rr.ok, "setup: start failed\n" + rr.evidence.brief()
        return c

    def _probe_output_brief(self, c: Container) -> str:
        return f"  stdout: {self.output(c)[-800:]!r}\n  stderr: {self.output(c, 'stderr')[-800:]!r}"

    def _report(self, c: Container, actions: list[str]) -> ProbeReport:
        raw = self.output(c)
        lines = raw.splitlines()
        ev = Evidence(
            command=f"(probe) container {c.id}: {' '.join(probe_args(*actions))}",
            exit_status=0,
            stdout="\n".join(lines[1:]),
            stderr=self.output(c, "stderr"),
            note=f"facts line of {len(lines[0]) if lines else 0} characters in results.json",
        )
        self.log.add(Evidence(command=f"(probe output) {c.id}", exit_status=0, stdout=raw))
        try:
            return parse_report(raw, actions, ev)
        except ProbeOutputError as exc:
            raise AssertionError(f"setup: {exc}\n" + ev.brief()) from None

    def output(self, container: Container, stream: str = "stdout") -> str:
        """What the container (and the runtime during create) wrote to `stream` so far."""
        path = f"{container.stdio_dir}/{stream}"
        return self.target.read_text(path) if self.target.exists(path) else ""

    def state(self, container_id: str) -> dict | None:
        """The parsed state, or None when state fails or is not a JSON object."""
        rr = self.driver.state(container_id)
        if not rr.ok:
            return None
        try:
            doc = rr.json()
        except ValueError as exc:  # say so in the evidence: a wait on it shows why it failed
            rr.evidence.note = (rr.evidence.note + "; " if rr.evidence.note else "") + (
                f"stdout is not JSON ({exc})"
            )
            return None
        return doc if isinstance(doc, dict) else None

    def wait_for(
        self, what: str, predicate: Callable[[], object], timeout: float = WAIT_TIMEOUT
    ) -> bool:
        """Poll `predicate()` until true or `timeout` seconds pass (infra/wait.py); one
        evidence line for the wait. The polls' own runtime calls are not kept in the
        evidence (only the last one). False when the deadline passed."""
        return wait_recorded(what, predicate, timeout, self.driver, interval=POLL_INTERVAL)

    def wait_status(self, container_id: str, status: str, timeout: float = WAIT_TIMEOUT) -> bool:
        """Wait until state reports `status`; False when the deadline passes."""
        return self.wait_for(
            f"state {container_id} reports status {status!r}",
            lambda: (self.state(container_id) or {}).get("status") == status,
            timeout,
        )

    def wait_output(
        self, container: Container, text: str, stream: str = "stdout", timeout: float = WAIT_TIMEOUT
    ) -> bool:
        """Wait until the container's `stream` contains `text`."""
        return self.wait_for(
            f"{stream} of {container.id} contains {text!r}",
            lambda: text in self.output(container, stream),
            timeout,
        )

    # teardown ------------------------------------------------------------------------
    def cleanup(self) -> None:
        """Kill and delete every container made, unmount the bundles' overlay rootfs and
        remove the bundles.

        Raises:
            CleanupError: a container is still known to the runtime afterwards.
        """
        quiet = EvidenceLog()
        loud, self.driver.log = self.driver.log, quiet
        left, given = [], []
        try:
            # Only ids whose create succeeded, or never answered (timed out, crashed):
            # after a failed create the runtime's word is all we have, and the sweeper
            # catches a runtime that lied about failing.
            for cid in (i for i in self.ids if i in self.created_ids | self.unanswered):
                if self.driver.state(cid).ok:
                    self.driver.kill(cid, "KILL")
                    self.wait_status(cid, "stopped", timeout=WAIT_TIMEOUT)
                    self.driver.delete(cid)
                    if self.driver.state(cid).ok:
                        self.driver.delete(cid, force=True)
                    if self.driver.state(cid).ok:
                        left.append(cid)
            remove_bundles(self.target, self.bundles)  # overlays unmounted first
            # crun 1.8.1 chowns host /dev/null to a user namespace's root and never undoes
            # it (config-linux.userns.no-rootfs-chown reports that): give such nodes back
            for owner in self.mapped_roots:
                given += HostInspector(self.target, quiet).give_back_devices(owner)
        finally:
            self.driver.log = loud
        if given:
            loud.add(
                Evidence(
                    command="(teardown) chown 0:0 " + " ".join(given),
                    exit_status=0,
                    note="host device nodes the runtime had given to the container's root",
                )
            )
        if left:
            for ev in quiet.records:
                ev.note = ("teardown; " + ev.note).rstrip("; ")
                loud.add(ev)
            raise CleanupError(
                f"teardown: the runtime still reports containers {left} after "
                "kill KILL and delete; the run's sweeper will remove them"
            )
