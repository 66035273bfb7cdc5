"""What the hook tests share (test_lifecycle_hooks.py, test_config_hooks.py): hooks that
log their name, and reading that log.

A logging hook appends its name to BUNDLE/hooks.log on the host when it runs in the
runtime namespace (prestart, createRuntime, createContainer, poststart, poststop);
startContainer runs in the container, so it appends to /hooks.log inside the rootfs.
`hooks_log` reads both, so a test can tell what ran before what.
"""

from __future__ import annotations

import json

from infra import specversion
from infra.containers import ContainerSession
from infra.drivers.host import HostInspector
from infra.evidence import Evidence
from infra.images.bundle import Bundle
from infra.outcomes import not_required
from suites.oci_runtime.helpers import LONG_RUNNING

#: hook kinds that runtime-spec added in 1.0.2
SINCE_1_0_2 = ("createRuntime", "createContainer", "startContainer")


def require_hook_kind(runtime, kind: str) -> None:
    """End the test as not-required when the runtime's declared version predates `kind`."""
    version = runtime.subject.spec_version
    if kind in SINCE_1_0_2 and version and specversion.before(version, "1.0.2"):
        not_required(f"{runtime.subject.id} declares {version}; {kind} hooks came in 1.0.2")


def logging_hook(bundle: Bundle, kind: str, fail: bool = False, log: str | None = None) -> dict:
    """A hook entry (config.md#posix-platform-hooks) that appends `kind` to `log` (default:
    the bundle's hooks.log, or /hooks.log in the container for startContainer), then
    exits 3 when `fail`, else 0."""
    log = log or (f"{bundle.path}/hooks.log" if kind != "startContainer" else "/hooks.log")
    # read the state on stdin first: a hook that leaves it unread can kill the runtime
    # with SIGPIPE (crun 1.8.1 then exits 141), which is not what these tests are about
    script = f"cat >/dev/null; echo {kind} >> {log}" + ("; exit 3" if fail else "")
    return {"path": "/bin/sh", "args": ["sh", "-c", script]}


def hooks_log(host: HostInspector, bundle: Bundle) -> list[str]:
    """The hook names logged so far (host side, then inside the rootfs), in order; each
    read is recorded as evidence, and so are the hooks config.json asked for (once)."""
    if not any(e.command.startswith("(config.json) hooks") for e in host.log.records):
        host.log.add(
            Evidence(
                command="(config.json) hooks",
                exit_status=None,
                stdout=json.dumps(bundle.config.get("hooks", {}), indent=1),
            )
        )
    lines = []
    for path in (f"{bundle.path}/hooks.log", f"{bundle.rootfs}/hooks.log"):
        text = host.read_text(path)
        lines += text.split() if text else []
    return lines


def bundle_with_hooks(
    containers: ContainerSession,
    kinds: list[str],
    failing: str | None = None,
    args: list[str] = LONG_RUNNING,
) -> Bundle:
    """A bundle running `args` with one logging hook per entry of `kinds` (in that
    order); the hook of kind `failing` exits 3."""
    b = containers.bundle(args=args)
    hooks: dict[str, list] = {}
    for kind in kinds:
        hooks.setdefault(kind, []).append(logging_hook(b, kind, fail=(kind == failing)))
    b.config["hooks"] = hooks
    return b
