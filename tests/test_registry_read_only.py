"""`--read-only`: a pull-only run against a registry the run may not write. The
embedded docker-registry is put behind a guard proxy that refuses POST, PUT, PATCH and
DELETE (405, each one logged: selftest/registry_proxy.py --refuse-writes); the data
sets are pushed straight into the registry beforehand (`ocitest registry seed`); then
the registry suite runs through the guard with --read-only: it passes (the embedded
registry's known failures aside), the tests that write are skipped naming --read-only,
and the guard saw no write at all."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import yaml

from infra.services import free_port, wait_until
from infra.services.registry import start_registry, stop_registry
from infra.targets import open_target
from tests.conftest import ROOT, run_pytest
from tests.test_usage_errors import assert_one_line_usage_error

SUITE = "suites/oci_image"
MODULES = [f"{SUITE}/test_registry_{m}.py" for m in ("pull", "discovery", "push", "management")]
NS = "ocitest/readonly"
#: seconds the seeding of every data set may take
SEED_TIMEOUT = 600


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


@pytest.fixture
def guarded_registry(tmp_path):
    """(the registry, the guard proxy's URL, the file of refused writes)."""
    target = open_target("local")
    reg = start_registry(
        target, str(tmp_path / "reg"), username="rouser", password="ro-" + secrets.token_hex(12)
    )
    log = tmp_path / "writes.log"
    log.write_text("")
    listen = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "selftest.registry_proxy", "--listen", listen]
    argv += ["--upstream", reg.url, "--refuse-writes", str(log)]
    proxy = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until("the guard proxy", lambda: _status(f"http://{listen}/v2/") in (200, 401), 30)
        yield reg, f"http://{listen}", log
    finally:
        proxy.terminate()
        try:
            proxy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proxy.kill()
            proxy.wait(timeout=10)
        stop_registry(target, reg)


def _known_failures(tmp_path, subject: str):
    """The project's known failures of the embedded registry, for `subject` (the URL's id)."""
    doc = yaml.safe_load((ROOT / "known-failures.yaml").read_text())
    entries = [
        {**e, "subject": subject}
        for e in doc["known_failures"]
        if e.get("subject") == "distribution-2.8.2"
    ]
    path = tmp_path / "known-failures.yaml"
    path.write_text(yaml.safe_dump({"known_failures": entries}))
    return path


def test_a_read_only_run_after_a_seed_passes_and_writes_nothing(guarded_registry, tmp_path):
    reg, guard, log = guarded_registry
    env = {**os.environ, "OCITEST_REGISTRY_USER": reg.username}
    env["OCITEST_REGISTRY_PASSWORD"] = reg.password
    seed_args = ["--registry-namespace", NS]
    seed = subprocess.run(
        [sys.executable, "-m", "suites.oci_image.registry_seed", reg.url, *seed_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SEED_TIMEOUT,
        check=False,
    )
    assert seed.returncode == 0, seed.stdout + seed.stderr
    subject = "127.0.0.1-" + guard.rsplit(":", 1)[1]
    args = [*MODULES, "--registry", guard, "--read-only", "--registry-namespace", NS]
    args += ["--registry-user", reg.username, "--registry-password", reg.password]
    args += ["--known-failures", str(_known_failures(tmp_path, subject)), "-n", "2"]
    run = run_pytest(args, tmp_path / "report", timeout=900)
    outcomes = run.outcomes(subject)
    writes = log.read_text().splitlines()
    assert writes == [], f"{len(writes)} write attempts reached the guard: {writes[:5]}"
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    skipped = [r for r in run.results["results"] if r["outcome"] == "skipped"]
    assert skipped and all("--read-only: " in r["message"] for r in skipped), skipped[:3]
    assert any(k.startswith("test_registry_push.py") for k in outcomes)
    assert "passed" in outcomes.values()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "the following arguments are required: URL"),
        (["ftp://example.invalid"], "expected http://HOST[:PORT]"),
        (["http://user:pw@127.0.0.1:5000"], "no query, fragment or credentials"),
        (["http://127.0.0.1:1"], "GET /v2/ did not answer 200"),
        (["http://127.0.0.1:1", "--registry-namespace", "Upper/Case"], "not a repository name"),
        (["http://127.0.0.1:1", "--registry-user", "someone"], "go together"),
        (["http://127.0.0.1:1", "--no-such-option"], "unrecognized arguments"),
    ],
)
def test_bad_seed_input_is_a_one_line_usage_error(args, needle):
    res = subprocess.run(
        [sys.executable, "-m", "suites.oci_image.registry_seed", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "OCITEST_REGISTRY_USER": "", "OCITEST_REGISTRY_PASSWORD": ""},
    )
    assert_one_line_usage_error(res, needle)
    assert "pw@" not in res.stderr
