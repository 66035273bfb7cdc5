"""Suite names on the command line and `--version` (issue 16), without building a wheel."""

from __future__ import annotations

import subprocess

import pytest

from infra import cli, hostsetup, version
from tests.conftest import ROOT


def test_leading_suite_names_become_paths_of_the_harness(tmp_path):
    suites = hostsetup.ROOT / "suites"
    args = ["oci_runtime", "cri", "oci_runtime/test_state.py::test_x", "-k", "cri"]
    assert cli._suite_paths(args, str(tmp_path)) == [
        str(suites / "oci_runtime"),
        str(suites / "cri"),
        str(suites / "oci_runtime/test_state.py::test_x"),
        "-k",
        "cri",  # an option's value, not a suite
    ]


def test_a_path_of_the_callers_directory_wins_over_a_suite_name(tmp_path):
    (tmp_path / "cri").mkdir()
    assert cli._suite_paths(["cri", "-k", "x"], str(tmp_path)) == ["cri", "-k", "x"]


def test_a_name_that_is_neither_a_suite_nor_a_path_is_a_usage_error(tmp_path):
    with pytest.raises(cli.CliUsageError, match=r"'nosuch': no such suite or path .*oci_runtime"):
        cli._suite_paths(["nosuch"], str(tmp_path))


def test_spec_versions_are_read_from_each_catalogue():
    found = version.spec_versions()
    assert found["oci_runtime"] == {"runtime-spec": "1.3.0"}
    assert found["oci_image"] == {"image-spec": "1.1.1", "distribution-spec": "1.1.1"}
    assert set(found) == {"oci_runtime", "oci_image", "cri"}


def test_the_version_option_prints_harness_and_spec_versions():
    res = subprocess.run(
        [str(ROOT / "ocitest"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == f"ocitest {version.harness_version()}" == "ocitest 0.1.0"
    assert "  oci_runtime: runtime-spec 1.3.0" in lines
    assert "  oci_image: distribution-spec 1.1.1, image-spec 1.1.1" in lines


def test_usage_block_becomes_one_line():
    import io

    block = (
        b"ERROR: usage: python -m pytest [options] [file_or_dir] [file_or_dir] [...]\n"
        b"python -m pytest: error: argument --schema-dir: --schema-dir: empty value\n"
        b"  inifile: /x/pyproject.toml\n  rootdir: /x\n\n"
    )
    out = io.StringIO()
    cli._usage_lines(io.BytesIO(block), out)
    assert out.getvalue() == "ERROR: --schema-dir: empty value\n"
    out = io.StringIO()
    cli._usage_lines(io.BytesIO(b"plain \xff line\n"), out)
    assert out.getvalue() == "plain \ufffd line\n"  # other stderr passes through


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--bogus"], "ERROR: unrecognized arguments: --bogus"),
        (["--schema-dir="], "ERROR: --schema-dir: empty value"),
        (["--known-failures="], "ERROR: --known-failures: empty value"),
        (["--report-dir="], "ERROR: --report-dir: empty value"),
        (["--image-layout", ""], "ERROR: --image-layout: empty value"),
    ],
)
def test_bad_options_of_ocitest_run_are_one_line(tmp_path, args, needle):
    res = subprocess.run(
        [str(ROOT / "ocitest"), "run", "--collect-only", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [ln for ln in res.stderr.splitlines() if ln.strip() and "ocitest setup:" not in ln]
    assert res.returncode == 4, res.stdout + res.stderr
    assert lines == [lines[0]] and lines[0].startswith(needle), res.stderr
    assert "Traceback" not in res.stdout + res.stderr and not list(tmp_path.iterdir())
