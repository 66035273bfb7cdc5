"""config.md#posix-platform-hooks in the variants where runtimes take a path of their own
(CONVENTIONS.md, "Variants, the way bugs ship"): many hooks of one kind, a long argv or
environment, an empty environment.

Every hook is a createRuntime hook (it runs in the runtime namespace during create) that
writes what it got into a file of the bundle; the test reads it on the host.
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import (
    LONG_RUNNING,
    assert_created,
    with_identity_user_namespace,
)

PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
#: more entries than a runtime's fixed-size table of a few would hold
MANY = 12


def _recording_hook(b, name: str, **entry) -> tuple[dict, str, str]:
    """A /bin/sh hook that writes its argv and environ (one entry a line) to files of the
    bundle; (hook entry, argv file, env file). `entry` may give args and env."""
    argv_file, env_file = f"{b.path}/ocitest-{name}-argv", f"{b.path}/ocitest-{name}-env"
    script = (
        f'cat >/dev/null; tr "\\0" "\\n" < /proc/$$/cmdline > {argv_file}; '
        f'tr "\\0" "\\n" < /proc/$$/environ > {env_file}'
    )
    args = entry.pop("args", ["sh"])
    return (
        {"path": "/bin/sh", "args": [args[0], "-c", script, *args[1:]], **entry},
        argv_file,
        env_file,
    )


def _lines(host, path: str) -> list[str]:
    return (host.read_text(path) or "").split("\n")[:-1]


def _env_seen_by_hook(containers, host, b, name: str, env: list[str]):
    """Create `b` with one createRuntime hook given `env`; (container, the environment
    the hook saw, one entry a line)."""
    hook, _, env_file = _recording_hook(b, name, env=env)
    b.config["hooks"] = {"createRuntime": [hook]}
    c = containers.create(b)
    assert_created(c, "config.hooks.env")
    return c, _lines(host, env_file)


@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.hooks.env")
def test_a_hook_gets_a_long_environment_whole(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    env = [PATH, *(f"OCITEST_HOOK_{i:02d}=value {i}" for i in range(MANY))]
    c, seen = _env_seen_by_hook(containers, host, b, "env", env)
    assert seen == env, violation(
        "config.hooks.env",
        wanted=f"the hook's environment exactly its {len(env)} env entries",
        seen=f"{len(seen)} entries; missing {sorted(set(env) - set(seen))}",
        evidence=[c.create_result],
    )


@pytest.mark.variant("boundary")
@pytest.mark.requirement("config.hooks.env")
def test_a_hook_with_an_empty_env_gets_an_empty_environment(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    c, seen = _env_seen_by_hook(containers, host, b, "noenv", [])
    assert seen == [], violation(
        "config.hooks.env",
        wanted="no environment at all (env is [], not absent: nothing of the runtime's own)",
        seen=f"{len(seen)} entries: {sorted(e.split('=', 1)[0] for e in seen)}",
        evidence=[c.create_result],
    )


@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.hooks.args")
def test_a_hook_gets_a_long_argv_whole(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    hook, argv_file, _ = _recording_hook(
        b, "argv", args=["ocitest-argv0", *(f"arg {i}" for i in range(MANY))], env=[PATH]
    )
    b.config["hooks"] = {"createRuntime": [hook]}
    c = containers.create(b)
    assert_created(c, "config.hooks.args")
    seen = _lines(host, argv_file)
    assert seen == hook["args"], violation(
        "config.hooks.args",
        wanted=f"the hook's argv exactly its {len(hook['args'])} args",
        seen=f"{seen}",
        evidence=[c.create_result],
    )


@pytest.mark.variant("scale-order")
@pytest.mark.requirement("config.hooks.order")
def test_many_hooks_of_a_kind_all_run_in_the_listed_order(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    log = f"{b.path}/ocitest-many-hooks"
    b.config["hooks"] = {
        "createRuntime": [
            {"path": "/bin/sh", "args": ["sh", "-c", f"cat >/dev/null; echo {n} >> {log}"]}
            for n in range(MANY)
        ]
    }
    c = containers.create(b)
    assert_created(c, "config.hooks.order")
    seen = (host.read_text(log) or "").split()
    wanted = [str(n) for n in range(MANY)]
    assert seen == wanted, violation(
        "config.hooks.order",
        wanted=f"the {MANY} createRuntime hooks ran, in the listed order: {' '.join(wanted)}",
        seen=f"{log}: {seen}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root", "userns")
@pytest.mark.variant("privilege")
@pytest.mark.requirement("config.hooks.env")
def test_a_hook_gets_its_env_when_the_container_has_a_user_namespace(containers, host):
    b = containers.bundle(args=LONG_RUNNING)
    with_identity_user_namespace(b)
    env = [PATH, "OCITEST_HOOK=userns"]
    c, seen = _env_seen_by_hook(containers, host, b, "userns", env)
    assert seen == env, violation(
        "config.hooks.env",
        wanted=f"the hook's environment exactly {env} (the container has a user namespace)",
        seen=f"{seen}",
        evidence=[c.create_result],
    )
