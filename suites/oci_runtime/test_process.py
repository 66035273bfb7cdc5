"""config.md#process: the program's args, environment, working directory and stdio."""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation

#: argv variants where runtimes could differ: each token must arrive byte for byte (a
#: runtime that joins args into a shell command line splits, expands or drops them)
ARGV = {
    "plain": ["sleep:0", "exit:0"],
    "spaces": ["a b", "  lead", "trail  "],
    "empty": ["", "x", ""],
    "shell": ["$HOME", "*", "a;b", "`id`", "'q'", '"dq"', "\\"],
    "newline": ["a\nb", "\t"],
    "utf8": ["\u00e9", "\u65e5\u672c"],
    "many": [f"arg{i}" for i in range(300)],
    "long": ["x" * 100_000],
}


def _as_probe_prints(arg: str) -> str:
    """The probe prints argv bytes >= 0x7f as Latin-1 code points (probe.c, jstr)."""
    return arg.encode().decode("latin-1")


@pytest.mark.requirement("config.process.args-argv")
@pytest.mark.parametrize("variant", list(ARGV))
def test_the_program_receives_args_as_its_argv(containers, variant):
    report = containers.probe(*ARGV[variant])
    wanted = [_as_probe_prints(a) for a in probe_args(*ARGV[variant])]
    assert report.args == wanted, violation(
        "config.process.args-argv",
        wanted=f"argv {wanted}"[:400],
        seen=f"argv {report.args}"[:400],
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.args-execvp")
def test_args0_without_a_slash_is_searched_in_the_process_path(containers, runtime):
    b = containers.bundle(args=["probe"])  # /ocitest/probe, found only through PATH
    b.config["process"]["env"] = ["PATH=/bin:/ocitest", "HOME=/root"]
    c = containers.create(b)
    rr = runtime.start(c.id) if c.created else c.create_result
    if rr.ok:
        containers.wait_status(c.id, "stopped")
    out = containers.output(c)
    ran = out.startswith('{"probe":1')
    assert c.created and rr.ok and ran, violation(
        "config.process.args-execvp",
        wanted="args ['probe'] with PATH=/bin:/ocitest in process.env runs /ocitest/probe",
        seen=f"create exit {c.create_result.exit_status}, start exit {rr.exit_status}, "
        f"stdout {out[:120]!r}",
        evidence=[c.create_result, rr],
    )


@pytest.mark.requirement("config.process.env")
def test_the_environment_is_process_env(containers):
    b = containers.bundle()
    b.config["process"]["env"].append("OCITEST_VAR=from config=with equals")
    report = containers.probe(b)
    wanted = dict(e.split("=", 1) for e in b.config["process"]["env"])
    assert report.env == wanted, violation(
        "config.process.env",
        wanted=f"environment {wanted}",
        seen=f"environment {report.env}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.cwd")
def test_the_program_starts_in_cwd(containers):
    b = containers.bundle()
    b.config["process"]["cwd"] = "/ocitest"
    report = containers.probe(b)
    assert report.cwd == "/ocitest", violation(
        "config.process.cwd",
        wanted="working directory /ocitest",
        seen=f"working directory {report.cwd!r}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.cwd-absolute", "config.valid-values.invalid-errors")
def test_a_relative_cwd_is_rejected(containers):
    b = containers.bundle(args=probe_args())
    b.config["process"]["cwd"] = "tmp"
    b.write_unvalidated(b.config)
    c = containers.create(b)
    assert not c.created, violation(
        "config.process.cwd-absolute",
        wanted='create fails: cwd "tmp" is not an absolute path',
        seen="exit status 0",
        evidence=[c.create_result],
    )


def _create_and_start_without_args(containers, runtime, args):
    """(container, evidence, start exited 0) for a config whose args is [] or absent."""
    b = containers.bundle()
    if args is None:
        del b.config["process"]["args"]
    else:
        b.config["process"]["args"] = args
    b.write_unvalidated(b.config)
    c = containers.create(b)
    evidence, started = [c.create_result], False
    if c.created:  # a runtime may refuse only at start, when it would exec args[0]
        rr = runtime.start(c.id)
        evidence.append(rr)
        started = rr.ok
    return c, evidence, started


@pytest.mark.parametrize("args", [[], None], ids=["empty", "absent"])
@pytest.mark.requirement("config.process.args-required")
def test_a_process_without_args_cannot_run(containers, runtime, args):
    # valid-values: the runtime generates an error; runtime.md#errors does not say how it
    # shows, so here only its effect: no container is left running a program
    c, evidence, _ = _create_and_start_without_args(containers, runtime, args)
    status, out = "(gone)", ""
    if c.created:
        containers.wait_for(
            "the container stopped or went away",
            lambda: (containers.state(c.id) or {"status": "stopped"}).get("status") != "running",
        )
        status = (containers.state(c.id) or {}).get("status", "(gone)")
        out = containers.output(c)
    assert status in ("(gone)", "stopped", "created") and not out.strip(), violation(
        "config.process.args-required",
        wanted=f"no program runs (no output, not running): process.args is "
        f"{'absent' if args is None else '[]'}",
        seen=f"container status {status!r}, stdout {out[:200]!r}",
        evidence=evidence,
    )


@pytest.mark.parametrize("args", [[], None], ids=["empty", "absent"])
@pytest.mark.requirement("config.process.args-required-reported")
def test_a_process_without_args_is_refused_with_an_exit_status(containers, runtime, args):
    _, evidence, started = _create_and_start_without_args(containers, runtime, args)
    assert not started, violation(
        "config.process.args-required-reported",
        wanted=f"create or start exits non-zero: process.args is "
        f"{'absent' if args is None else '[]'}",
        seen="both exit 0",
        evidence=evidence,
    )


def _stdio_targets(report) -> dict[int, str]:
    return {fd: (report.stat(f"/proc/self/fd/{fd}") or {}).get("target", "?") for fd in (0, 1, 2)}


STDIO_ACTIONS = [f"stat:/proc/self/fd/{fd}" for fd in (0, 1, 2)]


@pytest.mark.requirement("config.process.terminal-default")
def test_without_terminal_the_process_keeps_the_stdio_it_was_handed(containers):
    b = containers.bundle()
    b.config["process"].pop("terminal", None)
    report = containers.probe(b, *STDIO_ACTIONS)
    targets = _stdio_targets(report)
    ttys = {fd: t for fd, t in targets.items() if t.startswith(("/dev/pts", "/dev/tty"))}
    # the harness hands create the files STDIO_DIR/stdout and STDIO_DIR/stderr
    moved = {
        fd: t for fd, t in targets.items() if fd and not t.endswith(("/stdout", "/stderr")[fd - 1])
    }
    assert not ttys and not moved and report.raw, violation(
        "config.process.terminal-default",
        wanted="stdin, stdout and stderr as the runtime was handed them (no terminal; "
        "stdout and stderr the harness's files .../stdout and .../stderr)",
        seen=f"descriptors {targets}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("config.process.console-size-ignored")
def test_console_size_without_terminal_is_ignored(containers):
    b = containers.bundle()
    b.config["process"]["terminal"] = False
    b.config["process"]["consoleSize"] = {"height": 25, "width": 80}
    c = containers.create(b)
    assert c.created, violation(
        "config.process.console-size-ignored",
        wanted="create succeeds: consoleSize is ignored with terminal false",
        seen=f"exit status {c.create_result.exit_status}",
        evidence=[c.create_result],
    )
