"""The run context: one id and one set of directories per pytest run.

Everything a run creates carries the run id (containers, cgroups, directories) and lives
under our own roots, so the sweeper and the leak check know exactly what is ours:
- /run/ocitest/RUN_ID/SUBJECT_ID/   runtime state roots (`--root`)
- /var/lib/ocitest/runs/RUN_ID/     bundles and container stdio
- /var/cache/ocitest/               the rootfs cache (kept between runs)

A user other than root (rootless mode: the runtimes put each container in a user
namespace) gets the same shape in places that user owns (`Layout`, `user_layout`):
- $XDG_RUNTIME_DIR/ocitest/RUN_ID/..., else /tmp/ocitest-UID/run/RUN_ID/...   state roots
- /tmp/ocitest-UID/runs/RUN_ID/                                        bundles, stdio
- $OCITEST_CACHE, else $XDG_CACHE_HOME/ocitest or ~/.cache/ocitest, else
  /tmp/ocitest-UID/cache                                               the rootfs cache
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field

from infra.cache import CACHE_DIR  # re-exported: infra.run.CACHE_DIR
from infra.subjects import Subject
from infra.targets import Target

STATE_BASE = "/run/ocitest"
WORK_BASE = "/var/lib/ocitest/runs"
#: the harness's local bookkeeping for runs on remote targets (`RunContext.control_base`)
CONTROL_BASE = "/tmp/ocitest-control"


@dataclass(frozen=True)
class Layout:
    """Where the runs of one user of a target keep their directories.

    Attributes:
        state: parent of each run's state dir (runtime `--root`s live in STATE/RUN_ID/).
        work: parent of each run's work dir (bundles in WORK/RUN_ID/).
        cache: the rootfs cache (kept between runs).
        uid, gid: the user the harness runs as on the target; not 0: rootless mode.
        private: a directory the layout needs that must be the user's alone ("" for root).
    """

    state: str = STATE_BASE
    work: str = WORK_BASE
    cache: str = CACHE_DIR
    uid: int = 0
    gid: int = 0
    private: str = ""

    @property
    def rootless(self) -> bool:
        return self.uid != 0


#: root's layout (unchanged since the first runs)
ROOT_LAYOUT = Layout()

_USER_LAYOUT = r"""
uid=$(id -u); gid=$(id -g); echo "$uid"; echo "$gid"
[ "$uid" = 0 ] && exit 0
tmp=/tmp/ocitest-$uid
if [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ] && [ -O "$XDG_RUNTIME_DIR" ]; then
  echo "$XDG_RUNTIME_DIR/ocitest"
else
  echo "$tmp/run"
fi
echo "$tmp/runs"
if [ -n "${OCITEST_CACHE:-}" ]; then echo "$OCITEST_CACHE"
elif [ -n "${XDG_CACHE_HOME:-}" ]; then echo "$XDG_CACHE_HOME/ocitest"
elif [ -n "${HOME:-}" ] && [ "$HOME" != / ] && [ -d "$HOME" ] && [ -O "$HOME" ] && [ -w "$HOME" ]; then
  echo "$HOME/.cache/ocitest"
else echo "$tmp/cache"
fi
echo "$tmp"
"""


def user_layout(target: Target) -> Layout:
    """The layout for the user the harness runs as on `target` (root: `ROOT_LAYOUT`).

    Raises:
        OSError: the target did not say who we are.
    """
    res = target.run(["sh", "-c", _USER_LAYOUT], timeout=15)
    lines = res.stdout.splitlines()
    if res.exit_status != 0 or len(lines) not in (2, 6):
        raise OSError(f"cannot tell the target's user: {res.stderr.strip() or res.stdout!r}")
    uid, gid = int(lines[0]), int(lines[1])
    if uid == 0:
        return ROOT_LAYOUT
    state, work, cache, private = lines[2:]
    return Layout(state=state, work=work, cache=cache, uid=uid, gid=gid, private=private)


def new_run_id() -> str:
    """A short id for a run: "oct" and 6 hex digits (kept short: it prefixes container ids)."""
    return "oct" + secrets.token_hex(3)


@dataclass
class RunContext:
    """What every process of a run (controller and xdist workers) shares.

    Attributes:
        schema_dir: the runtime-spec schema directory (set by the runtime kind).
        explicit: kind name -> the subjects its explicitly given options named, resolved
            at start on the controller (infra/kinds/base.py, `Kind.check`). The subjects
            a run uses are recorded per kind in the run directory (infra/kinds/runs.py).
        ssh_key: the private key for an ssh target ("" for OCITEST_SSH_KEY or the agent).
        remote: the target is another machine (`Target.remote`).
        attach_spec: for a VM target, the `ssh://` spec of the VM the controller booted
            (the workers attach to it), else "".
        tag: with more than one `--target`, what every subject id of this context ends
            with after an `@` (`runc@qemu:debian`; infra/subjects.py `target_tag`); ""
            in a run with one target.
    """

    run_id: str
    target_spec: str
    schema_dir: str = ""
    explicit: dict[str, list[Subject]] = field(default_factory=dict)
    cache_dir: str = CACHE_DIR
    layout: Layout = ROOT_LAYOUT
    ssh_key: str = ""
    remote: bool = False
    attach_spec: str = ""
    tag: str = ""

    @property
    def rootless(self) -> bool:
        """True when the harness runs as a user other than root (see `Layout`)."""
        return self.layout.rootless

    @property
    def state_base(self) -> str:
        return f"{self.layout.state}/{self.run_id}"

    @property
    def work_base(self) -> str:
        return f"{self.layout.work}/{self.run_id}"

    @property
    def control_base(self) -> str:
        """The run's bookkeeping directory on the harness's own machine (the kinds' lock
        and files, infra/kinds/runs.py): the state dir on the local target, else
        CONTROL_BASE/RUN_ID (a remote target's directories are not files here)."""
        if self.remote:
            return f"{CONTROL_BASE}/{self.run_id}"
        return self.state_base

    def state_root(self, subject: Subject) -> str:
        return f"{self.state_base}/{subject.id}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["explicit"] = {k: [s.to_dict() for s in v] for k, v in self.explicit.items()}
        return d

    @classmethod
    def from_dict(cls, data: dict) -> RunContext:
        data = dict(data)
        data["explicit"] = {
            k: [Subject.from_dict(s) for s in v] for k, v in data.get("explicit", {}).items()
        }
        data["layout"] = Layout(**data.get("layout", {}))
        return cls(**data)
