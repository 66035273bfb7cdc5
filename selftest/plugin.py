"""The self-tests' pytest plugin, loaded into their inner runs with `-p selftest.plugin`
(tests/conftest.py, SELFTEST_PLUGIN): registers the CRI endpoint scheme `mutant`, so that
`--cri-endpoint mutant:NAME` runs the embedded containerd behind the gRPC proxy of the
CRI mutant NAME (cri_proxy.py), through the hook of infra/kinds/cri.py
(`register_endpoint_scheme`). The product registers no scheme and never imports this
package.
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.kinds.base import KindUsageError
from infra.kinds.cri import register_endpoint_scheme, version
from infra.run import RunContext
from infra.services import spawn, wait_until
from infra.services.cri import CriServices
from infra.targets import Target

#: the checkout, put on the proxy's PYTHONPATH
ROOT = Path(__file__).resolve().parent.parent


class MutantScheme:
    """`mutant:NAME`: the proxy of the CRI mutant NAME in front of the embedded containerd
    (interface: infra.kinds.cri.EndpointScheme)."""

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

    def start(self, target: Target, ctx: RunContext, services: CriServices, name: str) -> str:
        """Start the proxy in front of `services.containerd["endpoint"]` (its pid in
        `services.proxy_pid`, stopped with the CRI services); its endpoint. Raises
        infra.services.ServiceError when it does not answer Version in time."""
        listen = f"unix://{ctx.state_base}/cri/proxy.sock"
        argv = ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "selftest.cri_proxy"]
        argv += ["--listen", listen, "--upstream", services.containerd["endpoint"]]
        argv += ["--mutant", name, "--run", ctx.run_id]
        pidfile, log = f"{ctx.state_base}/cri/proxy.pid", f"{ctx.work_base}/cri/proxy.log"
        services.proxy_pid = spawn(target, argv, pidfile, log)
        wait_until(f"mutant proxy at {listen}", lambda: not isinstance(version(listen), str))
        return listen


register_endpoint_scheme("mutant", MutantScheme())
