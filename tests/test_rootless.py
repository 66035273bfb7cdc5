"""Rootless: the runtime suite runs as an unprivileged user, runc and crun in their
rootless mode (README, Rootless).

The user is `ocitest-rootless` (created here if missing, as a system user). The suite
runs as that user with the command the README gives; the run must complete, give every
test an outcome (tests that need root are skipped naming it), pass a fair share of tests
for each runtime, and leave nothing of that user behind. Needs root (to make the user
and switch to it).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PYTEST, ROOT, subject_free

USER = "ocitest-rootless"
RUNTIMES = ("runc", "crun")
#: seconds the rootless run of the whole runtime suite may take
RUN_TIMEOUT = 1500
#: fewer passes than this for a runtime means rootless mode is broken, not just limited
MIN_PASSED = 40
#: outcomes a rootless run may give; `stale`: a known failure of root runs that the
#: rootless mode does not show (the report lists them)
OUTCOMES = {"passed", "failed", "skipped", "unsupported", "not-required", "xfail", "stale"}

#: tests that cannot pass rootless and still wait for their `requires("root")` marker
#: from the owner of their file: the rootless run deselects them (drop an entry once
#: its marker is in; a test that fails rootless for another reason fails this self-test)
AWAITING_ROOT_MARKER: set[str] = set()

#: failures the rootless run may show, each a real fault of the runtime that root runs
#: rarely meet (timing): the inner report still lists them as failed
ROOTLESS_RACES = {
    "test_config_hooks.py::test_poststart_hooks_run_after_the_program_is_executed_before_start_returns"
    "[crun]": "crun 1.8.1 runs poststart hooks once it has told the container process to "
    "start, without waiting for its exec: under load the hook sees it still as `crun create`",
}

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason=f"needs root: creates the user {USER} and runs the suite as it"
)


@dataclass
class RootlessUser:
    """The unprivileged user, and how to start the harness's Python as it."""

    name: str
    uid: int
    env: dict[str, str]
    python: list[str]

    def run(self, argv: list[str], timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
        """Run `argv` as the user with a clean environment, from the checkout."""
        envs = [f"{k}={v}" for k, v in {**self.env, **env}.items()]
        return subprocess.run(
            ["runuser", "-u", self.name, "--", "env", "-i", *envs, *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _ensure_user() -> pwd.struct_passwd:
    """The user, made as a system user with a home of its own if missing (idempotent)."""
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pass
    res = subprocess.run(
        ["useradd", "--system", "--create-home", "--shell", "/bin/sh", USER],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode not in (0, 9):  # 9: made meanwhile by another worker
        pytest.fail(f"setup: useradd {USER} failed ({res.returncode}): {res.stderr.strip()}")
    return pwd.getpwnam(USER)


def _python_for(user: RootlessUser) -> tuple[list[str], dict[str, str]] | str:
    """How the user starts the harness's Python, or why it cannot.

    The virtualenv's interpreter first. Its `python` links to the interpreter it was made
    from, which may lie where the user cannot go (a pyenv under /root, mode 700); then the
    system's Python of the same version, with the virtualenv's packages on PYTHONPATH."""
    check = ["-c", "import pytest, xdist, testinfra, yaml, jsonschema, infra.plugin"]
    venv = str(ROOT / ".venv" / "bin" / "python")
    if user.run([venv, *check]).returncode == 0:
        return [venv], {}
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = f"/usr/bin/python{ver}"
    site = ROOT / ".venv" / "lib" / f"python{ver}" / "site-packages"
    env = {"PYTHONPATH": f"{ROOT}:{ROOT}/pkg:{site}"}  # pkg: the ocitest package (entry point)
    if os.path.exists(system) and user.run([system, *check], **env).returncode == 0:
        return [system], env
    return (
        f"{venv} (-> {os.path.realpath(venv)}) is not executable by {USER}, and {system} "
        f"cannot load the virtualenv's packages"
    )


@pytest.fixture(scope="module")
def user() -> RootlessUser:
    pw = _ensure_user()
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": pw.pw_dir,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    u = RootlessUser(USER, pw.pw_uid, env, [])
    readable = u.run(["test", "-r", f"{ROOT}/pyproject.toml", "-a", "-x", f"{ROOT}/suites"])
    if readable.returncode != 0:
        pytest.skip(
            f"needs a checkout {USER} can read: {ROOT} is not (a clone below a directory "
            "only root may enter); clone to a readable place to run this test"
        )
    how = _python_for(u)
    if isinstance(how, str):
        pytest.skip(f"needs a Python {USER} can run: {how}")
    u.python, extra = how
    u.env.update(extra)
    return u


@pytest.fixture
def user_dir(user: RootlessUser):
    """A fresh directory the user owns (under /tmp), removed afterwards."""
    res = user.run(["mktemp", "-d", f"/tmp/{USER}-test.XXXXXX"])
    assert res.returncode == 0, f"setup: mktemp as {USER}: {res.stderr.strip()}"
    path = Path(res.stdout.strip())
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _layout(user: RootlessUser) -> dict:
    """The user's own run directories, as the harness computes them."""
    code = (
        "import json; from dataclasses import asdict; from infra.run import user_layout; "
        "from infra.targets import open_target; "
        "print(json.dumps(asdict(user_layout(open_target('local')))))"
    )
    res = user.run([*user.python, "-c", code])
    assert res.returncode == 0, f"setup: the user's layout: {res.stderr.strip()[-500:]}"
    return json.loads(res.stdout)


def _processes_of(uid: int, grace: float = 10.0) -> str:
    """The user's processes (pgrep -a) still there after `grace` seconds ("" when none).

    The grace lets the other tests of this file, which run short commands as the same
    user, finish; a process the suite leaked stays."""
    deadline = time.monotonic() + grace
    while True:
        ps = subprocess.run(["pgrep", "-a", "-u", str(uid)], capture_output=True, text=True)
        if not ps.stdout.strip() or time.monotonic() > deadline:
            return ps.stdout.strip()
        time.sleep(0.2)


def _gist(message: str | None) -> str:
    """The wanted/seen/stderr lines of a failure message (its first lines if none)."""
    lines = (message or "").splitlines()
    keep = [ln.strip() for ln in lines if ln.strip().startswith(("wanted:", "seen:", "stderr:"))]
    return " | ".join(keep[:4] or lines[:3])[:700]


def test_the_runtime_suite_runs_rootless_and_leaves_nothing(user, user_dir):
    report = user_dir / "report"
    res = user.run(
        [
            *user.python,
            *PYTEST[1:],
            "suites/oci_runtime",
            *(a for rt in RUNTIMES for a in ("--runtime", rt)),
            "--report-dir",
            str(report),
            "--gate",
            "none",
            "-n",
            "2",
            "--known-failures",
            "known-failures.yaml",
            *(f"--deselect=suites/oci_runtime/{t}[" for t in sorted(AWAITING_ROOT_MARKER)),
        ],
        timeout=RUN_TIMEOUT,
    )
    tail = f"\nstdout: {res.stdout[-3000:]}\nstderr: {res.stderr[-2000:]}"
    assert res.returncode == 0, f"the rootless run exited {res.returncode} with --gate none" + tail
    doc = json.loads((report / "results.json").read_text())
    assert doc["run"]["complete"], "the report of the rootless run is marked incomplete" + tail

    records = doc["results"]
    odd = [(r["nodeid"], r["outcome"]) for r in records if r["outcome"] not in OUTCOMES]
    assert not odd, (
        f"rootless outcomes other than {sorted(OUTCOMES)} (error: the harness broke): {odd}"
    )
    tests = {
        rt: {subject_free(r["nodeid"], rt) for r in records if r["subject"] == rt}
        for rt in RUNTIMES
    }
    assert tests["runc"] == tests["crun"] and tests["runc"], (
        f"each test once per runtime; only runc: {sorted(tests['runc'] - tests['crun'])[:10]}, "
        f"only crun: {sorted(tests['crun'] - tests['runc'])[:10]}"
    )
    for rt in RUNTIMES:
        passed = sum(1 for r in records if r["subject"] == rt and r["outcome"] == "passed")
        assert passed >= MIN_PASSED, (
            f"{rt}: only {passed} tests passed rootless (at least {MIN_PASSED})"
        )
    root_skips = [
        r for r in records if r["outcome"] == "skipped" and "needs root" in (r["message"] or "")
    ]
    assert root_skips, (
        "no test was skipped for needing root: the requires('root') markers did not apply"
    )

    unexplained = sorted(
        f"{subject_free(r['nodeid'], r['subject'])} [{r['subject']}]: {_gist(r['message'])}"
        for r in records
        if r["outcome"] == "failed" and subject_free(r["nodeid"], None) not in ROOTLESS_RACES
    )
    assert not unexplained, (
        "tests that fail only rootless (neither a known failure of the runtime nor marked "
        "requires('root')):\n" + "\n".join(unexplained)
    )

    # nothing of the user's left: processes, run directories, what the sweeper removed
    left = _processes_of(user.uid)
    assert not left, f"processes of {USER} left after the run:\n{left}"
    layout = _layout(user)
    run = doc["run"]["id"]
    left = [f"{layout[d]}/{run}" for d in ("state", "work") if os.path.exists(f"{layout[d]}/{run}")]
    assert not left, f"directories of the rootless run left: {left}"
    # a rootless run cannot change host device nodes: such lines come from root runs
    # that share the host, so only the sweeper's own finds count here
    swept = [x for x in doc["run"]["leftovers"] if not x.startswith("host /dev/")]
    assert not swept, f"the rootless run's sweeper had to remove: {swept}"


def test_a_user_without_user_namespaces_gets_a_one_line_usage_error(user, user_dir):
    fake = user_dir / "bin"
    made = user.run(
        [
            "sh",
            "-c",
            'mkdir "$1" && printf "#!/bin/sh\\necho \\"unshare: unshare failed: '
            'Operation not permitted\\" >&2\\nexit 1\\n" > "$1/unshare" && chmod +x "$1/unshare"',
            "mk",
            str(fake),
        ]
    )
    assert made.returncode == 0, f"setup: {made.stderr}"
    res = user.run(
        [*user.python, *PYTEST[1:], "suites/oci_runtime", "--report-dir", str(user_dir / "r")],
        PATH=f"{fake}:{user.env['PATH']}",
    )
    errors = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("ERROR:")]
    assert res.returncode == 4 and len(errors) == 1, (
        f"wanted exit 4 and one ERROR line, got exit {res.returncode}:\n{res.stdout}{res.stderr}"
    )
    assert "user namespace" in errors[0] and f"uid {user.uid}" in errors[0], errors[0]


def test_sweep_as_the_user_removes_the_users_dead_runs(user):
    layout = _layout(user)
    run = f"octdead{os.getpid() % 100:02d}"  # no owner alive: a killed run's leftovers
    made = user.run(
        [
            "sh",
            "-c",
            'mkdir -p "$1/$3/runc" "$2/$3/bundle" && echo 999999999 > "$1/$3/owner.pid"',
            "mk",
            layout["state"],
            layout["work"],
            run,
        ]
    )
    assert made.returncode == 0, f"setup: {made.stderr}"
    res = user.run([*user.python, "-m", "infra.sweep"])
    assert res.returncode == 0, f"sweep as {USER} exited {res.returncode}: {res.stderr}"
    left = [d for d in (f"{layout['state']}/{run}", f"{layout['work']}/{run}") if os.path.exists(d)]
    assert not left, f"wanted the sweep as {USER} to remove {left}; it said: {res.stdout.strip()}"
