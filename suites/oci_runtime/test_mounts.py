"""config.md#mounts and config-linux.md#default-filesystems: the mounts a container sees.

Every check reads the probe's /proc/self/mountinfo or a file through the mount. Bind
sources live inside the bundle (removed with it); nothing on the host is mounted.
"""

from __future__ import annotations

import pytest

from suites.messages import violation
from suites.oci_runtime.helpers import bundle_dir, mount_entry

#: a marker file a bind-mount source holds, read back through the mount
MARKER = "ocitest-bind-source\n"


def _line(m) -> str:
    """One mount as a short text (mountinfo's fields that matter here)."""
    if m is None:
        return "no mount there"
    opt = " ".join(m.optional) or "-"
    return (
        f"{m.mount_point} id {m.mount_id} parent {m.parent_id} {m.fstype} "
        f"opts {','.join(sorted(m.options))} super {','.join(sorted(m.super_options))} {opt}"
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.in-order")
@pytest.mark.variant("scale-order")
def test_mounts_are_mounted_in_the_listed_order(containers):
    b = containers.bundle()
    b.config["mounts"] += [mount_entry("/mnt/outer"), mount_entry("/mnt/outer/inner")]
    probe = containers.probe(b)
    outer, inner = probe.mount("/mnt/outer"), probe.mount("/mnt/outer/inner")
    assert outer and inner and inner.parent_id == outer.mount_id, violation(
        "config.mounts.in-order",
        wanted="/mnt/outer mounted first, then /mnt/outer/inner on top of it (its parent)",
        seen=f"{_line(outer)}; {_line(inner)}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.mounted-as-asked", "runtime.create.applies-config")
def test_tmpfs_mount_has_its_type_and_options(containers):
    b = containers.bundle()
    b.config["mounts"].append(mount_entry("/mnt/t", options=["ro", "nosuid", "nodev", "noexec"]))
    probe = containers.probe(b)
    m = probe.mount("/mnt/t")
    wanted = {"ro", "nosuid", "nodev", "noexec"}
    assert m and m.fstype == "tmpfs" and wanted <= m.options, violation(
        "config.mounts.mounted-as-asked",
        wanted=f"a tmpfs at /mnt/t with mount flags {sorted(wanted)}",
        seen=_line(m),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.mounted-as-asked", "runtime.create.applies-config")
def test_bind_mount_shows_the_source_directory(containers):
    b = containers.bundle()
    source = bundle_dir(b, "bind-src", {"marker": MARKER})
    b.config["mounts"].append(
        {"destination": "/mnt/b", "type": "bind", "source": source, "options": ["bind"]}
    )
    probe = containers.probe(b, "read:/mnt/b/marker")
    assert probe.read("/mnt/b/marker") == MARKER, violation(
        "config.mounts.mounted-as-asked",
        wanted=f"/mnt/b/marker reads {MARKER!r} (bind mount of {source})",
        seen=f"{probe.action('read', '/mnt/b/marker')}; {_line(probe.mount('/mnt/b'))}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.bind-source-from-bundle")
def test_relative_bind_source_is_taken_from_the_bundle(containers):
    b = containers.bundle()
    bundle_dir(b, "rel-src", {"marker": MARKER})
    b.config["mounts"].append(
        {"destination": "/mnt/b", "type": "bind", "source": "rel-src", "options": ["bind"]}
    )
    probe = containers.probe(b, "read:/mnt/b/marker")
    assert probe.read("/mnt/b/marker") == MARKER, violation(
        "config.mounts.bind-source-from-bundle",
        wanted=f'source "rel-src" is {b.path}/rel-src: /mnt/b/marker reads {MARKER!r}',
        seen=f"{probe.action('read', '/mnt/b/marker')}; {_line(probe.mount('/mnt/b'))}",
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.destination-relative-from-root")
def test_relative_destination_is_taken_from_the_container_root(containers):
    b = containers.bundle()
    b.config["process"]["cwd"] = "/tmp"  # so "from the root" and "from the cwd" differ
    b.config["mounts"].append(mount_entry("mnt/rel"))
    probe = containers.probe(b)
    m, wrong = probe.mount("/mnt/rel"), probe.mount("/tmp/mnt/rel")
    assert m and m.fstype == "tmpfs" and wrong is None, violation(
        "config.mounts.destination-relative-from-root",
        wanted='destination "mnt/rel" mounted at /mnt/rel (process cwd /tmp), not /tmp/mnt/rel',
        seen=_line(m) + "; mount points: " + " ".join(x.mount_point for x in probe.mounts),
        evidence=[probe],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("config.mounts.unknown-options-as-data", "runtime.create.applies-config")
def test_filesystem_specific_options_reach_the_filesystem(containers):
    b = containers.bundle()
    b.config["mounts"].append(mount_entry("/mnt/t", options=["size=1m", "mode=711"]))
    probe = containers.probe(b, "stat:/mnt/t")
    m, st = probe.mount("/mnt/t"), probe.stat("/mnt/t") or {}
    ok = m and {"size=1024k", "mode=711"} <= m.super_options and st.get("mode") == 0o711
    assert ok, violation(
        "config.mounts.unknown-options-as-data",
        wanted="tmpfs superblock options size=1024k,mode=711 and /mnt/t of mode 0711",
        seen=f"{_line(m)}; mode {oct(st['mode']) if 'mode' in st else st}",
        evidence=[probe],
    )


#: config-linux.md#default-filesystems: path -> (filesystem type, requirement id)
DEFAULT_FILESYSTEMS = {
    "/proc": ("proc", "config-linux.default-filesystems.proc"),
    "/sys": ("sysfs", "config-linux.default-filesystems.sys"),
    "/dev/pts": ("devpts", "config-linux.default-filesystems.dev-pts"),
    "/dev/shm": ("tmpfs", "config-linux.default-filesystems.dev-shm"),
}


@pytest.mark.requires("root")
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, marks=pytest.mark.requirement(rid), id=p.strip("/").replace("/", "-"))
        for p, (_, rid) in DEFAULT_FILESYSTEMS.items()
    ],
)
def test_default_filesystem_is_mounted(containers, path):
    fstype, rid = DEFAULT_FILESYSTEMS[path]
    probe = containers.probe()
    m = probe.mount(path)
    assert m and m.fstype == fstype, violation(
        rid,
        wanted=f"a {fstype} filesystem at {path} (the baseline config lists it in mounts)",
        seen=_line(m),
        evidence=[probe],
    )


@pytest.mark.requires("root", "selinux_container_t")
@pytest.mark.requirement("config-linux.mount-label.applied")
def test_mount_label_is_the_context_of_the_mounts(containers):
    label = "system_u:object_r:container_file_t:s0:c1,c2"
    b = containers.bundle()
    b.config["linux"]["mountLabel"] = label
    b.config["mounts"].append(mount_entry("/mnt/t"))
    probe = containers.probe(b)
    m = probe.mount("/mnt/t")
    assert m and any(label in o for o in m.super_options), violation(
        "config-linux.mount-label.applied",
        wanted=f"the tmpfs at /mnt/t carries context={label}",
        seen=_line(m),
        evidence=[probe],
    )
