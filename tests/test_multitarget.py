"""Several `--target` options in one run (infra/plugin.py lanes), and what a VM target
leaves for diagnosis when it loses ssh (infra/targets/qemu.py).

The two-target run needs no VM: the local host and this machine's own sshd on a loopback
port (tests/test_targets_remote.py's `sshd`) are two targets with their own run ids,
directories and subjects. The VM cases (a guest that loses its sshd; local + qemu:linuxkit
is the CI smoke in tests/test_vm_linuxkit.py) boot qemu:linuxkit under TCG;
`OCITEST_VM_SMOKE=0` turns them off.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from infra.subjects import target_tag
from tests.conftest import run_pytest
from tests.test_targets_remote import sshd  # noqa: F401 - the fixture
from tests.test_usage_errors import assert_one_line_usage_error, pytest_usage

NOT_STOPPED = "suites/oci_runtime/test_delete.py::test_delete_of_a_container_not_stopped_fails"


def test_a_target_given_twice_is_a_usage_error(tmp_path):
    res = pytest_usage("--target", "local", "--target", "local", report_dir=str(tmp_path / "r"))
    assert_one_line_usage_error(res, "--target local: given twice")


def test_two_targets_give_one_report_with_a_column_per_subject_and_target(sshd, tmp_path):  # noqa: F811
    """local + ssh, -n 2: every test once per subject x target, ids carrying the target;
    a known failure limited to `target: local` is xfail there and a failure on the other
    target (so the gate fails); both targets' facts; nothing left on either."""
    spec, key = sshd
    kf = tmp_path / "kf.yaml"
    kf.write_text(
        yaml.safe_dump(
            {
                "known_failures": [
                    {"test": f"{NOT_STOPPED}[runc-created]", "subject": "runc",
                     "target": "local", "reason": "runc 1.1.5 deletes a created container"},
                ]
            }
        )
    )  # fmt: skip
    args = ["suites/oci_runtime/test_delete.py", "--runtime", "runc", "-n", "2",
            "--target", "local", "--target", spec, "--ssh-key", key,
            "--known-failures", str(kf)]  # fmt: skip
    run = run_pytest(args, tmp_path / "r")
    doc = run.results
    ids = ["runc@local", f"runc@{target_tag(spec)}"]
    assert [s["id"] for s in doc["subjects"]] == ids, doc["subjects"]
    assert [s["target"] for s in doc["subjects"]] == ["local", spec]
    assert [t["spec"] for t in doc["targets"]] == ["local", spec]
    by_subject: dict[str, dict[str, str]] = {i: {} for i in ids}
    target_of = dict(zip(ids, ["local", spec], strict=True))
    for r in doc["results"]:
        assert r["target"] == target_of[r["subject"]], r["nodeid"]
        assert f"[{r['subject']}" in r["nodeid"], r["nodeid"]
        by_subject[r["subject"]][r["nodeid"].replace(r["subject"], "S")] = r["outcome"]
    assert by_subject[ids[0]].keys() == by_subject[ids[1]].keys()  # the same tests on both
    created = f"{NOT_STOPPED}[S-created]"
    assert by_subject[ids[0]][created] == "xfail", by_subject[ids[0]]
    assert by_subject[ids[1]][created] == "failed", by_subject[ids[1]]
    assert run.rc == 1 and not doc["gate"]["passed"], run.stdout[-2000:]
    assert any(ids[1] in reason for reason in doc["gate"]["reasons"]), doc["gate"]["reasons"]
    assert not any(ids[0] in reason for reason in doc["gate"]["reasons"]), doc["gate"]["reasons"]
    assert not doc["run"]["leftovers"], doc["run"]["leftovers"]
    assert "runc@local" in (run.report_dir / "report.html").read_text()


@pytest.fixture
def linuxkit_vm():
    """A qemu:linuxkit target booted in this process (closed at the end)."""
    if os.environ.get("OCITEST_VM_SMOKE") == "0":
        pytest.skip("OCITEST_VM_SMOKE=0: the qemu:linuxkit tests were turned off")
    if shutil.which("qemu-system-x86_64") is None or shutil.which("apt-get") is None:
        pytest.skip("needs qemu-system-x86 and apt (./ocitest setup installs QEMU)")
    from infra.run import new_run_id
    from infra.targets import open_target

    target = open_target("qemu:linuxkit", run_id=new_run_id())
    try:
        yield target
    finally:
        target.close()


def test_a_guest_that_loses_ssh_says_so_with_its_console(linuxkit_vm):
    """The guest's sshd killed and the shared connection closed: the next command fails
    with ssh's exit 255, and its stderr carries the console's tail; the console log is
    offered to the report (`logs`) and holds what the guest's init printed."""
    vm = linuxkit_vm
    assert vm.run(["true"], timeout=30).exit_status == 0
    vm.run(["sh", "-c", "kill -9 $(pidof sshd)"], timeout=30)
    subprocess.run([*vm.ssh_argv()[:-1], "-O", "exit", f"root@{vm.hostname}"],
                   capture_output=True, timeout=15, check=False)  # fmt: skip
    res = vm.run(["true"], timeout=30)
    assert res.exit_status == 255, (res.exit_status, res.stderr)
    assert "ssh to the qemu:linuxkit guest failed; its console" in res.stderr, res.stderr
    assert "console-qemu-linuxkit.log" in res.stderr, res.stderr
    logs = vm.logs()
    assert list(logs) == ["console-qemu-linuxkit.log"], logs
    with open(logs["console-qemu-linuxkit.log"], errors="replace") as fh:
        lines = [ln.strip() for ln in fh.read().splitlines() if ln.strip()]
    assert any(ln.startswith("ocitest onboot: done") for ln in lines), lines[-5:]
    assert lines[-1] in res.stderr, (lines[-1], res.stderr)  # the console's own last line
