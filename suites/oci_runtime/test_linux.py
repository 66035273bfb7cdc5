"""runtime-linux.md: the container process's file descriptors and /dev symlinks."""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import LONG_RUNNING, state_of

DEV_SYMLINKS = {
    "/dev/fd": "/proc/self/fd",
    "/dev/stdin": "/proc/self/fd/0",
    "/dev/stdout": "/proc/self/fd/1",
    "/dev/stderr": "/proc/self/fd/2",
}


@pytest.mark.requires("root")
@pytest.mark.requirement("runtime.linux.default-fds")
def test_the_program_has_only_stdin_stdout_stderr_open(containers, runtime, host):
    c = containers.running(args=["sleep", "100000"])
    doc, rr = state_of(runtime, c.id, "runtime.linux.default-fds")
    pid = doc.get("pid")
    containers.wait_for("the program is sleep", lambda: host.cmdline(pid)[:1] == ["sleep"])
    fds = host.open_fds(pid)
    assert fds == [0, 1, 2], violation(
        "runtime.linux.default-fds",
        wanted="open descriptors [0, 1, 2]",
        seen=f"open descriptors {fds} (process {pid}, argv {host.cmdline(pid)})",
        evidence=[rr],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("runtime.linux.dev-symlinks")
def test_create_makes_the_dev_symlinks(containers, runtime, host):
    c = containers.created(args=LONG_RUNNING)
    doc, rr = state_of(runtime, c.id, "runtime.linux.dev-symlinks")
    root = f"/proc/{doc.get('pid')}/root"
    seen = {link: host.readlink(root + link) for link in DEV_SYMLINKS}
    assert seen == DEV_SYMLINKS, violation(
        "runtime.linux.dev-symlinks",
        wanted=f"after create: {DEV_SYMLINKS}",
        seen=f"{seen}",
        evidence=[rr],
    )
