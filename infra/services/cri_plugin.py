"""The CRI part of the infra plugin: options, CRI subjects, services once per run.

Called from infra/plugin.py's hooks (DESIGN.md, Contracts / Options and Subjects):
- `--cri-endpoint URI|embedded` (default embedded), `--cri-image-endpoint URI`,
  `--runtime-handler NAME` (repeatable; default: each handler the endpoint has);
- one subject of kind `cri` per runtime handler, id `NAME-HANDLER` (containerd-runc);
  its declared spec version is Version's runtime_api_version;
- on the controller, after the run's directories exist: the registries, the images and
  (embedded) containerd start once; xdist workers get the result through workerinput.
A service that fails to start does not abort the run: every CRI test ends as `error`
with the reason (see suites/cri/conftest.py).
"""

from __future__ import annotations

import json
import os

import pytest

from infra.subjects import Subject
from infra.targets import Target

SERVICES = pytest.StashKey[object]()  # CriServices of this run, or None
ERROR = pytest.StashKey[str]()  # why the services could not start, or ""
_KEY = "ocitest_cri"
#: seconds for the Version and Status calls that resolve an external endpoint
PROBE_DEADLINE = 10.0
#: where the harness writes hosts.toml files for an external containerd's config_path
EXTERNAL_HOSTS_DIR = "/var/lib/ocitest/cri-hosts.d"


class CriUsageError(Exception):
    """A CRI option is wrong or its endpoint does not answer (one line)."""


def add_options(group) -> None:
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


def only_cri(rel: str) -> bool:
    """True when the path `rel` (relative to the rootdir) lies in the CRI suite."""
    return rel == os.path.join("suites", "cri") or rel.startswith(os.path.join("suites", "cri", ""))


def wants_cri(config: pytest.Config) -> bool:
    """True when the run selects the CRI suite (or a directory holding it)."""
    args = [a for a in config.args if not a.startswith("-")] or ["."]
    root = str(config.rootpath)
    for a in args:
        p = os.path.abspath(os.path.join(str(config.invocation_params.dir), a.split("::")[0]))
        rel = os.path.relpath(p, root)
        if rel in (".", "suites") or only_cri(rel):
            return True
    return False


def resolve(config: pytest.Config, target: Target) -> list[Subject]:
    """The CRI subjects of this run. Raises CriUsageError."""
    from infra.drivers.cri import EndpointError, grpc_target
    from infra.services.containerd import HANDLER_BINARIES

    endpoint = config.option.ocitest_cri_endpoint
    wanted = config.option.ocitest_runtime_handlers
    image_ep = config.option.ocitest_cri_image_endpoint
    try:
        if image_ep:
            grpc_target(image_ep)
        if endpoint != "embedded" and not endpoint.startswith("mutant:"):
            grpc_target(endpoint)
    except EndpointError as exc:
        raise CriUsageError(f"--cri-endpoint: {exc}") from None
    if endpoint == "embedded" or endpoint.startswith("mutant:"):
        prefix = "containerd"
        if endpoint.startswith("mutant:"):
            from infra.mutants.cri_proxy import CRI_MUTANTS

            name = endpoint.split(":", 1)[1]
            if name not in CRI_MUTANTS:
                raise CriUsageError(
                    f"--cri-endpoint {endpoint}: no such CRI mutant "
                    f"(known: {', '.join(sorted(CRI_MUTANTS))})"
                )
            prefix = f"mutant-{name}"
        have = [h for h, b in HANDLER_BINARIES.items() if target.exists(b)]
        for h in wanted or []:
            if h not in have:
                raise CriUsageError(
                    f"--runtime-handler {h}: the embedded containerd has only "
                    f"{', '.join(have) or 'no handler (install runc or crun)'}"
                )
        handlers = wanted or have
        if not handlers:
            raise CriUsageError("no OCI runtime for the embedded containerd: install runc or crun")
        return [
            Subject(kind="cri", id=f"{prefix}-{h}", name="containerd", endpoint=endpoint, handler=h)
            for h in handlers
        ]
    version = _version(endpoint)
    if version is None:
        raise CriUsageError(f"--cri-endpoint {endpoint}: Version did not answer")
    if isinstance(version, str):
        raise CriUsageError(f"--cri-endpoint {endpoint}: Version failed: {version}")
    handlers = wanted or _configured_handlers(endpoint) or [""]
    return [
        Subject(
            kind="cri",
            id=f"{version.runtime_name}-{h or 'default'}",
            name=version.runtime_name,
            version=version.runtime_version,
            spec_version=version.runtime_api_version,
            endpoint=endpoint,
            handler=h,
        )
        for h in handlers
    ]


def _version(endpoint: str):
    """The VersionResponse, or the error as "CODE: details"."""
    from infra.drivers.cri import CriClient
    from infra.evidence import EvidenceLog

    res = CriClient(endpoint, EvidenceLog(), deadline=PROBE_DEADLINE).call("Version")
    return res.response if res.ok else f"{res.code_name}: {res.details[:200]}"


def _configured_handlers(endpoint: str) -> list[str]:
    """Runtime handlers named in Status's verbose info (containerd: config.containerd.runtimes)."""
    from infra.drivers.cri import CriClient
    from infra.evidence import EvidenceLog

    res = CriClient(endpoint, EvidenceLog(), deadline=PROBE_DEADLINE).call("Status", verbose=True)
    if not res.ok or "config" not in res.response.info:
        return []
    try:
        cfg = json.loads(res.response.info["config"])
        return sorted(cfg["containerd"]["runtimes"])
    except (ValueError, KeyError, TypeError):
        return []


#: why CRI tests skip in a rootless run (CRI endpoints and their registries run as root)
ROOTLESS_SKIP = "needs root: the CRI suite runs containerd's CRI plugin, which runs as root"


def start_services(config: pytest.Config, target: Target, ctx) -> None:
    """Controller: start the registries, push images, start the embedded containerd."""
    from infra.services import cri

    subjects = [s for s in ctx.subjects if s.kind == "cri"]
    config.stash[SERVICES], config.stash[ERROR] = None, ""
    if not subjects or config.option.collectonly:
        return
    if ctx.rootless:
        config.stash[ERROR] = ROOTLESS_SKIP
        return
    first = subjects[0].endpoint
    mutant = first.split(":", 1)[1] if first.startswith("mutant:") else ""
    embedded = first == "embedded" or bool(mutant)
    handlers = None
    if embedded:
        from infra.services.containerd import HANDLER_BINARIES

        handlers = {s.handler: HANDLER_BINARIES[s.handler] for s in subjects}
    try:
        services = cri.start(
            target,
            ctx.run_id,
            ctx.work_base,
            ctx.state_base,
            ctx.cache_dir,
            [s.id for s in subjects],
            embedded,
            handlers,
        )
    except Exception as exc:  # reported on every CRI test as an error
        config.stash[ERROR] = f"the CRI services did not start: {type(exc).__name__}: {exc}"
        print(f"\nocitest: {config.stash[ERROR]}")
        return
    config.stash[SERVICES] = services
    services.image_endpoint = config.option.ocitest_cri_image_endpoint
    if embedded:
        endpoint = services.containerd["endpoint"]
        if mutant:
            try:
                endpoint = _start_proxy(target, ctx, services, mutant)
            except Exception as exc:
                config.stash[ERROR] = f"the mutant CRI proxy did not start: {exc}"
                return
        for s in subjects:
            s.endpoint = endpoint
        version = _version(subjects[0].endpoint)
        if not isinstance(version, str) and version is not None:
            for s in subjects:
                s.version = version.runtime_version
                s.spec_version = version.runtime_api_version
    else:
        _write_external_hosts(target, services)


def _start_proxy(target: Target, ctx, services, mutant: str) -> str:
    """Start the mutant proxy in front of the embedded containerd; its endpoint."""
    import sys

    from infra.services import spawn, wait_until

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    listen = f"unix://{ctx.state_base}/cri/proxy.sock"
    argv = ["env", f"PYTHONPATH={root}", sys.executable, "-m", "infra.mutants.cri_proxy"]
    argv += ["--listen", listen, "--upstream", services.containerd["endpoint"]]
    argv += ["--mutant", mutant, "--run", ctx.run_id]
    pid = spawn(target, argv, f"{ctx.state_base}/cri/proxy.pid", f"{ctx.work_base}/cri/proxy.log")
    services.proxy_pid = pid
    wait_until(f"mutant proxy at {listen}", lambda: not isinstance(_version(listen), str))
    return listen


def _write_external_hosts(target: Target, services) -> None:
    """hosts.toml files for an external containerd whose config_path is EXTERNAL_HOSTS_DIR."""
    from infra.services.containerd import write_hosts
    from infra.services.cri import AUTH_HOST, OPEN_HOST

    reg, auth = services.registry["host"], services.auth_registry["host"]
    write_hosts(
        target, EXTERNAL_HOSTS_DIR, {OPEN_HOST: reg, "registry.k8s.io": reg, AUTH_HOST: auth}
    )


def configure_node(node) -> None:
    """Controller side of xdist: hand the services to a worker."""
    services = node.config.stash.get(SERVICES, None)
    node.workerinput[_KEY] = json.dumps(
        {
            "services": services.to_json() if services is not None else None,
            "error": node.config.stash.get(ERROR, ""),
        }
    )


def configure_worker(config: pytest.Config) -> None:
    """Worker side: the services the controller started."""
    from infra.services.cri import CriServices

    data = json.loads(config.workerinput.get(_KEY, "{}") or "{}")
    text = data.get("services")
    config.stash[SERVICES] = CriServices.from_json(text) if text else None
    config.stash[ERROR] = data.get("error", "")


def services(config: pytest.Config):
    """(CriServices or None, why not)."""
    return config.stash.get(SERVICES, None), config.stash.get(ERROR, "")


def stop_services(config: pytest.Config, target: Target, ctx) -> list[str]:
    """Controller: stop what start_services started; what had to be removed by force."""
    from infra.drivers.cri import remove_all_pods
    from infra.services import cri

    svc = config.stash.get(SERVICES, None)
    if svc is None:
        return []
    config.stash[SERVICES] = None
    removed: list[str] = []
    for s in [s for s in ctx.subjects if s.kind == "cri"][:1]:
        if not svc.containerd:  # an external endpoint: remove pods of this run left there
            try:
                left = remove_all_pods(s.endpoint, prefix=ctx.run_id)
            except Exception as exc:
                left = [f"(could not list pods: {exc})"]
            removed += [f"pod {p} on {s.endpoint}" for p in left]
    removed += cri.stop(target, svc, ctx.work_base, ctx.state_base)
    return removed
