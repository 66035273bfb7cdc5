"""ocitest as a user installs it (issue 16): `python -m build` makes an sdist and a wheel,
the wheel goes into a fresh virtualenv outside the checkout, and its `ocitest` command
runs a runtime test selection and `report merge` from an empty directory, with the same
outcomes as the checkout's run of the same selection.

Real parts throughout: `python -m build` makes the sdist and builds the wheel from it
(with the project venv's setuptools and wheel, --no-isolation, which saves two
installs of the build requirements), pip installs the wheel's dependencies from the
configured index into a new virtualenv, the runs use runc.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: seconds for the build, the install, and one run
STEP_TIMEOUT = 600
#: the selection both runs make (README: Install)
SELECTION = ["oci_runtime", "--runtime", "runc", "-k", "state", "-n", "2"]


def _run(argv, cwd, env=None, timeout=STEP_TIMEOUT) -> subprocess.CompletedProcess:
    res = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return res


def _clean_env() -> dict[str, str]:
    """The environment of the installed command: no PYTHONPATH that could reach the
    checkout, no Go builds (the checkout's run makes none either)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, "OCITEST_GO_BUILDS": "none"}


def _outcomes(report_dir: Path) -> dict[str, str]:
    doc = json.loads((report_dir / "results.json").read_text())
    return {r["nodeid"]: r["outcome"] for r in doc["results"]}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv dir, dist dir, checkout report dir): the checkout's run of SELECTION runs
    while the sdist and wheel are built and the wheel is installed into a fresh venv."""
    base = tmp_path_factory.mktemp("packaging")
    env = {**os.environ, "OCITEST_GO_BUILDS": "none"}
    checkout_report = base / "checkout-report"
    checkout = subprocess.Popen(
        [str(ROOT / "ocitest"), "run", *SELECTION, "--report-dir", str(checkout_report)],
        cwd=base,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        dist = base / "dist"
        built = _run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
            base,
        )
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        venv = base / "venv"
        # a venv of the system python3 (not of the project's venv), as a user makes one
        made = _run(["python3", "-m", "venv", str(venv)], base)
        assert made.returncode == 0, made.stderr
        (wheel,) = dist.glob("ocitest-*.whl")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        res = _run([*pip, "--disable-pip-version-check", str(wheel)], base)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        out, _ = checkout.communicate(timeout=STEP_TIMEOUT)
    finally:
        if checkout.poll() is None:
            checkout.terminate()
            checkout.wait(timeout=180)
    assert checkout.returncode == 0, out[-3000:]
    return venv, dist, checkout_report


def test_the_wheel_ships_the_harness_below_ocitest_and_no_top_level_packages(installed):
    _, dist, _ = installed
    (wheel,) = dist.glob("ocitest-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"ocitest", "ocitest-0.1.0.dist-info"}, tops
    for data in (
        "ocitest/harness/pyproject.toml",
        "ocitest/harness/conftest.py",
        "ocitest/harness/infra/images/probe.c",
        "ocitest/harness/infra/images/rootfs.py",
        "ocitest/harness/reports/templates/report.html.j2",
        "ocitest/harness/reports/schemas/results.schema.json",
        "ocitest/harness/suites/oci_runtime/requirements.yaml",
        "ocitest/harness/suites/cri/requirements.yaml",
    ):
        assert data in names, f"{data} missing from {wheel.name}"
    entry_points = zipfile.ZipFile(wheel).read("ocitest-0.1.0.dist-info/entry_points.txt")
    assert b"[pytest11]\nocitest = ocitest.pytest_plugin" in entry_points


def test_the_sdist_holds_the_whole_source_tree(installed):
    _, dist, _ = installed
    (sdist,) = dist.glob("ocitest-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[-1] for n in tar.getnames()}
    for needed in (
        "setup.py",
        "ocitest",
        "action.yml",
        "ci/action.sh",
        "docs/ci.md",
        "selftest/plugin.py",
        "tests/test_packaging.py",
        "known-failures.yaml",
    ):
        assert needed in names, f"{needed} missing from {sdist.name}"


def test_the_installed_command_gives_the_checkouts_outcomes_from_an_empty_directory(
    installed, tmp_path
):
    venv, _, checkout_report = installed
    ocitest = str(venv / "bin" / "ocitest")
    env = _clean_env()
    empty = tmp_path / "project"
    empty.mkdir()
    version = _run([ocitest, "--version"], empty, env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("ocitest 0.1.0\n")
    assert "oci_runtime: runtime-spec 1.3.0" in version.stdout

    run = _run([ocitest, "run", *SELECTION], empty, env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = empty / "ocitest-report"
    wheel_outcomes, checkout_outcomes = _outcomes(report), _outcomes(checkout_report)
    assert wheel_outcomes == checkout_outcomes
    assert len(wheel_outcomes) >= 10
    doc = json.loads((report / "results.json").read_text())
    assert doc["run"]["harness_version"] == "0.1.0"
    assert doc["coverage"]["oci_runtime"]["specs"] == {"runtime-spec": "1.3.0"}
    assert "runtime-spec 1.3.0" in (report / "report.html").read_text()

    merged = _run(
        [ocitest, "report", "merge", "--out", "merged", "ocitest-report", str(checkout_report)],
        empty,
        env,
    )
    assert merged.returncode == 0, merged.stdout + merged.stderr
    both = json.loads((empty / "merged" / "results.json").read_text())
    assert len(both["results"]) == 2 * len(wheel_outcomes)
    assert sorted(p.name for p in empty.iterdir()) == ["merged", "ocitest-report"]


def test_the_plugins_load_once_and_only_for_the_harness(installed, tmp_path):
    venv, _, _ = installed
    python = str(venv / "bin" / "python")
    harness = _run(
        [python, "-c", "import ocitest; print(ocitest.harness_dir())"], tmp_path, _clean_env()
    ).stdout.strip()
    assert harness.startswith(str(venv)) and harness.endswith("/site-packages/ocitest/harness")
    assert not (Path(harness).parent.parent / "infra").exists()
    traced = _run(
        [
            python,
            "-m",
            "pytest",
            "--trace-config",
            "--co",
            "-q",
            "suites/oci_runtime/test_state.py",
        ],
        harness,
        _clean_env(),
    )
    for plugin in ("infra.plugin", "infra.redact_plugin", "reports.plugin"):
        assert traced.stdout.count(f"PLUGIN registered: <module '{plugin}'") == 1, plugin
    # a user's own pytest run in the same environment does not get the harness
    (tmp_path / "test_mine.py").write_text("def test_mine():\n    pass\n")
    mine = _run(
        [python, "-m", "pytest", "-q", "--trace-config", "test_mine.py"], tmp_path, _clean_env()
    )
    assert mine.returncode == 0, mine.stdout
    assert "<module 'infra.plugin'" not in mine.stdout
    assert "1 passed" in mine.stdout


def test_the_ci_action_script_fails_by_the_gate_with_the_users_known_failures(installed, tmp_path):
    """ci/action.sh, the action's steps, as the action runs them (the action's own
    install replaced by the built wheel): the user's known-failures file lists a test
    that passes, so it is stale and the gate fails; the summary and outputs are written."""
    venv, dist, _ = installed
    (wheel,) = dist.glob("ocitest-*.whl")
    test = "suites/oci_runtime/test_state.py::test_state_of_an_unknown_container_fails[runc]"
    (tmp_path / "known.yaml").write_text(
        f"known_failures:\n  - test: {test}\n    subject: runc\n"
        "    reason: listed although runc passes it, so it is stale\n"
    )
    env = {
        **_clean_env(),
        "OCITEST_VENV": str(venv),
        "OCITEST_SOURCE": str(wheel),
        "OCITEST_SUITES": "oci_runtime",
        "OCITEST_RUNTIMES": "runc",
        "OCITEST_KNOWN_FAILURES": "known.yaml",
        "OCITEST_ARGS": "-k test_state_of_an_unknown_container_fails -n 1",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
    }
    res = _run(["bash", str(ROOT / "ci" / "action.sh")], tmp_path, env)
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-3000:]
    summary = (tmp_path / "step-summary.md").read_text()
    assert summary.startswith("## ocitest: gate MUST **FAILED**")
    assert summary == (tmp_path / "ocitest-report" / "summary.md").read_text()
    outputs = (tmp_path / "outputs").read_text().splitlines()
    assert outputs == ["report-dir=ocitest-report", "exit-status=1"]
    doc = json.loads((tmp_path / "ocitest-report" / "results.json").read_text())
    assert [(r["nodeid"], r["outcome"]) for r in doc["results"]] == [(test, "stale")]
