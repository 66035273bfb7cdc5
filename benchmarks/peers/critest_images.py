"""The images critest pulls, made here from Debian's busybox-static under critest's names.

critest (cri-tools v1.37.0, pkg/validate, pkg/framework, pkg/benchmark) pulls its images
from registry.k8s.io, gcr.io, k8s.gcr.io and public.ecr.aws. Nothing here is pulled:
each name below is an image we build from the harness's busybox rootfs
(infra/images/rootfs.py) with our own small config, pushed to the CRI suite's local
registry, and reached through the same hosts.toml mirror the CRI suite writes
(infra/services/cri.py `start(..., mirrors=MIRRORS)`). The list is our reading of
critest's source (the constants naming images); what each image must do is what
critest checks of it, said in our words in `critest_images`.

What cannot be made here: the image critest names by digest
(`test-image-digest@sha256:9700f9...`, a digest of upstream content), so the tests
that use it fail for the environment (`ENVIRONMENT` in cri_peers.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from infra.images import oci

#: registry hosts critest names beside registry.k8s.io (which the CRI suite mirrors
#: already); each resolves to the local open registry through hosts.toml
MIRRORS = ("gcr.io", "k8s.gcr.io", "public.ecr.aws")
E2E = "registry.k8s.io/e2e-test-images/"
STAGING = "gcr.io/k8s-staging-cri-tools/"
ECR = "public.ecr.aws/docker/library/"
#: critest's digest-pinned image: upstream content, not made here
DIGEST_PINNED = (
    STAGING
    + "test-image-digest@sha256:9700f9a2f5bf2c45f2f605a0bd3bce7cf37420ec9d3ed50ac2758413308766bf"
)
#: the 1 MiB image both benchmarks pull (critest through its params file)
PULL_BENCH = STAGING + "ocitest-bench-pull:1"

PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "www-data:x:33:33:www-data:/var/www:/bin/false\n"
    "default-user:x:1000:1000:Linux User:/home/default-user:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n"
)
GROUP = (
    "root:x:0:\nwww-data:x:33:\ndefault-user:x:1000:\n"
    "group-defined-in-image:x:50000:default-user\nnogroup:x:65534:\n"
)
#: a web server named nginx for `pidof nginx` (comm comes from the file run, argv[0]
#: picks busybox's httpd applet), its pid in /var/run/nginx.pid, its page under /www;
#: the shell stays pid 1 with "nginx: master process" in its command line (critest
#: waits for those words in /proc/1/cmdline)
_NGINX = (
    "mkdir -p /var/run; echo 'nginx: serving /www on :{port}'; "
    "(exec -a httpd /usr/sbin/nginx -f -v -p {port} -h /www) & echo $! > /var/run/nginx.pid; wait"
)
MASTER = "nginx: master process"
_HTTPD = "echo 'httpd: serving /www on :80'; exec httpd -f -v -p 80 -h /www"
#: prints the effective uid: a setuid-root program shows whether no_new_privs held
_EUID_C = '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("Effective uid: %d\\n", (int)geteuid());return 0;}\n'
PAGE = b"<html><body>ocitest stand-in web server</body></html>\n"


def _euid_binary() -> bytes | None:
    """The effective-uid printer compiled static with the host's gcc, or None without
    gcc (the no-new-privs tests then fail for the environment)."""
    if shutil.which("gcc") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="ocitest-euid-") as d:
        src = Path(d) / "euid.c"
        src.write_text(_EUID_C)
        res = subprocess.run(
            ["gcc", "-static", "-Os", "-s", "-o", f"{d}/euid", str(src)],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        return (Path(d) / "euid").read_bytes() if res.returncode == 0 else None


def _with_libs(binary: str) -> dict[str, tuple[bytes, int]]:
    """`binary` and the shared libraries `ldd` names for it, at their host paths (none
    when the host lacks it: critest's tests that run it then fail, for the environment)."""
    if not Path(binary).is_file():
        return {}
    res = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30, check=False)
    paths = [binary, *re.findall(r"(/\S+) \(0x", res.stdout)]
    return {p.lstrip("/"): (Path(p).read_bytes(), 0o755) for p in paths if Path(p).is_file()}


def critest_images(rootfs_dir: str, busybox: str = "/usr/bin/busybox") -> dict[str, oci.Image]:
    """reference -> image, for every image critest pulls that can be made here.

    `rootfs_dir` is the cached busybox rootfs (infra/images/rootfs.cached_rootfs);
    `busybox` its binary, copied as /usr/sbin/nginx. Raises OSError when a file is
    missing."""
    base = oci.layer_from_dir(rootfs_dir)
    etc = oci.layer_from_files(
        {"etc/passwd": (PASSWD.encode(), 0o644), "etc/group": (GROUP.encode(), 0o644)}
    )
    www = oci.layer_from_files({"www/index.html": (PAGE, 0o644)})
    env = {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "WorkingDir": "/"}

    def img(cmd: list[str], *extra: bytes, user: str = "", label: str = "") -> oci.Image:
        cfg = env | {"Cmd": cmd} | ({"User": user} if user else {})
        return oci.make_image([base, *base_etc, *extra], cfg, labels={"ocitest-critest": label})

    # the busybox rootfs links every applet to /bin/busybox: critest masks /bin/ls (which
    # must not mask the shell too) and runs `ipcs` and `pgrep` (not busybox-static applets)
    tools = {"bin/ls": (Path(busybox).read_bytes(), 0o755)}
    for tool in ("/usr/bin/ipcs", "/usr/bin/pgrep"):  # util-linux's, procps's
        tools |= _with_libs(tool)
    base_etc = [etc, oci.layer_from_files(tools)]
    nginx_bin = oci.layer_from_files({"usr/sbin/nginx": (Path(busybox).read_bytes(), 0o755)})
    out: dict[str, oci.Image] = {
        E2E + "busybox:1.29-2": img(["sh"], label="busybox"),
        E2E + "nginx:1.14-2": img(
            ["sh", "-c", _NGINX.format(port=80), MASTER], www, nginx_bin, label="nginx"
        ),
        E2E + "httpd:2.4.39-4": img(["sh", "-c", _HTTPD], www, label="httpd"),
        STAGING + "hostnet-nginx-amd64": img(
            ["sh", "-c", _NGINX.format(port=12003), MASTER], www, nginx_bin, label="hostnet-nginx"
        ),
        STAGING + "test-image-predefined-group": img(["sh"], user="1000", label="predefined-group"),
    }
    euid = _euid_binary()
    if euid is not None:
        layer = oci.layer_from_files({"usr/local/bin/nonewprivs": (euid, 0o4755)})
        out[E2E + "nonewprivs:1.3"] = img(["/usr/local/bin/nonewprivs"], layer, label="nonewprivs")
    for name, user in (("uid", "1002"), ("username", "www-data"), ("uid-group", "1003:1004"),
                       ("username-group", "www-data:1004")):  # fmt: skip
        out[STAGING + f"test-image-user-{name}"] = img(["sh"], user=user, label=f"user-{name}")
    # images told apart by one file of their own name (what critest's image tests compare)
    for ref, name in (("test-image-latest", "latest"), ("test-image-tag:test", "tag"),
                      ("test-image-1:latest", "1"), ("test-image-2:latest", "2"),
                      ("test-image-3:latest", "3")):  # fmt: skip
        mark = oci.layer_from_files({name: (name.encode() + b"\n", 0o644)})
        out[STAGING + ref] = img(["sh"], mark, label=name)
    out[STAGING + "test-image-tag:all"] = out[STAGING + "test-image-tag:test"]
    tags = img(["sh"], oci.layer_from_files({"tags": (b"tags\n", 0o644)}), label="tags")
    for n in (1, 2, 3):
        out[STAGING + f"test-image-tags:{n}"] = tags
    for tag in ("1.35.0-glibc", "1-uclibc", "1", "1-glibc", "1-musl"):  # the listing benchmark
        out[ECR + f"busybox:{tag}"] = img(
            ["sh"], oci.layer_from_files({"t": (tag.encode(), 0o644)}), label=tag
        )
    # registry.k8s.io/pause:3.9 (and so k8s.gcr.io/pause:3.9, the same repository here)
    # is the CRI services' own pause image
    return out


def repo_and_tag(reference: str) -> tuple[str, str]:
    """("k8s-staging-cri-tools/test-image-tag", "test") of a reference; a missing tag is
    "latest". The host is dropped: every mirrored host is the one local registry."""
    path = reference.split("/", 1)[1]
    repo, _, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "latest")
    return repo, tag
