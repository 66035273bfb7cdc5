"""Registry authentication for the registry driver (infra/drivers/registry.py): HTTP basic,
and distribution's bearer token protocol (distribution docs/spec/auth/token.md; the
distribution-spec leaves authentication to it).

The token protocol: a registry answers 401 with `WWW-Authenticate: Bearer
realm="URL",service="NAME",scope="TYPE:NAME:ACTIONS ..."`; the client GETs
`REALM?service=NAME&scope=...` (basic credentials when it has them) and gets JSON
`{"token": T}` or `{"access_token": T}` (with `expires_in` seconds, default 60); it
retries with `Authorization: Bearer T`. `BearerAuth` keeps tokens per (realm, service,
credentials, scope) in this process until shortly before they expire; once a registry
has asked for tokens, it guesses each request's scope from its method and path
(`scope_of`) and sends a token of it (cached, or asked for first) with the first try. Every token is a secret of the run (infra.redact.add_token).
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
import urllib.parse
from collections.abc import Callable

from infra import redact

#: seconds a token lives when the realm does not say (token.md: expires_in)
DEFAULT_EXPIRES = 60
#: seconds before its expiry a cached token is no longer sent
MARGIN = 10
_REPO = re.compile(r"^/v2/(?P<name>.+?)/(?:manifests|blobs|tags|referrers)(?:/|$)")
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


class AuthError(Exception):
    """No token was had: the realm refused, was unreachable, or gave no token (one line)."""


def parse_challenge(value: str) -> tuple[str, dict[str, str]]:
    """(scheme lower-cased, parameters) of a WWW-Authenticate value (the first challenge)."""
    scheme, _, rest = value.strip().partition(" ")
    params = {}
    for m in _PARAM.finditer(rest):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return scheme.lower(), params


def normalise(scope: str) -> str:
    """A scope string in one order: scopes sorted, the actions of each sorted."""
    out = []
    for s in scope.split():
        head, _, actions = s.rpartition(":")
        out.append(f"{head}:{','.join(sorted(set(actions.split(','))))}" if head else s)
    return " ".join(sorted(set(out)))


def scope_of(method: str, path: str) -> str:
    """The scope a registry asks for `method path` (distribution's rules): GET/HEAD
    pull, DELETE delete, the rest pull,push; a mount's `from` repository pull; the
    catalog `registry:catalog:*`; "" for /v2/ itself and unknown paths."""
    p, _, query = path.partition("?")
    if p.startswith("/v2/_catalog"):
        return "registry:catalog:*"
    m = _REPO.match(p)
    if not m:
        return ""
    actions = {"GET": "pull", "HEAD": "pull", "DELETE": "delete"}.get(method, "pull,push")
    scopes = [f"repository:{m.group('name')}:{actions}"]
    for src in urllib.parse.parse_qs(query).get("from", []):
        scopes.append(f"repository:{src}:pull")
    return normalise(" ".join(scopes))


#: (realm, service, sha256 of the credentials, normalised scope) -> (token, monotonic expiry); per process
_TOKENS: dict[tuple[str, str, str, str], tuple[str, float]] = {}
#: registry base URL -> its Bearer challenge's (realm, service); per process
_CHALLENGES: dict[str, tuple[str, str]] = {}
_LOCK = threading.Lock()


class BearerAuth:
    """The credentials of one registry client and the tokens they got.

    Args:
        url: the registry's base URL (the key of what its challenges said).
        username, password: basic credentials (for the registry, or for its realm), or "".
    """

    def __init__(self, url: str, username: str = "", password: str = "") -> None:
        self.url, self.username, self._password = url, username, password
        self._basic = ""
        if username:
            pair = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._basic = "Basic " + pair
        # tokens are cached per credentials: another password gets none of them
        self._who = hashlib.sha256(self._basic.encode()).hexdigest()

    def knows_challenge(self) -> bool:
        """Whether this registry has answered a Bearer challenge in this process."""
        with _LOCK:
            return self.url in _CHALLENGES

    def header_for(
        self, method: str, path: str, fetch: Callable[[str, dict], object]
    ) -> dict[str, str]:
        """The Authorization header to send first: once the registry asked for tokens, a
        token of the request's scope (cached, else asked for now: a request sent without
        one would be refused, and a registry may close the connection on a large body
        it refuses before reading it); nothing when none was had; before that, basic."""
        with _LOCK:
            challenge = _CHALLENGES.get(self.url)
        if challenge is None:
            return {"Authorization": self._basic} if self._basic else {}
        try:
            token = self._token(*challenge, scope_of(method, path), fetch)
        except AuthError:
            return {}  # the registry's 401 then says what it wants; answer() tries again
        return {"Authorization": f"Bearer {token}"}

    def answer(
        self, resp, method: str, path: str, fetch: Callable[[str, dict], object]
    ) -> tuple[dict[str, str], str]:
        """For a 401 `resp`: (headers of the retry, "") when its challenge is Bearer and
        a token was had; ({}, why not) otherwise ("" when the challenge is not Bearer)."""
        scheme, params = parse_challenge(resp.header("www-authenticate"))
        if scheme != "bearer":
            return {}, ""
        realm, service = params.get("realm", ""), params.get("service", "")
        if not realm:
            return {}, "the registry's Bearer challenge names no realm"
        with _LOCK:
            _CHALLENGES[self.url] = (realm, service)
        scope = params.get("scope") or scope_of(method, path)
        try:
            token = self._token(realm, service, scope, fetch)
        except AuthError as exc:
            return {}, str(exc)
        return {"Authorization": f"Bearer {token}"}, ""

    def token(self, scope: str, fetch: Callable[[str, dict], object]) -> str:
        """A token of `scope` from the realm of this registry's last challenge.
        Raises AuthError when the registry has not asked for tokens or none was had."""
        with _LOCK:
            challenge = _CHALLENGES.get(self.url)
        if challenge is None:
            raise AuthError(f"{self.url} has not asked for bearer tokens (no Bearer challenge)")
        return self._token(*challenge, scope, fetch)

    def _cached(self, realm: str, service: str, scope: str) -> str:
        key = (realm, service, self._who, normalise(scope))
        with _LOCK:
            token, until = _TOKENS.get(key, ("", 0.0))
        return token if time.monotonic() < until else ""

    def _token(self, realm: str, service: str, scope: str, fetch) -> str:
        cached = self._cached(realm, service, scope)
        if cached:
            return cached
        query = [("service", service)] if service else []
        query += [("scope", s) for s in scope.split()]
        if self.username:
            query.append(("account", self.username))
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        res = fetch(url, {"Authorization": self._basic} if self._basic else {})
        where = f"token service {realm}"
        if res.status != 200:
            seen = res.error or f"answered {res.status}"
            hint = " (the credentials were refused)" if res.status == 401 else ""
            raise AuthError(f"{where} {seen} to GET {realm}?scope={scope or '-'}{hint}")
        try:
            body = res.json()
            token = body.get("token") or body.get("access_token")
            expires = float(body.get("expires_in") or DEFAULT_EXPIRES)
        except (ValueError, AttributeError, TypeError):
            raise AuthError(f"{where} answered 200 without a JSON token") from None
        if not isinstance(token, str) or not token:
            raise AuthError(f"{where} answered 200 without a token")
        redact.add_token(token)
        until = time.monotonic() + max(expires - min(MARGIN, expires / 2), 0.0)
        with _LOCK:
            _TOKENS[(realm, service, self._who, normalise(scope))] = (token, until)
        return token
