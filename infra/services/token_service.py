"""A bearer token service for the embedded docker-registry (distribution's token
authentication: docs/spec/auth/token.md and jwt.md of distribution 2.8), on 127.0.0.1.

`start_token_service` (the harness side) makes a key pair and a self-signed certificate
for this run (EC P-256, `cryptography`), writes them and the user's bcrypt hash below its
directory (the key 0600), and starts this module as a process of its own
(`python -m infra.services.token_service`). The registry is configured with `auth.token`
naming its realm, service and issuer and the certificate as its root bundle
(`registry_token_config`).

The service answers `GET /token?service=SERVICE&scope=S&scope=S...` (each scope
`TYPE:NAME:ACTIONS`, several also space-separated in one parameter): with the right
HTTP basic credentials, 200 and JSON `{"token", "access_token", "expires_in",
"issued_at"}`, a JWT (ES256, the certificate in its `x5c` header) granting the user every
action asked for on `repository` and `registry` resources; without them, 401 and a JSON
error naming what was wrong. A wrong `service` is 400. Tokens live EXPIRES seconds.
The signing key never leaves the key file and this process; the harness adds the key's
PEM and its private value in several forms to the run's secrets (`key_secrets`).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import json
import secrets
import sys
import time
import warnings
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

with warnings.catch_warnings():  # bcrypt through libxcrypt; deprecated, present in 3.11/3.12
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

#: the registry's service name (the token's audience) and the tokens' issuer
SERVICE = "ocitest-registry"
ISSUER = "ocitest-token-service"
#: seconds a token is valid
EXPIRES = 300
#: the realm's path
TOKEN_PATH = "/token"
#: resource types the service grants
RESOURCE_TYPES = ("repository", "registry")


@dataclass
class TokenService:
    """A running token service.

    Attributes:
        realm: "http://127.0.0.1:PORT/token" (what the registry's challenge names).
        cert: path of the self-signed certificate (the registry's root bundle).
        pid: its process.
    """

    realm: str
    cert: str
    pid: int
    service: str = SERVICE
    issuer: str = ISSUER


def make_keys(directory: str) -> tuple[str, str, str]:
    """Write a new EC P-256 private key (PKCS#8 PEM, mode 0600) and a self-signed
    certificate for it (valid one day) into `directory`. Returns (key path, cert path,
    the key's PEM text)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISSUER)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = d / "token.key", d / "token.crt"
    key_path.touch(mode=0o600)
    key_path.write_text(pem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path), pem


def key_secrets(pem: str) -> list[str]:
    """What of a PEM private key the run redacts: the whole text, its body on one line,
    the private value in hex, and the base64 characters only the private value
    determines (at each offset: they show in any base64 text holding the key). The
    public half is no secret (the certificate carries it), so PEM lines holding only
    public bytes are not taken."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from infra.redact import _b64_cores

    key = load_pem_private_key(pem.encode(), None)
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    body = "".join(ln for ln in pem.strip().splitlines() if not ln.startswith("-----"))
    return [pem, pem.strip(), body, scalar.hex(), *_b64_cores(scalar)]


def registry_token_config(svc: TokenService) -> str:
    """The `auth:` section of a docker-registry config using `svc`."""
    return (
        "auth:\n  token:\n"
        f"    realm: {svc.realm}\n    service: {svc.service}\n"
        f"    issuer: {svc.issuer}\n    rootcertbundle: {svc.cert}\n"
    )


def start_token_service(target, directory: str, username: str, password: str) -> TokenService:
    """Start a token service in `directory` (created) on 127.0.0.1 for one user.

    Runs on this host (the harness's Python); `target` runs the spawn. Raises
    ServiceError when it did not answer in time."""
    from infra import redact
    from infra.services import ServiceError, free_port, spawn, stop_pid, wait_until

    key, cert, pem = make_keys(directory)
    for s in key_secrets(pem):
        redact.add_secret(s)
    redact.add_secret(password, username)
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    users = Path(directory) / "users"
    users.touch(mode=0o600)
    users.write_text(f"{username}:{hashed}\n")
    host = f"127.0.0.1:{free_port()}"
    harness = str(Path(__file__).resolve().parents[2])
    argv = ["env", f"PYTHONPATH={harness}", sys.executable, "-m", "infra.services.token_service"]
    argv += ["--listen", host, "--key", key, "--cert", cert, "--users", str(users)]
    pid = spawn(target, argv, f"{directory}/token.pid", f"{directory}/token.log")
    svc = TokenService(f"http://{host}{TOKEN_PATH}", cert, pid)
    try:
        wait_until(f"token service at {host}", lambda: _status(svc.realm) == 401)
    except ServiceError as exc:
        log = Path(f"{directory}/token.log").read_text(errors="replace")[-300:]
        stop_pid(target, pid, grace=5)
        raise ServiceError(f"{exc}; its log: {log.strip()}") from None
    return svc


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


# --- the service process -----------------------------------------------------------------
def parse_scopes(values: list[str]) -> list[dict]:
    """`access` claims of the scopes asked for (`TYPE:NAME:ACTIONS`, space-separated
    several; a name may hold a port's colon: the type is before the first colon, the
    actions after the last). Unknown types and malformed scopes grant nothing."""
    out: dict[tuple[str, str], set[str]] = {}
    for value in values:
        for scope in value.split():
            rtype, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if rtype in RESOURCE_TYPES and name and actions:
                out.setdefault((rtype, name), set()).update(a for a in actions.split(",") if a)
    return [{"type": t, "name": n, "actions": sorted(a)} for (t, n), a in out.items()]


class _Handler(BaseHTTPRequestHandler):
    server_version = "ocitest-token/1"
    cfg: dict = {}

    def log_message(self, fmt: str, *args) -> None:  # request lines only: no credentials
        sys.stderr.write(
            f"{self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n"
        )

    def _json(self, status: int, body: dict, extra: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, why: str) -> None:
        body = {"errors": [{"code": "UNAUTHORIZED", "message": why}]}
        self._json(401, body, {"WWW-Authenticate": 'Basic realm="ocitest-token"'})

    def _user(self) -> tuple[str, str]:
        """(user, "") when the basic credentials are right, else ("", why)."""
        auth = self.headers.get("Authorization", "")
        scheme, _, cred = auth.partition(" ")
        if scheme.lower() != "basic" or not cred:
            return "", "credentials required (HTTP basic)"
        try:
            user, _, password = base64.b64decode(cred, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", "malformed basic credentials"
        hashed = self.cfg["users"].get(user)
        if hashed is None or crypt.crypt(password, hashed) != hashed:
            return "", "wrong user name or password"
        return user, ""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != TOKEN_PATH:
            self._json(404, {"errors": [{"code": "NOT_FOUND", "message": parts.path}]})
            return
        user, why = self._user()
        if not user:
            self._refuse(why)
            return
        query = parse_qs(parts.query)
        service = query.get("service", [SERVICE])[0]
        if service != SERVICE:
            self._json(
                400, {"errors": [{"code": "BAD_REQUEST", "message": f"no service {service!r}"}]}
            )
            return
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": user,
            "aud": SERVICE,
            "iat": now,
            "nbf": now - 5,
            "exp": now + EXPIRES,
            "jti": secrets.token_hex(12),
            "access": parse_scopes(query.get("scope", [])),
        }
        import jwt

        token = jwt.encode(
            claims, self.cfg["key"], algorithm="ES256", headers={"x5c": [self.cfg["x5c"]]}
        )
        issued = datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat()
        body = {"token": token, "access_token": token, "expires_in": EXPIRES, "issued_at": issued}
        self._json(200, body, {"Cache-Control": "no-store"})


def main(argv: list[str] | None = None) -> int:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    p = argparse.ArgumentParser(prog="python -m infra.services.token_service")
    p.add_argument("--listen", required=True, metavar="127.0.0.1:PORT")
    p.add_argument("--key", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--users", required=True, help="lines USER:BCRYPT-HASH")
    args = p.parse_args(argv)
    cert = x509.load_pem_x509_certificate(Path(args.cert).read_bytes())
    users = {}
    for line in Path(args.users).read_text().splitlines():
        user, _, hashed = line.partition(":")
        if user:
            users[user] = hashed
    _Handler.cfg = {
        "key": serialization.load_pem_private_key(Path(args.key).read_bytes(), None),
        "x5c": base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode(),
        "users": users,
    }
    host, _, port = args.listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), _Handler)
    server.daemon_threads = True
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
