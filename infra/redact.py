"""Redaction of secrets in evidence, failure messages and reports; and the scan proving it.

One `Redactor` per process (`active()`), fed with what the run knows to be secret:
- values: the embedded registry's password (`infra/services/registry.py` adds it when
  it starts one), environment variables named like a secret (`*_PASSWORD`, `*_TOKEN`,
  ...; see `from_environment`), and whatever a future option or token service adds with
  `add_secret`; each value is redacted in clear and in its encoded forms (`forms`):
  JSON-, HTML- and URL-escaped, base64 (standard and URL-safe) of the value alone and of
  `user:value` (an AuthConfig `auth` field, an HTTP Basic header), and the part of a
  longer base64 text that only the value's bytes determine; bearer tokens the registry
  driver gets (`add_token`: in clear, looked up by membership, so thousands cost little);
- patterns: the user's `--redact REGEX` (the whole match is redacted);
- structure, whatever the value: CRI `AuthConfig` string fields (`password`, `auth`,
  `identity_token`, `registry_token`) in protobuf text or JSON, JSON `"token"`,
  `"access_token"`, ... values, `Authorization:` credentials and `WWW-Authenticate`
  token values, `Bearer TOKEN`, `--password X` / `--creds u:p` style flags, and the
  password of a URL's user information (`scheme://user:PASSWORD@host`).
A redacted value becomes MARKER. Text between markers is scrubbed piece by piece, so
scrubbing twice finds nothing new: counts never double.

`infra.evidence.EvidenceLog` scrubs every record it adds; `infra.redact_plugin` scrubs
the test reports (failure text, captured output) and hands the secrets to xdist workers.
Standard library only: `./ocitest test` runs `scan` before the virtualenv matters.

    python -m infra.redact scan DIR_OR_FILE... --secrets-file FILE   exit 1 on a finding
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

#: what a redacted value is replaced with
MARKER = "[REDACTED]"
#: environment variable naming a file where a run's controller writes the run's secrets
#: at its end (mode 0600), for the scan; the caller keeps it outside the report directory
SECRETS_ENV = "OCITEST_SECRETS_FILE"
#: values shorter than this are never taken as secrets (they would redact everyday text)
MIN_SECRET = 6
#: environment variable names whose values are secrets
SECRET_ENV = re.compile(
    r"(?i)(?:^|_)(?:PASSWORD|PASSWD|PASS|TOKEN|SECRET|API_?KEY|CREDENTIALS?|AUTH)$"
)
#: key names whose quoted string value is a secret (AuthConfig fields, token bodies)
SECRET_KEYS = (
    "password|passwd|auth|identity_token|identitytoken|registry_token|registrytoken"
    "|token|access_token|refresh_token|id_token|client_secret|secret"
)
#: a word a bearer token may be (JWT, base64, opaque): looked up among the tokens
TOKEN_WORD = re.compile(r"[\w.~+/-]{" + str(MIN_SECRET) + r",}=*")
_Q = r"\"(?P<v>(?:[^\"\\]|\\.)*)\""  # a double-quoted string, its content as group v


def _any(*words: str):
    return lambda low: any(w in low for w in words)


#: (a cheap test of the lowercased text, regex): the regex runs only where the test
#: holds; group `v` of each match is the value redacted
RULES: tuple[tuple[Callable[[str], bool], re.Pattern], ...] = (
    # protobuf text (`password: "x"`) and JSON (`"password": "x"`)
    (
        _any("pass", "auth", "token", "secret"),
        re.compile(rf"(?i)(?<![\w-])\"?(?:{SECRET_KEYS})\"?\s*:\s*{_Q}"),
    ),
    # a Python repr of a mapping ('password': 'x')
    (
        _any("pass", "auth", "token", "secret"),
        re.compile(rf"(?i)'(?:{SECRET_KEYS})'\s*:\s*'(?P<v>[^']*)'"),
    ),
    # Authorization: Basic xxx / Bearer xxx (headers, reprs, curl -H)
    (
        _any("authorization"),
        re.compile(
            r"(?i)\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?"
            r"(?:(?:basic|bearer|token|negotiate)\s+)?"
            r"(?!(?:basic|bearer|token|negotiate)\b)(?P<v>[^\s\"',}\]]+)"
        ),
    ),
    # WWW-Authenticate: Bearer TOKEN68, or token-like parameters of a challenge
    (
        _any("www-authenticate"),
        re.compile(r"(?i)\bwww-authenticate\b\s*:\s*\w+\s+(?P<v>[\w.~+/-]+=*)(?=\s|$)"),
    ),
    (_any("token"), re.compile(r"(?i)\b\w*token\w*=\"(?P<v>[^\"]*)\"")),
    # Bearer TOKEN anywhere
    (_any("bearer"), re.compile(r"(?i)\bbearer\s+(?P<v>[\w.~+/-]{8,}=*)")),
    # --password X, --password=X, --creds user:pass, --dest-creds=user:pass
    (
        _any("--"),
        re.compile(
            r"(?i)(?<![\w-])--(?:[\w-]*-)?(?:password|passwd|creds|token|secret)(?:=|\s+)"
            r"(?P<v>[^\s\"']+)"
        ),
    ),
    # scheme://user:PASSWORD@host
    (
        lambda low: "://" in low and "@" in low,
        re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:(?P<v>[^/\s@\"']+)@"),
    ),
)


def _b64_cores(raw: bytes) -> list[str]:
    """The base64 characters that only `raw` determines, at each of the three byte
    offsets it may start at inside a longer base64 text."""
    out = []
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + raw).decode()
        start, end = -(-8 * k // 6), 8 * (k + len(raw)) // 6
        for s in (enc[start:end], enc[start:end].replace("+", "-").replace("/", "_")):
            if len(s) >= MIN_SECRET:
                out.append(s)
    return out


def forms(value: str, users: Iterable[str] = ()) -> list[str]:
    """Every form of secret `value` that redaction and the scan look for, longest first.

    `users`: user names it is the password of (for base64 of `user:value`)."""
    raw = value.encode()
    out = {
        value,
        json.dumps(value)[1:-1],
        html.escape(value),
        urllib.parse.quote(value, safe=""),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode(),
        *_b64_cores(raw),
    }
    for user in users:
        pair = f"{user}:{value}".encode()
        out |= {base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()}
    return sorted((f for f in out if len(f) >= MIN_SECRET), key=lambda f: (-len(f), f))


def from_environment(environ: Mapping[str, str]) -> list[str]:
    """Values of variables whose name says they hold a secret (REGISTRY_PASSWORD,
    GITHUB_TOKEN, ...), at least MIN_SECRET characters long."""
    return sorted(
        {v for k, v in environ.items() if SECRET_ENV.search(k) and len(v.strip()) >= MIN_SECRET}
    )


def _replace_all(text: str, regex: re.Pattern, group: str | None) -> tuple[str, int]:
    """`regex`'s matches in `text` replaced by MARKER (only group `group` of each, when
    given; empty or already redacted values kept). Returns the text and the count."""
    count = 0

    def repl(m: re.Match) -> str:
        nonlocal count
        if group is None:
            if not m.group(0):
                return ""
            count += 1
            return MARKER
        v = m.group(group)
        if not v or v == MARKER:
            return m.group(0)
        count += 1
        s, e = m.span(group)
        base = m.start(0)
        return m.group(0)[: s - base] + MARKER + m.group(0)[e - base :]

    pieces = text.split(MARKER)
    pieces = [regex.sub(repl, p) for p in pieces]
    return MARKER.join(pieces), count


@dataclass
class Redactor:
    """What one process redacts (see the module's docstring). Thread-safe to use."""

    secrets: dict[str, list[str]] = field(default_factory=dict)  # value -> user names
    tokens: set[str] = field(default_factory=set)  # bearer tokens (add_token)
    patterns: list[str] = field(default_factory=list)  # the user's regexes, as given
    _literal: re.Pattern | None = field(default=None, repr=False)
    _compiled: list[re.Pattern] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_secret(self, value: str, user: str = "") -> None:
        """Redact `value` (and its forms) from now on; `user`: whose password it is.
        Values shorter than MIN_SECRET are ignored."""
        if not value or len(value) < MIN_SECRET:
            return
        with self._lock:
            users = self.secrets.setdefault(value, [])
            if user and user not in users:
                users.append(user)
            every = {f for v, us in self.secrets.items() for f in forms(v, us)}
            alternation = "|".join(re.escape(f) for f in sorted(every, key=lambda f: (-len(f), f)))
            self._literal = re.compile(alternation)

    def add_token(self, value: str) -> None:
        """Redact bearer token `value` (in clear) from now on. Cheap for many: tokens are
        looked up by membership among the token-shaped words of a text (TOKEN_WORD),
        not compiled into the literal pattern. Values shorter than MIN_SECRET are ignored."""
        if value and len(value) >= MIN_SECRET:
            with self._lock:
                self.tokens.add(value)

    def add_pattern(self, regex: str) -> None:
        """Redact every match of `regex` from now on.

        Raises ValueError (one line) when it is not a regular expression or matches the
        empty string."""
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if compiled.search("") is not None:
            raise ValueError("matches the empty string")
        with self._lock:
            self.patterns.append(regex)
            self._compiled.append(compiled)

    def scrub(self, text: str) -> tuple[str, int]:
        """`text` with every secret replaced by MARKER, and how many were replaced."""
        if not text:
            return text, 0
        total = 0
        if self._literal is not None:
            text, n = _replace_all(text, self._literal, None)
            total += n
        for rx in list(self._compiled):
            text, n = _replace_all(text, rx, None)
            total += n
        if self.tokens:
            text, n = self._scrub_tokens(text)
            total += n
        low = text.lower()
        for applies, rx in RULES:
            if applies(low):
                text, n = _replace_all(text, rx, "v")
                total += n
        return text, total

    def _scrub_tokens(self, text: str) -> tuple[str, int]:
        count = 0
        tokens = self.tokens

        def repl(m: re.Match) -> str:
            nonlocal count
            word = m.group(0)
            core = word.rstrip(".")  # a sentence's full stop is no part of a token
            if core in tokens:
                count += 1
                return MARKER + word[len(core) :]
            return word

        return TOKEN_WORD.sub(repl, text), count

    def to_dict(self) -> dict:
        """The secrets, tokens and patterns, for an xdist worker, the controller (from a
        worker) or the scan (never a report)."""
        return {
            "secrets": self.secrets,
            "tokens": sorted(self.tokens),
            "patterns": list(self.patterns),
        }

    def load(self, data: dict) -> None:
        """Add the secrets and patterns of `to_dict()` output."""
        for value, users in data.get("secrets", {}).items():
            self.add_secret(value)
            for user in users:
                self.add_secret(value, user)
        with self._lock:
            self.tokens.update(t for t in data.get("tokens", []) if len(t) >= MIN_SECRET)
        for p in data.get("patterns", []):
            if p not in self.patterns:
                self.add_pattern(p)


_ACTIVE = Redactor()


def active() -> Redactor:
    """This process's redactor."""
    return _ACTIVE


def add_secret(value: str, user: str = "") -> None:
    """Redact `value` in this process from now on (see Redactor.add_secret)."""
    _ACTIVE.add_secret(value, user)


def add_token(value: str) -> None:
    """Redact bearer token `value` in this process from now on (see Redactor.add_token)."""
    _ACTIVE.add_token(value)


def scrub(text: str) -> tuple[str, int]:
    """`text` scrubbed by this process's redactor, and the number of values redacted."""
    return _ACTIVE.scrub(text)


def scrub_command(argv: list[str]) -> str:
    """A command line for a report: `--redact` values hidden, the rest scrubbed."""
    out, hide = [], False
    for a in argv:
        if hide:
            out.append(MARKER)
            hide = False
        elif a == "--redact":
            out.append(a)
            hide = True
        elif a.startswith("--redact="):
            out.append("--redact=" + MARKER)
        else:
            out.append(a)
    return scrub(" ".join(out))[0]


# --- the scan: no secret in any file --------------------------------------------------
@dataclass
class Finding:
    """A secret found where it must not be: the file, which secret (its index in the
    secrets given, never its value) and which form, and how often."""

    path: str
    secret: int
    form: str
    count: int

    def line(self) -> str:
        return f"{self.path}: secret #{self.secret + 1} found {self.count} time(s) ({self.form})"


def _form_names(value: str, users: list[str]) -> list[tuple[str, str]]:
    named = [("clear", value)]
    named += [(f"encoded form {i + 1}", f) for i, f in enumerate(forms(value, users)) if f != value]
    return named


def scan_text(name: str, text: str, redactor: Redactor) -> list[Finding]:
    """Findings of `redactor`'s secrets (every form) and patterns in `text`."""
    out = []
    for i, (value, users) in enumerate(redactor.secrets.items()):
        for form_name, f in _form_names(value, users):
            n = text.count(f)
            if n:
                out.append(Finding(name, i, form_name, n))
    for k, token in enumerate(sorted(redactor.tokens)):
        n = text.count(token)
        if n:
            out.append(
                Finding(name, len(redactor.secrets) + len(redactor.patterns) + k, "token", n)
            )
    for j, rx in enumerate(redactor._compiled):
        n = sum(1 for piece in text.split(MARKER) for m in rx.finditer(piece) if m.group(0))
        if n:
            out.append(Finding(name, len(redactor.secrets) + j, "--redact pattern", n))
    return out


def scan_paths(paths: Iterable[str], redactor: Redactor) -> tuple[list[Finding], int]:
    """Scan every file under `paths` (files or directories). Returns the findings and
    the number of files read."""
    findings, files = [], 0
    for p in paths:
        walk = [(p, [], [""])] if os.path.isfile(p) else os.walk(p)
        for d, _, names in walk:
            for n in names:
                f = os.path.join(d, n) if n else d
                try:
                    with open(f, "rb") as fh:
                        text = fh.read().decode("utf-8", "replace")
                except OSError:
                    continue
                files += 1
                findings += scan_text(f, text, redactor)
    return findings, files


def load_secrets_file(path: str) -> Redactor:
    """A redactor holding the secrets a run wrote (see SECRETS_ENV).
    Raises OSError or ValueError when the file cannot be read."""
    r = Redactor()
    with open(path, encoding="utf-8") as fh:
        r.load(json.load(fh))
    return r


def main(argv: list[str] | None = None) -> int:
    """`scan PATH... --secrets-file FILE [--redact REGEX]...`: exit 0 when clean, 1 on a
    finding, 4 on a usage error. Prints where, never what."""
    p = argparse.ArgumentParser(prog="python -m infra.redact")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("scan", help="look for secrets in files")
    s.add_argument("paths", nargs="+")
    s.add_argument("--secrets-file", default=None)
    s.add_argument("--secret-env", action="append", default=[], metavar="NAME")
    s.add_argument("--redact", action="append", default=[], metavar="REGEX")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return 4 if exc.code else 0
    try:
        r = load_secrets_file(args.secrets_file) if args.secrets_file else Redactor()
        for name in args.secret_env:
            r.add_secret(os.environ.get(name, ""))
        for rx in args.redact:
            r.add_pattern(rx)
    except (OSError, ValueError) as exc:
        print(f"ocitest: secret scan: {exc}", file=sys.stderr)
        return 4
    findings, files = scan_paths(args.paths, r)
    for f in findings:
        print(f"ocitest: secret scan: {f.line()}", file=sys.stderr)
    known = len(r.secrets) + len(r.patterns) + len(r.tokens)
    print(
        f"ocitest: secret scan: {files} files, {known} secrets/patterns: "
        + (f"{len(findings)} findings" if findings else "clean")
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
