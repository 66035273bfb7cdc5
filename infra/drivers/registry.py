"""Driver for an OCI registry: the distribution-spec HTTP API (spec.md, API / Endpoints).

The only code that talks HTTP to a registry. Standard library only (http.client). Every
request:
- has a timeout (DEFAULT_TIMEOUT seconds unless the caller gives one);
- is recorded as Evidence: command `METHOD PATH` (query included), exit status the HTTP
  status (None when no response came), stdout the response headers and a body excerpt,
  stderr the request headers (and a body excerpt for small bodies), note what failed,
  duration in seconds. `Authorization` values are replaced by MARKER here, and the
  evidence log scrubs the run's secrets (infra/redact.py) again.
A status code is a result, not an exception: the tests judge it. A transport failure
(refused, reset, timeout) is a `Response` with `status` 0 and `error` set.

Authentication (infra/drivers/registry_auth.py): HTTP basic with the given credentials,
sent on every request until the registry answers 401 with a `Bearer` challenge; from then
on, distribution's token protocol: the client asks the challenge's realm for a token of
the challenge's scope (basic credentials when it has them, anonymous otherwise), retries
once with `Authorization: Bearer`, and keeps each token per scope until it expires; from
then on every request goes with a token of its scope at once (cached, or asked for
first). Before a body above PROBE_FIRST bytes, a client that has not met the registry's
challenge asks GET /v2/ first (a registry may close the connection on a large body it
refuses). The token exchange is evidence too (command `GET REALM`); tokens are secrets
of the run (redact.add_token). A refused token request leaves the registry's 401 as the
response, with `auth_error` saying what the realm answered.

A read-only client (`--read-only`, a registry the run may not write) refuses POST, PUT,
PATCH and DELETE itself with ReadOnlyError: nothing of such a request leaves the host.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from infra.drivers import call_timeout
from infra.drivers.registry_auth import AuthError, BearerAuth  # noqa: F401 (AuthError: re-exported)
from infra.evidence import Evidence, EvidenceLog

#: seconds one request may take unless the caller says otherwise
DEFAULT_TIMEOUT = 30.0
#: characters of a body kept in the evidence
BODY_CHARS = 600
#: bytes of a request body above which a client that has not yet met the registry's
#: challenge asks GET /v2/ first (a registry may close the connection on a large body
#: it refuses unread, and a refused request is only retried when its answer came)
PROBE_FIRST = 64 * 1024
#: header names whose values are never recorded
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "set-cookie"}
MARKER = "[REDACTED]"


#: the methods that change a registry's content (refused by a read-only client)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RegistryURLError(Exception):
    """A registry URL is malformed (a usage error)."""


class ReadOnlyError(Exception):
    """A read-only client was asked to write (a harness error: the test should have been
    skipped under --read-only)."""


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, base path) of `url` (http or https, a host, no query).

    Raises RegistryURLError (one line; credentials in the URL are not repeated)."""
    shown = repr(re.sub(r"//[^/@]*@", "//[REDACTED]@", url))
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. an unclosed [IPv6 literal
        raise RegistryURLError(f"{shown}: not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise RegistryURLError(f"{shown}: expected http://HOST[:PORT] or https://HOST[:PORT]")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise RegistryURLError(f"{shown}: no query, fragment or credentials in the URL")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise RegistryURLError(f"{shown}: spaces or control characters in the URL")
    try:
        hostname.encode("idna")
    except UnicodeError:
        raise RegistryURLError(f"{shown}: {hostname!r} is not a host name") from None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RegistryURLError(f"{shown}: bad port") from None
    return parts.scheme, hostname, port, parts.path.rstrip("/")


@dataclass
class Response:
    """One HTTP exchange as seen by the client.

    Attributes:
        method, path: the request (path with its query).
        status: HTTP status code, 0 when no response came (then `error` says why).
        headers: response headers, names lower-cased; repeated ones joined with ", ".
        header_list: every (name, value) pair as received (names lower-cased).
        body: the response body (bytes; HEAD: empty).
        error: the transport error, or "".
        evidence: the record of the exchange.
        auth_error: why no token was had for the retry of a 401 (the realm's answer), or "".
    """

    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    header_list: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: str = ""
    evidence: Evidence | None = None
    auth_error: str = ""

    def header(self, name: str) -> str:
        """The value of header `name` ("" when absent)."""
        return self.headers.get(name.lower(), "")

    def all(self, name: str) -> list[str]:
        """Every value of header `name`, each header line's value split at commas."""
        out = []
        for k, v in self.header_list:
            if k == name.lower():
                out += [p.strip() for p in v.split(",") if p.strip()]
        return out

    def json(self):
        """The body parsed as JSON; raises ValueError when it is not."""
        return json.loads(self.body.decode("utf-8"))

    def brief(self) -> str:
        """The exchange, for failure messages."""
        out = self.evidence.brief() if self.evidence else f"{self.method} {self.path}"
        return f"{out}\n{self.auth_error}" if self.auth_error else out


class RegistryClient:
    """A client for one registry.

    Args:
        url: "http://127.0.0.1:5000" (a base path is kept).
        log: the evidence log of the test.
        username, password: basic-auth credentials, or "".
        timeout: seconds per request (default: $OCITEST_CALL_TIMEOUT, else DEFAULT_TIMEOUT).
        read_only: refuse POST, PUT, PATCH and DELETE (ReadOnlyError), sending nothing.
    """

    def __init__(
        self,
        url: str,
        log: EvidenceLog,
        username: str = "",
        password: str = "",
        timeout: float | None = None,
        read_only: bool = False,
    ) -> None:
        self.url = url.rstrip("/")
        self.read_only = read_only
        self.scheme, self.host, self.port, self.base = parse_url(url)
        self.log = log
        self.timeout = timeout or call_timeout(DEFAULT_TIMEOUT)
        self.auth = BearerAuth(self.url, username, password)

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        timeout: float | None = None,
        record_body: bool = True,
    ) -> Response:
        """Send one request; `path` starts with /v2/ (or is an absolute URL on this
        registry, e.g. a Location header). Never raises for HTTP or transport errors.

        Raises:
            ReadOnlyError: a write method on a read-only client (nothing is sent)."""
        path = self.path_of(path)
        if self.read_only and method in WRITE_METHODS:
            raise ReadOnlyError(
                f"--read-only: {method} {path} not sent (this run may not write to the registry)"
            )
        hdrs = dict(headers or {})
        given = any(k.lower() == "authorization" for k in hdrs)
        if not given and len(body) > PROBE_FIRST and not self.auth.knows_challenge():
            self.get("/v2/")  # learn whether it wants tokens before sending a large body
        if not given:
            hdrs.update(self.auth.header_for(method, path, self._fetch_token))
        if body or method in ("PUT", "POST", "PATCH"):
            hdrs.setdefault("Content-Length", str(len(body)))
        target = (self.scheme, self.host, self.port, self.base + path)
        resp = self._send(target, method, path, body, hdrs, timeout, record_body)
        if given or resp.status != 401:
            return resp
        retry, why = self.auth.answer(resp, method, path, self._fetch_token)
        if not retry:
            resp.auth_error = why
            return resp
        hdrs.update(retry)
        return self._send(target, method, path, body, hdrs, timeout, record_body)

    def token(self, scope: str) -> str:
        """A bearer token of `scope` ("repository:NAME:pull", ...) from the realm this
        registry named in its last challenge (cached). Raises AuthError (one line)."""
        return self.auth.token(scope, self._fetch_token)

    def _fetch_token(self, url: str, headers: dict[str, str]) -> Response:
        scheme, host, port, _ = parse_url(url.split("?", 1)[0])
        parts = urllib.parse.urlsplit(url)
        shown = url if len(url) < 300 else url[:300] + "..."
        where = parts.path + (f"?{parts.query}" if parts.query else "")
        return self._send(
            (scheme, host, port, where), "GET", shown, b"", headers, None, True, tokens=True
        )

    def _send(
        self, target, method, shown, body, hdrs, timeout, record_body, tokens=False
    ) -> Response:
        """One exchange with (scheme, host, port, request path); recorded as `METHOD shown`
        (`tokens`: a token service's answer, recorded with its tokens replaced by MARKER,
        since a body excerpt may cut a token where no redaction would know it)."""
        scheme, host, port, where = target
        conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(host, port, timeout=timeout or self.timeout)
        start = time.monotonic()
        resp = Response(method, shown, 0)
        try:
            conn.request(method, where, body=body or None, headers=hdrs)
            r = conn.getresponse()
            resp.status = r.status
            resp.header_list = [(k.lower(), v) for k, v in r.getheaders()]
            for k, v in resp.header_list:
                resp.headers[k] = f"{resp.headers[k]}, {v}" if k in resp.headers else v
            resp.body = r.read() if method != "HEAD" else b""
        except http.client.IncompleteRead as exc:
            resp.body = exc.partial
            resp.error = (
                f"body cut short: {exc.expected} of its Content-Length bytes never came "
                f"({len(exc.partial)} read)"
            )
        except TimeoutError:
            resp.error = f"timed out after {timeout or self.timeout:g} s"
        except (OSError, http.client.HTTPException) as exc:
            resp.error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        shown_resp = _without_tokens(resp) if tokens else resp
        resp.evidence = self.log.add(
            _evidence(shown_resp, hdrs, body if record_body else b"", time.monotonic() - start)
        )
        return resp

    def path_of(self, location: str) -> str:
        """The request path of `location` (absolute URL or path), without our base."""
        if location.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        if self.base and location.startswith(self.base + "/"):
            location = location[len(self.base) :]
        return location

    # convenience wrappers, one per endpoint of spec.md's table (end-N)
    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def head(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("HEAD", path, headers=headers)

    def delete(self, path: str) -> Response:
        return self.request("DELETE", path)


#: keys of a token service's JSON answer whose values are tokens
TOKEN_KEYS = ("token", "access_token", "refresh_token", "id_token")


def _without_tokens(resp: Response) -> Response:
    """A copy of `resp` whose JSON body has its token values replaced by MARKER (a body
    that is not JSON becomes a note of its length)."""
    try:
        doc = json.loads(resp.body)
        if not isinstance(doc, dict):
            raise ValueError
    except ValueError:
        body = f"[{len(resp.body)} bytes, not a JSON object]".encode() if resp.body else b""
    else:
        body = json.dumps({k: MARKER if k in TOKEN_KEYS else v for k, v in doc.items()}).encode()
    return dataclasses.replace(resp, body=body)


def _headers_text(items) -> str:
    lines = []
    for k, v in items:
        if k.lower() in SECRET_HEADERS:
            v = v.split(" ", 1)[0] + " " + MARKER if " " in v else MARKER
        lines.append(f"{k}: {v}")
    return "\n".join(lines)


def _body_text(body: bytes) -> str:
    if not body:
        return ""
    cut = body[:BODY_CHARS]
    try:
        text = cut.decode("utf-8")
    except UnicodeDecodeError:
        return f"[{len(body)} bytes of binary data]"
    more = f"\n[... {len(body) - len(cut)} more bytes]" if len(body) > len(cut) else ""
    return text + more


def _evidence(resp: Response, req_headers: dict, req_body: bytes, seconds: float) -> Evidence:
    out = [f"HTTP {resp.status}" if resp.status else "no response"]
    out.append(_headers_text(resp.header_list))
    if resp.body:
        out.append("")
        out.append(_body_text(resp.body))
    err = [_headers_text(req_headers.items())]
    if req_body:
        err += ["", _body_text(req_body)]
    return Evidence(
        command=f"{resp.method} {resp.path}",
        exit_status=resp.status or None,
        stdout="\n".join(out),
        stderr="\n".join(err),
        duration=round(seconds, 4),
        note=resp.error,
    )
