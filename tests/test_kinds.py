"""Subject kinds (infra/kinds/): a new kind is one class and one registration; a run
resolves only the kinds its collected tests use, so a suite that needs no OCI runtime
runs on a host without one, and a kind whose default is missing ends its tests as error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from infra.images.reference_layout import write_layout
from tests.conftest import INNER_TIMEOUT, PYTEST, ROOT, run_demo_suite
from tests.dummy_kind import STARTS_LOG

DUMMY_SUITE = """
import os
import pytest

@pytest.mark.requirement("demo.real.one")
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_the_dummy_subject_is_resolved_once_per_run(dummy_subject, ocitest_run, n):
    assert dummy_subject.id == "dummy-one"
    with open(os.path.join(ocitest_run.work_base, "dummy-service")) as fh:
        starts = fh.read().splitlines()
    assert len(starts) == 1, starts
"""

PLAIN_TEST = """

@pytest.mark.requirement("demo.real.one")
def test_plain():
    pass
"""

RUNTIME_SUITE = """
import pytest

@pytest.mark.requirement("demo.real.one")
def test_needs_a_runtime(runtime_subject):
    assert runtime_subject.id
"""


def no_runtime_path(tmp_path: Path) -> str:
    """A PATH with the host's usual tools but no runc or crun."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            link = bin_dir / name
            if name in ("runc", "crun") or link.exists() or link.is_symlink():
                continue
            link.symlink_to(os.path.join(d, name))
    path = str(bin_dir)
    assert shutil.which("runc", path=path) is None and shutil.which("crun", path=path) is None
    return path


def test_a_new_kind_runs_its_own_suite_without_any_oci_runtime(tmp_path):
    res = run_demo_suite(
        tmp_path, DUMMY_SUITE, "-p", "tests.dummy_kind", "-n", "2", path=no_runtime_path(tmp_path)
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [s["id"] for s in doc["subjects"]] == ["dummy-one"]
    assert {r["subject"] for r in doc["results"]} == {"dummy-one"}
    assert [r["outcome"] for r in doc["results"]] == ["passed"] * 4
    assert doc["run"]["schemas"] == {"dummy-spec": {"dir": "", "version": "0.1"}}
    assert doc["counts"] == {"dummy-one": {"passed": 4}}
    assert doc["run"]["leftovers"] == []
    assert len((tmp_path / STARTS_LOG).read_text().splitlines()) == 1


def test_a_kind_whose_tests_are_all_deselected_starts_nothing(tmp_path):
    res = run_demo_suite(
        tmp_path,
        DUMMY_SUITE + PLAIN_TEST,
        "-p",
        "tests.dummy_kind",
        "-n",
        "2",
        "-k",
        "plain",
        path=no_runtime_path(tmp_path),
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert not (tmp_path / STARTS_LOG).exists()
    assert not (tmp_path / "rep" / "results.json").exists()  # no subject: no report


def test_runtime_tests_without_any_runtime_end_as_errors_naming_what_is_missing(tmp_path):
    res = run_demo_suite(tmp_path, RUNTIME_SUITE, "-n", "0", path=no_runtime_path(tmp_path))
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    [rec] = doc["results"]
    assert rec["outcome"] == "error" and rec["name"] == "test_needs_a_runtime[no-runtime]", rec
    assert rec["message"].startswith("no runtime subject: no OCI runtime found: install runc"), rec
    assert doc["subjects"] == [] and doc["run"]["schemas"] == {}


def run_image_suite(tmp_path: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    """suites/oci_image/test_layout.py's oci-layout test alone, with PATH `path` and no
    setup builds (OCITEST_GO_BUILDS=none: no umoci-0.6.0); the report goes to
    tmp_path/rep."""
    return subprocess.run(
        [
            *PYTEST,
            "suites/oci_image/test_layout.py",
            "-k",
            "oci_layout_exists",
            "-n",
            "2",
            *args,
            "--report-dir",
            str(tmp_path / "rep"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=INNER_TIMEOUT,
        check=False,
        env={**os.environ, "PATH": path, "OCITEST_GO_BUILDS": "none"},
    )


def test_the_image_suite_judges_given_layouts_without_any_oci_runtime(tmp_path):
    lay = tmp_path / "given"
    write_layout(lay)
    with tarfile.open(tmp_path / "packed.tar", "w") as tar:
        tar.add(lay, arcname=".")
    res = run_image_suite(
        tmp_path,
        no_runtime_path(tmp_path),
        f"--image-layout={lay}",
        f"--image-layout={tmp_path / 'packed.tar'}",
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [(s["kind"], s["id"]) for s in doc["subjects"]] == [
        ("layout", "given"),
        ("layout", "packed"),
    ]
    assert doc["counts"] == {"given": {"passed": 1}, "packed": {"passed": 1}}
    assert set(doc["run"]["schemas"]) == {"image-spec"}
    assert doc["run"]["leftovers"] == []  # the unpacked tar was removed at the end
    assert sorted(os.listdir(lay)) == ["blobs", "index.json", "oci-layout"]  # untouched


def test_a_tool_that_fails_errors_its_own_layout_only(tmp_path):
    path = no_runtime_path(tmp_path)
    fake = Path(path) / "skopeo"
    fake.unlink(missing_ok=True)
    fake.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && echo "skopeo version 9.9.9" && exit 0\n'
        'echo "copy refused" >&2; exit 3\n'
    )
    fake.chmod(0o755)
    umoci = Path(path) / "umoci"
    umoci.unlink(missing_ok=True)  # the reference and skopeo only
    res = run_image_suite(tmp_path, path)
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [s["id"] for s in doc["subjects"]] == ["ocitest-reference", "skopeo-9.9.9"]
    by = {r["subject"]: r for r in doc["results"]}
    assert by["ocitest-reference"]["outcome"] == "passed"
    assert by["skopeo-9.9.9"]["outcome"] == "error"
    assert "skopeo copy --all" in by["skopeo-9.9.9"]["message"], by["skopeo-9.9.9"]
    assert "exit 3: copy refused" in by["skopeo-9.9.9"]["message"]


def test_an_image_tool_and_a_layout_given_side_by_side(tmp_path):
    lay = tmp_path / "given"
    write_layout(lay)
    tool = tmp_path / "tools" / "copier"
    tool.parent.mkdir()
    tool.write_text(
        '#!/bin/sh\n[ "$1" = --version ] && echo "copier 0.1.2" && exit 0\n'
        'echo "copy refused: $*" >&2; exit 3\n'
    )
    tool.chmod(0o755)
    res = run_image_suite(
        tmp_path, no_runtime_path(tmp_path), f"--image-tool={tool}", f"--image-layout={lay}"
    )
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert [s["id"] for s in doc["subjects"]] == ["copier", "given"]
    by = {r["subject"]: r for r in doc["results"]}
    assert by["given"]["outcome"] == "passed", by["given"]
    # the tool speaks skopeo's command line: copy of the reference into its own layout
    assert by["copier"]["outcome"] == "error", by["copier"]
    assert f"{tool} copy --all oci:" in by["copier"]["message"], by["copier"]
    assert "exit 3: copy refused" in by["copier"]["message"]


def test_ctr_export_makes_a_layout_through_a_containerd_it_stops(tmp_path):
    from infra import gobuild

    built = gobuild.built_dir("containerd")
    if not built:
        pytest.skip("no containerd build (./ocitest setup builds containerd 2.4.2)")
    ctr = os.path.join(built, "ctr")
    res = run_image_suite(tmp_path, no_runtime_path(tmp_path), f"--image-tool={ctr}")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    doc = json.loads((tmp_path / "rep" / "results.json").read_text())
    [subject] = doc["subjects"]
    assert subject["id"].startswith("ctr-2."), subject
    assert doc["counts"] == {subject["id"]: {"passed": 1}}
    assert doc["run"]["leftovers"] == []
    # its containerd is gone: no process names the run's directories any more
    run_id = doc["run"]["id"]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        assert not ("containerd" in text and run_id in text), (cmdline, text)
    for base in ("/run/ocitest", "/var/lib/ocitest/runs"):
        assert not os.path.exists(f"{base}/{run_id}/ctr"), base


def test_the_sweeper_stops_the_ctr_containerd_a_killed_run_left(tmp_path):
    from infra import gobuild
    from infra.images.ctr_export import start_daemon
    from infra.run import new_run_id, user_layout
    from infra.sweep import prepare_run, sweep_run
    from infra.targets import open_target

    built = gobuild.built_dir("containerd")
    if not built:
        pytest.skip("no containerd build (./ocitest setup builds containerd 2.4.2)")
    target, run = open_target("local"), new_run_id()
    lay = user_layout(target)
    prepare_run(target, run, os.getpid(), lay)
    # what the layout kind's start leaves when its process is killed mid-export
    work, state = f"{lay.work}/{run}/ctr", f"{lay.state}/{run}/ctr"
    try:
        pid, _ = start_daemon(os.path.join(built, "ctr"), work, state)
    finally:
        removed = sweep_run(target, run, lay)
    assert any(line.startswith(f"process {pid} ") for line in removed), removed
    try:
        state_letter = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        state_letter = "gone"
    assert state_letter in ("gone", "Z"), f"containerd {pid} still running after the sweep"
    assert not os.path.exists(work) and not os.path.exists(state)
