"""What a CRI run needs, started once per run: registries, images, and (embedded) containerd.

`start(target, ctx, subjects, embedded)`:
1. builds the images locally (busybox test image, pause image, small "scratch" images
   that image tests may pull and remove without touching each other);
2. starts two registries on loopback sharing one storage: open, and with basic auth;
3. pushes the images; names resolve through hosts.toml (`config_path`) to the open
   registry (`ocitest.test/...`, `registry.k8s.io/pause`) or to the auth one
   (`auth.ocitest.test/...`);
4. when embedded, starts the private containerd(s) (Debian's 1.6, the built 2.x, or
   both side by side: infra/services/containerd.py) and pulls the busybox and pause images
   into each.
The result (`CriServices`) travels to xdist workers as a dict. `stop` undoes it all.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field

from infra import redact
from infra.images import oci
from infra.images.pause import cached_pause
from infra.images.rootfs import cached_rootfs
from infra.services import ServiceError
from infra.services.containerd import (
    Containerd,
    Daemon,
    start_containerd,
    stop_containerd,
    write_hosts,
)
from infra.services.registry import Registry, start_registry, stop_registry
from infra.targets import Target

#: registry host names the images use; hosts.toml maps them to our registries
OPEN_HOST = "ocitest.test"
AUTH_HOST = "auth.ocitest.test"
PAUSE_REF = "registry.k8s.io/pause:3.9"
BUSYBOX_REPO = f"{OPEN_HOST}/busybox"
BUSYBOX_REF = f"{BUSYBOX_REPO}:1.0"
#: scratch image names; each is pushed once per CRI subject as NAME-SUBJECT
SCRATCH_NAMES = (
    "pull",
    "digest",
    "auth",
    "remove",
    "status",
    "list",
    "bad",
    "tags",
    "untag",
    "concurrent",
    "uid",
    "username",
    "filter",
    "registries",
)
SCRATCH_REPO = "scratch"
#: scratch images also pushed under more tags of the same manifest: NAME.2-SUBJECT, ...
SCRATCH_TAGS = {"tags": 3, "untag": 3}
#: image config fields of some scratch images (the others: Cmd only)
SCRATCH_CONFIG = {"uid": {"User": "1234"}, "username": {"User": "ocitest"}}
#: repository of the image pushed only as `latest`, once per subject: NOTAG_REPO-SUBJECT
NOTAG_REPO = "notag"
#: users and groups the test image adds (run-as tests use them)
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n"
    "ocitest:x:1234:1234:ocitest:/home:/bin/sh\n"
)
GROUP = "root:x:0:\nnogroup:x:65534:\nocitest:x:1234:\nextra:x:5678:ocitest\n"


@dataclass
class CriServices:
    """What a CRI run started, shared with every worker."""

    registry: dict
    auth_registry: dict
    images: dict[str, str] = field(default_factory=dict)  # name -> reference
    digests: dict[str, str] = field(default_factory=dict)  # reference -> manifest digest
    containerd: dict | None = None  # the first embedded containerd (Containerd.to_dict)
    #: every embedded containerd by its endpoint option ("embedded", "embedded:2.4.2")
    containerds: dict[str, dict] = field(default_factory=dict)
    username: str = "ocitest"
    password: str = field(default="", repr=False)  # a secret of the run (infra/redact.py)
    image_endpoint: str = ""
    proxy_pid: int = 0  # a mutant CRI proxy in front of containerd (self-tests)

    def __post_init__(self) -> None:
        # every process that learns the services (the one that started them, the others
        # from the run's kind file) knows the password as a secret of the run
        if self.password:
            redact.add_secret(self.password, self.username)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CriServices:
        return cls(**json.loads(text))

    def containerd_of(self, subject) -> dict | None:
        """The embedded containerd (Containerd.to_dict) serving `subject` (matched by its
        endpoint; one behind a scheme's proxy: the first), or None for an external one."""
        for c in self.containerds.values():
            if c["endpoint"] == subject.endpoint:
                return c
        return self.containerd

    def untagged(self, subject_id: str) -> str:
        """A reference without tag or digest (its image is pushed only as `latest`)."""
        return f"{OPEN_HOST}/{NOTAG_REPO}-{subject_id.lower()}"

    def scratch(self, name: str, subject_id: str, auth: bool = False, tag: int = 1) -> str:
        """The scratch image reference NAME for `subject_id`; `tag` > 1 names the same
        image's other tags (those in SCRATCH_TAGS)."""
        name = name if tag == 1 else f"{name}.{tag}"
        return f"{AUTH_HOST if auth else OPEN_HOST}/{SCRATCH_REPO}:{name}-{subject_id}"


def _busybox_image(target: Target, cache_dir: str) -> oci.Image:
    base = oci.layer_from_dir(cached_rootfs(target, cache_dir))
    extra = oci.layer_from_files(
        {
            "etc/passwd": (PASSWD.encode(), 0o644),
            "etc/group": (GROUP.encode(), 0o644),
            "etc/ocitest-image": (b"ocitest busybox image\n", 0o644),
        }
    )
    return oci.make_image(
        [base, extra],
        {
            "Cmd": ["sh"],
            "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "OCITEST_IMAGE_ENV=from-image"],
            "WorkingDir": "/",
        },
    )


def _pause_image(target: Target, cache_dir: str) -> oci.Image:
    with open(cached_pause(target, cache_dir), "rb") as f:
        binary = f.read()
    layer = oci.layer_from_files({"pause": (binary, 0o755)})
    return oci.make_image([layer], {"Entrypoint": ["/pause"]})


def start(
    target: Target,
    run_id: str,
    work: str,
    state_base: str,
    cache_dir: str,
    subject_ids: list[str],
    embedded: bool,
    handlers: dict[str, str] | None = None,
    daemons: list[tuple[Daemon, dict[str, str] | None]] | None = None,
    mirrors: tuple[str, ...] = (),
) -> CriServices:
    """Start what the CRI suite needs (see the module's docstring).

    `daemons`: the embedded containerds to start, each (flavour, handler -> runtime
    binary); default when `embedded`: Debian's with `handlers`. `mirrors`: more registry
    host names that hosts.toml sends to the open registry (a peer's image names).

    Raises:
        ServiceError: a registry, image push or containerd failed.
    """
    if target.kind != "local":
        raise ServiceError("the embedded CRI services run on the local target only")
    password = secrets.token_hex(8)
    reg = start_registry(target, f"{work}/registry")
    started = [reg]
    ctds: list[Containerd] = []
    try:
        auth = start_registry(target, f"{work}/registry-auth", reg.storage, "ocitest", password)
        started.append(auth)
        busybox = _busybox_image(target, cache_dir)
        pause = _pause_image(target, cache_dir)
        out = CriServices(registry=reg.to_dict(), auth_registry=auth.to_dict(), password=password)
        out.images = {"busybox": BUSYBOX_REF, "pause": PAUSE_REF}
        out.digests[BUSYBOX_REF] = oci.push(reg.url, "busybox", "1.0", busybox)
        out.digests[PAUSE_REF] = oci.push(reg.url, "pause", "3.9", pause)
        tiny = oci.layer_from_files({"ocitest-scratch": (b"scratch\n", 0o644)})
        for sid in subject_ids:
            for name in SCRATCH_NAMES:
                if name == "bad":
                    continue  # never pushed: pulling it must fail
                img = oci.make_image(
                    [tiny],
                    {"Cmd": ["/x"], **SCRATCH_CONFIG.get(name, {})},
                    labels={"ocitest": f"{name}-{sid}"},
                )
                for n in range(1, SCRATCH_TAGS.get(name, 1) + 1):
                    ref = out.scratch(name, sid, tag=n)
                    tag = ref.rsplit(":", 1)[1]
                    out.digests[ref] = oci.push(reg.url, SCRATCH_REPO, tag, img)
                    out.digests[out.scratch(name, sid, auth=True, tag=n)] = out.digests[ref]
            img = oci.make_image([tiny], {"Cmd": ["/x"]}, labels={"ocitest": f"notag-{sid}"})
            ref = out.untagged(sid)
            out.digests[ref] = oci.push(reg.url, ref.split("/", 1)[1], "latest", img)
        hosts = {OPEN_HOST: reg.host, "registry.k8s.io": reg.host, AUTH_HOST: auth.host}
        hosts |= {m: reg.host for m in mirrors}
        if embedded:
            from infra.services.containerd import daemon

            for flavour, hs in daemons or [(daemon(), handlers)]:
                ctd = start_containerd(
                    target, run_id, work, state_base, PAUSE_REF, hosts, hs, flavour
                )
                ctds.append(ctd)
                out.containerds[flavour.endpoint_option] = ctd.to_dict()
                out.containerd = out.containerd or ctd.to_dict()
                _pull(ctd.endpoint, [BUSYBOX_REF, PAUSE_REF])
        else:
            write_hosts(target, f"{work}/hosts.d", hosts)
        return out
    except BaseException:  # an interrupt too: stop what came up, then let it go on
        for ctd in ctds:
            stop_containerd(target, ctd, state_base)
        for r in started:
            stop_registry(target, r)
        raise


def _pull(endpoint: str, refs: list[str]) -> None:
    from cri_api.v1 import api_pb2 as pb

    from infra.drivers.cri import CriClient
    from infra.evidence import EvidenceLog

    c = CriClient(endpoint, EvidenceLog(), deadline=120)
    for ref in refs:
        res = c.call("PullImage", image=pb.ImageSpec(image=ref))
        if not res.ok:
            raise ServiceError(f"PullImage {ref}: {res.code_name}: {res.details[:300]}")


def stop(target: Target, services: CriServices, work: str, state_base: str) -> list[str]:
    """Stop containerd (if ours) and the registries; remove their files.

    Returns what had to be removed by force."""
    forced: list[str] = []
    if services.proxy_pid:
        from infra.services import stop_pid

        stop_pid(target, services.proxy_pid, grace=5)
    ours = list(services.containerds.values())
    if not ours and services.containerd:
        ours = [services.containerd]
    for c in ours:
        forced += stop_containerd(target, Containerd.from_dict(c), state_base)
    if not ours:  # an external endpoint: the pods' cgroup parent (named after the run) stays empty
        run_id = work.rstrip("/").rsplit("/", 1)[-1]
        target.run(
            [
                "sh",
                "-c",
                'for d in $(find /sys/fs/cgroup -maxdepth 3 -type d -name "$1-cri"); do '
                'find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done; true',
                "rm-cgroups",
                run_id,
            ],
            timeout=60,
        )
    for r in (services.auth_registry, services.registry):
        stop_registry(target, Registry.from_dict(r))
    for d in ("registry", "registry-auth", "hosts.d", "cri-logs"):
        target.remove_tree(f"{work}/{d}")
    return forced
