"""The images of the conversion suite (image-spec conversion.md): built by our code.

Each `Image` is one image config (plus optional manifest and index annotations) over one
tiny layer holding /etc/passwd and /etc/group, so that user and group names resolve in
the container's context, and /etc/ocitest-image (the image's name: no two images share
a layer). `write(dest, image)` writes it as an OCI image layout with the
ref name REF (deterministic bytes: same image, same digests). `IMAGES` maps a name to its
image; the tests (test_conversion.py) convert one by name and judge the runtime config.

The users and groups of the rootfs:
  alice uid 1000, primary gid 1000 (alice), also in extra (2000) and more (2001)
  bob   uid 1001, primary gid 1001 (bob), in no other group
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from infra.images import reference_layout as ref

#: the ref name (org.opencontainers.image.ref.name) of the image in every layout
REF = "conv"
#: the user alice of the rootfs: uid, primary gid, supplementary gids
ALICE = (1000, 1000, (2000, 2001))
#: the user bob: uid, primary gid, no supplementary group
BOB = (1001, 1001, ())
#: gid of the group "extra"
EXTRA_GID = 2000

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
    "bob:x:1001:1001:Bob:/home/bob:/bin/sh\n"
)
GROUP = "root:x:0:\nalice:x:1000:\nbob:x:1001:\nextra:x:2000:alice\nmore:x:2001:alice\n"

#: the platform of every image (variant and os.version set so each implicit annotation has
#: a value)
PLATFORM = {
    "architecture": "arm64",
    "os": "linux",
    "variant": "v8",
    "os.version": "6.1.0",
}
#: os.features of the images whose implicit annotations are judged (annotations,
#: labels-override) only: features are mandatory (config.md), and containerd 2.x refuses
#: to unpack an image whose features its snapshotter lacks, so the other images carry none
OS_FEATURES = ["ocitest-a", "ocitest-b"]
CREATED = "2024-01-02T03:04:05Z"
AUTHOR = "ocitest <ocitest@example.org>"
#: implicit annotation key -> image config field it comes from (conversion.md)
IMPLICIT = {
    "org.opencontainers.image.os": "os",
    "org.opencontainers.image.architecture": "architecture",
    "org.opencontainers.image.variant": "variant",
    "org.opencontainers.image.os.version": "os.version",
    "org.opencontainers.image.os.features": "os.features",
    "org.opencontainers.image.author": "author",
    "org.opencontainers.image.created": "created",
    "org.opencontainers.image.stopSignal": "Config.StopSignal",
}
EXPOSED_PORTS_KEY = "org.opencontainers.image.exposedPorts"


@dataclass(frozen=True)
class Image:
    """One image to convert.

    Attributes:
        name: its key in IMAGES.
        config: the `config` object of the image config (Entrypoint, Cmd, Env, User, ...).
        manifest_annotations: annotations of its manifest.
        index_annotations: annotations of the layout's index.json.
        os_features: the image config has os.features OS_FEATURES.
    """

    name: str
    config: dict
    manifest_annotations: dict = field(default_factory=dict)
    index_annotations: dict = field(default_factory=dict)
    os_features: bool = False

    def image_config(self) -> dict:
        """The whole image config document."""
        layer = self._layer_tar()
        return {
            **PLATFORM,
            **({"os.features": OS_FEATURES} if self.os_features else {}),
            "created": CREATED,
            "author": AUTHOR,
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": [ref.sha256(layer)]},
            "history": [{"created": CREATED, "created_by": "ocitest conversion_data"}],
        }

    def _layer_tar(self) -> bytes:
        return ref.tar_bytes(
            [
                ref.Entry("etc/", "dir", mode=0o755),
                ref.Entry("etc/passwd", data=PASSWD.encode()),
                ref.Entry("etc/group", data=GROUP.encode()),
                # the image's name: a layer (and a containerd snapshot) of its own, so
                # whether containerd checks a platform at unpack never depends on which
                # image unpacked a shared layer first
                ref.Entry("etc/ocitest-image", data=self.name.encode()),
                ref.Entry("home/", "dir", mode=0o755),
                ref.Entry("srv/", "dir", mode=0o755),
                ref.Entry("srv/app/", "dir", mode=0o755),
            ]
        )


def write(dest: Path, image: Image) -> None:
    """Write `image` as an OCI image layout in the new directory `dest` (ref REF)."""
    dest.mkdir(parents=True)
    layer = ref.compress(image._layer_tar(), "gzip")
    layer_digest = ref.write_blob(dest, layer)
    config = json.dumps(image.image_config(), sort_keys=True).encode()
    ref.write_blob(dest, config)
    manifest: dict = {
        "schemaVersion": 2,
        "mediaType": ref.MANIFEST,
        "config": ref.desc(ref.CONFIG, config),
        "layers": [{"mediaType": ref.TYPES["gzip"], "digest": layer_digest, "size": len(layer)}],
    }
    if image.manifest_annotations:
        manifest["annotations"] = image.manifest_annotations
    mbytes = json.dumps(manifest, sort_keys=True).encode()
    ref.write_blob(dest, mbytes)
    platform = {"architecture": PLATFORM["architecture"], "os": PLATFORM["os"]}
    index: dict = {
        "schemaVersion": 2,
        "mediaType": ref.INDEX,
        "manifests": [
            ref.desc(
                ref.MANIFEST,
                mbytes,
                platform=platform,
                annotations={"org.opencontainers.image.ref.name": REF},
            )
        ],
    }
    if image.index_annotations:
        index["annotations"] = image.index_annotations
    (dest / "index.json").write_text(json.dumps(index, sort_keys=True))
    (dest / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))


def _image(name: str, config: dict, **kw) -> Image:
    return Image(name, {"Env": ["PATH=/usr/bin:/bin"], **config}, **kw)


ENTRYPOINT = ["/bin/entry", "--flag"]
CMD = ["sub", "arg with space"]
#: Config.Env of the env image: PATH, a plain variable, an empty value, a value with '='
ENV = ["PATH=/opt/bin:/usr/bin", "OCITEST_A=1", "OCITEST_EMPTY=", "OCITEST_EQ=a=b"]
#: Config.Env of the env-defaults image: the names converters default (HOME from the
#: user's passwd entry, TERM, PATH), each given a value of the image's own
ENV_DEFAULTS = ["HOME=/ocitest/home", "TERM=ocitest-term", "PATH=/ocitest/bin"]
LABELS = {"com.example.ocitest.label": "label value", "com.example.ocitest.empty": ""}
EXPOSED = {"8080/tcp": {}, "53/udp": {}, "9000": {}}
VOLUMES = {"/data": {}, "/var/cache/ocitest": {}}
STOP_SIGNAL = "SIGUSR1"
#: labels that override each implicit annotation (and the exposed-ports one)
OVERRIDES = {key: f"from-label-{i}" for i, key in enumerate([*IMPLICIT, EXPOSED_PORTS_KEY])}
#: keys given in the manifest or index annotations only (never in the labels)
MANIFEST_ONLY = "com.example.ocitest.manifest-only"
INDEX_ONLY = "com.example.ocitest.index-only"
#: a key in the labels and in the manifest and index annotations (the label must win)
CONTESTED = "com.example.ocitest.contested"

IMAGES: dict[str, Image] = {
    i.name: i
    for i in (
        # process.args from Entrypoint and Cmd
        _image("args-both", {"Entrypoint": ENTRYPOINT, "Cmd": CMD}),
        _image("args-entrypoint-only", {"Entrypoint": ENTRYPOINT}),
        _image("args-cmd-only", {"Cmd": CMD}),
        _image("args-neither", {}),
        _image("args-empty-entrypoint", {"Entrypoint": [], "Cmd": CMD}),
        _image("args-empty-cmd", {"Entrypoint": ENTRYPOINT, "Cmd": []}),
        _image("args-both-empty", {"Entrypoint": [], "Cmd": []}),
        # process.env and process.cwd
        Image("env", {"Env": ENV, "Cmd": CMD}),
        Image("env-defaults", {"Env": ENV_DEFAULTS, "Cmd": CMD, "User": "alice"}),
        _image("cwd-set", {"WorkingDir": "/srv/app", "Cmd": CMD}),
        _image("cwd-unset", {"Cmd": CMD}),
        # process.user
        *(
            _image(f"user-{tag}", {"User": user, "Cmd": CMD})
            for tag, user in (
                ("uid", "1000"),
                ("uid-unknown", "1500"),
                ("uid-gid", "1000:3000"),
                ("name", "alice"),
                ("name-lonely", "bob"),
                ("name-group", "alice:extra"),
                ("name-gid", "alice:3000"),
                ("uid-group", "1001:extra"),
                ("unknown-name", "nobody-here"),
            )
        ),
        _image("user-absent", {"Cmd": CMD}),
        # annotations: implicit, labels, optional fields
        _image(
            "annotations",
            {"Cmd": CMD, "Labels": LABELS, "StopSignal": STOP_SIGNAL, "ExposedPorts": EXPOSED},
            manifest_annotations={MANIFEST_ONLY: "manifest", CONTESTED: "manifest"},
            index_annotations={INDEX_ONLY: "index", CONTESTED: "index"},
            os_features=True,
        ),
        _image(
            "labels-override",
            {
                "Cmd": CMD,
                "Labels": {**OVERRIDES, CONTESTED: "label"},
                "StopSignal": STOP_SIGNAL,
                "ExposedPorts": EXPOSED,
            },
            manifest_annotations={CONTESTED: "manifest"},
            index_annotations={CONTESTED: "index"},
            os_features=True,
        ),
        _image("volumes", {"Cmd": CMD, "Volumes": VOLUMES}),
    )
}


def implicit_value(key: str) -> str:
    """The value the image config gives the implicit annotation `key` (os.features:
    the features comma-separated, the form conversion.md gives exposedPorts)."""
    field_ = IMPLICIT[key]
    if field_ == "Config.StopSignal":
        return STOP_SIGNAL
    if field_ in ("created", "author"):
        return CREATED if field_ == "created" else AUTHOR
    value = OS_FEATURES if field_ == "os.features" else PLATFORM[field_]
    return ",".join(value) if isinstance(value, list) else value
