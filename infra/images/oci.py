"""OCI images built locally and pushed to a registry over the distribution API.

Nothing is pulled from anywhere: an image is made of layers built here (the cached
busybox rootfs, a few generated files, the pause program) plus a generated config,
and pushed with plain HTTP to a registry on loopback (distribution-spec "push":
monolithic blob upload, then the manifest). Layers are deterministic tar.gz (mtime 0,
owner root), so the same inputs give the same digests run after run. Local target only
(the tar is made by this process).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
#: seconds per registry request
HTTP_TIMEOUT = 30


class ImageError(Exception):
    """An image could not be built or pushed (one line)."""


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _gzip(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


def layer_from_dir(path: str) -> bytes:
    """A tar.gz of the tree at `path` (as the image's /), deterministic."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(path)):
            if name == ".complete":
                continue
            tar.add(os.path.join(path, name), arcname=name, filter=_normalise)
    return _gzip(buf.getvalue())


def layer_from_files(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A tar.gz holding `files` (path in the image -> (content, mode)), deterministic."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs: set[str] = set()
        for name in sorted(files):
            parts = name.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = _normalise(tarfile.TarInfo(d))
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            data, mode = files[name]
            info = _normalise(tarfile.TarInfo(name.strip("/")))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return _gzip(buf.getvalue())


@dataclass
class Image:
    """An image ready to push: manifest, config and layer blobs (digest -> bytes)."""

    manifest: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    @property
    def config_digest(self) -> str:
        return json.loads(self.manifest)["config"]["digest"]


def make_image(layers: list[bytes], config: dict, labels: dict | None = None) -> Image:
    """An image of `layers` (tar.gz, bottom first) with `config` (the OCI image config's
    `config` object: Cmd, Entrypoint, Env, User, WorkingDir, ...)."""
    cfg = dict(config)
    if labels:
        cfg["Labels"] = dict(labels)
    diff_ids = [sha256(gzip.decompress(layer)) for layer in layers]
    config_doc = {
        "architecture": _arch(),
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "ocitest"} for _ in layers],
    }
    config_bytes = json.dumps(config_doc, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {
            "mediaType": CONFIG_TYPE,
            "digest": sha256(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": LAYER_TYPE, "digest": sha256(layer), "size": len(layer)}
            for layer in layers
        ],
    }
    img = Image(json.dumps(manifest, sort_keys=True).encode())
    img.blobs[sha256(config_bytes)] = config_bytes
    for layer in layers:
        img.blobs[sha256(layer)] = layer
    return img


def _arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def push(base_url: str, repo: str, tag: str, image: Image, auth: tuple[str, str] = ()) -> str:
    """Push `image` to `base_url` (http://127.0.0.1:PORT) as repo:tag; its digest.

    Raises:
        ImageError: a request failed (status and body excerpt in the message).
    """
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    for digest, data in image.blobs.items():
        if _request("HEAD", f"{base_url}/v2/{repo}/blobs/{digest}", headers, ok=(200, 404)) == 200:
            continue
        _, location = _request_loc("POST", f"{base_url}/v2/{repo}/blobs/uploads/", headers)
        sep = "&" if "?" in location else "?"
        if location.startswith("/"):
            location = base_url + location
        _request(
            "PUT",
            f"{location}{sep}digest={digest}",
            {**headers, "Content-Type": "application/octet-stream"},
            data,
        )
    _request(
        "PUT",
        f"{base_url}/v2/{repo}/manifests/{tag}",
        {**headers, "Content-Type": MANIFEST_TYPE},
        image.manifest,
    )
    return image.digest


def _request_loc(method: str, url: str, headers: dict, data: bytes | None = None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            return resp.status, resp.headers.get("Location", "")
    except urllib.error.HTTPError as exc:
        raise ImageError(f"{method} {url}: HTTP {exc.code}: {exc.read()[:200]!r}") from None
    except OSError as exc:
        raise ImageError(f"{method} {url}: {exc}") from None


def _request(
    method: str, url: str, headers: dict, data: bytes | None = None, ok: tuple = (200, 201, 202)
) -> int:
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        if status not in ok:
            raise ImageError(f"{method} {url}: HTTP {status}: {exc.read()[:200]!r}") from None
    except OSError as exc:
        raise ImageError(f"{method} {url}: {exc}") from None
    if status not in ok:
        raise ImageError(f"{method} {url}: HTTP {status}")
    return status
