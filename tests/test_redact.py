"""Unit tests of the redactor (infra/redact.py): each form a secret takes in evidence."""

from __future__ import annotations

import base64
import json

import pytest

from infra import redact
from infra.evidence import Evidence, EvidenceLog
from infra.redact import MARKER, Redactor

PW = "9f3c2a71d04be6a5"  # shaped like the embedded registry's password (token_hex(8))


def scrubbed(r: Redactor, text: str) -> tuple[str, int]:
    out, n = r.scrub(text)
    again, m = r.scrub(out)
    assert (again, m) == (out, 0), "a second scrub changed something"
    return out, n


@pytest.fixture
def r() -> Redactor:
    red = Redactor()
    red.add_secret(PW, "ocitest")
    return red


@pytest.mark.parametrize(
    "text",
    [
        f'RuntimeService/PullImage image {{ image: "x" }} auth {{ username: "u" password: "{PW}" }}',
        f"login --password {PW} host",
        f"skopeo copy --dest-creds=ocitest:{PW} a b",
        f"https://ocitest:{PW}@127.0.0.1:5000/v2/",
        f"Authorization: Basic {base64.b64encode(f'ocitest:{PW}'.encode()).decode()}",
        f'auth: "{base64.b64encode(f"ocitest:{PW}".encode()).decode()}"',
        f"only the password in base64: {base64.b64encode(PW.encode()).decode()}",
        f"inside a longer base64 text: {base64.b64encode(b'xx:' + PW.encode() + b'!!').decode()}",
        json.dumps({"stdout": f"the password is {PW}"}),
    ],
)
def test_a_known_secret_is_redacted_in_every_form(r, text):
    out, n = scrubbed(r, text)
    assert n >= 1 and MARKER in out, out
    for form in redact.forms(PW, ["ocitest"]):
        assert form not in out, f"{form!r} left in {out!r}"


@pytest.mark.parametrize(
    "text, kept",
    [
        # CRI AuthConfig fields whatever their value (not known to the run)
        (
            'auth { username: "bob" password: "hunter22" auth: "Ym9iOmh1bnRlcjIy" '
            'identity_token: "idtok123" registry_token: "regtok123" }',
            'username: "bob"',
        ),
        ('{"username": "bob", "password": "hunter22", "auth": "Ym9iOmh1bnRlcjIy"}', '"bob"'),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer "),
        ("{'Authorization': 'Basic Ym9iOmh1bnRlcjIy'}", "'Authorization': 'Basic "),
        ("WWW-Authenticate: Bearer c2VjcmV0dG9rZW4=", "WWW-Authenticate: Bearer "),
        ('WWW-Authenticate: Bearer realm="r",token="tok-12345"', 'realm="r"'),
        ('{"token": "tok-abcdef", "access_token": "acc-abcdef", "expires_in": 300}', "300"),
        ("curl -H 'x: y' https://bob:hunter22@registry.example/v2/", "https://bob:"),
        ("echo Bearer abcdefgh12345678 > /dev/null", "echo Bearer "),
    ],
)
def test_structural_secrets_are_redacted_whatever_their_value(text, kept):
    out, n = scrubbed(Redactor(), text)
    assert n >= 1, out
    assert kept in out, out
    for secret in ("hunter22", "Ym9iOmh1bnRlcjIy", "idtok123", "regtok123", "eyJhbGciOi"):
        assert secret not in out, out
    for secret in ("tok-12345", "tok-abcdef", "acc-abcdef", "c2VjcmV0dG9rZW4", "abcdefgh1234"):
        assert secret not in out, out


@pytest.mark.parametrize(
    "text",
    [
        "ssh://root@host:22",
        "http://127.0.0.1:5000/v2/",
        'WWW-Authenticate: Basic realm="ocitest"',
        'error="invalid_token"',
        "podman login --password-stdin",
        'image { image: "auth.ocitest.test/scratch:auth-x" }',
        "the ListImages filter is ignored",
    ],
)
def test_ordinary_text_is_kept(text):
    assert Redactor().scrub(text) == (text, 0)


def test_user_patterns_redact_the_whole_match_and_bad_ones_are_refused():
    r = Redactor()
    r.add_pattern(r"sk-[a-z0-9]{8}")
    assert scrubbed(r, "key sk-abcd1234 and sk-zzzz9999.") == (f"key {MARKER} and {MARKER}.", 2)
    with pytest.raises(ValueError, match="not a regular expression"):
        r.add_pattern("sk-(")
    with pytest.raises(ValueError, match="empty string"):
        r.add_pattern("x*")


def test_short_values_are_not_taken_as_secrets():
    r = Redactor()
    r.add_secret("abc")
    assert r.scrub("abc abc") == ("abc abc", 0)


def test_secrets_travel_as_a_dict_and_from_the_environment():
    r = Redactor()
    r.add_secret(PW, "ocitest")
    r.add_pattern("zz[0-9]+")
    r2 = Redactor()
    r2.load(json.loads(json.dumps(r.to_dict())))
    text = f"{base64.b64encode(f'ocitest:{PW}'.encode()).decode()} zz42"
    assert r2.scrub(text) == r.scrub(text)
    env = {"REGISTRY_PASSWORD": "p4ssw0rd!", "GITHUB_TOKEN": "ghp_x1y2z3", "HOME": "/root1234"}
    assert redact.from_environment(env) == ["ghp_x1y2z3", "p4ssw0rd!"]


def test_the_evidence_log_redacts_what_it_records_and_counts_it(monkeypatch):
    monkeypatch.setattr(redact, "_ACTIVE", Redactor())
    redact.add_secret(PW, "ocitest")
    log = EvidenceLog()
    ev = log.add(Evidence(command=f"x --password {PW}", exit_status=0, stdout=f"{PW}\n"))
    assert PW not in ev.command + ev.stdout and ev.redactions == 2
    ev.stderr = f"filled in after add: {PW}"  # as RuntimeDriver.create does
    d = log.as_dicts()[0]
    assert PW not in json.dumps(d) and d["redactions"] == 3
    clean = EvidenceLog()
    clean.add(Evidence(command="true", exit_status=0))
    assert "redactions" not in clean.as_dicts()[0]


def test_scrub_command_hides_redact_values():
    cmd = redact.scrub_command(["pytest", "--redact", "hunter2", "--redact=x(y)?z", "-n", "2"])
    assert cmd == f"pytest --redact {MARKER} --redact={MARKER} -n 2"


def test_the_scan_says_where_not_what(tmp_path, capsys):
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "a.json").write_text(json.dumps({"x": f"{PW} and {MARKER}"}))
    (tmp_path / "rep" / "b.html").write_text(base64.b64encode(f"ocitest:{PW}".encode()).decode())
    (tmp_path / "rep" / "c.txt").write_text("clean")
    secrets = tmp_path / "secrets.json"
    r = Redactor()
    r.add_secret(PW, "ocitest")
    secrets.write_text(json.dumps(r.to_dict()))
    rc = redact.main(["scan", str(tmp_path / "rep"), "--secrets-file", str(secrets)])
    out = capsys.readouterr()
    assert rc == 1
    assert "a.json" in out.err and "b.html" in out.err and "c.txt" not in out.err
    assert PW not in out.out + out.err
    (tmp_path / "rep" / "a.json").unlink()
    (tmp_path / "rep" / "b.html").unlink()
    assert redact.main(["scan", str(tmp_path / "rep"), "--secrets-file", str(secrets)]) == 0
    assert redact.main(["scan", str(tmp_path / "rep"), "--redact", "("]) == 4


def test_ocitest_test_scan_fails_on_a_secret_and_passes_without_a_list(tmp_path, capsys):
    from infra.cli import scan_report

    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "results.json").write_text(json.dumps({"command": f"login -p {PW}"}))
    r = Redactor()
    r.add_secret(PW, "ocitest")
    (tmp_path / "secrets.json").write_text(json.dumps(r.to_dict()))
    assert scan_report(str(rep), str(tmp_path / "secrets.json")) is False
    assert scan_report(str(rep), str(tmp_path / "missing.json")) is True
    out = capsys.readouterr()
    assert "results.json: secret #1" in out.err and PW not in out.out + out.err


#: shaped like a JWT of the embedded registry's token service (header.payload.signature)
TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJvY2l0ZXN0In0.c2lnbmF0dXJlLW9mLWEtdG9rZW4tMTIzNDU"


@pytest.mark.parametrize(
    "text",
    [
        f"a token in a sentence {TOKEN}, then more",
        f"X-Token: {TOKEN}",  # no structural rule matches this header
        f"['{TOKEN}']",
    ],
)
def test_a_known_token_is_redacted_wherever_it_stands_alone(text):
    r = Redactor()
    r.add_token(TOKEN)
    out, n = scrubbed(r, text)
    assert n == 1 and TOKEN not in out and MARKER in out, out


def test_a_token_inside_a_longer_word_is_not_taken_for_another(tmp_path):
    r = Redactor()
    r.add_token(TOKEN)
    other = TOKEN + "x"  # another word: not this token
    assert r.scrub(f"see {other}") == (f"see {other}", 0)


def test_tokens_travel_with_the_secrets_and_the_scan_finds_them(tmp_path, capsys):
    r = Redactor()
    for i in range(2000):  # a run's worth of tokens stays cheap
        r.add_token(f"{TOKEN}{i:04d}")
    copy = Redactor()
    copy.load(json.loads(json.dumps(r.to_dict())))
    assert copy.tokens == r.tokens
    assert copy.scrub(f"Bearer? no: {TOKEN}0042.")[1] == 1
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "junit.xml").write_text(f"<x>{TOKEN}1999</x>")
    (tmp_path / "secrets.json").write_text(json.dumps(r.to_dict()))
    rc = redact.main(
        ["scan", str(tmp_path / "rep"), "--secrets-file", str(tmp_path / "secrets.json")]
    )
    out = capsys.readouterr()
    assert rc == 1 and "junit.xml" in out.err and "(token)" in out.err
    assert TOKEN not in out.out + out.err
