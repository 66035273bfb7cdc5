"""The cri kind: Kubernetes CRI endpoints over gRPC (RuntimeService, ImageService).

Options (docs/architecture.md, Contracts / Options): `--cri-endpoint
URI|embedded|embedded:VERSION|PREFIX:NAME` (default embedded), `--cri-image-endpoint URI`,
`--runtime-handler NAME` (repeatable; default: each handler the endpoint has). Subjects:
one per runtime handler, id `NAME-HANDLER` (containerd-runc; the containerd built at
setup: containerd-2.4.2-runc); the declared spec version is Version's runtime_api_version.
`embedded` is Debian's containerd 1.6 and, when setup built it, containerd 2.4.2 beside
it (two private containerds); `embedded:2.4.2` the built one alone. Once per run: the registries, the images and (embedded) the
private containerd start (infra/services/cri.py). A service that fails to start does
not abort the run: every CRI test ends as `error` with the reason (suites/cri/conftest.py).

`--cri-endpoint PREFIX:NAME` reaches an endpoint started in front of the embedded
containerd (Debian's, or the built one its `containerd_version` names) by a scheme
registered with `register_endpoint_scheme` (the self-tests register `mutant`); the
product itself registers none.

infra.drivers.cri (gRPC and the CRI stubs, about 90 ms) is imported inside the functions
that call an endpoint: every pytest process imports this module through the registry of
kinds, most never talk CRI.
"""

from __future__ import annotations

import json
from typing import Protocol

from infra.evidence import EvidenceLog
from infra.kinds.base import Kind, KindUnavailable, KindUsageError
from infra.kinds.runs import current
from infra.run import RunContext
from infra.services import containerd as ctd_service
from infra.services import cri as cri_services
from infra.services.containerd import write_hosts
from infra.services.cri import AUTH_HOST, OPEN_HOST, CriServices
from infra.subjects import Subject
from infra.targets import Target

#: seconds for the Version and Status calls that resolve an external endpoint
PROBE_DEADLINE = 10.0
#: where the harness writes hosts.toml files for an external containerd's config_path
EXTERNAL_HOSTS_DIR = "/var/lib/ocitest/cri-hosts.d"
#: why CRI tests skip in a rootless run (CRI endpoints and their registries run as root)
ROOTLESS_SKIP = "needs root: the CRI suite runs containerd's CRI plugin, which runs as root"


class EndpointScheme(Protocol):
    """Something started in front of the embedded containerd, named `PREFIX:NAME`."""

    def subject_prefix(self, name: str) -> str:
        """The subject id prefix for NAME ("mutant-NAME"; the handler follows)."""

    def check(self, name: str) -> None:
        """Raise KindUsageError (one line) for an unknown NAME."""

    def start(self, target: Target, ctx: RunContext, services: CriServices, name: str) -> str:
        """Start it in front of `services.containerd`; return its endpoint URI. A process
        it leaves running is recorded in `services.proxy_pid` (stopped with the services)."""

    def containerd_version(self, name: str) -> str:
        """The version of the embedded containerd NAME fronts ("": Debian's, the default;
        "2.4.2": the one setup built)."""


#: endpoint prefix -> scheme (`register_endpoint_scheme`)
ENDPOINT_SCHEMES: dict[str, EndpointScheme] = {}


def register_endpoint_scheme(prefix: str, scheme: EndpointScheme) -> None:
    """Make `--cri-endpoint PREFIX:NAME` reach `scheme` (a plugin calls this at import)."""
    ENDPOINT_SCHEMES[prefix] = scheme


def _scheme(endpoint: str) -> tuple[EndpointScheme | None, str]:
    prefix, _, name = endpoint.partition(":")
    return ENDPOINT_SCHEMES.get(prefix), name


def _scheme_version(endpoint: str) -> str:
    """The embedded containerd version behind a scheme's endpoint ("" Debian's)."""
    scheme, name = _scheme(endpoint)
    pick = getattr(scheme, "containerd_version", None)
    return pick(name) if pick is not None else ""


def _embedded(endpoint: str) -> bool:
    """`embedded` or `embedded:VERSION`."""
    return endpoint == "embedded" or endpoint.startswith("embedded:")


def _flavours(endpoint: str) -> list[ctd_service.Daemon]:
    """The embedded containerds an `embedded[:VERSION]` (or scheme) endpoint tests:
    `embedded` is Debian's plus the built one when setup built it."""
    if endpoint.startswith("embedded:"):
        flavour = ctd_service.daemon(endpoint.partition(":")[2])
        return [flavour] if flavour else []
    if not _embedded(endpoint):  # a scheme's endpoint: the containerd it fronts
        flavour = ctd_service.daemon(_scheme_version(endpoint))
        return [flavour] if flavour else []
    out = [ctd_service.daemon()]
    if endpoint == "embedded" and ctd_service.built_version():
        out.append(ctd_service.daemon(ctd_service.built_version()))
    return [f for f in out if f is not None]


class CriKind(Kind):
    """CRI endpoints, one subject per runtime handler; fixture `cri_subject`."""

    name = "cri"
    fixture = "cri_subject"

    @classmethod
    def add_options(cls, group) -> None:
        group.addoption(
            "--cri-endpoint",
            dest="ocitest_cri_endpoint",
            default="embedded",
            metavar="URI|embedded[:VERSION]",
            help="CRI endpoint to test: unix:///path.sock, tcp://host:port, embedded "
            "(default: private containerds the harness starts, Debian's and the one setup "
            "built), or embedded:VERSION (the built containerd alone, e.g. embedded:2.4.2)",
        )
        group.addoption(
            "--cri-image-endpoint",
            dest="ocitest_cri_image_endpoint",
            default="",
            metavar="URI",
            help="CRI image service endpoint (default: the --cri-endpoint)",
        )
        group.addoption(
            "--runtime-handler",
            dest="ocitest_runtime_handlers",
            action="append",
            default=None,
            metavar="NAME",
            help="CRI runtime handler to test (repeatable; default: each one configured)",
        )

    def check(self) -> list[Subject] | None:
        from infra.drivers.cri import EndpointError, grpc_target

        endpoint = self.options.ocitest_cri_endpoint
        image_ep = self.options.ocitest_cri_image_endpoint
        scheme, name = _scheme(endpoint)
        try:
            if image_ep:
                grpc_target(image_ep)
        except EndpointError as exc:
            raise KindUsageError(f"--cri-image-endpoint: {exc}") from None
        if endpoint.startswith("embedded:"):
            ver = endpoint.partition(":")[2]
            if not ver:
                raise KindUsageError(
                    "--cri-endpoint embedded: names no version (embedded, or embedded:VERSION)"
                )
            if ctd_service.daemon(ver) is None:
                raise KindUsageError(f"--cri-endpoint {endpoint}: {ctd_service.not_built(ver)}")
        try:
            if not _embedded(endpoint) and scheme is None:
                grpc_target(endpoint)
        except EndpointError as exc:
            known = ", ".join(
                ["embedded", "embedded:VERSION", *(f"{p}:NAME" for p in sorted(ENDPOINT_SCHEMES))]
            )
            raise KindUsageError(f"--cri-endpoint: {exc} (or {known})") from None
        if scheme is not None:
            scheme.check(name)
        handlers = self.options.ocitest_runtime_handlers or []
        for i, h in enumerate(handlers):
            if not h:
                raise KindUsageError("--runtime-handler: empty value")
            if h in handlers[:i]:
                raise KindUsageError(f"--runtime-handler {h}: given twice")
        if endpoint == "embedded" and not self.options.ocitest_runtime_handlers:
            return None  # the default: resolved when a collected test needs it
        try:
            return self.resolve()
        except KindUnavailable as exc:
            raise KindUsageError(str(exc)) from None

    def resolve(self) -> list[Subject]:
        endpoint = self.options.ocitest_cri_endpoint
        wanted = self.options.ocitest_runtime_handlers
        scheme, name = _scheme(endpoint)
        if not _embedded(endpoint) and scheme is None:
            return self._resolve_external(endpoint, wanted)
        subjects = []
        flavours = _flavours(endpoint)
        if self.target.remote:  # a containerd built at setup lives on this machine only
            flavours = [f for f in flavours if not f.version]
            if not flavours:
                raise KindUnavailable(
                    f"--cri-endpoint {endpoint}: the containerd built at setup runs on the "
                    f"local target only, not on {self.target.spec}"
                )
        for flavour in flavours:
            prefix = scheme.subject_prefix(name) if scheme is not None else flavour.prefix
            have = [h for h, b in flavour.handlers.items() if self.target.exists(b)]
            for h in wanted or []:
                if h not in have:
                    raise KindUnavailable(
                        f"--runtime-handler {h}: the embedded {flavour.prefix} has only "
                        f"{', '.join(have) or 'no handler (install runc or crun)'}"
                    )
            handlers = wanted or [h for h in have if h not in flavour.opt_in]
            if not handlers:
                raise KindUnavailable(
                    "no OCI runtime for the embedded containerd: install runc or crun"
                )
            subjects += [
                Subject(
                    kind="cri",
                    id=f"{prefix}-{h}",
                    name="containerd",
                    endpoint=endpoint if scheme is not None else flavour.endpoint_option,
                    handler=h,
                )
                for h in handlers
            ]
        return subjects

    def _resolve_external(self, endpoint: str, wanted: list[str] | None) -> list[Subject]:
        ver = version(endpoint)
        if ver is None:
            raise KindUnavailable(f"--cri-endpoint {endpoint}: Version did not answer")
        if isinstance(ver, str):
            raise KindUnavailable(f"--cri-endpoint {endpoint}: Version failed: {ver}")
        handlers = wanted or _configured_handlers(endpoint) or [""]
        return [
            Subject(
                kind="cri",
                id=f"{ver.runtime_name}-{h or 'default'}",
                name=ver.runtime_name,
                version=ver.runtime_version,
                spec_version=ver.runtime_api_version,
                endpoint=endpoint,
                handler=h,
            )
            for h in handlers
        ]

    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        """The registries and images; the embedded containerd (and a scheme's endpoint
        in front of it); the subjects' versions from Version."""
        if self.ctx.rootless:
            return None, ROOTLESS_SKIP
        ctx, first = self.ctx, subjects[0].endpoint
        scheme, name = _scheme(first)
        embedded = _embedded(first) or scheme is not None
        daemons = []
        if embedded:
            for opt in dict.fromkeys(s.endpoint for s in subjects):  # in order, once each
                ver = opt.partition(":")[2] if _embedded(opt) else _scheme_version(opt)
                flavour = ctd_service.daemon(ver)
                if flavour is None:
                    return None, f"--cri-endpoint {opt}: {ctd_service.not_built(ver)}"
                hs = {s.handler: flavour.handlers[s.handler] for s in subjects if s.endpoint == opt}
                daemons.append((flavour, hs))
        try:
            services = cri_services.start(
                self.target,
                ctx.run_id,
                ctx.work_base,
                ctx.state_base,
                ctx.cache_dir,
                [s.id for s in subjects],
                embedded,
                daemons=daemons,
            )
        except Exception as exc:  # reported on every CRI test as an error
            error = f"the CRI services did not start: {type(exc).__name__}: {exc}"
            print(f"\nocitest: {error}")
            return None, error
        services.image_endpoint = self.options.ocitest_cri_image_endpoint
        if not embedded:
            _write_external_hosts(self.target, services)
            return json.loads(services.to_json()), ""
        endpoints = {
            opt: c["endpoint"] for opt, c in services.containerds.items()
        }  # endpoint option -> the containerd's unix:// socket
        if scheme is not None:
            try:
                endpoints = {first: scheme.start(self.target, ctx, services, name)}
            except Exception as exc:
                return json.loads(services.to_json()), f"{first} did not start: {exc}"
        else:
            endpoints = {
                ("embedded:" + c["version"]) if c["version"] else "embedded": c["endpoint"]
                for c in services.containerds.values()
            }
        for s in subjects:
            s.endpoint = endpoints[s.endpoint]
        for ep in set(endpoints.values()):
            ver = version(ep)
            if not isinstance(ver, str) and ver is not None:
                for s in subjects:
                    if s.endpoint == ep:
                        s.version = ver.runtime_version
                        s.spec_version = ver.runtime_api_version
        return json.loads(services.to_json()), ""

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        """Stop what `start` started; pods of this run left on an external endpoint."""
        from infra.drivers.cri import remove_all_pods

        if services is None:
            return []
        svc = CriServices(**services)
        removed: list[str] = []
        if not svc.containerd and subjects:  # external: remove this run's pods left there
            endpoint = subjects[0].endpoint
            try:
                left = remove_all_pods(endpoint, prefix=self.ctx.run_id)
            except Exception as exc:
                left = [f"(could not list pods: {exc})"]
            removed += [f"pod {p} on {endpoint}" for p in left]
        removed += cri_services.stop(self.target, svc, self.ctx.work_base, self.ctx.state_base)
        return removed


def version(endpoint: str):
    """The endpoint's VersionResponse, or the error as "CODE: details"."""
    from infra.drivers.cri import CriClient

    res = CriClient(endpoint, EvidenceLog(), deadline=PROBE_DEADLINE).call("Version")
    return res.response if res.ok else f"{res.code_name}: {res.details[:200]}"


def _configured_handlers(endpoint: str) -> list[str]:
    """Runtime handlers named in Status's verbose info (containerd: config.containerd.runtimes)."""
    from infra.drivers.cri import CriClient

    res = CriClient(endpoint, EvidenceLog(), deadline=PROBE_DEADLINE).call("Status", verbose=True)
    if not res.ok or "config" not in res.response.info:
        return []
    try:
        cfg = json.loads(res.response.info["config"])
        return sorted(cfg["containerd"]["runtimes"])
    except (ValueError, KeyError, TypeError):
        return []


def _write_external_hosts(target: Target, services: CriServices) -> None:
    """hosts.toml files for an external containerd whose config_path is EXTERNAL_HOSTS_DIR."""
    reg, auth = services.registry["host"], services.auth_registry["host"]
    write_hosts(
        target, EXTERNAL_HOSTS_DIR, {OPEN_HOST: reg, "registry.k8s.io": reg, AUTH_HOST: auth}
    )


def services(ctx: RunContext) -> tuple[CriServices | None, str]:
    """(the run's CRI services or None, why not) as this process knows them."""
    run = current(ctx, CriKind.name)
    if run is None:
        return None, "no CRI subject was resolved in this process"
    svc = CriServices(**run.services) if run.services else None
    return svc, run.error
