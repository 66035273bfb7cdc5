"""The registry kind: OCI registries, judged through the distribution-spec HTTP API.

Options (docs/architecture.md, Contracts / Options):
- `--registry URL|embedded|embedded:ID` (repeatable; default embedded): a registry's
  base URL (`http://HOST[:PORT]` or https), the embedded ones, or one embedded registry
  by its subject id (`embedded:ggcr-0.22.1`, `embedded:distribution-2.8.2`).
- `--registry-user NAME`, `--registry-password PASS` (or the environment variables
  OCITEST_REGISTRY_USER, OCITEST_REGISTRY_PASSWORD): HTTP basic credentials for the
  given URLs; the password is a secret of the run (infra/redact.py).
- `--registry-auth basic|token` (default basic): how the embedded docker-registry asks
  for credentials: HTTP basic (htpasswd), or bearer tokens of a token service the
  harness runs beside it (infra/services/token_service.py). Registry URLs are reached
  with whatever they ask for (the driver follows a Bearer challenge by itself).
- `--registry-chunk-size BYTES`: bytes per PATCH of chunked pushes (a positive
  integer; default: registry_data.CHUNK for the large data set, a third of the blob in
  the chunked-upload test), for backends that need parts of a minimum size.
- `--registry-namespace NS` (default `ocitest/RUN_ID`): every repository the tests
  write lives below it (`NS/NAME`).
- `--distribution-spec 1.1.1|dev`: the text to judge against. With `dev`, the changes
  merged after 1.1.1 (catalogue entries `since: dev`) apply too; with 1.1.1 they are
  `not-required`. The subject declares `1.1.1` or `1.1.1-dev` accordingly.
- `--read-only`: a pull-only run against registry URLs the run may not write: the
  clients refuse every write, tests that write are skipped ("--read-only: ..."), and
  the data sets are expected in `NS/ds-NAME` already (pushed beforehand by
  `./ocitest registry seed URL [--registry-namespace NS]`); NS defaults to
  SEED_NAMESPACE. Not with the embedded registry (it starts empty).

Subjects: one per `--registry`; a URL's id is its host and port (`127.0.0.1-5000`);
the embedded ones are `distribution-VERSION` (`docker-registry --version`: 2.8.2) and,
when setup built it (infra/gobuild.py `ggcr`), `ggcr-0.22.1`: go-containerregistry's
registry package, which plain `embedded` includes (EMBEDDED_WITH_GGCR).

Embedded: Debian's docker-registry started once per run (`start`, under the run's lock)
on 127.0.0.1 with a free port, basic auth (a random password, bcrypt htpasswd) or token
auth (a token service on 127.0.0.1 for the same user and password), storage
under the run's work directory, deletes enabled; and a second process on the same
storage with deletes disabled (the 405 tests). `stop` ends both. A given URL must answer
`GET /v2/` with 200 or 401 at start, else the run ends with a usage error (exit 4).
ggcr's registry (`start_ggcr`) runs as one process on 127.0.0.1 without authentication
(its RegistryAccess has no credentials) and without a deletes-disabled twin.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Protocol

from infra import gobuild, redact
from infra.drivers.registry import RegistryURLError, parse_url
from infra.kinds.base import Kind, KindUnavailable, KindUsageError
from infra.kinds.registry_options import PASSWORD_ENV, SEED_NAMESPACE, SPEC_RELEASE, USER_ENV
from infra.kinds.runs import current
from infra.run import RunContext
from infra.subjects import Subject

#: seconds for the probe of a given registry at start
PROBE_TIMEOUT = 10.0
#: `dev`: the line after the release the catalogue follows (SPEC_RELEASE)
SPEC_CHOICES = (SPEC_RELEASE, "dev")
AUTH_CHOICES = ("basic", "token")
#: the embedded registry's user
EMBEDDED_USER = "ocitest"


class RegistryScheme(Protocol):
    """Something started in front of the embedded registry, named `--registry PREFIX:NAME`
    (the self-tests register `mutant`; the product registers none)."""

    def check(self, name: str) -> None:
        """Raise KindUsageError (one line) for an unknown NAME."""

    def start(self, target, ctx: RunContext, upstream: str, name: str) -> tuple[str, int]:
        """Start it in front of the registry at URL `upstream`; (its URL, its pid)."""


#: prefix -> scheme (`register_registry_scheme`)
REGISTRY_SCHEMES: dict[str, RegistryScheme] = {}


def register_registry_scheme(prefix: str, scheme: RegistryScheme) -> None:
    """Make `--registry PREFIX:NAME` reach `scheme` (a plugin calls this at import)."""
    REGISTRY_SCHEMES[prefix] = scheme


def _scheme(value: str) -> tuple[RegistryScheme | None, str]:
    prefix, _, name = value.partition(":")
    return (REGISTRY_SCHEMES.get(prefix), name) if name and "/" not in name else (None, "")


@dataclass
class RegistryAccess:
    """How the tests reach one registry subject (services, per subject id).

    Attributes:
        url: base URL ("http://127.0.0.1:PORT").
        username, password: basic-auth credentials ("" for none).
        namespace: repositories the tests write live below it ("ocitest/RUN_ID").
        nodelete_url: the same storage served with deletes disabled, or "" (external).
        embedded: the harness started it.
        read_only: the run may not write (--read-only): data sets are expected present.
        chunk_size: bytes per PATCH of chunked pushes (--registry-chunk-size), 0: default.
    """

    url: str
    username: str = ""
    password: str = field(default="", repr=False)
    namespace: str = ""
    nodelete_url: str = ""
    embedded: bool = False
    read_only: bool = False
    chunk_size: int = 0

    def __post_init__(self) -> None:
        if self.password:
            redact.add_secret(self.password, self.username)


class RegistryKind(Kind):
    """OCI registries; fixture `registry_subject`."""

    name = "registry"
    fixture = "registry_subject"

    @classmethod
    def add_options(cls, group) -> None:
        from infra.kinds.registry_options import add_options

        add_options(group)

    # -- options -----------------------------------------------------------------
    def _credentials(self) -> tuple[str, str]:
        user = self.options.ocitest_registry_user
        password = self.options.ocitest_registry_password
        if user is None:
            user = os.environ.get(USER_ENV, "")
        if password is None:
            password = os.environ.get(PASSWORD_ENV, "")
        return user, password

    def _chunk_size(self) -> int:
        """--registry-chunk-size as bytes (0 when not given). Raises KindUsageError."""
        value = self.options.ocitest_registry_chunk_size
        if value is None:
            return 0
        if not re.fullmatch(r"[0-9]{1,12}", value) or not 0 < int(value) <= MAX_CHUNK:
            raise KindUsageError(
                f"--registry-chunk-size {value[:40]}: expected a whole number of bytes, "
                f"1 to {MAX_CHUNK}"
            )
        return int(value)

    def _declared(self) -> str:
        spec = self.options.ocitest_distribution_spec
        return f"{SPEC_RELEASE}-dev" if spec == "dev" else SPEC_RELEASE

    def check(self) -> list[Subject] | None:
        """Check the options; each given URL is probed (GET /v2/: 200 or 401)."""
        spec = self.options.ocitest_distribution_spec
        if spec not in SPEC_CHOICES:
            raise KindUsageError(f"--distribution-spec {spec}: expected one of 1.1.1, dev")
        self._chunk_size()
        auth = self.options.ocitest_registry_auth
        if auth not in AUTH_CHOICES:
            raise KindUsageError(f"--registry-auth {auth}: expected one of basic, token")
        ns = self.options.ocitest_registry_namespace
        if ns and len(ns) > MAX_NAMESPACE:  # room for the suite's repository names below it
            raise KindUsageError(
                f"--registry-namespace: {len(ns)} characters, at most {MAX_NAMESPACE} "
                "(registries cap a repository name near 255)"
            )
        if ns and not re.fullmatch(NAME_RE, ns):
            raise KindUsageError(
                f"--registry-namespace {ns}: not a repository name (lower-case "
                "letters, digits, separators . _ __ -, components joined by /)"
            )
        user, password = self._credentials()
        if password:
            redact.add_secret(password, user)
        if bool(user) != bool(password):
            raise KindUsageError(
                "--registry-user and --registry-password go together (or "
                f"${USER_ENV} and ${PASSWORD_ENV})"
            )
        given = self.options.ocitest_registries
        if self.options.ocitest_registry_read_only and (
            given is None or any(v == "embedded" or _scheme(v)[0] for v in given)
        ):
            raise KindUsageError(
                "--read-only needs --registry URL of a registry seeded beforehand "
                "(ocitest registry seed URL); the embedded registry starts empty"
            )
        if given is None:
            return None
        subjects: list[Subject] = []
        for value in given:
            scheme, name = _scheme(value)
            if value == "embedded:":
                raise KindUsageError(
                    "--registry embedded: names no registry (embedded, or embedded:ID)"
                )
            if value == "embedded" or value.startswith("embedded:"):
                try:
                    subs = self._embedded_subjects(value.partition(":")[2] or None)
                except KindUnavailable as exc:
                    raise KindUsageError(f"--registry {value}: {exc}") from None
            elif scheme is not None:
                scheme.check(name)
                try:
                    sub = self._distribution_subject()
                except KindUnavailable as exc:
                    raise KindUsageError(f"--registry {value}: {exc}") from None
                sub.id, sub.endpoint = f"{value.partition(':')[0]}-{name}", value
                subs = [sub]
            else:
                subs = [self._url_subject(value, user, password)]
            for sub in subs:
                if any(s.id == sub.id for s in subjects):
                    raise KindUsageError(f"--registry {value}: given twice")
                subjects.append(sub)
        return subjects

    def _url_subject(self, url: str, user: str, password: str) -> Subject:
        from infra.drivers.registry import RegistryClient
        from infra.evidence import EvidenceLog

        try:
            _, host, port, _ = parse_url(url)
        except RegistryURLError as exc:
            raise KindUsageError(f"--registry: {exc} (or embedded)") from None
        res = RegistryClient(url, EvidenceLog(), user, password, timeout=PROBE_TIMEOUT).get("/v2/")
        if res.status not in (200, 401):
            seen = res.error or f"HTTP {res.status}"
            raise KindUsageError(f"--registry {url}: GET /v2/ did not answer 200 or 401 ({seen})")
        if res.auth_error:
            raise KindUsageError(f"--registry {url}: no token: {res.auth_error}")
        if res.status == 401 and user:
            raise KindUsageError(f"--registry {url}: the credentials were refused (401)")
        sid = re.sub(r"[^A-Za-z0-9._-]", "-", f"{host}-{port}")
        return Subject(
            kind=self.name,
            id=sid,
            name=host,
            version=res.header("docker-distribution-api-version"),
            spec_version=self._declared(),
            endpoint=url.rstrip("/"),
        )

    def _distribution_subject(self) -> Subject:
        binary = shutil.which("docker-registry") or BINARY
        if not os.path.exists(binary):
            raise KindUnavailable(
                f"{BINARY} is missing: install Debian's docker-registry (./ocitest setup)"
            )
        try:
            out = subprocess.run(
                [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
            ).stdout
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KindUnavailable(f"{binary} --version failed: {exc}") from None
        m = re.search(r"\s(v?\d+\.\d+\.\d+)(\S*)", out)
        version = (m.group(1) + m.group(2)).lstrip("v") if m else ""
        short = m.group(1).lstrip("v") if m else "unknown"
        return Subject(
            kind=self.name,
            id=f"distribution-{short}",
            name="distribution",
            version=version,
            spec_version=self._declared(),
            path=binary,
            endpoint="embedded",
            version_output=out.strip(),
        )

    def _ggcr_subject(self) -> Subject | None:
        """go-containerregistry's registry when setup built it (served by its crane)."""
        bindir = gobuild.built_dir(GGCR)
        if bindir is None:
            return None
        build = gobuild.BUILDS[GGCR]
        return Subject(
            kind=self.name,
            id=build.subject_id,
            name="go-containerregistry",
            version=build.version.lstrip("v"),
            spec_version=self._declared(),
            path=f"{bindir}/crane",
            endpoint=f"embedded:{build.subject_id}",
        )

    def _embedded_subjects(self, which: str | None) -> list[Subject]:
        """`embedded` (which None): Debian's docker-registry, and ggcr's registry when
        built and EMBEDDED_WITH_GGCR; `embedded:ID`: the embedded registry of that id.

        Raises:
            KindUnavailable: no such embedded registry here (one line).
        """
        if which is None:
            ggcr = self._ggcr_subject() if EMBEDDED_WITH_GGCR else None
            return [self._distribution_subject(), *([ggcr] if ggcr else [])]
        ggcr_id = gobuild.BUILDS[GGCR].subject_id
        if which == ggcr_id:
            ggcr = self._ggcr_subject()
            if ggcr is None:
                raise KindUnavailable(
                    f"{ggcr_id} is not built (OCITEST_GO_BUILDS={GGCR} ./ocitest setup)"
                )
            return [ggcr]
        dist = self._distribution_subject()
        if which == dist.id:
            return [dist]
        raise KindUnavailable(
            f"no such embedded registry (embedded:{dist.id} or embedded:{ggcr_id})"
        )

    def resolve(self) -> list[Subject]:
        """The embedded registries (`embedded`)."""
        return self._embedded_subjects(None)

    # -- services ----------------------------------------------------------------
    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        """Start the embedded registry (if a subject is embedded); services = {subject id:
        RegistryAccess as a dict}."""
        from infra.services import ServiceError, stop_pid
        from infra.services.registry import start_registry, stop_registry
        from infra.services.token_service import start_token_service

        read_only = self.options.ocitest_registry_read_only
        ns = self.options.ocitest_registry_namespace or (
            SEED_NAMESPACE if read_only else f"ocitest/{self.ctx.run_id}"
        )
        user, password = self._credentials()
        chunk = self._chunk_size()
        out: dict[str, dict] = {}
        for s in subjects:
            scheme, name = _scheme(s.endpoint)
            if s.endpoint.startswith("embedded:"):
                why = self._start_ggcr(s, out, ns)
                if why:
                    return out, why
                continue
            if s.endpoint != "embedded" and scheme is None:
                acc = RegistryAccess(
                    s.endpoint, user, password, ns, read_only=read_only, chunk_size=chunk
                )
                out[s.id] = asdict(acc)
                continue
            base = f"{self._base()}/{s.id}"
            secret = secrets.token_urlsafe(18)
            token, pids = None, []
            if self.options.ocitest_registry_auth == "token":
                try:
                    token = start_token_service(self.target, f"{base}/token", EMBEDDED_USER, secret)
                except ServiceError as exc:
                    return None, f"the embedded registry's token service did not start: {exc}"
                pids.append(token.pid)
            try:
                main = start_registry(
                    self.target,
                    f"{base}/main",
                    f"{base}/storage",
                    EMBEDDED_USER,
                    secret,
                    token=token,
                )
            except ServiceError as exc:
                for pid in pids:
                    stop_pid(self.target, pid, grace=5)
                return None, f"the embedded registry did not start: {exc}"
            out[s.id] = asdict(
                RegistryAccess(main.url, EMBEDDED_USER, secret, ns, embedded=True, chunk_size=chunk)
            ) | {"pids": [main.pid, *pids]}
            try:
                nodel = start_registry(
                    self.target,
                    f"{base}/nodelete",
                    f"{base}/storage",
                    EMBEDDED_USER,
                    secret,
                    delete=False,
                    token=token,
                )
            except ServiceError as exc:
                stop_registry(self.target, main)
                for pid in pids:
                    stop_pid(self.target, pid, grace=5)
                return None, f"the embedded registry (deletes disabled) did not start: {exc}"
            out[s.id]["nodelete_url"] = nodel.url
            out[s.id]["pids"].append(nodel.pid)
            s.endpoint = main.url
            if scheme is not None:
                try:
                    url, pid = scheme.start(self.target, self.ctx, main.url, name)
                except Exception as exc:
                    return out, f"--registry {s.id}: did not start: {exc}"
                out[s.id]["url"] = s.endpoint = url
                out[s.id]["pids"].insert(0, pid)
        return out, ""

    def _start_ggcr(self, s: Subject, out: dict, ns: str) -> str:
        """Start ggcr's registry for `s` into `out`; "" or why it did not start."""
        from infra.services import ServiceError
        from infra.services.registry import start_ggcr

        try:
            reg = start_ggcr(self.target, f"{self._base()}/{s.id}", s.path)
        except ServiceError as exc:
            return f"the embedded registry {s.id} did not start: {exc}"
        out[s.id] = asdict(
            RegistryAccess(reg.url, namespace=ns, embedded=True, chunk_size=self._chunk_size())
        ) | {"pids": [reg.pid]}
        s.endpoint = reg.url
        return ""

    def _base(self) -> str:
        return f"{self.ctx.work_base}/registry"

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        """Stop the embedded registries and remove their storage."""
        from infra.services import stop_pid

        for data in (services or {}).values():
            # the controller learns the run's registry passwords here, for the secret scan
            RegistryAccess(**{k: v for k, v in data.items() if k != "pids"})
            for pid in data.get("pids", []):
                stop_pid(self.target, pid, grace=5)
        shutil.rmtree(self._base(), ignore_errors=True)
        return []

    def facts(self, subject: Subject) -> dict:
        return subject.summary()


#: distribution-spec's repository name grammar (spec.md, Pulling manifests)
#: largest --registry-chunk-size, bytes (S3's largest part is 5 GiB; a chunk is held in memory)
MAX_CHUNK = 1024**3
#: longest --registry-namespace: the suite's repository names below it take up to ~80 more
MAX_NAMESPACE = 160
NAME_RE = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*"
BINARY = "/usr/bin/docker-registry"
#: the infra/gobuild.py build that gives the second embedded registry
GGCR = "ggcr"
#: whether plain `embedded` (the default) also starts ggcr's registry when it is built
EMBEDDED_WITH_GGCR = True


def access(ctx: RunContext, subject: Subject) -> tuple[RegistryAccess | None, str]:
    """(how to reach `subject` in this run, or None and why not)."""
    run = current(ctx, RegistryKind.name)
    if run is None:
        return None, "no registry subject was resolved in this process"
    if run.error:
        return None, run.error
    data = (run.services or {}).get(subject.id)
    if not data:
        return None, f"{subject.id}: the registry was not started"
    data = {k: v for k, v in data.items() if k != "pids"}
    return RegistryAccess(**data), ""


__all__ = ["SEED_NAMESPACE", "RegistryAccess", "RegistryKind", "access"]
