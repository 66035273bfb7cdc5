"""Secrets never in a report (issue 19): the suites that use credentials run with known
secrets, then every file of the report, the terminal output and the run's directories
are searched for each secret in clear and in base64. None may be found.

The inner run: the CRI pull with credentials (the only test using the password-protected
embedded registry so far), on both handlers at -n 2 (so the secrets must reach the xdist
workers), with `--redact` for a value only the user knows, `--showlocals`, and a test-only
plugin (`-p`) that makes that test fail with both secrets in its failure message, its
captured output and an evidence record: the failure text path (longrepr) is proven too.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.redact import SECRETS_ENV
from infra.services.containerd import built_version
from tests.conftest import INNER_TIMEOUT, PYTEST, ROOT

TEST = "suites/cri/test_images.py::test_pull_image_needs_and_uses_credentials"
USER_SECRET = "ocitest-user-secret-73518"

#: the test-only plugin: after the real test, fail it with the secrets in the failure
LEAKER = """
import base64, json, os
import pytest
from infra.evidence import Evidence

USER_SECRET = "@USER_SECRET@"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    if getattr(item, "originalname", "") != "test_pull_image_needs_and_uses_credentials":
        return result
    images, log = item.funcargs["images"], item.funcargs["evidence"]
    pw, user = images.password, images.username
    with open(os.environ["LEAKER_SAW"] + "." + item.callspec.id, "w") as fh:
        json.dump({"password": pw, "user": user}, fh)
    basic = base64.b64encode(f"{user}:{pw}".encode()).decode()
    alone = base64.b64encode(pw.encode()).decode()
    ev = log.add(Evidence(
        command=f"curl -u {user}:{pw} -H 'X-Key: {USER_SECRET}' http://{user}:{pw}@127.0.0.1/v2/",
        exit_status=22,
        stdout=f"{{\\"token\\": \\"{pw}\\"}}",
        stderr=f"> Authorization: Basic {basic}\\nthe password alone: {alone}",
    ))
    ev.stdout += f" (filled in after add: {pw})"
    print(f"captured: {pw} {basic} {USER_SECRET}")
    secret_in_a_local = pw  # shown by --showlocals
    raise AssertionError(
        f"forced failure: password {secret_in_a_local}, basic {basic}, alone {alone}, "
        f"user secret {USER_SECRET}\\n" + ev.brief()
    )
""".replace("@USER_SECRET@", USER_SECRET)


def _forms(secret: str, user: str = "") -> dict[str, str]:
    """The forms a secret is searched in (independent of infra/redact.py's own list)."""
    out = {
        "clear": secret,
        "base64": base64.b64encode(secret.encode()).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }
    if user:
        out["base64 user:secret"] = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return out


def _hits(texts: dict[str, str], secrets: dict[str, dict[str, str]]) -> list[str]:
    return [
        f"{where}: {name} ({form})"
        for where, text in texts.items()
        for name, forms in secrets.items()
        for form, value in forms.items()
        if value in text
    ]


@dataclass
class LeakyRun:
    """The inner run's process, report directory, the secrets the run wrote at its end
    (SECRETS_ENV) and those the test-only plugin saw in each test (one per handler)."""

    res: subprocess.CompletedProcess
    report: Path
    known: dict
    saw: list[dict]


@pytest.fixture(scope="module")
def leaky_run(tmp_path_factory):
    """The inner run (see the module's docstring); the secrets it knew."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the CRI suite starts a private containerd")
    tmp = tmp_path_factory.mktemp("secrets")
    (tmp / "plugins").mkdir()
    (tmp / "plugins" / "ocitest_leaker.py").write_text(LEAKER)
    report = tmp / "report"
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp / 'plugins'}{os.pathsep}{ROOT}",
        SECRETS_ENV: str(tmp / "secrets.json"),
        "LEAKER_SAW": str(tmp / "saw"),
    }
    cmd = [*PYTEST, TEST, "-n", "2", "-p", "ocitest_leaker", "--showlocals", "-rA"]
    cmd += ["--redact", r"ocitest-user-secret-\d+", "--report-dir", str(report)]
    res = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=INNER_TIMEOUT,
        check=False,
        env=env,
    )
    known = json.loads((tmp / "secrets.json").read_text())
    saw = [json.loads(p.read_text()) for p in sorted(tmp.glob("saw.*"))]
    return LeakyRun(res, report, known, saw)


def test_the_run_knows_the_registry_password_and_the_workers_used_it(leaky_run):
    run = leaky_run
    per_subject = 3 if built_version() else 2  # handlers of 1.6, and runc of 2.4.2
    assert len(run.saw) == per_subject, run.res.stdout[-3000:] + run.res.stderr[-2000:]
    passwords = {s["password"] for s in run.saw}
    assert len(passwords) == 1 and passwords <= set(run.known["secrets"]), (
        "the password the tests used is not among the run's secrets"
    )
    assert run.known["secrets"][next(iter(passwords))] == ["ocitest"]


def test_no_secret_in_the_report_the_terminal_or_the_run_directories(leaky_run):
    run = leaky_run
    res, report, saw = run.res, run.report, run.saw
    assert res.returncode == 1, f"wanted the gate to fail on the forced failure:\n{res.stdout}"
    secrets = {"registry password": _forms(saw[0]["password"], saw[0]["user"])}
    secrets["--redact value"] = _forms(USER_SECRET)
    files = {str(p): p.read_text(errors="replace") for p in report.rglob("*") if p.is_file()}
    assert {"results.json", "junit.xml", "report.html", "summary.md"} <= {
        Path(f).name for f in files
    }
    texts = {**files, "terminal stdout": res.stdout, "terminal stderr": res.stderr}
    hits = _hits(texts, secrets)
    assert not hits, "secrets found:\n" + "\n".join(hits)
    # the forced failure did reach each output, redacted
    assert "forced failure: password [REDACTED]" in res.stdout
    assert "secret_in_a_local = '[REDACTED]'" in res.stdout
    assert "captured: [REDACTED]" in res.stdout
    # logs: the registries' and containerd's live under the run's directories, which
    # the run removes at its end (nothing kept to leak from)
    run_id = json.loads(files[str(report / "results.json")])["run"]["id"]
    left = [
        p
        for p in (f"/var/lib/ocitest/runs/{run_id}", f"/run/ocitest/{run_id}")
        if os.path.exists(p)
    ]
    assert not left, f"the run's directories (with the services' logs) were kept: {left}"


def test_the_report_says_how_many_values_were_redacted_and_where(leaky_run):
    run = leaky_run
    report = run.report
    doc = json.loads((report / "results.json").read_text())
    recs = {r["subject"]: r for r in doc["results"]}
    want = {"containerd-runc", "containerd-crun"}
    if built_version():  # the containerd built at setup runs beside Debian's
        want.add(f"containerd-{built_version()}-runc")
    assert set(recs) == want, sorted(recs)
    for sid, r in recs.items():
        assert r["outcome"] == "failed", (sid, r["outcome"], r["message"][:500])
        assert r["message"].startswith("forced failure: password [REDACTED]"), r["message"]
        pulls = [e for e in r["evidence"] if e["command"].startswith("ImageService/PullImage")]
        with_auth = [e for e in pulls if "auth {" in e["command"]]
        assert with_auth and all(e.get("redactions") for e in with_auth), pulls
        in_evidence = sum(e.get("redactions", 0) for e in r["evidence"])
        assert r["redactions"] >= in_evidence + 4, (r["redactions"], in_evidence)
    assert "[REDACTED]" in doc["run"]["command"] and USER_SECRET not in doc["run"]["command"]
    html = (report / "report.html").read_text()
    assert "secret value(s) redacted in this result" in html and 'id="redactions"' in html
    assert "Redacted: " in (report / "summary.md").read_text()
    assert '<property name="redactions"' in (report / "junit.xml").read_text()


def test_the_scan_finds_nothing_in_the_report(leaky_run, tmp_path):
    run = leaky_run
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps(run.known))
    scan = subprocess.run(
        [
            sys.executable,
            "-m",
            "infra.redact",
            "scan",
            str(run.report),
            "--secrets-file",
            str(secrets),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert scan.returncode == 0 and "clean" in scan.stdout, scan.stdout + scan.stderr
