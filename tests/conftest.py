"""Helpers for the harness's own tests: run ocitest's pytest in a subprocess, read its report."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: how the harness's own tests start an inner pytest
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
#: seconds one inner pytest run may take
INNER_TIMEOUT = 600


@functools.cache
def _recorded_caught() -> frozenset[str]:
    doc = json.loads((ROOT / "reports" / "proofs.json").read_text())
    return frozenset(k for k, m in doc["mutants"].items() if m.get("caught"))


def in_sample(key: str) -> bool:
    """Whether mutant `key` runs in this self-test session: every mutant with
    $OCITEST_MUTANTS_FULL set (`./ocitest mutation`) or outside CI; under CI=true the
    fixed half of the mutants recorded as caught in reports/proofs.json whose key's
    sha256 starts with 0-7 (DESIGN.md's CI budget; the same half every time, so a
    sampled mutant that now survives fails CI; a mutant not yet recorded as caught waits
    for the full run)."""
    if os.environ.get("OCITEST_MUTANTS_FULL") or os.environ.get("CI", "") in ("", "0", "false"):
        return True
    return key in _recorded_caught() and hashlib.sha256(key.encode()).hexdigest()[0] in "01234567"


#: the self-tests' plugin: registers the `mutant:NAME` CRI endpoint scheme
SELFTEST_PLUGIN = ["-p", "selftest.plugin"]
#: PATH of the throw-away projects' runs
DEMO_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class InnerRun:
    rc: int
    stdout: str
    stderr: str
    report_dir: Path
    #: wall-clock seconds the run took
    seconds: float = 0.0

    @functools.cached_property
    def results(self) -> dict:
        return json.loads((self.report_dir / "results.json").read_text())

    def outcomes(self, subject: str | None = None) -> dict[str, str]:
        """Subject-free test key -> outcome (see `subject_free`), of one subject's
        records when `subject` is given."""
        return {
            subject_free(r["nodeid"], r["subject"]): r["outcome"]
            for r in self.results["results"]
            if subject is None or r["subject"] == subject
        }

    def failing(self, subject: str | None = None) -> set[str]:
        return {k for k, o in self.outcomes(subject).items() if o in ("failed", "error")}

    def violated(self, tests: set[str], subject: str | None = None) -> set[str]:
        """The requirement ids that the failures of `tests` (subject-free keys, as
        `failing` gives) name at their failed assertions (reports.proofs.record_violates)."""
        from reports.proofs import record_violates

        known = {q["id"] for q in self.results["catalogue"]}
        out: set[str] = set()
        for r in self.results["results"]:
            if subject is not None and r["subject"] != subject:
                continue
            if subject_free(r["nodeid"], r["subject"]) in tests:
                out.update(record_violates(r["requirements"], r["message"], known))
        return out


def subject_free(nodeid: str, subject: str | None) -> str:
    """ "suites/oci_runtime/test_x.py::test_y[runc-created]" -> "test_x.py::test_y[created]"."""
    path, sep, rest = nodeid.partition("::")  # a parameter may hold "/" (a reference)
    key = path.split("/")[-1] + sep + rest
    if subject:
        key = re.sub(
            rf"\[{re.escape(subject)}(-|\])", lambda m: "[" if m.group(1) == "-" else "", key
        )
    return key


def run_pytest(
    args: list[str],
    report_dir: Path,
    timeout: int = INNER_TIMEOUT,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> InnerRun:
    """Run `python -m pytest ARGS --report-dir DIR` with the harness's plugins (and the
    self-tests' plugin, for mutant endpoints); `env`: its environment (default ours)."""
    cmd = [
        *PYTEST,
        *SELFTEST_PLUGIN,
        *args,
        "--report-dir",
        str(report_dir),
    ]
    start = time.monotonic()
    res = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    return InnerRun(res.returncode, res.stdout, res.stderr, report_dir, time.monotonic() - start)


def shared_dir(tmp_path_factory, name: str) -> Path:
    """The directory `name` of this harness session, the same for every xdist worker."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if base.name.startswith("popen-gw") else base) / name
    shared.mkdir(exist_ok=True)
    return shared


def shared_run(
    tmp_path_factory, key: str, args: list[str], env: dict[str, str] | None = None
) -> InnerRun:
    """`run_pytest(args)` once per harness session, whatever the xdist worker: the first
    worker to ask runs it (holding a lock), the others wait and reuse its report. For
    the expensive inner runs (baselines, mutant batches) that several tests share."""
    shared = shared_dir(tmp_path_factory, "shared-runs")
    report, meta = shared / key, shared / f"{key}.json"
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not meta.exists():
            run = run_pytest(args, report, env=env)
            saved = {"rc": run.rc, "stdout": run.stdout, "stderr": run.stderr}
            meta.write_text(json.dumps(saved | {"seconds": run.seconds}))
        saved = json.loads(meta.read_text())
    return InnerRun(saved["rc"], saved["stdout"], saved["stderr"], report, saved["seconds"])


@pytest.fixture(scope="session")
def mutant_exe(tmp_path_factory):
    """Call as mutant_exe(KEY): the entry point of the runtime mutant KEY (a registry key
    of selftest.registry.MUTANTS), generated once per session in its run directory."""
    from selftest import executables

    paths = executables.write(shared_dir(tmp_path_factory, "mutant-bin"))
    return paths.__getitem__


@pytest.fixture
def inner(tmp_path_factory):
    """Call as inner([...pytest args]) to run the suites in a subprocess."""
    counter = iter(range(1000))

    def _run(args: list[str], **kw) -> InnerRun:
        rd = tmp_path_factory.mktemp(f"report{next(counter)}")
        return run_pytest(args, rd, **kw)

    return _run


DEMO_CATALOGUE = (
    "spec: runtime-spec\nspec_version: 1.3.0\nrequirements:\n"
    "  - {id: demo.real.one, section: runtime.md#state, level: MUST, summary: a real entry here}\n"
)


def run_demo_suite(
    tmp_path: Path, test_source: str, *args: str, path: str = DEMO_PATH
) -> subprocess.CompletedProcess:
    """Run pytest with ocitest's plugins on a throw-away project in `tmp_path` whose only
    suite, suites/demo, has one catalogue entry (demo.real.one) and `test_source` as its
    test module, with PATH `path`. The report goes to tmp_path/rep."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["infra.plugin", "reports.plugin"]\n')
    suite = tmp_path / "suites" / "demo"
    suite.mkdir(parents=True, exist_ok=True)
    (suite / "requirements.yaml").write_text(DEMO_CATALOGUE)
    (suite / "test_demo.py").write_text(test_source)
    return subprocess.run(
        [
            *PYTEST,
            "--rootdir",
            str(tmp_path),
            "suites",
            *args,
            "--report-dir",
            str(tmp_path / "rep"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=INNER_TIMEOUT,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": path, "OCITEST_GO_BUILDS": "none"},
    )


def assert_fails_exactly(run, base: str, name: str, mutant, what: str, subject: str = "") -> None:
    """Mutant `name` (subject `subject` of `run`, default mutant-NAME) fails exactly its
    declared tests beyond the failures of subject `base`, and those failures name exactly
    its declared requirement ids; `what` names the mutant kind in the messages."""
    subject = subject or f"mutant-{name}"
    new = run.failing(subject) - run.failing(base)
    assert new == set(mutant.fails), (
        f"{what} mutant {name} ({mutant.breaks}):\n"
        f"  fails but should not: {sorted(new - set(mutant.fails))}\n"
        f"  should fail but does not: {sorted(set(mutant.fails) - new)}"
    )
    named = run.violated(new, subject)
    assert named == set(mutant.requirements), (
        f"{what} mutant {name}: its failures name {sorted(named)}, "
        f"declared {sorted(mutant.requirements)}"
    )
