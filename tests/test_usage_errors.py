"""Bad input: one line, exit 4, no traceback, nothing of the user's touched
(docs/architecture.md, Options)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import PYTEST, ROOT

SUITE = "suites/oci_runtime/test_state.py"


def pytest_usage(*args: str, report_dir: str | None = None) -> subprocess.CompletedProcess:
    rd = ["--report-dir", report_dir] if report_dir else []
    return subprocess.run(
        [*PYTEST, SUITE, *args, *rd],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_usage_error(res: subprocess.CompletedProcess, needle: str) -> None:
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 4, f"exit {res.returncode}, wanted 4:\n{out}"
    assert "Traceback" not in out, out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, f"wanted one line, got {len(lines)}:\n{out}"
    assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


@pytest.fixture
def not_executable(tmp_path):
    p = tmp_path / "runtime"
    p.write_text("#!/bin/sh\necho nope\n")
    p.chmod(0o644)
    return str(p)


@pytest.fixture
def failing_version(tmp_path):
    p = tmp_path / "broken-runtime"
    p.write_text("#!/bin/sh\necho 'no such flag' >&2\nexit 3\n")
    p.chmod(0o755)
    return str(p)


def test_a_missing_runtime_binary_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage("--runtime", "/nonexistent/runtime", report_dir=str(tmp_path / "r")),
        "no such file",
    )


def test_a_runtime_not_on_path_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage("--runtime", "no-such-runtime-xyz", report_dir=str(tmp_path / "r")),
        "not found on PATH",
    )


def test_an_unknown_built_subject_is_a_usage_error(tmp_path):
    # shaped like a subject built at setup (runc-1.5.3), but no such version is built
    assert_one_line_usage_error(
        pytest_usage("--runtime", "runc-9.9.9", report_dir=str(tmp_path / "r")),
        "runc-9.9.9: no such built subject",
    )


def test_an_unknown_go_build_selection_is_a_usage_error(tmp_path):
    res = subprocess.run(
        [str(ROOT / "ocitest"), "setup", "--no-host-fixes"],
        cwd=tmp_path,
        env={**os.environ, "OCITEST_GO_BUILDS": "runc,bogus"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert_one_line_usage_error(res, "unknown build 'bogus'")


def test_a_runtime_that_is_not_executable_is_a_usage_error(tmp_path, not_executable):
    assert_one_line_usage_error(
        pytest_usage("--runtime", not_executable, report_dir=str(tmp_path / "r")),
        "not an executable",
    )


def test_a_directory_as_runtime_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage("--runtime", str(tmp_path), report_dir=str(tmp_path / "r")),
        "not an executable",
    )


def test_a_runtime_whose_version_fails_is_a_usage_error(tmp_path, failing_version):
    assert_one_line_usage_error(
        pytest_usage("--runtime", failing_version, report_dir=str(tmp_path / "r")),
        "--version' failed",
    )


def test_runtime_arg_without_runtime_is_a_usage_error(tmp_path):
    res = pytest_usage("--runtime-arg=--debug", report_dir=str(tmp_path / "r"))
    assert res.returncode == 4 and "Traceback" not in res.stderr, res.stderr


@pytest.mark.parametrize("value", ["bogus", "must", ""])
def test_an_unknown_gate_is_a_usage_error(tmp_path, value):
    assert_one_line_usage_error(
        pytest_usage("--gate", value, report_dir=str(tmp_path / "r")), "--gate"
    )


@pytest.mark.parametrize(
    "regex, why", [("hunter2(", "not a regular expression"), ("x*", "matches the empty string")]
)
def test_a_bad_redact_regex_is_a_usage_error_that_does_not_echo_it(tmp_path, regex, why):
    res = pytest_usage("--redact", "ok[0-9]+", "--redact", regex, report_dir=str(tmp_path / "r"))
    assert_one_line_usage_error(res, f"--redact (#2): {why}")
    assert regex not in res.stdout + res.stderr


def test_an_unwritable_report_dir_is_a_usage_error():
    assert_one_line_usage_error(
        pytest_usage(report_dir="/proc/ocitest-report"), "cannot write there"
    )


def test_a_regular_file_as_report_dir_is_a_usage_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("the user's\n")
    assert_one_line_usage_error(pytest_usage(report_dir=str(f)), "not a directory")
    assert f.read_text() == "the user's\n"


def test_a_foreign_non_empty_report_dir_is_refused_untouched(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "results.json").write_text("precious")
    (d / "notes.txt").write_text("also precious")
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    assert_one_line_usage_error(pytest_usage(report_dir=str(d)), "not an ocitest report")
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before


def test_a_missing_known_failures_file_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage(
            "--known-failures", str(tmp_path / "nope.yaml"), report_dir=str(tmp_path / "r")
        ),
        "cannot read",
    )


@pytest.mark.parametrize(
    "text, needle",
    [
        ("known_failures: [\n", "not valid YAML"),
        ("known_failures:\n  - subject: runc\n", "known_failures/0"),
        (
            "known_failures:\n  - requirement: no.such.id\n    subject: runc\n    reason: because it is so\n",
            "unknown requirement id",
        ),
        ("- a list\n", "(top)"),
        (
            "known_failures:\n  - requirement: runtime.state.id\n    subject: runc\n"
            "    reason: because it is so\n    target: qemu\n",
            "known_failures/0/target: 'qemu' is not a target spec (local, ssh://",
        ),
        (
            "known_failures:\n  - requirement: runtime.state.id\n    subject: runc\n"
            "    reason: because it is so\n    target: qemu:nope\n",
            "known_failures/0/target: 'qemu:nope': unknown image",
        ),
    ],
)
def test_a_malformed_known_failures_file_is_a_usage_error(tmp_path, text, needle):
    kf = tmp_path / "kf.yaml"
    kf.write_text(text)
    assert_one_line_usage_error(
        pytest_usage("--known-failures", str(kf), report_dir=str(tmp_path / "r")), needle
    )


@pytest.mark.parametrize(
    "spec, needle",
    [
        ("bogus", "unknown target kind"),
        # no such machine in infra/Vagrantfile, or (without OCITEST_SETUP_VAGRANT) no vagrant
        ("vagrant:debian", "vagrant:debian"),
        ("ssh://user@no-such-host.invalid", "does not answer"),
        ("ssh://user@host:99999", "port 99999"),
    ],
)
def test_an_unusable_target_is_a_usage_error(tmp_path, spec, needle):
    assert_one_line_usage_error(
        pytest_usage("--target", spec, report_dir=str(tmp_path / "r")), needle
    )


def test_a_schema_dir_without_schemas_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage("--schema-dir", str(tmp_path), report_dir=str(tmp_path / "r")), "--schema-dir"
    )


def test_a_usage_error_leaves_no_run_directories(tmp_path):
    proc = subprocess.Popen(
        [
            *PYTEST,
            SUITE,
            "--gate",
            "bogus",
            "--report-dir",
            str(tmp_path / "r"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.communicate(timeout=120)
    assert proc.returncode == 4
    owners = []
    for d in os.listdir("/run/ocitest") if os.path.isdir("/run/ocitest") else []:
        try:
            with open(f"/run/ocitest/{d}/owner.pid") as fh:
                owners.append(int(fh.read().strip() or 0))
        except (OSError, ValueError):
            pass
    assert proc.pid not in owners
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["bogus"], "unknown command"),
        (["setup", "--bogus"], "unknown argument"),
        (["sweep", "extra"], "takes no arguments"),
        (["corpus", "bogus"], "'corpus compare [--out FILE]'"),
        (["corpus", "compare", "--tools", "ocitest,nope"], "--tools: unknown ['nope']"),
        (["corpus", "compare", "--out", "/nonexistent/dir/x.json"], "not a file in an existing"),
        (["corpus", "compare", "--bogus"], "unrecognized arguments: --bogus"),
        (["corpus", "write", ""], "corpus write: empty DIR"),
        (["corpus", "write", "/proc/ocitest-corpus"], "cannot write there"),
        ([], "commands:"),
    ],
)
def test_the_ocitest_command_rejects_bad_usage(argv, needle):
    res = subprocess.run(
        [str(ROOT / "ocitest"), *argv], capture_output=True, text=True, timeout=60, check=False
    )
    out = res.stdout + res.stderr
    assert res.returncode == 4, out
    assert "Traceback" not in out and needle in out, out


def test_a_runtime_with_non_utf8_version_output_is_handled(tmp_path):
    p = tmp_path / "binary-talker"
    p.write_bytes(b"#!/bin/sh\nprintf '\\377\\376 garbage\\n'\n")
    p.chmod(0o755)
    assert_one_line_usage_error(
        pytest_usage("--runtime", str(p), report_dir=str(tmp_path / "r")), "printed no version"
    )


def test_a_binary_that_is_not_a_runtime_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage("--runtime", "/bin/true", report_dir=str(tmp_path / "r")), "no version"
    )


def test_the_same_runtime_twice_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        pytest_usage("--runtime", "runc", "--runtime", "runc", report_dir=str(tmp_path / "r")),
        "given twice",
    )


def test_a_binary_known_failures_file_is_a_usage_error(tmp_path):
    kf = tmp_path / "kf.yaml"
    kf.write_bytes(bytes(range(128, 256)))
    assert_one_line_usage_error(
        pytest_usage("--known-failures", str(kf), report_dir=str(tmp_path / "r")), "not UTF-8"
    )


def test_a_broken_schema_dir_is_a_usage_error_at_start(tmp_path):
    (tmp_path / "state-schema.json").write_text("{not json")
    assert_one_line_usage_error(
        pytest_usage("--schema-dir", str(tmp_path), report_dir=str(tmp_path / "r")),
        "state-schema.json",
    )


def test_a_bad_k_expression_keeps_the_earlier_report(tmp_path):
    rd = tmp_path / "r"
    good = pytest_usage(
        "-k", "test_state_without_an_id_fails", "--runtime", "runc", report_dir=str(rd)
    )
    assert good.returncode == 0, good.stdout[-1500:]
    before = (rd / "results.json").read_bytes()
    bad = pytest_usage("-k", "state and", "--runtime", "runc", report_dir=str(rd))
    assert bad.returncode == 4, bad.stdout[-1500:]
    assert (rd / "results.json").read_bytes() == before


def test_ocitest_run_takes_a_runtime_path_and_relative_paths_from_the_callers_directory(tmp_path):
    res = subprocess.run(
        [
            str(ROOT / "ocitest"),
            "run",
            "-n",
            "0",
            "-k",
            "test_state_without_an_id_fails",
            "--runtime",
            "/usr/sbin/runc",
            "--report-dir",
            "rel-report",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert (tmp_path / "rel-report" / "report.html").is_file()
    assert f"report: {tmp_path}/rel-report/report.html" in res.stdout


@pytest.mark.parametrize(
    "test_id, needle",
    [
        ("suites/oci_runtime/test_nope.py::test_x", "no file"),
        ("suites/oci_runtime/test_state.py::test_no_such_test[runc]", "no test_no_such_test"),
    ],
)
def test_a_known_failure_naming_an_unknown_test_is_a_usage_error(tmp_path, test_id, needle):
    kf = tmp_path / "kf.yaml"
    kf.write_text(
        f"known_failures:\n  - test: {test_id}\n    subject: runc\n    reason: no such test here\n"
    )
    assert_one_line_usage_error(
        pytest_usage("--known-failures", str(kf), report_dir=str(tmp_path / "r")), needle
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--cri-endpoint", "bogus://"], "expected unix:///path/to.sock"),
        # the mutant scheme exists only with the self-tests' plugin
        (["--cri-endpoint", "mutant:exec-sync-exit-zero"], "or embedded, embedded:VERSION)"),
        # only the containerd setup builds (infra/gobuild.py) is an embedded:VERSION
        (
            ["--cri-endpoint", "embedded:9.9"],
            "--cri-endpoint embedded:9.9: no embedded containerd 9.9: the harness builds "
            "containerd 2.4.2 only",
        ),
        (["-p", "selftest.plugin", "--cri-endpoint", "mutant:nosuch"], "no such CRI mutant"),
        (["--cri-image-endpoint", "nowhere"], "--cri-image-endpoint: 'nowhere'"),
    ],
)
def test_a_bad_cri_endpoint_is_a_usage_error(tmp_path, args, needle):
    assert_one_line_usage_error(pytest_usage(*args, report_dir=str(tmp_path / "r")), needle)


def test_the_built_containerd_when_builds_are_off_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("OCITEST_GO_BUILDS", "none")
    assert_one_line_usage_error(
        pytest_usage("--cri-endpoint", "embedded:2.4.2", report_dir=str(tmp_path / "r")),
        "--cri-endpoint embedded:2.4.2: containerd 2.4.2 is not built",
    )


def _bad_layouts(tmp_path) -> dict[str, str]:
    """Paths that --image-layout refuses: an empty directory, a file that is no tar, a
    tar without a layout in it, a fifo."""
    import tarfile

    empty = tmp_path / "empty"
    empty.mkdir()
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all\n" * 64)
    other = tmp_path / "other.tar"
    (tmp_path / "readme").write_text("hello\n")
    with tarfile.open(other, "w") as tar:
        tar.add(tmp_path / "readme", arcname="readme")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return {"empty": str(empty), "junk": str(junk), "other": str(other), "fifo": str(fifo)}


@pytest.mark.parametrize(
    "which, needle",
    [
        ("missing", "no such file or directory"),
        ("empty", "not an OCI image layout (none of oci-layout, index.json, blobs in it)"),
        ("junk", "neither a layout directory nor a readable tar"),
        ("other", "a tar without an OCI image layout"),
        ("fifo", "neither a directory nor a regular file"),
    ],
)
def test_a_bad_image_layout_is_a_usage_error_from_any_suite(tmp_path, which, needle):
    # the option belongs to the layout kind, so a runtime-suite invocation checks it too
    path = _bad_layouts(tmp_path).get(which, str(tmp_path / "no-such-layout"))
    assert_one_line_usage_error(
        pytest_usage("--image-layout", path, report_dir=str(tmp_path / "r")),
        f"--image-layout {path}: {needle}",
    )


def test_the_same_image_layout_twice_is_a_usage_error(tmp_path):
    lay = tmp_path / "lay"
    lay.mkdir()
    (lay / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    res = pytest_usage(
        "--image-layout",
        str(lay),
        "--image-layout",
        f"{tmp_path}/./lay",
        report_dir=str(tmp_path / "r"),
    )
    assert_one_line_usage_error(res, "given twice")


@pytest.mark.parametrize(
    "value, needle",
    [
        ("no-such-image-tool", "not found on PATH"),
        ("/no/such/tool", "no such executable file"),
        ("umoci-9.9.9", "no such built image tool"),
    ],
)
def test_a_bad_image_tool_is_a_usage_error(tmp_path, value, needle):
    assert_one_line_usage_error(
        pytest_usage("--image-tool", value, report_dir=str(tmp_path / "r")),
        f"--image-tool {value}: {needle}",
    )


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_a_bad_call_timeout_is_a_usage_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv("OCITEST_CALL_TIMEOUT", value)
    assert_one_line_usage_error(
        pytest_usage("--runtime", "runc", report_dir=str(tmp_path / "r")), "OCITEST_CALL_TIMEOUT="
    )


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--runtime", "\udcff"], "--runtime \\xff: not UTF-8 text"),
        (["--registry=http://\udcff"], "--registry http://\\xff: not UTF-8 text"),
        (["--cri-endpoint", "unix:///\udcff"], "--cri-endpoint unix:///\\xff: not UTF-8 text"),
    ],
)
def test_an_option_value_that_is_not_utf8_is_a_usage_error(tmp_path, args, needle):
    # surrogate escapes: how Python hands on argv bytes that are not UTF-8
    assert_one_line_usage_error(pytest_usage(*args, report_dir=str(tmp_path / "r")), needle)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--registry", "http://a b"], "spaces or control characters in the URL"),
        (["--registry", "http://127.0.0.1:1/a b"], "spaces or control characters in the URL"),
        (["--registry", "http://a..b"], "'a..b' is not a host name"),
        (["--cri-endpoint", "tcp://127.0.0.1:99999"], "the port must be 1 to 65535"),
        (["--cri-endpoint", "tcp://127.0.0.1:"], "the port must be 1 to 65535"),
        (["--runtime-handler", "runc", "--runtime-handler", "runc"], "runc: given twice"),
    ],
)
def test_a_malformed_endpoint_is_a_usage_error(tmp_path, args, needle):
    assert_one_line_usage_error(pytest_usage(*args, report_dir=str(tmp_path / "r")), needle)


def test_an_option_value_naming_a_file_in_the_callers_directory_is_not_made_a_path(tmp_path):
    # `-k state` beside a directory `state` once became `-k /cwd/state`: nothing selected
    (tmp_path / "test_state_without_an_id_fails").mkdir()
    res = subprocess.run(
        [
            str(ROOT / "ocitest"),
            "run",
            "oci_runtime/test_state.py",
            "--collect-only",
            "-q",
            "-n",
            "0",
            "--runtime",
            "runc",
            "-k",
            "test_state_without_an_id_fails",
            "--report-dir",
            str(tmp_path / "r"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-1500:] + res.stderr[-1500:]
    assert "test_state_without_an_id_fails[runc]" in res.stdout


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["test", "--bogus"], "unrecognized arguments: --bogus (`ocitest run --help`"),
        (["mutation", "--bogus"], "unrecognized arguments: --bogus (`ocitest run --help`"),
        (["bench", "--bogus"], "unrecognized arguments: --bogus (`ocitest bench --help`"),
    ],
)
def test_a_commands_unknown_pytest_option_is_one_line(tmp_path, argv, needle):
    # test: its early --collect-only check printed pytest's usage block; mutation: then
    # also a second line from the proofs step, which has nothing to write
    res = subprocess.run(
        [str(ROOT / "ocitest"), *argv], cwd=tmp_path, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    res.stderr = "\n".join(ln for ln in res.stderr.splitlines() if not ln.startswith("ocitest setup: "))  # fmt: skip
    res.stdout = ""
    assert_one_line_usage_error(res, needle)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--converter", "umoci", "--converter", "/usr/bin/umoci"], "--converter /usr/bin/umoci: given twice"),
        (["--converter", ""], "--converter : empty value"),
        (["--image-tool", "skopeo", "--image-tool", "skopeo"], "--image-tool skopeo: given twice"),
    ],
)  # fmt: skip
def test_the_same_converter_or_image_tool_twice_is_a_usage_error(tmp_path, args, needle):
    # once run twice, as umoci-unpack-0.4.7 and umoci-unpack-0.4.7-2
    if "umoci" in args and not os.path.exists("/usr/bin/umoci"):
        pytest.skip("needs Debian's umoci (/usr/bin/umoci)")
    assert_one_line_usage_error(pytest_usage(*args, report_dir=str(tmp_path / "r")), needle)


def test_a_ctr_converter_without_its_containerd_is_a_usage_error(tmp_path):
    # a program named ctr speaks ctr's command line and needs the containerd beside it
    ctr = tmp_path / "bin" / "ctr"
    ctr.parent.mkdir()
    ctr.write_text("#!/bin/sh\necho 'ctr github.com/containerd/containerd 1.6.20'\n")
    ctr.chmod(0o755)
    res = pytest_usage("--converter", str(ctr), report_dir=str(tmp_path / "r"))
    assert_one_line_usage_error(res, f"--converter {ctr}: no containerd beside {ctr}")


@pytest.mark.parametrize(
    "entry, needle",
    [
        ("    test: suites/oci_runtime/test_state.py::test_state_without_an_id_fails\n"
         "    requirement: runtime.state.id\n", "give a test or a requirement, not both"),
        ("", "give a test or a requirement, one of them"),
    ],
)  # fmt: skip
def test_a_known_failure_with_both_or_neither_of_test_and_requirement_is_one_short_line(
    tmp_path, entry, needle
):
    kf = tmp_path / "kf.yaml"
    kf.write_text(f"known_failures:\n  - subject: runc\n    reason: because it is so\n{entry}")
    assert_one_line_usage_error(
        pytest_usage("--known-failures", str(kf), report_dir=str(tmp_path / "r")), needle
    )


@pytest.mark.parametrize("command", ["test", "mutation"])
def test_help_of_test_and_mutation_prints_the_options_and_runs_nothing(tmp_path, command):
    # it went on past the help: test ran lint and tests/, mutation the proofs step
    res = subprocess.run(
        [str(ROOT / "ocitest"), command, "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 0 and "--known-failures" in res.stdout, res.stderr[-1500:]
    assert "selftest.proofs" not in res.stderr and "test session starts" not in res.stdout
    if command == "mutation":  # what the command does comes first, then pytest's options
        assert res.stdout.index("ocitest mutation") < res.stdout.index("--known-failures")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--known-failures", "/nonexistent/kf\nnext.yaml"], "kf next.yaml: cannot read"),
        (["--cri-endpoint", "unix:///" + "s" * 200], "a socket path is at most 107 bytes"),
    ],
)
def test_a_newline_or_an_overlong_socket_path_stays_one_line(tmp_path, args, needle):
    # the newline went into the message as is; grpc's C core logged 6 lines about the path
    assert_one_line_usage_error(pytest_usage(*args, report_dir=str(tmp_path / "r")), needle)
