"""Bearer-token auth (infra/drivers/registry_auth.py, infra/services/token_service.py):
the driver follows a registry's Bearer challenge to its realm and back; a wrong password
is one clear line naming the realm's 401; a token of another scope is refused by the
registry; the embedded registry runs with `--registry-auth token` and no token, signing
key or password reaches the report."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from infra import redact
from infra.drivers.registry import RegistryClient
from infra.evidence import EvidenceLog
from infra.redact import SECRETS_ENV
from infra.services import stop_pid
from infra.services.registry import start_registry, stop_registry
from infra.services.token_service import ISSUER, start_token_service
from infra.targets import open_target
from tests.conftest import PYTEST, ROOT, run_pytest
from tests.test_usage_errors import assert_one_line_usage_error

PULL = "suites/oci_image/test_registry_pull.py"


@pytest.fixture
def token_registry(tmp_path):
    """(docker-registry with token auth, its token service, the user's password): a
    registry the harness did not start, as a --registry URL is."""
    target = open_target("local")
    password = "tok-" + secrets.token_hex(12)
    svc = start_token_service(target, str(tmp_path / "token"), "tokuser", password)
    try:
        reg = start_registry(
            target, str(tmp_path / "reg"), username="tokuser", password=password, token=svc
        )
    except Exception:
        stop_pid(target, svc.pid, grace=5)
        raise
    try:
        yield reg, svc, password
    finally:
        stop_registry(target, reg)
        stop_pid(target, svc.pid, grace=5)


def test_the_driver_gets_a_token_from_the_realm_and_reuses_it(token_registry):
    reg, svc, password = token_registry
    log = EvidenceLog()
    client = RegistryClient(reg.url, log, "tokuser", password)
    first = client.get("/v2/ns/a/tags/list")
    commands = [r.command for r in log.records]
    assert first.status == 404 and first.json()["errors"][0]["code"] == "NAME_UNKNOWN", (
        first.brief()
    )
    # basic to the registry (401 Bearer), the realm, the retry with the token
    assert commands[0] == commands[2] == "GET /v2/ns/a/tags/list", commands
    assert commands[1].startswith(f"GET {svc.realm}?service=") and len(commands) == 3
    assert "Bearer [REDACTED]" in log.records[2].stderr
    second = client.head("/v2/ns/a/manifests/latest")  # the same scope: pull
    assert second.status == 404 and len(log.records) == 4, [r.command for r in log.records]


def test_a_token_of_another_repository_is_refused_with_insufficient_scope(token_registry):
    reg, _, password = token_registry
    client = RegistryClient(reg.url, EvidenceLog(), "tokuser", password)
    assert client.get("/v2/").status == 200  # learns the realm
    other = client.token("repository:ns/other:pull")
    res = client.get("/v2/ns/mine/tags/list", headers={"Authorization": f"Bearer {other}"})
    challenge = res.header("www-authenticate")
    assert res.status in (401, 403), res.brief()
    assert 'error="insufficient_scope"' in challenge and "repository:ns/mine:pull" in challenge, (
        f"wanted the scope the registry needs named in its challenge, seen: {challenge!r}"
    )
    assert res.json()["errors"][0]["code"] in ("UNAUTHORIZED", "DENIED"), res.brief()


def test_a_wrong_password_is_one_line_naming_the_realms_401(token_registry, tmp_path):
    reg, svc, _ = token_registry
    argv = [*PYTEST, PULL, "--registry", reg.url, "--registry-user", "tokuser"]
    argv += ["--registry-password", "wrong-password-1", "--report-dir", str(tmp_path / "r")]
    res = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert_one_line_usage_error(res, f"token service {svc.realm} answered 401")
    assert "the credentials were refused" in res.stderr + res.stdout
    assert "wrong-password-1" not in res.stderr + res.stdout
    client = RegistryClient(reg.url, EvidenceLog(), "tokuser", "wrong-password-2")
    refused = client.get("/v2/ns/a/tags/list")
    assert refused.status == 401 and f"{svc.realm} answered 401" in refused.auth_error


def test_token_auth_on_the_embedded_registry_keeps_tokens_and_key_out_of_the_report(tmp_path):
    secrets_file = tmp_path / "secrets.json"
    report = tmp_path / "report"
    sel = "v2_answers or missing_blob or each_upload_session or unknown_upload_session or 128"
    args = [PULL, "suites/oci_image/test_registry_push.py", "-k", sel, "-n", "2"]
    args += ["--registry", "embedded", "--registry-auth", "token"]
    args += ["--known-failures", "known-failures.yaml"]
    run = run_pytest(args, report, timeout=900, env={**os.environ, SECRETS_ENV: str(secrets_file)})
    assert run.rc == 0, run.stdout[-3000:] + run.stderr[-2000:]
    outcomes = run.outcomes("distribution-2.8.2")
    assert list(outcomes.values()).count("passed") >= 4, outcomes
    known = json.loads(secrets_file.read_text())
    tokens = known["tokens"]
    assert len(tokens) >= 2, "the workers' tokens did not reach the run's secrets"
    for t in tokens:  # real tokens of the run's token service
        assert jwt.decode(t, options={"verify_signature": False})["iss"] == ISSUER
    keys = [s for s in known["secrets"] if "PRIVATE KEY-----" in s]
    assert keys, "the signing key is not among the run's secrets"
    argv = [sys.executable, "-m", "infra.redact", "scan", str(report)]
    scan = subprocess.run(
        [*argv, "--secrets-file", str(secrets_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert scan.returncode == 0, scan.stdout + scan.stderr
    scalar = load_pem_private_key(keys[0].encode(), None).private_numbers().private_value
    raw = scalar.to_bytes(32, "big")
    key_forms = [raw.hex(), *redact._b64_cores(raw)]  # the private value, in base64 anywhere
    for f in Path(report).rglob("*"):
        if f.is_file():
            text = f.read_text(errors="replace")
            assert not any(t in text for t in tokens), f"a token in {f}"
            assert not any(k in text for k in key_forms), f"the signing key in {f}"
    evidence = json.dumps(run.results["results"])
    assert "Bearer [REDACTED]" in evidence, "no request went with a token"


def _big_manifest() -> bytes:
    padding = "x" * (4_000_000 - 300)
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    return json.dumps({**doc, "annotations": {"pad": padding}}).encode()


def test_a_large_body_as_the_first_request_gets_an_answer(token_registry):
    """docker-registry refuses a request without a token before reading its body and
    may close the connection while it is still being sent (a broken pipe, no answer to
    retry on; seen once in a run on a 4 MB manifest push): the client learns the
    challenge first (PROBE_FIRST), so the body goes with a token."""
    reg, _, password = token_registry
    log = EvidenceLog()
    client = RegistryClient(reg.url, log, "tokuser", password)
    headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
    res = client.request("PUT", "/v2/ns/big/manifests/v1", _big_manifest(), headers)
    assert res.status in (201, 400), res.brief()  # an answer (400: config blob unknown)
    puts = [r for r in log.records if r.command.startswith("PUT ")]
    assert len(puts) == 1 and "Bearer [REDACTED]" in puts[0].stderr, [
        r.command for r in log.records
    ]
