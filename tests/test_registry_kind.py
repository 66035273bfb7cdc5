"""The registry kind's options (infra/kinds/registry.py): bad input is one line and exit 4;
a given URL is tested as its own subject with the credentials given, which never reach
the report; --distribution-spec decides whether post-1.1.1 requirements apply."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from infra.services.registry import start_registry, stop_registry
from infra.targets import open_target
from tests.conftest import PYTEST, ROOT, run_pytest
from tests.test_usage_errors import assert_one_line_usage_error

PULL = "suites/oci_image/test_registry_pull.py"


def _usage(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*PYTEST, PULL, *args, "--report-dir", str(tmp_path / "r")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "OCITEST_REGISTRY_USER": "", "OCITEST_REGISTRY_PASSWORD": ""},
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--registry", "ftp://example.invalid"], "expected http://HOST[:PORT]"),
        (["--registry", "not a url"], "expected http://HOST[:PORT]"),
        (["--registry", "http://user:pw@127.0.0.1:5000"], "no query, fragment or credentials"),
        (["--registry", "http://127.0.0.1:1"], "GET /v2/ did not answer 200 or 401"),
        (["--distribution-spec", "2.0"], "expected one of 1.1.1, dev"),
        (["--registry-user", "someone"], "go together"),
        (["--registry-namespace", "Upper/Case"], "not a repository name"),
        (["--registry-namespace", "a" * 5000], "5000 characters, at most 160"),
        (["--registry", "embedded", "--registry", "embedded"], "given twice"),
        (["--read-only"], "--read-only needs --registry URL"),
        (["--registry", "embedded", "--read-only"], "--read-only needs --registry URL"),
        (["--registry", "embedded:"], "names no registry"),  # was every embedded one
        (["--registry", "http://a b"], "spaces or control characters"),  # was a traceback
        (["--registry-auth", "kerberos"], "--registry-auth kerberos: expected one of basic, token"),
        (["--registry-chunk-size", "5MB"], "--registry-chunk-size 5MB: expected a whole number"),
        (["--registry-chunk-size", "0"], "--registry-chunk-size 0: expected a whole number"),
        (["--registry-chunk-size", "-1"], "expected a whole number of bytes, 1 to 1073741824"),
        (["--registry-chunk-size", "9" * 5000], "expected a whole number"),  # was a traceback
        (["--registry-chunk-size", "\u00b2"], "expected a whole number"),  # was a traceback
    ],
)
def test_bad_registry_options_are_one_line_usage_errors(tmp_path, args, needle):
    assert_one_line_usage_error(_usage(tmp_path, *args), needle)


@pytest.fixture
def external_registry(tmp_path):
    """A registry the harness did not start for the run: docker-registry with basic auth."""
    target = open_target("local")
    password = "ext-" + secrets.token_hex(12)
    reg = start_registry(target, str(tmp_path / "ext"), username="extuser", password=password)
    try:
        yield reg
    finally:
        stop_registry(target, reg)


def test_a_given_url_is_a_subject_of_its_own_and_its_password_stays_out_of_the_report(
    tmp_path, external_registry
):
    reg = external_registry
    env_args = [
        PULL,
        "-k",
        "v2_answers or missing_blob or deletes_are_disabled",
        "--registry",
        reg.url,
        "--registry-user",
        reg.username,
        "--registry-password",
        reg.password,
        "--registry-namespace",
        "ext/ns",
    ]
    res = run_pytest(
        [*env_args, "suites/oci_image/test_registry_management.py"], tmp_path / "report"
    )
    port = reg.host.split(":")[1]
    subject = f"127.0.0.1-{port}"
    out = res.outcomes(subject)
    assert res.rc == 0, res.stdout[-2000:]
    assert out["test_registry_pull.py::test_v2_answers_200_to_an_authorised_client"] == "passed"
    assert out["test_registry_pull.py::test_missing_blob_answers_404_blob_unknown"] == "passed"
    key = "test_registry_management.py::test_delete_of_a_blob_where_deletes_are_disabled_answers_400_or_405"
    assert out[key] == "unsupported"  # no deletes-off endpoint of an external registry
    paths = [r["evidence"] for r in res.results["results"]]
    assert any("ext/ns/" in e["command"] for ev in paths for e in ev)
    for f in (tmp_path / "report").rglob("*"):
        if f.is_file():
            assert reg.password not in f.read_text(errors="replace"), f


def test_post_1_1_1_requirements_apply_only_with_distribution_spec_dev(tmp_path):
    sel = ["suites/oci_image/test_registry_push.py", "-k", "cancelled or single_post_that_stores"]
    old = run_pytest(sel, tmp_path / "old").outcomes("distribution-2.8.2")
    new = run_pytest([*sel, "--distribution-spec", "dev"], tmp_path / "new").outcomes(
        "distribution-2.8.2"
    )
    cancel = "test_registry_push.py::test_an_upload_session_can_be_cancelled"
    assert old[cancel] == "not-required"
    assert new[cancel] == "passed"
    single = "test_registry_push.py::test_a_single_post_that_stores_answers_201_with_location"
    assert old[single] == new[single] == "unsupported"  # docker-registry answers 202


def test_a_malformed_url_is_one_line_and_hides_its_credentials():
    from infra.drivers.registry import RegistryURLError, parse_url

    for url in ("http://[::1", "http://user:secretpw@[::1"):
        with pytest.raises(RegistryURLError) as err:
            parse_url(url)
        assert "\n" not in str(err.value) and "secretpw" not in str(err.value)


def test_registry_chunk_size_sizes_the_patches_of_chunked_pushes(tmp_path):
    size = 5 * 1024 * 1024
    sel = ["suites/oci_image/test_registry_push.py", "-k", "large_data_set and large-layer"]
    run = run_pytest([*sel, "--registry-chunk-size", str(size)], tmp_path / "r", timeout=600)
    out = run.outcomes("distribution-2.8.2")
    assert run.rc == 0 and set(out.values()) == {"passed"}, run.stdout[-2000:]
    ranges = [
        line.split(":", 1)[1].strip()
        for r in run.results["results"]
        for e in r["evidence"]
        if e["command"].startswith("PATCH ")
        for line in e["stderr"].splitlines()
        if line.lower().startswith("content-range:")
    ]
    # 64 MiB in 5 MiB parts: 12 whole parts and a 4 MiB tail (the data set's own test
    # pushes it, or the seed does: at least one full series)
    assert f"0-{size - 1}" in ranges and f"{12 * size}-{64 * 1024 * 1024 - 1}" in ranges, ranges
    assert all(int(b) - int(a) + 1 <= size for a, b in (r.split("-") for r in ranges)), ranges
