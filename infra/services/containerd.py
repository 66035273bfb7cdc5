"""The embedded containerds: private containerds with their CRI plugin, once per run.

Two flavours (`Daemon`): Debian's containerd 1.6 (`embedded`, config version 2, subject
ids containerd-HANDLER) and the containerd 2.x built at setup from its Go module
(`embedded:2.4.2`, infra/gobuild.py; config version 3, subject ids
containerd-2.4.2-HANDLER, its own shim by `runtime_path` and, for the runc handler,
runc-1.5.3 when that is built too). Both may run side by side in one run; each has its
own TAG (cri, cri2) naming its directories, runtime roots, bridge and subnet.

`start_containerd` generates everything in the run's directories:
- root  /var/lib/ocitest/runs/RUN_ID/TAG/root, state /run/ocitest/RUN_ID/TAG/state,
  socket /run/ocitest/RUN_ID/TAG/containerd.sock, config, CNI config and hosts.toml
  files beside them (2.x: its shims' sockets in /run/ocitest/RUN_ID/TAG/s, NRI off);
- the CRI plugin with one runtime handler per OCI runtime found (runc, crun), each with
  its runtime root under /run/ocitest/RUN_ID (a `TAG-NAME.runtime` file names the binary,
  so the sweeper's runtime step finds containers a killed run left), `restrict_oom_score_adj`,
  network namespaces under its state dir, the sandbox image from the local registry;
- a CNI bridge `RUN_ID-br` (2.x: `RUN_ID-b2`) with host-local addresses in a private /24
  (10.231.N.0/24, 2.x: 10.232.N.0/24, N from the run id), addresses kept in the state dir.
It waits until Status says RuntimeReady and NetworkReady. `stop_containerd` removes
every pod (stopping their shims), stops containerd, unmounts and removes its
directories, the bridge and the pods' cgroup parent.
"""

from __future__ import annotations

import contextlib
import json
import shlex
from dataclasses import asdict, dataclass, field

from infra import gobuild
from infra.services import ServiceError, spawn, stop_pid, wait_until
from infra.targets import Target

BINARY = "/usr/bin/containerd"
CNI_BIN = "/usr/lib/cni"
#: handler name -> binary, in the order they are configured (the first is the default)
HANDLER_BINARIES = {"runc": "/usr/sbin/runc", "crun": "/usr/bin/crun"}
#: containerd's CRI namespace
NAMESPACE = "k8s.io"
#: the containerd 2.x build (infra/gobuild.py BUILDS key) and the runtime build its runc
#: handler uses when present
BUILD = "containerd"
RUNC_BUILD = "runc"


@dataclass(frozen=True)
class Daemon:
    """One flavour of embedded containerd.

    Attributes:
        version: "" for Debian's (`--cri-endpoint embedded`), else the built version
            ("2.4.2", `--cri-endpoint embedded:2.4.2`).
        binary: the containerd binary.
        shim: the containerd-shim-runc-v2 to use (`runtime_path`), "" = containerd's lookup.
        handlers: handler -> OCI runtime binary, in order (the first is the default).
        tag: names its directories (RUN/TAG), runtime roots (RUN/TAG-HANDLER) and bridge.
        opt_in: handlers tested only when named by --runtime-handler: Debian's crun 1.8.1
            refuses an ociVersion of 1.2 or later, which containerd 2.x writes ("unknown version
            specified" on every RunPodSandbox), so by default 2.x is tested with runc.
    """

    version: str
    binary: str
    shim: str
    handlers: dict
    tag: str
    opt_in: tuple = ()

    @property
    def endpoint_option(self) -> str:
        return f"embedded:{self.version}" if self.version else "embedded"

    @property
    def prefix(self) -> str:
        """Subject id prefix: containerd, containerd-2.4.2."""
        return f"containerd-{self.version}" if self.version else "containerd"

    @property
    def bridge_suffix(self) -> str:
        return "br" if self.tag == "cri" else "b2"

    @property
    def subnet_base(self) -> str:
        return "10.231" if self.tag == "cri" else "10.232"


def built_version() -> str:
    """The version of the containerd built at setup ("2.4.2"), or "" when not built
    (or $OCITEST_GO_BUILDS is none)."""
    if gobuild.built_dir(BUILD) is None:
        return ""
    return gobuild.BUILDS[BUILD].version.lstrip("v")


def daemon(version: str = "") -> Daemon | None:
    """The flavour for `--cri-endpoint embedded[:VERSION]`; None when VERSION names no
    containerd built and cached (callers say so with `not_built`)."""
    if not version:
        return Daemon("", BINARY, "", dict(HANDLER_BINARIES), "cri")
    d = gobuild.built_dir(BUILD)
    if d is None or version != built_version():
        return None
    handlers = dict(HANDLER_BINARIES)
    runc = gobuild.built_binary(gobuild.BUILDS[RUNC_BUILD].subject_id)
    if runc:
        handlers["runc"] = runc
    return Daemon(
        version,
        f"{d}/containerd",
        f"{d}/containerd-shim-runc-v2",
        handlers,
        "cri2",
        opt_in=("crun",),
    )


def not_built(version: str) -> str:
    """Why `embedded:VERSION` cannot be used (one line)."""
    want = gobuild.BUILDS[BUILD].version.lstrip("v")
    if version != want:
        return f"no embedded containerd {version}: the harness builds containerd {want} only"
    return (
        f"containerd {want} is not built (run ./ocitest setup with Go on PATH, and "
        f"{gobuild.SELECT_ENV} not none)"
    )


@dataclass
class Containerd:
    """A running embedded containerd.

    Attributes:
        endpoint: unix:// URI of its gRPC socket.
        dir: its directory under the run's work dir (config, log, root).
        state: its state dir (socket, netns, runtime roots).
        pid: the containerd process.
        handlers: runtime handler -> OCI runtime binary.
        subnet: the pods' CNI subnet.
        bridge: the CNI bridge's name.
        run_id: the run it belongs to.
        version: "" (Debian's) or the built version (Daemon.version).
        tag: its directories' name (Daemon.tag).
    """

    endpoint: str
    dir: str
    state: str
    pid: int
    run_id: str
    handlers: dict[str, str] = field(default_factory=dict)
    subnet: str = ""
    bridge: str = ""
    version: str = ""
    tag: str = "cri"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Containerd:
        return cls(**data)

    @property
    def cgroup_parent(self) -> str:
        return cgroup_parent(self.run_id)


def cgroup_parent(run_id: str) -> str:
    """The cgroup parent of every pod of the run (named after it, for the sweeper)."""
    return f"/{run_id}-cri"


def _subnet(run_id: str, base: str = "10.231") -> str:
    return f"{base}.{int(run_id[-4:], 16) % 250 + 2}.0/24"


_CONFIG = """version = 2
root = "{root}"
state = "{state}"
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{socket}"

[ttrpc]
  address = ""

[debug]
  address = ""
  level = "warn"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false
  stats_collect_period = 1
  tolerate_missing_hugetlb_controller = true
  disable_hugetlb_controller = true

  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "{default}"
    snapshotter = "overlayfs"
{runtimes}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{cni_bin}"
    conf_dir = "{net_d}"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{hosts_d}"
"""

_RUNTIME = """
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{name}]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.{name}.options]
        BinaryName = "{binary}"
        Root = "{root}"
"""

# containerd 2.x, config version 3 (keys as `containerd config default` of 2.4.2 prints
# them; the CRI plugin split into cri.v1.images and cri.v1.runtime)
_CONFIG_V3 = """version = 3
root = "{root}"
state = "{state}"
imports = []
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs", "io.containerd.nri.v1.nri",
  "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{socket}"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "{root}/opt"

[plugins."io.containerd.shim.v1.manager"]
  socket_dir = "{shim_sockets}"

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  stats_collect_period = 1

  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "{sandbox_image}"

  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "{hosts_d}"

[plugins."io.containerd.cri.v1.runtime"]
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  tolerate_missing_hugetlb_controller = true
  disable_hugetlb_controller = true
  cdi_spec_dirs = []

  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "{default}"
{runtimes}
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["{cni_bin}"]
    conf_dir = "{net_d}"
    max_conf_num = 1

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_tls_streaming = false
"""

_RUNTIME_V3 = """
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.{name}]
      runtime_type = "io.containerd.runc.v2"
      runtime_path = "{shim}"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.{name}.options]
        BinaryName = "{binary}"
        Root = "{root}"
"""

# The server is the local registry itself, so nothing ever falls back to the internet.
_HOSTS = """server = "http://{registry}"

[host."http://{registry}"]
  capabilities = ["pull", "resolve", "push"]
"""


def config_text(
    root: str,
    state: str,
    socket: str,
    sandbox_image: str,
    handlers: dict[str, str],
    run_state: str,
    net_d: str,
    hosts_d: str,
    flavour: Daemon | None = None,
) -> str:
    """containerd's config.toml for the given paths and handlers: version 2 for
    Debian's containerd 1.6, version 3 for a built 2.x (`flavour`)."""
    flavour = flavour or daemon()
    if flavour.version:
        runtimes = "".join(
            _RUNTIME_V3.format(
                name=n, binary=b, root=f"{run_state}/{flavour.tag}-{n}-root", shim=flavour.shim
            )
            for n, b in handlers.items()
        )
        return _CONFIG_V3.format(
            root=root,
            state=state,
            socket=socket,
            shim_sockets=f"{socket.rsplit('/', 1)[0]}/s",
            sandbox_image=sandbox_image,
            default=next(iter(handlers)),
            runtimes=runtimes,
            cni_bin=CNI_BIN,
            net_d=net_d,
            hosts_d=hosts_d,
        )
    runtimes = "".join(
        _RUNTIME.format(name=n, binary=b, root=f"{run_state}/cri-{n}-root")
        for n, b in handlers.items()
    )
    return _CONFIG.format(
        root=root,
        state=state,
        socket=socket,
        sandbox_image=sandbox_image,
        default=next(iter(handlers)),
        runtimes=runtimes,
        cni_bin=CNI_BIN,
        net_d=net_d,
        hosts_d=hosts_d,
    )


def cni_config(run_id: str, state: str, flavour: Daemon | None = None) -> dict:
    """The CNI network list: a bridge with host-local addresses, and host ports."""
    flavour = flavour or daemon()
    return {
        "cniVersion": "0.4.0",
        "name": f"{run_id}-net" if flavour.tag == "cri" else f"{run_id}-net2",
        "plugins": [
            {
                "type": "bridge",
                "bridge": f"{run_id}-{flavour.bridge_suffix}",
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": _subnet(run_id, flavour.subnet_base)}]],
                    "dataDir": f"{state}/ipam",
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }


def write_hosts(target: Target, hosts_d: str, names: dict[str, str]) -> None:
    """hosts.toml files pointing each registry name (key) at a local registry (value)."""
    for name, registry in names.items():
        target.make_dirs(f"{hosts_d}/{name}")
        target.write_text(f"{hosts_d}/{name}/hosts.toml", _HOSTS.format(registry=registry))


def start_containerd(
    target: Target,
    run_id: str,
    work: str,
    state_base: str,
    sandbox_image: str,
    registries: dict[str, str],
    handlers: dict[str, str] | None = None,
    flavour: Daemon | None = None,
) -> Containerd:
    """Start a private containerd for `run_id` and wait until its CRI is ready.

    Args:
        work: the run's work dir (/var/lib/ocitest/runs/RUN_ID).
        state_base: the run's state dir (/run/ocitest/RUN_ID).
        sandbox_image: the pause image's reference (it must be pullable).
        registries: registry host name -> "127.0.0.1:PORT" serving it.
        handlers: handler -> OCI runtime binary (default: those of the flavour found).
        flavour: which containerd (`daemon(VERSION)`; default Debian's).

    Raises:
        ServiceError: no runtime found, containerd missing, or not ready in time.
    """
    from infra.drivers.cri import status_ready

    flavour = flavour or daemon()
    if not target.exists(flavour.binary):
        raise ServiceError(f"{flavour.binary} is missing: install Debian's containerd")
    if handlers is None:
        handlers = {n: b for n, b in flavour.handlers.items() if target.exists(b)}
    if not handlers:
        raise ServiceError("no OCI runtime for containerd: install runc or crun")
    tag = flavour.tag
    d, st = f"{work}/{tag}", f"{state_base}/{tag}"
    for p in (f"{d}/root", f"{d}/net.d", f"{d}/hosts.d", f"{st}/state"):
        target.make_dirs(p)
    socket = f"{st}/containerd.sock"
    for n, b in handlers.items():
        # the runtime's own root is ROOT/k8s.io: the sweeper reads NAME -> that dir
        root = f"{state_base}/{tag}-{n}-root"
        target.make_dirs(f"{root}/{NAMESPACE}")
        link = f"{state_base}/{tag}-{n}"
        target.run(["ln", "-sfn", f"{root}/{NAMESPACE}", link], timeout=10)
        target.write_text(f"{link}.runtime", b)
    target.write_text(
        f"{d}/config.toml",
        config_text(
            f"{d}/root",
            f"{st}/state",
            socket,
            sandbox_image,
            handlers,
            state_base,
            f"{d}/net.d",
            f"{d}/hosts.d",
            flavour,
        ),
    )
    target.write_text(
        f"{d}/net.d/10-ocitest.conflist",
        json.dumps(cni_config(run_id, st, flavour), indent=2),
    )
    write_hosts(target, f"{d}/hosts.d", registries)
    pid = spawn(
        target,
        [flavour.binary, "--config", f"{d}/config.toml"],
        f"{st}/containerd.pid",
        f"{d}/containerd.log",
    )
    ctd = Containerd(
        endpoint=f"unix://{socket}",
        dir=d,
        state=st,
        pid=pid,
        run_id=run_id,
        handlers=dict(handlers),
        subnet=_subnet(run_id, flavour.subnet_base),
        bridge=f"{run_id}-{flavour.bridge_suffix}",
        version=flavour.version,
        tag=tag,
    )
    try:
        wait_until(f"containerd at {socket}", lambda: status_ready(ctd.endpoint))
    except ServiceError as exc:
        log = target.run(["tail", "-5", f"{d}/containerd.log"], timeout=10).stdout
        stop_containerd(target, ctd, state_base)
        raise ServiceError(f"{exc}; its log: {log.strip()[-400:]}") from None
    return ctd


_CLEAN = r"""
run=$1; dir=$2; st=$3; bridge=$4; base=$5; tag=$6
# shims still running (their command line names our socket)
for p in /proc/[0-9]*; do
  if tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q -- "containerd-shim.*$st/containerd.sock"; then
    echo "shim ${p#/proc/}"; kill -9 "${p#/proc/}" 2>/dev/null
  fi
done
for b in "$dir" "$st" "$base/$tag"-*; do
  awk -v b="$b" '$5 == b || index($5, b "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
  while read -r m; do umount -l "$m" 2>/dev/null; done
done
ip link del "$bridge" 2>/dev/null
for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$run-cri" 2>/dev/null); do
  find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
done
rm -rf --one-file-system "$dir" "$st" "$base/$tag"-*
# the shims' socket directory (containerd 1.6 puts it there whatever its state dir);
# rmdir removes it only when no other containerd has a socket in it
rmdir /run/containerd/s /run/containerd 2>/dev/null
true
"""


def stop_containerd(target: Target, ctd: Containerd, state_base: str) -> list[str]:
    """Remove every pod, stop containerd, remove its directories, bridge and cgroups.

    Returns what had to be removed by force (shims left running), one line each."""
    from infra.drivers.cri import remove_all_pods

    with contextlib.suppress(Exception):  # it may be dead already: the rest still runs
        remove_all_pods(ctd.endpoint)
    stop_pid(target, ctd.pid, grace=10)
    res = target.run(
        [
            "sh",
            "-c",
            _CLEAN,
            "clean",
            ctd.run_id,
            ctd.dir,
            ctd.state,
            ctd.bridge,
            state_base,
            ctd.tag,
        ],
        timeout=120,
    )
    return [line for line in res.stdout.splitlines() if line.strip()]


def describe(ctd: Containerd) -> str:
    name = f"containerd {ctd.version}" if ctd.version else "containerd"
    return f"{name} pid {ctd.pid} at {ctd.endpoint} ({shlex.join(ctd.handlers)})"
