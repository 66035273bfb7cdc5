"""What the lifecycle tests share: the programs they run and reading the state."""

from __future__ import annotations

from contextlib import contextmanager

from infra.drivers.runtime import RuntimeDriver, RuntimeResult
from suites.messages import violation

#: prints a marker, then waits without end (pid 1 of the container)
LONG_RUNNING = ["sh", "-c", "echo ocitest-started; exec sleep 100000"]
#: prints a marker, then waits until the test creates /tmp/exit in the rootfs
UNTIL_EXIT_FILE = [
    "sh",
    "-c",
    "echo ocitest-started; while [ ! -e /tmp/exit ]; do usleep 20000; done",
]
#: prints a marker and exits
QUICK = ["sh", "-c", "echo ocitest-started"]


def state_of(runtime: RuntimeDriver, container_id: str, rid: str) -> tuple[dict, RuntimeResult]:
    """The state document of `container_id`, or an AssertionError citing `rid`."""
    rr = runtime.state(container_id)
    assert rr.ok, violation(
        rid,
        wanted=f"state of {container_id} (exit status 0)",
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )
    try:
        doc = rr.json()
    except ValueError as exc:
        raise AssertionError(
            violation(
                rid, wanted="the state as a JSON object", seen=f"not JSON: {exc}", evidence=[rr]
            )
        ) from None
    assert isinstance(doc, dict), violation(
        rid, wanted="the state as a JSON object", seen=f"JSON {type(doc).__name__}", evidence=[rr]
    )
    return doc, rr


def assert_created(container, rid: str, why: str = "") -> None:
    """AssertionError citing `rid` unless create of `container` succeeded."""
    rr = container.create_result
    assert rr.ok, violation(
        rid,
        wanted="create succeeds" + (f" ({why})" if why else ""),
        seen=f"exit status {rr.exit_status}",
        evidence=[rr],
    )


# --- filesystem tests (test_mounts.py, test_devices.py, ...): bundle content -----------
def mount_entry(
    destination: str, options: list[str] | None = None, type: str = "tmpfs", source: str = "tmpfs"
) -> dict:
    """One entry of config.json's mounts (a tmpfs unless told otherwise)."""
    entry = {"destination": destination, "type": type, "source": source}
    if options is not None:
        entry["options"] = list(options)
    return entry


def bundle_dir(bundle, name: str, files: dict[str, str] | None = None) -> str:
    """Make directory `name` inside the bundle (removed with it) holding `files`
    (file name -> text); returns its absolute path, e.g. for a bind-mount source."""
    path = f"{bundle.path}/{name}"
    bundle.target.make_dirs(path)
    for fname, text in (files or {}).items():
        bundle.target.write_text(f"{path}/{fname}", text)
    return path


def rootfs_file(bundle, path: str, text: str = "") -> str:
    """Write `text` to `path` (absolute, in the container) inside the bundle's rootfs
    copy, making its directory; returns the host path."""
    host_path = bundle.rootfs + path
    bundle.target.make_dirs(host_path.rsplit("/", 1)[0])
    bundle.target.write_text(host_path, text)
    return host_path


@contextmanager
def host_devices_kept(host, owner: str):
    """Afterwards, give back to root any host device node a runtime chowned to `owner`
    ("uid:gid", the test's mapped root: crun 1.8.1 chowns host /dev/null so), so a test
    that caught it does not leave the host changed."""
    try:
        yield
    finally:
        host.give_back_devices(owner)


#: a user namespace that maps every id to itself: the variant is the namespace, not the ids
IDENTITY_MAPPINGS = [{"containerID": 0, "hostID": 0, "size": 65536}]


def with_identity_user_namespace(bundle) -> None:
    """Give `bundle` a user namespace whose mappings keep every id (so a test of another
    field checks that field's user-namespace path, not the mappings)."""
    bundle.config["linux"]["namespaces"].append({"type": "user"})
    bundle.config["linux"]["uidMappings"] = [dict(m) for m in IDENTITY_MAPPINGS]
    bundle.config["linux"]["gidMappings"] = [dict(m) for m in IDENTITY_MAPPINGS]
