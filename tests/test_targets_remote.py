"""The ssh target (infra/targets/ssh.py) against a real OpenSSH server on 127.0.0.1.

The server is this machine's sshd (package openssh-server), started on a free loopback
port with its own config, host key and authorized key in a temp dir; it is stopped and
the shared connection closed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from infra.targets import TargetError, open_target
from infra.targets.ssh import SshTarget, parse_spec
from tests.conftest import PYTEST, ROOT, run_pytest
from tests.test_usage_errors import assert_one_line_usage_error, pytest_usage

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """(spec, key path) of an sshd on 127.0.0.1 that lets root in with a fresh key."""
    if not os.path.exists(SSHD):
        pytest.skip("needs openssh-server (./ocitest setup installs it)")
    if os.geteuid() != 0:
        pytest.skip("needs root (sshd and the runtimes under test)")
    d = tmp_path_factory.mktemp("sshd")
    for name in ("host", "user"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / name)],
            check=True,
            timeout=30,
        )
    shutil.copy(d / "user.pub", d / "authorized_keys")
    port = free_port()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\n"
        f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        f"StrictModes no\nPidFile {d}/sshd.pid\nMaxSessions 50\nMaxStartups 50\n"
        "Subsystem sftp internal-sftp\n"
    )
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=open(d / "sshd.log", "w"),  # noqa: SIM115 - closed with the process
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    spec = f"ssh://root@127.0.0.1:{port}"
    try:
        yield spec, str(d / "user")
    finally:
        SshTarget(spec, str(d / "user"), check=False).close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def remote(sshd):
    spec, key = sshd
    return open_target(spec, key)


def test_spec_parsing():
    assert parse_spec("ssh://alice@example.org:2222") == ("alice", "example.org", 2222)
    assert parse_spec("ssh://10.0.0.1") == ("root", "10.0.0.1", 22)
    for bad in ("ssh://", "ssh://a@b:99999", "ssh://a b@c", "ssh:host"):
        with pytest.raises(TargetError):
            parse_spec(bad)


def test_commands_run_with_status_output_and_deadline(remote):
    res = remote.run(["sh", "-c", 'echo "$1"; echo err >&2; exit 3', "x", "hello world"], 10)
    assert (res.exit_status, res.stdout, res.stderr.strip()) == (3, "hello world\n", "err")
    start = time.monotonic()
    res = remote.run(["sleep", "30"], timeout=1)
    assert res.timed_out and time.monotonic() - start < 15, res


def test_files_through_the_connection(remote, tmp_path):
    d = f"{tmp_path}/remote/a/b"
    remote.make_dirs(d)
    text = "line one\n'quotes' \"and\" $dollars `ticks`\n" + "é" * 1000
    remote.write_text(f"{d}/f", text, 0o600)
    assert remote.read_text(f"{d}/f") == text
    assert oct(os.stat(f"{d}/f").st_mode & 0o777) == "0o600"
    assert remote.exists(f"{d}/f") and not remote.exists(f"{d}/missing")
    remote.remove_tree(f"{tmp_path}/remote")
    assert not os.path.exists(f"{tmp_path}/remote")


def test_one_shared_connection_and_a_retry_on_exit_255(remote, tmp_path):
    """ssh's 255 (connection lost) is retried once: a command exiting 255 runs twice.
    After the master is gone, the next command opens a new one."""
    log = tmp_path / "calls"
    res = remote.run(["sh", "-c", 'echo call >> "$1"; exit 255', "x", str(log)], 10)
    assert res.exit_status == 255 and log.read_text() == "call\ncall\n"
    assert os.path.exists(remote.control_path), "no ControlMaster socket"
    remote.close()
    assert not os.path.exists(remote.control_path)
    assert remote.run(["true"], 10).exit_status == 0


def test_facts_come_from_the_remote_host(remote):
    facts = remote.facts()
    assert facts["kernel"] == os.uname().release and facts["distro"] != "?", facts


def test_an_unreachable_host_is_a_usage_error(tmp_path):
    port = free_port()  # nothing listens there
    res = pytest_usage(
        "--runtime", "runc", "--target", f"ssh://root@127.0.0.1:{port}",
        report_dir=str(tmp_path / "r"),
    )  # fmt: skip
    assert_one_line_usage_error(res, "does not answer")
    assert not (tmp_path / "r").exists()


def test_a_missing_key_file_is_a_usage_error(sshd, tmp_path):
    res = pytest_usage(
        "--runtime", "runc", "--target", sshd[0], "--ssh-key", str(tmp_path / "nokey"),
        report_dir=str(tmp_path / "r"),
    )  # fmt: skip
    assert_one_line_usage_error(res, "no such file")


def test_the_lifecycle_suite_runs_over_ssh(sshd, tmp_path):
    """The state tests with runc reached through ssh (the same host): same outcomes as
    a local run, the target and its facts in the report, nothing left behind."""
    spec, key = sshd
    args = ["suites/oci_runtime/test_state.py", "--runtime", "runc", "-p", "no:randomly"]
    run = run_pytest([*args, "--target", spec, "--ssh-key", key], tmp_path / "ssh")
    assert run.rc in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    results = run.results
    outcomes = {r["outcome"] for r in results["results"]}
    assert "passed" in outcomes and not outcomes & {"failed", "error"}, run.stdout[-3000:]
    assert results["targets"][0]["spec"] == spec
    assert results["targets"][0]["facts"]["kernel"] == os.uname().release
    assert not results["run"]["leftovers"], results["run"]["leftovers"][:5]
    summary = (tmp_path / "ssh" / "summary.md").read_text()
    assert f"Target `{spec}`" in summary and os.uname().release in summary, summary
    assert not os.path.exists(f"/tmp/ocitest-control/{results['run']['id']}")


def test_the_run_owner_on_the_host_dies_with_the_harness(sshd):
    """A killed harness leaves a run whose owner pid (on the host) is gone: the next
    run's sweeper treats it as stale."""
    spec, key = sshd
    code = (
        "import sys, time; from infra.targets.ssh import SshTarget; "
        f"t = SshTarget({spec!r}, {key!r}); print(t.owner_pid(), flush=True); time.sleep(60)"
    )

    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        pid = int(proc.stdout.readline())
        assert os.path.exists(f"/proc/{pid}"), "the owner process did not start"
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
    deadline = time.monotonic() + 15
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{pid}"), "the owner process outlived the harness"


# --- qemu:debian: what needs no full boot (a full run is the documented command) -----


def _cached_image(name: str = "debian") -> str:
    from infra.images import vm, vm_linuxkit
    from infra.run import CACHE_DIR

    key = vm.image_key() if name == "debian" else vm_linuxkit.image_key(vm_linuxkit.inputs())
    d = f"{CACHE_DIR}/vm/{name}-{key}"
    if not os.path.exists(f"{d}/.complete") or shutil.which("qemu-system-x86_64") is None:
        pytest.skip(f"needs qemu and the qemu:{name} image built (run the VM command in README)")
    return d


#: the VM images whose error and clean-up paths are tested
VM_IMAGES = ["debian", "linuxkit"]


def test_an_unknown_vm_image_is_a_usage_error(tmp_path):
    res = pytest_usage("--target", "qemu:nonesuch", report_dir=str(tmp_path / "r"))
    assert_one_line_usage_error(res, "unknown image")


def test_the_sweeper_kills_the_vm_of_a_dead_run(tmp_path):
    """A run directory under /run/ocitest-vm whose owner is gone: its process (named by
    qemu.pid and naming the directory) is killed and the directory removed."""
    from infra.targets.qemu import VM_BASE, sweep_vms

    d = f"{VM_BASE}/oct{os.urandom(3).hex()}"
    os.makedirs(d)
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=10)
    vm = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", d])
    try:
        with open(f"{d}/owner.pid", "w") as fh:
            fh.write(str(dead.pid))
        with open(f"{d}/qemu.pid", "w") as fh:
            fh.write(str(vm.pid))
        deadline = time.monotonic() + 10  # until the child has exec'd
        while d.encode() not in open(f"/proc/{vm.pid}/cmdline", "rb").read():  # noqa: SIM115
            assert time.monotonic() < deadline, "the stand-in process did not start"
            time.sleep(0.05)
        removed = sweep_vms()
        assert vm.wait(timeout=10) == -signal.SIGKILL
        assert not os.path.exists(d)
        assert f"qemu process {vm.pid} of run {os.path.basename(d)}" in removed, removed
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)


def _vm_dirs() -> set[str]:
    from infra.targets.qemu import VM_BASE

    return (
        {p for p in os.listdir(VM_BASE) if p.startswith("oct")} if os.path.isdir(VM_BASE) else set()
    )


def _our_qemus(run_dirs: set[str]) -> list[str]:
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as fh:
                    cmd = fh.read().decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("qemu-system") and any(r in cmd for r in run_dirs):
                out.append(p)
    return out


@pytest.mark.parametrize("image", ["debian"])  # linuxkit: tests/test_vm_linuxkit.py
def test_a_guest_that_never_answers_is_a_usage_error_and_leaves_nothing(tmp_path, image):
    """With a 3 s boot deadline the guest cannot answer ssh: one-line error naming the
    console, exit 4, no QEMU process and no VM directory left."""
    _cached_image(image)
    before = _vm_dirs()
    res = subprocess.run(
        [*PYTEST, "suites/oci_runtime/test_state.py", "--target", f"qemu:{image}",
         "--report-dir", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, OCITEST_VM_BOOT_TIMEOUT="3"),
    )  # fmt: skip
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 4 and "Traceback" not in out, out
    assert "did not answer ssh within 3 s; console:" in out.splitlines()[-1], out
    new = _vm_dirs() - before
    assert not new and not _our_qemus(new), (new, out)


@pytest.mark.parametrize("image", VM_IMAGES)
def test_a_killed_harness_takes_its_vm_with_it(tmp_path, image):
    """SIGKILL to the harness while its VM boots: QEMU dies with it (PR_SET_PDEATHSIG)
    and the next run's sweep removes the VM directory."""
    from infra.targets.qemu import sweep_vms

    _cached_image(image)
    before = _vm_dirs()
    proc = subprocess.Popen(
        [*PYTEST, "suites/oci_runtime/test_state.py", "--target", f"qemu:{image}",
         "--report-dir", str(tmp_path / "r")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            new = _vm_dirs() - before
            if new and _our_qemus(new):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the VM did not start within 90 s")
    finally:
        proc.kill()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while _our_qemus(new) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _our_qemus(new), "QEMU outlived the killed harness"
    removed = sweep_vms()
    assert not (_vm_dirs() & new), removed


@pytest.mark.skipif(
    os.environ.get("OCITEST_VM_TESTS") != "1",
    reason="boots a VM fully (about 80 s under TCG here): set OCITEST_VM_TESTS=1",
)
@pytest.mark.parametrize("image", VM_IMAGES)
def test_ctrl_c_in_a_vm_run_leaves_nothing(tmp_path, image):
    """Ctrl-C (SIGINT to the run's process group) once the guest answered and tests run:
    the guest is swept, QEMU stopped, the overlay and the local bookkeeping removed, and
    an incomplete report written."""
    _cached_image(image)
    before = _vm_dirs()
    log = tmp_path / "out"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*PYTEST, "suites/oci_runtime/test_state.py", "suites/oci_runtime/test_kill.py",
             "--target", f"qemu:{image}", "--report-dir", str(tmp_path / "r")],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 600
            while "answered ssh" not in log.read_text() and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()[-2000:]
                time.sleep(1)
            time.sleep(20)  # a few tests in flight
            new = _vm_dirs() - before
            assert new and _our_qemus(new), log.read_text()[-2000:]
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
    text = log.read_text()
    assert not _our_qemus(new) and not (_vm_dirs() & new), text[-2000:]
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["run"]["interrupted"] and not results["run"]["complete"], text[-2000:]
    assert not os.path.exists(f"/tmp/ocitest-control/{results['run']['id']}")
