"""The self-tests' pytest plugin, loaded into their inner runs with `-p selftest.plugin`
(tests/conftest.py, SELFTEST_PLUGIN): registers the CRI endpoint scheme `mutant`, so that
`--cri-endpoint mutant:NAME` runs the embedded containerd behind the gRPC proxy of the
CRI mutant NAME (cri_proxy.py), through the hook of infra/kinds/cri.py
(`register_endpoint_scheme`); and the registry scheme `mutant`: `--registry mutant:NAME`
puts the proxy of registry mutant NAME (registry_proxy.py) in front of the embedded
registry (infra/kinds/registry.py, `register_registry_scheme`); and `fault:NAME` for both,
the same proxies playing a faulty endpoint (cri_faults.py, registry_faults.py). The
product registers no scheme and never imports this package.
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.kinds.base import KindUsageError
from infra.kinds.cri import register_endpoint_scheme, version
from infra.kinds.registry import register_registry_scheme
from infra.run import RunContext
from infra.services import spawn, wait_until
from infra.services.cri import CriServices
from infra.targets import Target

#: the checkout, put on the proxy's PYTHONPATH
ROOT = Path(__file__).resolve().parent.parent


class MutantScheme:
    """`mutant:NAME`: the proxy of the CRI mutant NAME in front of the embedded containerd
    (interface: infra.kinds.cri.EndpointScheme)."""

    option = "--mutant"

    def subject_prefix(self, name: str) -> str:
        """ "mutant-NAME": the subjects are mutant-NAME-HANDLER."""
        return f"mutant-{name}"

    def check(self, name: str) -> None:
        """Raises KindUsageError when no CRI mutant is called NAME."""
        from selftest.declare import load

        known = sorted(m.name for m in load("cri").values())
        if name not in known:
            raise KindUsageError(
                f"--cri-endpoint mutant:{name}: no such CRI mutant (known: {', '.join(known)})"
            )

    def containerd_version(self, name: str) -> str:
        """The embedded containerd the mutant NAME fronts ("" Debian's; a fault: "")."""
        from selftest.declare import load

        m = load("cri").get(f"cri-{name}")
        return m.containerd if m is not None and self.option == "--mutant" else ""

    def start(self, target: Target, ctx: RunContext, services: CriServices, name: str) -> str:
        """Start the proxy in front of `services.containerd["endpoint"]` (its pid in
        `services.proxy_pid`, stopped with the CRI services); its endpoint. Raises
        infra.services.ServiceError when it does not answer Version in time."""
        # in the fronted containerd's own directories, which its stop removes
        ctd = services.containerd
        listen = f"unix://{ctd['state']}/proxy.sock"
        argv = ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "selftest.cri_proxy"]
        argv += ["--listen", listen, "--upstream", ctd["endpoint"]]
        argv += [self.option, name, "--run", ctx.run_id]
        pidfile, log = f"{ctd['state']}/proxy.pid", f"{ctd['dir']}/proxy.log"
        services.proxy_pid = spawn(target, argv, pidfile, log)
        wait_until(f"mutant proxy at {listen}", lambda: not isinstance(version(listen), str))
        return listen


register_endpoint_scheme("mutant", MutantScheme())


class FaultScheme(MutantScheme):
    """`fault:NAME`: the proxy of the faulty CRI endpoint NAME (selftest/cri_faults.py)
    in front of the embedded containerd; subjects fault-NAME-HANDLER."""

    option = "--fault"

    def subject_prefix(self, name: str) -> str:
        return f"fault-{name}"

    def check(self, name: str) -> None:
        from selftest.cri_faults import FAULTS

        if name not in FAULTS:
            raise KindUsageError(
                f"--cri-endpoint fault:{name}: no such CRI fault (known: {', '.join(FAULTS)})"
            )


register_endpoint_scheme("fault", FaultScheme())


class RegistryMutantScheme:
    """`--registry mutant:NAME`: the proxy of the registry mutant NAME
    (selftest/registry_mutants.py) in front of the embedded registry (interface:
    infra.kinds.registry.RegistryScheme)."""

    option = "--mutant"

    def check(self, name: str) -> None:
        from selftest.registry_mutants import all_mutants

        known = all_mutants()
        if name not in known:
            raise KindUsageError(
                f"--registry mutant:{name}: no such registry mutant "
                f"(known: {', '.join(sorted(known))})"
            )

    def start(self, target: Target, ctx: RunContext, upstream: str, name: str) -> tuple[str, int]:
        """Start the proxy on a free port of 127.0.0.1; (its URL, its pid)."""
        from infra.services import free_port
        from infra.services.registry import Registry, probe

        host = f"127.0.0.1:{free_port()}"
        argv = ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "selftest.registry_proxy"]
        argv += ["--listen", host, "--upstream", upstream, self.option, name, "--run", ctx.run_id]
        base = f"{ctx.work_base}/registry"
        target.make_dirs(base)
        pid = spawn(target, argv, f"{base}/proxy-{name}.pid", f"{base}/proxy-{name}.log")
        reg = Registry(host, base, base, pid)
        wait_until(f"registry mutant proxy at {host}", lambda: probe(reg) in (200, 401))
        return f"http://{host}", pid


register_registry_scheme("mutant", RegistryMutantScheme())


class RegistryFaultScheme(RegistryMutantScheme):
    """`--registry fault:NAME`: the proxy of the faulty registry NAME
    (selftest/registry_faults.py) in front of the embedded registry; subject fault-NAME."""

    option = "--fault"

    def check(self, name: str) -> None:
        from selftest.registry_faults import FAULTS

        if name not in FAULTS:
            raise KindUsageError(
                f"--registry fault:{name}: no such faulty registry (known: {', '.join(FAULTS)})"
            )


register_registry_scheme("fault", RegistryFaultScheme())
