"""The `./ocitest` command: setup, run, test, sweep (standard library only).

    ./ocitest run [SUITE...] [PYTEST ARGS...]
                                     set up if needed, run the named suites (oci_runtime,
                                     oci_image, cri; default: every suite) against the
                                     embedded defaults, write the report, print its path
    ./ocitest test [PYTEST ARGS...]  set up, lint, run tests/ (the harness's own tests),
                                     then the suites with the project's known-failures file,
                                     then scan their report for the run's secrets
    ./ocitest bench [PYTEST ARGS...] set up, run benchmarks/ (latency, throughput and peak
                                     memory of runtimes, CRI endpoints and registries;
                                     not part of `run`), write performance.html
                                     and performance.json to ./ocitest-bench
    ./ocitest peers [--registry embedded:ID]... [--out DIR]
                                     (not part of `run`, never in CI) distribution-spec's
                                     conformance suite and ocitest's registry tests against
                                     the same embedded registry: ./ocitest-peers/peers.json
    ./ocitest peers critest [--cri-endpoint embedded[:VERSION]]... [--bench-samples N] [--out DIR]
                                     critest (cri-tools 1.37.0) suite and benchmark beside
                                     ocitest's CRI suite and benchmark, on the embedded
                                     containerds (runc handler): the same peers.json
    ./ocitest peers runtime-tools [--runtime ID|PATH]... [--out DIR]
                                     runtime-tools v0.9.0's validation programs (TAP)
                                     against runc and runc-1.5.3: the same peers.json
    ./ocitest setup [--no-host-fixes] [--no-go]
    ./ocitest sweep                  remove what killed runs left behind
    ./ocitest cache clear            remove the images ocitest built and cached (VM images,
                                     busybox rootfs, pause image; not the Go builds): the
                                     next run rebuilds them from their inputs
    ./ocitest corpus write DIR       write the image suite's corpus of broken layouts
    ./ocitest corpus compare [--out FILE]  the corpus through ocitest, oci-image-tool, crane
    ./ocitest report merge --out DIR REPORT_DIR...
                                     one report from several runs (hosts, targets)
    ./ocitest registry seed URL [--registry-namespace NS]
                                     push the registry suite's data sets into URL, for a
                                     later pull-only run (--registry URL --read-only)
    ./ocitest mutation [PYTEST ARGS...]
                                     (checkout only) every mutant of every suite against
                                     the whole suite, proofs.json rewritten, the score per
                                     kind and the survivors printed
    ./ocitest --version              the harness version and its catalogues' spec versions

Installed with pip, the command is `ocitest` and takes the same commands; `test` then
runs the suites with the project's known-failures file only (the harness's own tests
and lint need a checkout).

Paths given to pytest options are taken relative to the current directory; the report
goes to ./ocitest-report unless --report-dir says otherwise. Usage errors print one
line and exit 4.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

from infra import gobuild, hostsetup, redact, version

USAGE_EXIT = 4
REPORT_DIR = "ocitest-report"
BENCH_DIR = "ocitest-bench"
KNOWN_FAILURES = "known-failures.yaml"
#: seconds a child pytest gets to sweep and write its report after SIGINT or SIGTERM
GRACE = 120


def usage(msg: str) -> int:
    print(
        f"ocitest: {msg} (commands: run, test, setup, sweep, cache, report, corpus, registry, "
        "mutation, peers; see README.md)",
        file=sys.stderr,
    )
    return USAGE_EXIT


def _absolute(args: list[str], cwd: str) -> list[str]:
    """Arguments that name existing paths, and the values of our path options, made
    absolute: pytest runs from the checkout, the user may not."""
    out, pending = [], None
    for a in args:
        if pending is not None:
            out.append(_abs_value(pending, a, cwd) if pending else a)
            pending = None
        elif a in PATH_OPTIONS:
            out.append(a)
            pending = a
        elif a.startswith(tuple(o + "=" for o in PATH_OPTIONS)):
            opt, val = a.split("=", 1)
            out.append(f"{opt}={_abs_value(opt, val, cwd)}")
        elif a in VALUE_OPTIONS:  # its value is a name or an expression, never a path
            out.append(a)
            pending = ""
        elif a and not a.startswith("-") and os.path.exists(os.path.join(cwd, a.split("::")[0])):
            out.append(os.path.join(cwd, a))
        else:
            out.append(a)
    return out


PATH_OPTIONS = (
    "--report-dir",
    "--known-failures",
    "--schema-dir",
    "--runtime",
    "--perf-baseline",
    "--image-layout",
    "--performance",
    "--image-tool",
    "--converter",
    "--ssh-key",
)

#: options whose value is never a path: left alone even when a file of that name is in
#: the current directory (`-k state` beside a directory `state`)
VALUE_OPTIONS = (
    "-k",
    "-m",
    "-n",
    "-p",
    "-o",
    "-W",
    "-r",
    "--numprocesses",
    "--dist",
    "--maxfail",
    "--tb",
    "--durations",
    "--runtime-arg",
    "--target",
    "--gate",
    "--redact",
    "--registry",
    "--registry-user",
    "--registry-password",
    "--registry-namespace",
    "--distribution-spec",
    "--cri-endpoint",
    "--cri-image-endpoint",
    "--runtime-handler",
    "--bench-samples",
    "--bench-warmup",
    "--bench-layout-mib",
    "--bench-layout-samples",
    "--perf-threshold",
    "--bench-clients",
    "--bench-containers",
)


def _abs_value(option: str, value: str, cwd: str) -> str:
    if not value or os.path.isabs(value):
        return value
    if option in ("--runtime", "--image-tool", "--converter") and "/" not in value:
        return value  # a name looked up on PATH (or a setup build's id)
    return os.path.join(cwd, value)


def _suite_paths(args: list[str], cwd: str) -> list[str]:
    """Leading arguments (before the first option) that name a suite (`oci_runtime`) or
    a file or test in one (`oci_runtime/test_state.py::test_x`) and are not a path of
    the current directory become paths in the harness's suites/, so that `ocitest run
    oci_runtime cri` works from any directory."""
    suites = hostsetup.ROOT / "suites"
    out = list(args)
    for i, a in enumerate(args):
        if a.startswith("-"):
            break
        path = a.split("::")[0]
        if os.path.exists(os.path.join(cwd, path)):
            continue
        name = path.split("/")[0]
        if name and (suites / name / "requirements.yaml").is_file():
            out[i] = str(suites / a)
        elif not os.path.exists(os.path.join(hostsetup.ROOT, path)):
            known = sorted(d.parent.name for d in suites.glob("*/requirements.yaml"))
            raise CliUsageError(f"{a!r}: no such suite or path (suites: {', '.join(known)})")
    return out


class CliUsageError(Exception):
    """A command line ocitest refuses before pytest starts (one line, exit 4)."""


def _report_dir(args: list[str]) -> str:
    found = os.path.join(os.getcwd(), REPORT_DIR)
    for i, a in enumerate(args):
        if a == "--report-dir" and i + 1 < len(args):
            found = args[i + 1]
        elif a.startswith("--report-dir="):
            found = a.split("=", 1)[1]
    return found


def _with_defaults(args: list[str]) -> list[str]:
    out = list(args)
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) for a in args):
        out = ["-n", "auto", *out]
    if not any(a.startswith("--report-dir") for a in args):
        out += ["--report-dir", os.path.join(os.getcwd(), REPORT_DIR)]
    return out


def _pytest(
    python, args: list[str], env: dict[str, str] | None = None, command: str = "run"
) -> int:
    """Run pytest from the checkout; pass SIGINT/SIGTERM on and let it finish its report."""
    root = str(hostsetup.ROOT)
    cmd = [str(python), "-m", "pytest", "--rootdir", root, "-c", f"{root}/pyproject.toml", *args]
    proc = subprocess.Popen(cmd, cwd=root, env=env, stderr=subprocess.PIPE)
    pump = threading.Thread(
        target=_usage_lines, args=(proc.stderr, sys.stderr, command), daemon=True
    )
    pump.start()

    def forward(signum, frame):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    old = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # the terminal sent SIGINT to pytest too
                try:
                    return proc.wait(timeout=GRACE)
                except (subprocess.TimeoutExpired, KeyboardInterrupt):
                    proc.kill()
                    return proc.wait()
    finally:
        signal.signal(signal.SIGTERM, old)
        pump.join(timeout=5)


def _usage_lines(src, out, command: str = "run") -> None:
    """Copy pytest's stderr to `out` line by line, turning argparse's usage block (the
    usage line, `PROG: error: MSG`, the inifile/rootdir lines) into one line: `ERROR:
    MSG`. Bytes that are not UTF-8 pass through replaced, never raise."""
    in_usage = False
    for raw in iter(src.readline, b""):
        line = raw.decode("utf-8", "replace")
        if line.startswith("ERROR: usage: "):
            in_usage = True
            continue
        if in_usage and ": error: " in line:
            msg = line.split(": error: ", 1)[1].strip()
            if msg.startswith("argument ") and ": " in msg:
                name, rest = msg[len("argument ") :].split(": ", 1)
                msg = rest if rest.startswith(name.split("/")[0]) else f"{name}: {rest}"
            if msg.startswith("unrecognized arguments: "):
                msg += f" (`ocitest {command} --help` lists the options)"
            line = f"ERROR: {msg}\n"
        elif in_usage and (
            not line.strip() or line.startswith(("  inifile: ", "  rootdir: ", "  configfile: "))
        ):
            continue
        out.write(line)
        out.flush()
    src.close()


def _finish(rc: int, what: str) -> int:
    if rc == 5:
        print(f"ocitest: {what}: pytest collected no tests", file=sys.stderr)
        return 1
    return rc


def _print_report(args: list[str], started: float) -> None:
    report = os.path.join(_report_dir(args), "report.html")
    if os.path.exists(report) and os.path.getmtime(report) >= started:
        print(f"ocitest: report: {os.path.abspath(report)}")


def cmd_run(args: list[str]) -> int:
    python = hostsetup.setup()
    args = _with_defaults(_absolute(_suite_paths(args, os.getcwd()), os.getcwd()))
    started = time.time()
    rc = _pytest(python, args)  # no path given: pytest's testpaths, i.e. every suite
    _print_report(args, started)
    return _finish(rc, "run")


def cmd_bench(args: list[str]) -> int:
    """benchmarks/ (see its README): one process unless -n says otherwise, so that the
    samples are not taken beside each other; the report goes to ./ocitest-bench."""
    python = hostsetup.setup()
    args = _absolute(args, os.getcwd())
    if not any(a == "-n" or a.startswith(("-n", "--numprocesses", "--dist")) for a in args):
        args = ["-n", "0", *args]
    if not any(a.startswith("--report-dir") for a in args):
        args += ["--report-dir", os.path.join(os.getcwd(), BENCH_DIR)]
    started = time.time()
    rc = _pytest(python, [str(hostsetup.ROOT / "benchmarks"), *args], command="bench")
    page = os.path.join(_report_dir(args), "performance.html")
    if os.path.exists(page) and os.path.getmtime(page) >= started:
        print(f"ocitest: performance: {os.path.abspath(page)}")
    return _finish(rc, "bench")


def _wants_help(args: list[str]) -> bool:
    return any(a in ("-h", "--help") for a in args)


def cmd_test(args: list[str]) -> int:
    python = hostsetup.setup()
    if _wants_help(args):  # pytest's help (with ours), not the whole test run after it
        return _pytest(python, ["--help"])
    suite_args = _with_defaults(
        [
            "--known-failures",
            str(hostsetup.ROOT / KNOWN_FAILURES),
            *_absolute(_suite_paths(args, os.getcwd()), os.getcwd()),
        ]
    )
    # bad options fail in seconds, before the harness's own tests run
    check = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "--rootdir",
            str(hostsetup.ROOT),
            "-c",
            f"{hostsetup.ROOT}/pyproject.toml",
            "--collect-only",
            "-q",
            *suite_args,
        ],
        cwd=hostsetup.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode == USAGE_EXIT:
        _usage_lines(io.BytesIO(check.stderr.encode("utf-8", "replace")), sys.stderr, "run")
        return USAGE_EXIT
    if not hostsetup.CHECKOUT:
        print("ocitest: installed copy: the harness's own tests and lint need a checkout")
        return _run_suites(python, suite_args)
    lint = subprocess.run(
        [str(python), "-m", "ruff", "check", "--quiet", "."], cwd=hostsetup.ROOT, check=False
    )
    if lint.returncode != 0:
        print("ocitest: ruff check failed", file=sys.stderr)
        return 1
    rc = _finish(_pytest(python, [str(hostsetup.ROOT / "tests"), "-n", "2"]), "tests/")
    if rc != 0:
        print(f"ocitest: the harness's own tests failed (exit {rc})", file=sys.stderr)
        return rc
    return _run_suites(python, suite_args)


def _run_suites(python, suite_args: list[str]) -> int:
    """The suites with the secrets list, then the scan of their report for secrets."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="ocitest-secrets-") as private:
        secrets = os.path.join(private, "secrets.json")
        env = {**os.environ, redact.SECRETS_ENV: secrets}
        rc = _finish(_pytest(python, suite_args, env), "suites")
        _print_report(suite_args, started)
        clean = scan_report(_report_dir(suite_args), secrets)
    return rc or (0 if clean else 1)


def scan_report(report_dir: str, secrets_file: str) -> bool:
    """Search every file of `report_dir` for the secrets the run wrote to `secrets_file`
    (its registry passwords, --redact patterns, ...), in clear and encoded; say where a
    secret was found, never what. True when none was."""
    try:
        known = redact.load_secrets_file(secrets_file)
    except (OSError, ValueError):
        print("ocitest: secret scan: the run left no list of its secrets", file=sys.stderr)
        return True
    findings, files = redact.scan_paths([report_dir], known)
    for f in findings:
        print(f"ocitest: secret scan: {f.line()}", file=sys.stderr)
    n = len(known.secrets) + len(known.patterns)
    print(
        f"ocitest: secret scan of {report_dir}: {files} files, {n} secrets and patterns: "
        + (f"{len(findings)} findings" if findings else "none found")
    )
    return not findings


def cmd_peers(args: list[str]) -> int:
    """benchmarks/peers/registry_peers.py (a module of its own process: infra never imports benchmarks)."""
    if not (hostsetup.ROOT / "benchmarks" / "peers" / "registry_peers.py").is_file():
        return usage("peers needs a checkout (benchmarks/ is not in the wheel)")
    python = hostsetup.setup()
    cwd = os.getcwd()
    args = [
        os.path.join(cwd, a)
        if i and args[i - 1] == "--out"
        else "--out=" + os.path.join(cwd, a[6:])
        if a.startswith("--out=")
        else a
        for i, a in enumerate(args)
    ]
    if not any(a.startswith("--out") for a in args):
        args += ["--out", os.path.join(os.getcwd(), "ocitest-peers")]
    module = "registry_peers"
    if args[:1] == ["critest"]:  # ./ocitest peers critest [...]: benchmarks/peers/cri_peers.py
        module, args = "cri_peers", args[1:]
    elif args[:1] == ["runtime-tools"]:  # benchmarks/peers/runtime_tools.py
        module, args = "runtime_tools", args[1:]
    return subprocess.run(
        [str(python), "-m", f"benchmarks.peers.{module}", *args],
        cwd=hostsetup.ROOT,
        check=False,
    ).returncode


def cmd_setup(args: list[str]) -> int:
    if args in (["-h"], ["--help"]):
        print(
            "./ocitest setup [--no-host-fixes] [--no-go]: install packages, the virtualenv, "
            "host fixes, and build the newer subjects from Go modules (all of them; "
            f"--no-go or {gobuild.SELECT_ENV}=none skips that)"
        )
        return 0
    unknown = [a for a in args if a not in ("--no-host-fixes", "--no-go")]
    if unknown:
        return usage(f"setup: unknown argument {unknown[0]!r}")
    go = "none" if "--no-go" in args else os.environ.get(gobuild.SELECT_ENV, "all")
    hostsetup.setup(host_fixes="--no-host-fixes" not in args, go_builds=go)
    print("ocitest: setup complete")
    return 0


def cmd_sweep(args: list[str]) -> int:
    if args in (["-h"], ["--help"]):
        print("./ocitest sweep: remove what killed runs left behind")
        return 0
    if args:
        return usage(f"sweep: takes no arguments, got {args[0]!r}")
    python = hostsetup.setup(host_fixes=False, go_builds="none")
    return subprocess.run(
        [str(python), "-m", "infra.sweep"], cwd=hostsetup.ROOT, check=False
    ).returncode


#: what `cache clear` removes below the cache directory (fnmatch patterns of its entries)
CACHED_IMAGES = ("vm", "busybox-*", "pause-*")


def cmd_cache(args: list[str]) -> int:
    """cache clear: remove CACHED_IMAGES below $OCITEST_CACHE (default /var/cache/ocitest),
    holding the VM images' build lock; one line per entry removed."""
    import fcntl
    import fnmatch
    import shutil

    if args in (["-h"], ["--help"]):
        print("./ocitest cache clear: remove the cached VM images, busybox rootfs and pause image")
        return 0
    if args != ["clear"]:
        return usage(f"cache: the only subcommand is 'clear' (got {' '.join(args) or 'nothing'!r})")
    cache = os.environ.get("OCITEST_CACHE", "/var/cache/ocitest")
    if not os.path.isdir(cache):
        print(f"ocitest: cache {cache}: nothing cached")
        return 0
    names = sorted(
        n for n in os.listdir(cache) if any(fnmatch.fnmatch(n, p) for p in CACHED_IMAGES)
    )
    with contextlib.ExitStack() as stack:
        if os.path.isdir(f"{cache}/vm"):  # not while an image is being built
            lock = stack.enter_context(open(f"{cache}/vm/.lock", "a"))
            fcntl.flock(lock, fcntl.LOCK_EX)
        for name in names:
            path = os.path.join(cache, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
            print(f"ocitest: removed {path}")
    if not names:
        print(f"ocitest: cache {cache}: nothing cached")
    return 0


def cmd_report(args: list[str]) -> int:
    if not args or args[0] != "merge":
        return usage("report: the only subcommand is 'merge' (report merge --out DIR DIR...)")
    python = hostsetup.setup(host_fixes=False, go_builds="none")
    rest = _absolute(args[1:], os.getcwd())
    for i, a in enumerate(rest):  # --out and the inputs are paths too
        if a == "--out" and i + 1 < len(rest):
            rest[i + 1] = _abs_value("--report-dir", rest[i + 1], os.getcwd())
    return subprocess.run(
        [str(python), "-m", "reports.merge", *rest], cwd=hostsetup.ROOT, check=False
    ).returncode


def cmd_corpus(args: list[str]) -> int:
    """corpus write DIR: the image suite's broken layouts (suites/oci_image/corpus.py);
    corpus compare [--out FILE] ...: which validator catches which (benchmarks/peers/)."""
    if args and args[0] == "compare":
        return _corpus_compare(args[1:])
    if len(args) != 2 or args[0] != "write":
        return usage("corpus: usage is 'corpus write DIR' or 'corpus compare [--out FILE]'")
    if not args[1]:
        return usage("corpus write: empty DIR")
    python = hostsetup.setup(host_fixes=False)
    dest = os.path.abspath(args[1])
    return subprocess.run(
        [str(python), "-m", "suites.oci_image.corpus", dest], cwd=hostsetup.ROOT, check=False
    ).returncode


def _corpus_compare(args: list[str]) -> int:
    """The corpus through ocitest, oci-image-tool and crane (a checkout only: peers are
    not shipped); builds crane (go-containerregistry) unless $OCITEST_GO_BUILDS says."""
    if not (hostsetup.ROOT / "benchmarks" / "peers").is_dir():
        return usage("corpus compare needs a checkout (benchmarks/ is not shipped)")
    go = None if os.environ.get(gobuild.SELECT_ENV) else "ggcr"
    python = hostsetup.setup(host_fixes=False, go_builds=go)
    rest = list(args)
    for i, a in enumerate(rest):  # paths are taken from the caller's directory
        if a in ("--out", "--corpus") and i + 1 < len(rest):
            rest[i + 1] = os.path.abspath(rest[i + 1])
        elif a.startswith(("--out=", "--corpus=")):
            k, v = a.split("=", 1)
            rest[i] = f"{k}={os.path.abspath(v)}"
    if not any(a == "--out" or a.startswith("--out=") for a in rest):
        rest += ["--out", os.path.abspath("ocitest-corpus-compare.json")]
    return subprocess.run(
        [str(python), "-m", "benchmarks.peers.corpus_compare", *rest],
        cwd=hostsetup.ROOT,
        check=False,
    ).returncode


def cmd_registry(args: list[str]) -> int:
    """registry seed URL [--registry-namespace NS] [--registry-user U --registry-password P]:
    the registry suite's data sets pushed beforehand (suites/oci_image/registry_seed.py)."""
    if not args or args[0] != "seed":
        return usage(
            "registry: the only subcommand is 'seed' (registry seed URL [--registry-namespace NS])"
        )
    python = hostsetup.setup(host_fixes=False, go_builds="none")
    return subprocess.run(
        [str(python), "-m", "suites.oci_image.registry_seed", *args[1:]],
        cwd=hostsetup.ROOT,
        check=False,
    ).returncode


def cmd_mutation(args: list[str]) -> int:
    """The full mutation run (docs/architecture.md, Proofs): the self-tests of every
    mutant against the whole suite, then reports/proofs.json rewritten from their results
    and the score printed. Exit 0 when every mutant fails exactly its tests."""
    root = hostsetup.ROOT
    selftests = sorted(str(p) for p in (root / "tests").glob("test_*mutants.py"))
    if not (root / "selftest").is_dir() or not selftests:
        return usage("mutation needs a checkout (selftest/ and tests/ are not shipped)")
    selftests.append(str(root / "tests" / "test_image_corpus.py"))  # corpus cases count too
    python = hostsetup.setup()
    if _wants_help(args):  # what the command does, then the pytest options it passes on
        print(
            "usage: ocitest mutation [PYTEST ARGS...]\n\n" + " ".join(cmd_mutation.__doc__.split())
        )
        print("Every mutant of every kind runs (OCITEST_MUTANTS_FULL=1); the pytest options:\n")
        sys.stdout.flush()
        return _pytest(python, ["--help"])
    with tempfile.TemporaryDirectory(prefix="ocitest-mutation-") as results:
        env = {**os.environ, "OCITEST_MUTANTS_FULL": "1", "OCITEST_SELFTEST_RESULTS": results}
        rc = _pytest(python, [*selftests, "-n", "2", *args], env)
        if rc in (USAGE_EXIT, 5):  # refused, or nothing collected: no results to write
            return _finish(rc, "mutation")
        for step in (["write", "--results", results], ["score"]):
            done = subprocess.run(
                [str(python), "-m", "selftest.proofs", *step], cwd=root, check=False, timeout=120
            )
            if done.returncode != 0:
                return done.returncode
    return rc


COMMANDS = {
    "bench": cmd_bench,
    "cache": cmd_cache,
    "corpus": cmd_corpus,
    "mutation": cmd_mutation,
    "peers": cmd_peers,
    "registry": cmd_registry,
    "run": cmd_run,
    "test": cmd_test,
    "setup": cmd_setup,
    "sweep": cmd_sweep,
    "report": cmd_report,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return usage("no command given")
    if argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    if argv[0] in ("-V", "--version"):
        if argv[1:]:
            return usage(f"{argv[0]} takes no arguments (got {' '.join(argv[1:])!r})")
        print(version.version_text())
        return 0
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        return usage(f"unknown command {argv[0]!r}")
    try:
        return cmd(argv[1:])
    except (hostsetup.SetupUsageError, CliUsageError) as exc:
        return usage(str(exc))
    except hostsetup.SetupError as exc:
        print(f"ocitest: setup failed: {exc}", file=sys.stderr)
        return USAGE_EXIT if "not root" in str(exc) else 1
    except PermissionError as exc:
        print(
            f"ocitest: {exc.strerror}: {exc.filename} (run as root, or as the user who ran setup)",
            file=sys.stderr,
        )
        return USAGE_EXIT
    except KeyboardInterrupt:
        print("ocitest: interrupted", file=sys.stderr)
        return 130
