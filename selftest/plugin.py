"""The self-tests' pytest plugin: registers the `mutant` CRI endpoint scheme.

Loaded with `-p infra.mutants.plugin` by the harness's own inner runs (tests/conftest.py),
never by the product: `--cri-endpoint mutant:NAME` then starts the mutant gRPC proxy
NAME (infra/mutants/cri_proxy.py) in front of the embedded containerd, through the hook
of infra/kinds/cri.py (`register_endpoint_scheme`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from infra.kinds.base import KindUsageError
from infra.kinds.cri import register_endpoint_scheme, version
from infra.mutants.cri_proxy import CRI_MUTANTS
from infra.run import RunContext
from infra.services import spawn, wait_until
from infra.services.cri import CriServices
from infra.targets import Target

#: the checkout, put on the proxy's PYTHONPATH
ROOT = Path(__file__).resolve().parent.parent.parent


class MutantProxyScheme:
    """`mutant:NAME`: the mutant proxy NAME in front of the embedded containerd."""

    def subject_prefix(self, name: str) -> str:
        return f"mutant-{name}"

    def check(self, name: str) -> None:
        if name not in CRI_MUTANTS:
            raise KindUsageError(
                f"--cri-endpoint mutant:{name}: no such CRI mutant "
                f"(known: {', '.join(sorted(CRI_MUTANTS))})"
            )

    def start(self, target: Target, ctx: RunContext, services: CriServices, name: str) -> str:
        """Start the proxy; its endpoint. Raises ServiceError when it does not answer."""
        listen = f"unix://{ctx.state_base}/cri/proxy.sock"
        argv = ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "infra.mutants.cri_proxy"]
        argv += ["--listen", listen, "--upstream", services.containerd["endpoint"]]
        argv += ["--mutant", name, "--run", ctx.run_id]
        pid = spawn(
            target, argv, f"{ctx.state_base}/cri/proxy.pid", f"{ctx.work_base}/cri/proxy.log"
        )
        services.proxy_pid = pid
        wait_until(f"mutant proxy at {listen}", lambda: not isinstance(version(listen), str))
        return listen


register_endpoint_scheme("mutant", MutantProxyScheme())
