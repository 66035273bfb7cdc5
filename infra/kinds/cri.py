"""The cri kind: Kubernetes CRI endpoints over gRPC (RuntimeService, ImageService).

Options (docs/architecture.md, Contracts / Options): `--cri-endpoint URI|embedded|PREFIX:NAME`
(default embedded), `--cri-image-endpoint URI`, `--runtime-handler NAME` (repeatable;
default: each handler the endpoint has). Subjects: one per runtime handler, id
`NAME-HANDLER` (containerd-runc); the declared spec version is Version's
runtime_api_version. Once per run: the registries, the images and (embedded) the
private containerd start (infra/services/cri.py). A service that fails to start does
not abort the run: every CRI test ends as `error` with the reason (suites/cri/conftest.py).

`--cri-endpoint PREFIX:NAME` reaches an endpoint started in front of the embedded
containerd by a scheme registered with `register_endpoint_scheme` (the self-tests
register `mutant`); the product itself registers none.

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
from infra.services import cri as cri_services
from infra.services.containerd import HANDLER_BINARIES, write_hosts
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


#: endpoint prefix -> scheme (`register_endpoint_scheme`)
ENDPOINT_SCHEMES: dict[str, EndpointScheme] = {}


def register_endpoint_scheme(prefix: str, scheme: EndpointScheme) -> None:
    """Make `--cri-endpoint PREFIX:NAME` reach `scheme` (a plugin calls this at import)."""
    ENDPOINT_SCHEMES[prefix] = scheme


def _scheme(endpoint: str) -> tuple[EndpointScheme | None, str]:
    prefix, _, name = endpoint.partition(":")
    return ENDPOINT_SCHEMES.get(prefix), name


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
            metavar="URI|embedded",
            help="CRI endpoint to test: unix:///path.sock, tcp://host:port, or embedded "
            "(default: a private containerd the harness starts)",
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
        try:
            if endpoint != "embedded" and scheme is None:
                grpc_target(endpoint)
        except EndpointError as exc:
            known = ", ".join(["embedded", *(f"{p}:NAME" for p in sorted(ENDPOINT_SCHEMES))])
            raise KindUsageError(f"--cri-endpoint: {exc} (or {known})") from None
        if scheme is not None:
            scheme.check(name)
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
        if endpoint != "embedded" and scheme is None:
            return self._resolve_external(endpoint, wanted)
        prefix = scheme.subject_prefix(name) if scheme is not None else "containerd"
        have = [h for h, b in HANDLER_BINARIES.items() if self.target.exists(b)]
        for h in wanted or []:
            if h not in have:
                raise KindUnavailable(
                    f"--runtime-handler {h}: the embedded containerd has only "
                    f"{', '.join(have) or 'no handler (install runc or crun)'}"
                )
        handlers = wanted or have
        if not handlers:
            raise KindUnavailable(
                "no OCI runtime for the embedded containerd: install runc or crun"
            )
        return [
            Subject(kind="cri", id=f"{prefix}-{h}", name="containerd", endpoint=endpoint, handler=h)
            for h in handlers
        ]

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
        embedded = first == "embedded" or scheme is not None
        handlers = {s.handler: HANDLER_BINARIES[s.handler] for s in subjects} if embedded else None
        try:
            services = cri_services.start(
                self.target,
                ctx.run_id,
                ctx.work_base,
                ctx.state_base,
                ctx.cache_dir,
                [s.id for s in subjects],
                embedded,
                handlers,
            )
        except Exception as exc:  # reported on every CRI test as an error
            error = f"the CRI services did not start: {type(exc).__name__}: {exc}"
            print(f"\nocitest: {error}")
            return None, error
        services.image_endpoint = self.options.ocitest_cri_image_endpoint
        if not embedded:
            _write_external_hosts(self.target, services)
            return json.loads(services.to_json()), ""
        endpoint = services.containerd["endpoint"]
        if scheme is not None:
            try:
                endpoint = scheme.start(self.target, ctx, services, name)
            except Exception as exc:
                return json.loads(services.to_json()), f"{first} did not start: {exc}"
        for s in subjects:
            s.endpoint = endpoint
        ver = version(endpoint)
        if not isinstance(ver, str) and ver is not None:
            for s in subjects:
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
