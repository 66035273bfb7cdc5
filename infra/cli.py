"""The `./ocitest` command: setup, run, test, sweep (standard library only).

    ./ocitest run [PYTEST ARGS...]   set up if needed, run every suite against the
                                     embedded defaults, write the report, print its path
    ./ocitest test [PYTEST ARGS...]  set up, run tests/ (the harness's own tests), then
                                     the suites with the project's known-failures file
    ./ocitest setup [--no-host-fixes]
    ./ocitest sweep                  remove what killed runs left behind

Usage errors print one line and exit 4.
"""

from __future__ import annotations

import os
import subprocess
import sys

from infra import hostsetup

USAGE_EXIT = 4
REPORT_DIR = "ocitest-report"
KNOWN_FAILURES = "known-failures.yaml"


def usage(msg: str) -> int:
    print(f"ocitest: {msg} (commands: run, test, setup, sweep; see README.md)", file=sys.stderr)
    return USAGE_EXIT


def _pytest(python, args: list[str]) -> int:
    cmd = [str(python), "-m", "pytest", *args]
    print("ocitest: " + " ".join(cmd[2:]), flush=True)
    try:
        return subprocess.run(cmd, cwd=hostsetup.ROOT, check=False).returncode
    except KeyboardInterrupt:
        return 2


def _report_dir(args: list[str]) -> str:
    for i, a in enumerate(args):
        if a == "--report-dir" and i + 1 < len(args):
            return args[i + 1]
        if a.startswith("--report-dir="):
            return a.split("=", 1)[1]
    return REPORT_DIR


def _with_defaults(args: list[str]) -> list[str]:
    out = list(args)
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in args):
        out = ["-n", "auto", *out]
    if not any(a.startswith("--report-dir") for a in args):
        out += ["--report-dir", REPORT_DIR]
    return out


def _finish(rc: int, what: str) -> int:
    if rc == 5:
        print(f"ocitest: {what}: pytest collected no tests", file=sys.stderr)
        return 1
    return rc


def cmd_run(args: list[str]) -> int:
    python = hostsetup.setup()
    args = _with_defaults(args)
    rc = _pytest(python, args)  # no path given: pytest's testpaths, i.e. every suite
    report = os.path.join(hostsetup.ROOT, _report_dir(args), "report.html")
    if rc != USAGE_EXIT and os.path.exists(report):
        print(f"ocitest: report: {os.path.abspath(report)}")
    return _finish(rc, "run")


def cmd_test(args: list[str]) -> int:
    python = hostsetup.setup()
    lint = subprocess.run([str(python), "-m", "ruff", "check", "--quiet", "."],
                          cwd=hostsetup.ROOT, check=False)
    if lint.returncode != 0:
        print("ocitest: ruff check failed", file=sys.stderr)
        return 1
    rc = _finish(_pytest(python, ["tests", "-n", "2", *args]), "tests/")
    if rc not in (0,):
        print(f"ocitest: tests/ failed (exit {rc})", file=sys.stderr)
        return rc
    suite_args = _with_defaults(["--known-failures", KNOWN_FAILURES, *args])
    rc = _finish(_pytest(python, suite_args), "suites")
    report = os.path.join(hostsetup.ROOT, _report_dir(suite_args), "report.html")
    if os.path.exists(report):
        print(f"ocitest: report: {os.path.abspath(report)}")
    return rc


def cmd_setup(args: list[str]) -> int:
    unknown = [a for a in args if a != "--no-host-fixes"]
    if unknown:
        return usage(f"setup: unknown argument {unknown[0]!r}")
    hostsetup.setup(host_fixes="--no-host-fixes" not in args)
    print("ocitest: setup complete")
    return 0


def cmd_sweep(args: list[str]) -> int:
    if args:
        return usage(f"sweep: takes no arguments, got {args[0]!r}")
    python = hostsetup.setup(host_fixes=False)
    return subprocess.run(
        [str(python), "-m", "infra.sweep"], cwd=hostsetup.ROOT, check=False
    ).returncode


COMMANDS = {"run": cmd_run, "test": cmd_test, "setup": cmd_setup, "sweep": cmd_sweep}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return usage("no command given")
    if argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        return usage(f"unknown command {argv[0]!r}")
    try:
        return cmd(argv[1:])
    except hostsetup.SetupError as exc:
        print(f"ocitest: setup failed: {exc}", file=sys.stderr)
        return USAGE_EXIT if "not root" in str(exc) else 1
    except KeyboardInterrupt:
        print("ocitest: interrupted", file=sys.stderr)
        return 130
