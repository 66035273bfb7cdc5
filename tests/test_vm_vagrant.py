"""`--target vagrant:NAME` (infra/targets/vagrant.py, infra/Vagrantfile, the box of
infra/images/vagrant_box.py).

Fast (CI): the Vagrantfile's machines and `vagrant validate` (a broken copy must fail
it), and the one-line usage errors: no vagrant, an unknown machine, no libvirt, a box
that cannot be built. Slow, behind OCITEST_VM_VAGRANT=1 (the box's first packaging and
a TCG boot through libvirt take minutes on this 2-core machine): a guest that never
answers ssh (one line with the console's tail, nothing left in libvirt), and the
lifecycle files in `ocitest-debian` compared with the same files run locally, nothing
left in libvirt or on the host's links afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from infra.targets.vagrant import VAGRANTFILE, machines
from tests.conftest import PYTEST, ROOT, run_pytest

LIFECYCLE = [
    f"suites/oci_runtime/test_{n}.py" for n in ("create", "start", "state", "kill", "delete")
]
SLOW = pytest.mark.skipif(
    os.environ.get("OCITEST_VM_VAGRANT") != "1",
    reason="OCITEST_VM_VAGRANT=1 turns on the vagrant boots (box packaging and a TCG "
    "boot through libvirt: minutes)",
)
NEEDS_VAGRANT = pytest.mark.skipif(
    shutil.which("vagrant") is None or shutil.which("virsh") is None,
    reason="needs vagrant and libvirt (OCITEST_SETUP_VAGRANT=1 ./ocitest setup)",
)


def _inner(args: list[str], tmp_path, env: dict | None = None, timeout: int = 300):
    """(exit status, output less the harness's `ocitest: ...` progress lines, such as
    what the sweeper removed of other runs)."""
    res = subprocess.run(
        [*PYTEST, *args, "--report-dir", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        env=dict(os.environ, **(env or {})),
    )  # fmt: skip
    full = (res.stdout + res.stderr).strip()
    lines = [ln for ln in full.splitlines() if not ln.startswith("ocitest: ")]
    return res.returncode, "\n".join(lines), full


def _validate(cwd: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, VAGRANT_CWD=cwd, VAGRANT_HOME=str(tmp_path / "vh"),
               VAGRANT_DEFAULT_PROVIDER="libvirt", VAGRANT_CHECKPOINT_DISABLE="1")  # fmt: skip
    return subprocess.run(["vagrant", "validate"], capture_output=True, text=True,
                          timeout=300, check=False, env=env, cwd=cwd)  # fmt: skip


def test_the_vagrantfile_names_the_local_box_and_the_public_ones():
    assert machines() == ["debian12", "ocitest-debian", "ubuntu2204"]
    text = Path(VAGRANTFILE).read_text()
    assert '"generic/debian12"' in text and '"generic/ubuntu2204"' in text
    assert 'default_prefix = "ocitest-#{run}-"' in text  # the run id names the domain


@NEEDS_VAGRANT
def test_vagrant_validates_the_vagrantfile_and_rejects_a_broken_copy(tmp_path):
    ok = _validate(os.path.dirname(VAGRANTFILE), tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    text = Path(VAGRANTFILE).read_text()
    text = text.replace("lv.memory = 2048", "lv.memory = 2048\n    lv.no_such_setting = 1")
    (broken / "Vagrantfile").write_text(text)
    bad = _validate(str(broken), tmp_path)
    assert bad.returncode != 0 and "no_such_setting" in bad.stdout + bad.stderr, bad.stdout


def test_without_vagrant_the_target_is_a_one_line_usage_error(tmp_path):
    bindir = tmp_path / "bin"  # what the harness needs, but no vagrant
    bindir.mkdir()
    for tool in ("timeout", "sh", "ssh", "runc"):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bindir / tool)
    rc, out, _ = _inner(["suites/oci_runtime/test_state.py", "--target", "vagrant:ocitest-debian"],
                     tmp_path, env={"PATH": str(bindir)})  # fmt: skip
    assert rc == 4 and "Traceback" not in out and len(out.splitlines()) == 1, out
    assert "vagrant is not installed" in out, out


@NEEDS_VAGRANT
def test_an_unknown_machine_is_a_one_line_usage_error_naming_the_known_ones(tmp_path):
    rc, out, _ = _inner(
        ["suites/oci_runtime/test_state.py", "--target", "vagrant:nosuch"], tmp_path
    )
    assert rc == 4 and "Traceback" not in out and len(out.splitlines()) == 1, out
    assert "unknown machine" in out and "ocitest-debian" in out, out


@NEEDS_VAGRANT
def test_without_libvirt_the_target_is_a_one_line_usage_error(tmp_path):
    bindir = tmp_path / "bin"  # vagrant, but neither virsh nor libvirtd
    bindir.mkdir()
    for tool in ("timeout", "sh", "ssh", "runc", "vagrant"):
        os.symlink(shutil.which(tool), bindir / tool)
    rc, out, _ = _inner(["suites/oci_runtime/test_state.py", "--target", "vagrant:ocitest-debian"],
                     tmp_path, env={"PATH": str(bindir)})  # fmt: skip
    assert rc == 4 and "Traceback" not in out and len(out.splitlines()) == 1, out
    assert "libvirt is not installed" in out, out


@NEEDS_VAGRANT
def test_a_box_that_cannot_be_built_is_a_one_line_usage_error(tmp_path):
    """The cache is a path below a regular file: the box (and its image) cannot be made."""
    (tmp_path / "file").write_text("")
    rc, out, _ = _inner(["suites/oci_runtime/test_state.py", "--target", "vagrant:ocitest-debian"],
                     tmp_path, env={"OCITEST_CACHE": str(tmp_path / "file" / "cache")})  # fmt: skip
    assert rc == 4 and "Traceback" not in out and len(out.splitlines()) == 1, out
    assert "the box ocitest-debian cannot be built" in out, out


def leftovers(run_id: str) -> list[str]:
    """What of `run_id` libvirt and the host still have: domains, volumes (every pool),
    networks, and the run's VM directory."""
    from infra.targets.vagrant import virsh

    names = virsh("list", "--all", "--name").stdout.split()
    names += virsh("net-list", "--all", "--name").stdout.split()
    for pool in virsh("pool-list", "--all", "--name").stdout.split():
        names += virsh("vol-list", pool).stdout.split()
    left = [n for n in names if run_id in n]
    if os.path.exists(f"/run/ocitest-vagrant/{run_id}"):
        left.append(f"/run/ocitest-vagrant/{run_id}")
    return left


def _links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, timeout=30).stdout
    return {ln.split(": ")[1].split("@")[0] for ln in out.splitlines()}


@SLOW
@NEEDS_VAGRANT
def test_a_guest_that_never_answers_ssh_is_a_usage_error_and_leaves_nothing(tmp_path):
    """A 3 s boot deadline (and 60 s for the rest of `vagrant up`): one line with the
    console's tail, exit 4, and no domain, volume, network or VM directory of the run left."""
    links = _links()
    rc, out, full = _inner(["suites/oci_runtime/test_state.py", "--target", "vagrant:ocitest-debian"],
                     tmp_path, env={"OCITEST_VM_BOOT_TIMEOUT": "3", "OCITEST_VAGRANT_UP_SLACK": "60"}, timeout=1800)  # fmt: skip
    assert rc == 4 and "Traceback" not in out, out
    assert "did not answer ssh within" in out.splitlines()[-1], out
    assert "console:" in out.splitlines()[-1], out
    run = re.search(r"console /run/ocitest-vagrant/(oct\w+)/console\.log", full)
    assert run, out
    assert not leftovers(run.group(1)), (leftovers(run.group(1)), out)
    assert not {ln for ln in _links() - links if ln.startswith(("vnet", "virbr"))}, out


@SLOW
@NEEDS_VAGRANT
def test_the_lifecycle_tests_give_the_local_outcomes_in_the_vagrant_box(tmp_path):
    """The lifecycle files with runc locally and in `ocitest-debian` (known failures
    applied): the same outcome for every test, the guest's facts in the report, and
    nothing of the run left in libvirt, in /run/ocitest-vagrant or among the host's links."""
    common = [
        *LIFECYCLE,
        "--runtime",
        "runc",
        "--known-failures",
        str(ROOT / "known-failures.yaml"),
    ]
    local = run_pytest(common, tmp_path / "local")
    links = _links()
    start = time.monotonic()
    vm = run_pytest([*common, "-n", "2", "--target", "vagrant:ocitest-debian"], tmp_path / "vm",
                    timeout=3000)  # fmt: skip
    print(f"vagrant:ocitest-debian lifecycle: {time.monotonic() - start:.0f} s")
    assert vm.rc in (0, 1), vm.stdout[-3000:] + vm.stderr[-2000:]
    lo, vo = local.outcomes(), vm.outcomes()
    assert set(lo) == set(vo), set(lo) ^ set(vo)
    differ = {k: (lo[k], vo[k]) for k in lo if lo[k] != vo[k]}
    assert not differ, differ
    facts = vm.results["targets"][0]["facts"]
    assert facts["hostname"] == "ocitest-vm" and facts["init"] == "systemd", facts
    run_id = vm.results["run"]["id"]
    assert not vm.results["run"]["leftovers"], vm.results["run"]["leftovers"][:5]
    assert not leftovers(run_id), leftovers(run_id)
    assert not {ln for ln in _links() - links if ln.startswith(("vnet", "virbr"))}
