"""The embedded registries on 127.0.0.1: Debian's docker-registry (distribution 2.8) and
go-containerregistry's registry package (`start_ggcr`), when setup built it.

`start_registry` writes a generated config, starts `docker-registry serve` with a
private storage directory, and waits until `GET /v2/` answers. With `auth`, the
registry asks for HTTP basic credentials (an htpasswd file with a bcrypt hash; the
password becomes a secret of the run, redacted wherever it would be recorded), or with
`token` for bearer tokens of a token service (infra/services/token_service.py); two
registries may share one storage directory, so the same images are served with and
without authentication. Nothing listens anywhere but 127.0.0.1.
"""

from __future__ import annotations

import base64
import shlex
import urllib.error
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field

with warnings.catch_warnings():  # bcrypt through libxcrypt; deprecated, present in 3.11/3.12
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt

from infra import redact
from infra.services import ServiceError, free_port, spawn, stop_pid, wait_until
from infra.services.token_service import TokenService, registry_token_config
from infra.targets import Target

BINARY = "/usr/bin/docker-registry"


@dataclass
class Registry:
    """A running registry.

    Attributes:
        host: "127.0.0.1:PORT" (what image references and hosts.toml name).
        dir: its own directory (config, log, pid file; storage unless shared).
        storage: the storage root.
        pid: the registry process.
        username, password: basic-auth credentials, or "" when it needs none.
    """

    host: str
    dir: str
    storage: str
    pid: int
    username: str = ""
    password: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Registry:
        return cls(**data)


_CONFIG = """version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: {delete}
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {host}
  secret: ocitest-{port}
{auth}"""


def start_registry(
    target: Target,
    directory: str,
    storage: str = "",
    username: str = "",
    password: str = "",
    delete: bool = True,
    token: TokenService | None = None,
) -> Registry:
    """Start a registry in `directory` (created), serving `storage` (default: its own);
    `delete`: DELETE of manifests and blobs enabled (else the registry answers 405).
    With `username`: basic auth (an htpasswd file), or with `token` bearer tokens of
    that token service (infra/services/token_service.py), whose user it is.

    Raises:
        ServiceError: the binary is missing, or it did not answer /v2/ in time.
    """
    if not target.exists(BINARY):
        raise ServiceError(f"{BINARY} is missing: install Debian's docker-registry")
    storage = storage or f"{directory}/storage"
    target.make_dirs(directory)
    target.make_dirs(storage)
    port = free_port()
    host = f"127.0.0.1:{port}"
    auth = ""
    if username:
        redact.add_secret(password, username)
    if token is not None:
        auth = registry_token_config(token)
    elif username:
        hashed = crypt.crypt(
            password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)
        )  # cost 4: checked on every request
        target.write_text(f"{directory}/htpasswd", f"{username}:{hashed}\n", 0o600)
        auth = f"auth:\n  htpasswd:\n    realm: ocitest\n    path: {directory}/htpasswd\n"
    config = f"{directory}/config.yml"
    target.write_text(
        config,
        _CONFIG.format(
            storage=storage, host=host, port=port, auth=auth, delete=str(delete).lower()
        ),
    )
    pid = spawn(
        target, [BINARY, "serve", config], f"{directory}/registry.pid", f"{directory}/registry.log"
    )
    reg = Registry(host, directory, storage, pid, username, password)
    try:
        wait_until(f"registry at {host}", lambda: probe(reg) in (200, 401))
    except ServiceError as exc:
        log = target.run(["tail", "-5", f"{directory}/registry.log"], timeout=10).stdout
        stop_registry(target, reg)
        raise ServiceError(f"{exc}; its log: {log.strip()[-300:]}") from None
    return reg


def start_ggcr(target: Target, directory: str, crane: str) -> Registry:
    """Start go-containerregistry's registry (pkg/registry) in `directory` (created):
    `crane registry serve` on 127.0.0.1 with a free port, blobs under `directory`/storage
    (manifests stay in its memory). It has no authentication and no switch for deletes.
    (Its cmd/registry would do as well, but listens on "localhost" and adds a Warning
    header to 1 in 100 answers at random; crane's command serves the same handler.)

    Raises:
        ServiceError: `crane` is missing, or it did not answer /v2/ in time.
    """
    if not target.exists(crane):
        raise ServiceError(f"{crane} is missing: OCITEST_GO_BUILDS=ggcr ./ocitest setup")
    storage = f"{directory}/storage"
    target.make_dirs(storage)
    host = f"127.0.0.1:{free_port()}"
    argv = [crane, "registry", "serve", "--address", host, "--disk", storage]
    pid = spawn(target, argv, f"{directory}/registry.pid", f"{directory}/registry.log")
    reg = Registry(host, directory, storage, pid)
    try:
        wait_until(f"ggcr registry at {host}", lambda: probe(reg) == 200)
    except ServiceError as exc:
        log = target.run(["tail", "-5", f"{directory}/registry.log"], timeout=10).stdout
        stop_registry(target, reg)
        raise ServiceError(f"{exc}; its log: {log.strip()[-300:]}") from None
    return reg


def probe(reg: Registry, credentials: bool = False) -> int:
    """HTTP status of GET /v2/ (0 when nothing answers)."""
    req = urllib.request.Request(reg.url + "/v2/")
    if credentials and reg.username:
        token = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(req, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def stop_registry(target: Target, reg: Registry) -> None:
    """Stop the registry (its files stay: the caller removes its directory)."""
    stop_pid(target, reg.pid, grace=5)


def push_layout(target: Target, layout: str, tag: str, reg: Registry, repo_ref: str) -> str:
    """Push the image `layout:tag` (an OCI layout) to `reg` as `repo_ref` (repo:tag).

    Returns the manifest digest as pushed. Raises ServiceError when skopeo fails."""
    digestfile = f"{reg.dir}/" + repo_ref.replace("/", "_").replace(":", "_") + ".digest"
    argv = [
        "skopeo",
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--preserve-digests",
        "--digestfile",
        digestfile,
        f"oci:{layout}:{tag}",
        f"docker://{reg.host}/{repo_ref}",
    ]
    if reg.username:
        argv[2:2] = ["--dest-creds", f"{reg.username}:{reg.password}"]
    res = target.run(argv, timeout=120)
    if res.exit_status != 0:
        msg = f"{shlex.join(argv)} failed ({res.exit_status}): {res.stderr.strip()[-300:]}"
        raise ServiceError(redact.scrub(msg)[0])
    return target.read_text(digestfile).strip()
