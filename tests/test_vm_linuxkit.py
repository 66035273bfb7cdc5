"""`--target qemu:linuxkit` (infra/images/vm_linuxkit.py): its LinuxKit spec, its
initramfs writer, its error paths, and the CI smoke: a boot that runs the lifecycle tests
in the guest (126 s at load 3-8 on this 2-core machine, 317 s at load 20; by default,
`OCITEST_VM_SMOKE=0` turns it off; skipped without QEMU or apt). The smoke runs the local
target beside the VM (`--target local --target qemu:linuxkit`): the multi-target run's
CI check, for the price of the local lifecycle tests (seconds).

LinuxKit's own parser (github.com/linuxkit/linuxkit/src/cmd/linuxkit/moby) is not used:
the Go module proxy refuses that module (`go list -m -versions` answered 403 "not
available", 2026-12-07), so the spec is checked here against the rules of LinuxKit's
documented format (docs/yaml.md): the top-level sections it knows, `kernel.image`, and
`name` and `image` on every onboot, onshutdown and service entry.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import time

import pytest

from infra.images import vm_linuxkit
from tests.conftest import PYTEST, ROOT, run_pytest
from tests.test_targets_remote import _our_qemus

#: LinuxKit's top-level sections and the keys of an image entry (docs/yaml.md)
SECTIONS = {"kernel", "init", "onboot", "onshutdown", "services", "files", "volumes", "trust"}
IMAGE_KEYS = {
    "name", "image", "command", "capabilities", "binds", "env", "cwd", "net", "pid", "ipc",
    "uts", "readonly", "rootfsPropagation", "mounts", "devices", "runtime", "sysctl",
    "rlimits", "uid", "gid", "additionalGids", "noNewPrivileges", "hostname", "oomScoreAdj",
    "cgroupsPath", "resources", "tmpfs", "annotations", "ambient", "user", "ref",
}  # fmt: skip
_REF = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
LIFECYCLE = [
    f"suites/oci_runtime/test_{n}.py" for n in ("create", "start", "state", "kill", "delete")
]


def linuxkit_problems(spec: object) -> list[str]:
    """What in `spec` (a loaded YAML document) LinuxKit's format does not allow."""
    if not isinstance(spec, dict):
        return ["the document is not a mapping"]
    problems = [f"unknown section {k!r}" for k in spec if k not in SECTIONS]
    kernel = spec.get("kernel")
    if not isinstance(kernel, dict) or not isinstance(kernel.get("image"), str):
        problems.append("kernel.image (a string) is required")
    elif not isinstance(kernel.get("cmdline", ""), str):
        problems.append("kernel.cmdline must be a string")
    for ref in spec.get("init") or []:
        if not isinstance(ref, str) or not _REF.match(ref):
            problems.append(f"init entry {ref!r} is not an image reference")
    for section in ("onboot", "onshutdown", "services"):
        names = []
        for entry in spec.get(section) or []:
            if not isinstance(entry, dict):
                problems.append(f"{section}: {entry!r} is not a mapping")
                continue
            for key in ("name", "image"):
                if not isinstance(entry.get(key), str):
                    problems.append(f"{section}: an entry has no {key}")
            if isinstance(entry.get("image"), str) and not _REF.match(entry["image"]):
                problems.append(f"{section} {entry.get('name')}: bad image {entry['image']!r}")
            problems += [
                f"{section} {entry.get('name')}: unknown key {k!r}"
                for k in entry
                if k not in IMAGE_KEYS
            ]
            cmd = entry.get("command", [])
            if not (isinstance(cmd, list) and all(isinstance(c, str) for c in cmd)):
                problems.append(f"{section} {entry.get('name')}: command must be a list of strings")
            names.append(entry.get("name"))
        problems += [f"{section}: name {n!r} twice" for n in set(names) if names.count(n) > 1]
    for f in spec.get("files") or []:
        if not isinstance(f, dict) or "path" not in f:
            problems.append(f"files: {f!r} has no path")
        elif not {"contents", "source", "directory", "symlink"} & set(f):
            problems.append(f"files {f['path']}: none of contents, source, directory, symlink")
    return problems


def test_the_spec_is_in_linuxkits_format_and_drives_the_build():
    spec = vm_linuxkit.load_spec()
    assert linuxkit_problems(spec) == []
    assert {s["name"] for s in spec["services"]} == {"sshd", "containerd"}
    inittab, rcs = vm_linuxkit._inittab(spec), vm_linuxkit._rcs(spec)
    for svc in spec["services"]:  # what the guest runs is what the spec says
        assert svc["command"][-1].split()[-1] in inittab, (svc, inittab)
    for step in spec["onboot"]:
        assert f"onboot: {step['name']} failed" in rcs, rcs


@pytest.mark.parametrize(
    "break_it, wanted",
    [
        (lambda s: s["services"][0].pop("image"), "services: an entry has no image"),
        (lambda s: s.__setitem__("boot", {}), "unknown section 'boot'"),
        (lambda s: s["kernel"].pop("image"), "kernel.image"),
        (lambda s: s["onboot"].append(dict(s["onboot"][0])), "name 'mounts' twice"),
        (lambda s: s["init"].append("Not A Ref"), "not an image reference"),
        (lambda s: s["onboot"][0].__setitem__("command", "mount -a"), "list of strings"),
    ],
)
def test_the_format_check_sees_a_broken_spec(break_it, wanted):
    spec = copy.deepcopy(vm_linuxkit.load_spec())
    break_it(spec)
    assert any(wanted in p for p in linuxkit_problems(spec)), linuxkit_problems(spec)


def test_the_initramfs_writer_makes_what_cpio_reads(tmp_path):
    """Our newc archive, unpacked by busybox's cpio: directories, a file with its mode
    and content, a symlink; a device node is listed (creating one needs no check here)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("needs busybox (busybox-static)")
    entries = [
        ("d", 0o755, None), ("d/f", 0o640, b"hello\x00world" * 3), ("d/l", 0o777, "f"),
        ("dev", 0o755, None), ("dev/console", 0o600, (5, 1)),
    ]  # fmt: skip
    archive = tmp_path / "a.cpio"
    with open(archive, "wb") as out:
        vm_linuxkit.cpio_newc(entries, out)
    listing = subprocess.run([busybox, "cpio", "-tv"], stdin=open(archive, "rb"),  # noqa: SIM115
                             capture_output=True, text=True, timeout=30, check=True).stdout  # fmt: skip
    assert re.search(r"^crw------- .* dev/console$", listing, re.M), listing
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run([busybox, "cpio", "-id", "d", "d/f", "d/l"], cwd=out, stdin=open(archive, "rb"),  # noqa: SIM115
                   capture_output=True, timeout=30, check=True)  # fmt: skip
    assert (out / "d/f").read_bytes() == b"hello\x00world" * 3
    assert oct((out / "d/f").stat().st_mode & 0o777) == "0o640"
    assert os.readlink(out / "d/l") == "f"


def test_without_qemu_the_target_is_a_one_line_usage_error(tmp_path):
    bindir = tmp_path / "bin"  # a PATH with what the harness needs but QEMU
    bindir.mkdir()
    for tool in ("timeout", "sh", "ssh", "tar", "apt-cache", "apt-get", "runc"):
        if shutil.which(tool):
            os.symlink(shutil.which(tool), bindir / tool)
    res = subprocess.run(
        [*PYTEST, "suites/oci_runtime/test_state.py", "--target", "qemu:linuxkit",
         "--report-dir", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, PATH=str(bindir)),
    )  # fmt: skip
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 4 and "Traceback" not in out, out
    assert len(out.splitlines()) == 1 and "qemu-system-x86_64 is not installed" in out, out


def test_cache_clear_removes_the_built_images_and_keeps_the_go_builds(tmp_path):
    cache = tmp_path / "cache"
    for d in ("vm/linuxkit-0123456789abcdef", "busybox-0123-v2", "go/builds", "other"):
        (cache / d).mkdir(parents=True)
    (cache / "pause-0123.lock").write_text("")
    env = dict(os.environ, OCITEST_CACHE=str(cache))
    res = subprocess.run([str(ROOT / "ocitest"), "cache", "clear"], capture_output=True,
                         text=True, timeout=60, env=env, check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(cache)) == ["go", "other"], res.stdout
    assert f"removed {cache}/vm" in res.stdout, res.stdout
    bad = subprocess.run([str(ROOT / "ocitest"), "cache", "drop"], capture_output=True,
                         text=True, timeout=60, env=env, check=False)  # fmt: skip
    assert bad.returncode == 4 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


@pytest.fixture(scope="module")
def linuxkit_image():
    if shutil.which("qemu-system-x86_64") is None or shutil.which("apt-get") is None:
        pytest.skip("needs qemu-system-x86 and apt (./ocitest setup installs QEMU)")
    from infra.run import CACHE_DIR

    try:
        return vm_linuxkit.linuxkit_image(CACHE_DIR)  # cached after the first build (40 s)
    except vm_linuxkit.ImageError as exc:
        pytest.skip(f"the qemu:linuxkit image cannot be built here: {exc}")


def test_a_linuxkit_guest_that_never_answers_is_a_usage_error(linuxkit_image, tmp_path):
    """A 3 s boot deadline: one line naming the console's tail, exit 4, no QEMU or VM
    directory left."""
    res = subprocess.run(
        [*PYTEST, "suites/oci_runtime/test_state.py", "--target", "qemu:linuxkit",
         "--report-dir", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env=dict(os.environ, OCITEST_VM_BOOT_TIMEOUT="3"),
    )  # fmt: skip
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 4 and "Traceback" not in out, out
    assert "did not answer ssh within 3 s; console:" in out.splitlines()[-1], out
    # this run's VM directory, named in its boot line (other runs may boot VMs meanwhile)
    booted = re.search(r"console (/run/ocitest-vm/oct\w+)/console\.log", out)
    assert booted, out
    assert not os.path.exists(booted.group(1)), out
    assert not _our_qemus({os.path.basename(booted.group(1))}), out


@pytest.mark.skipif(
    os.environ.get("OCITEST_VM_SMOKE") == "0",
    reason="OCITEST_VM_SMOKE=0: the qemu:linuxkit smoke (2-5 min under TCG) was turned off",
)
def test_the_lifecycle_tests_pass_in_a_linuxkit_guest_and_locally_in_one_run(
    linuxkit_image, tmp_path
):
    """CI smoke: the lifecycle files with runc, `--target local --target qemu:linuxkit` at
    -n 2: one report with a column per target (ids runc@local, runc@qemu:linuxkit), the
    same tests on both, no failure beyond the known ones, the guest's facts (cgroup v2,
    busybox init) and its console log in the report directory, nothing left; the VM
    booted once (one QEMU for the run, whatever the number of workers)."""
    args = [*LIFECYCLE, "--runtime", "runc", "-n", "2", "--target", "local",
            "--target", "qemu:linuxkit", "--known-failures", str(ROOT / "known-failures.yaml")]  # fmt: skip
    start = time.monotonic()
    run = run_pytest(args, tmp_path / "vm")
    print(f"local + qemu:linuxkit lifecycle smoke: {time.monotonic() - start:.0f} s")
    results = run.results
    assert [s["id"] for s in results["subjects"]] == ["runc@local", "runc@qemu:linuxkit"]
    by_target: dict[str, list[str]] = {"local": [], "qemu:linuxkit": []}
    for r in results["results"]:
        by_target[r["target"]].append(r["outcome"])
        assert r["subject"] == f"runc@{r['target']}", r["nodeid"]
    assert len(by_target["local"]) == len(by_target["qemu:linuxkit"]), by_target
    outcomes = by_target["qemu:linuxkit"]
    assert outcomes.count("passed") >= 20, run.stdout[-3000:]
    everything = by_target["local"] + outcomes
    assert not {"failed", "error", "stale"} & set(everything), run.stdout[-3000:]
    assert [t["spec"] for t in results["targets"]] == ["local", "qemu:linuxkit"]
    facts = results["targets"][1]["facts"]
    assert facts["distro"].startswith("ocitest linuxkit") and facts["cgroup"] == "unified", facts
    assert facts["init"] == "init", facts
    assert results["targets"][1]["logs"] == ["console-qemu-linuxkit.log"], results["targets"]
    console = (run.report_dir / "console-qemu-linuxkit.log").read_text(errors="replace")
    assert "ocitest onboot: done" in console, console[-2000:]
    assert not results["run"]["leftovers"], results["run"]["leftovers"][:5]
    # the VM's run: QEMU and overlay gone; the booting line printed once (controller)
    booted = re.findall(r"console /run/ocitest-vm/(oct\w+)/console\.log", run.stdout + run.stderr)
    assert len(booted) == 1, booted
    vm_dir = f"/run/ocitest-vm/{booted[0]}"
    assert not os.path.exists(vm_dir) and not _our_qemus({booted[0]}), vm_dir
