"""The ssh target (infra/targets/ssh.py) against a real OpenSSH server on 127.0.0.1.

The server is this machine's sshd (package openssh-server), started on a free loopback
port with its own config, host key and authorized key in a temp dir; it is stopped and
the shared connection closed at the end.
"""

from __future__ import annotations

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
from tests.conftest import run_pytest
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
    assert not run.stdout.count("leak check"), run.stdout[-2000:]
    assert not [p for p in os.listdir("/tmp/ocitest-control") if p.startswith("oct")]


def test_the_run_owner_on_the_host_dies_with_the_harness(sshd):
    """A killed harness leaves a run whose owner pid (on the host) is gone: the next
    run's sweeper treats it as stale."""
    spec, key = sshd
    code = (
        "import sys, time; from infra.targets.ssh import SshTarget; "
        f"t = SshTarget({spec!r}, {key!r}); print(t.owner_pid(), flush=True); time.sleep(60)"
    )
    from tests.conftest import ROOT

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
