"""Subjects built from Go modules at setup (infra/gobuild.py, issue 12).

The builds themselves are real: `./ocitest setup` runs them into the harness cache, and
the tests that need a finished build skip when there is none (no Go on this machine).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import gobuild, schemas
from infra.images.bundle import RootlessUser, baseline_config
from infra.subjects import assign_ids
from tests.conftest import ROOT

HAVE_GO = shutil.which("go") is not None
RUNC = gobuild.BUILDS["runc"]


def test_selection_names_builds_or_says_which_are_known():
    assert [b.name for b in gobuild.selection("default")] == ["runc", "containerd"]
    assert gobuild.selection("none") == []
    assert {b.name for b in gobuild.selection("all")} == set(gobuild.BUILDS)
    assert [b.name for b in gobuild.selection(" umoci, runc ")] == ["umoci", "runc"]
    with pytest.raises(gobuild.SelectionError, match=r"unknown build 'runk'.*runc"):
        gobuild.selection("runk")
    with pytest.raises(gobuild.SelectionError, match=r"'all' stands alone, not in a list"):
        gobuild.selection("all,none")


def test_built_subject_ids_carry_the_version_and_the_cache_key_the_module():
    assert RUNC.subject_id == "runc-1.5.3"
    assert RUNC.key == "github.com/opencontainers/runc@v1.5.3"
    assert RUNC.binaries == ("runc",)
    assert gobuild.BUILDS["containerd"].binaries == (
        "containerd",
        "containerd-shim-runc-v2",
        "ctr",
    )
    assert gobuild.built_name("runc-9.9.9") == "runc-9.9.9"
    assert gobuild.built_name("runc") is None
    assert gobuild.built_name("crun-1.8") is None  # crun is not built from Go
    assert gobuild.built_name("./runc-1.5.3") is None


def test_an_id_that_names_no_build_resolves_to_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OCITEST_CACHE", str(tmp_path))
    assert gobuild.built_binary("runc-9.9.9") is None
    assert gobuild.built_binary("crun") is None


def test_without_go_setup_says_so_in_one_line(tmp_path):
    env = {**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCITEST_CACHE": str(tmp_path)}
    if any(Path(d, "go").exists() for d in env["PATH"].split(":")):
        pytest.skip("a go binary is on the minimal PATH")
    res = subprocess.run(
        [sys.executable, "-c", "from infra import gobuild; gobuild.setup(print)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["no Go toolchain: testing Debian's subjects only"]
    assert not (tmp_path / "go").exists()


@pytest.mark.skipif(not HAVE_GO, reason="needs go on PATH")
def test_a_failed_build_names_the_module_and_its_output_and_does_not_raise(tmp_path):
    bad = gobuild.GoBuild("nothing", "example.invalid/ocitest/nothing", "v0.0.1", ("",))
    said: list[str] = []
    out = gobuild.build(bad, said.append, root=tmp_path)
    assert out.state == "failed", said
    assert any("example.invalid/ocitest/nothing@v0.0.1 failed" in s for s in said), said
    assert len(said) >= 3  # started, failed, at least one line of go's own output
    assert not gobuild.build_dir(bad, tmp_path).exists()
    assert not list(gobuild.build_dir(bad, tmp_path).parent.glob(".*.tmp-*"))


def _built_runc() -> str:
    path = gobuild.built_binary(RUNC.subject_id)
    if path is None:
        pytest.skip("runc-1.5.3 is not built here (./ocitest setup with Go on PATH)")
    return path


def test_a_finished_build_is_cached_with_its_record():
    path = Path(_built_runc())
    d = path.parent.parent
    rec = json.loads((d / "build.json").read_text())
    assert rec["module"] == RUNC.module and rec["version"] == RUNC.version
    assert rec["tags"] == ["seccomp"] and rec["go"].startswith("go")
    assert rec["seconds"] > 0 and len(rec["binaries"]["runc"]) == 64
    said: list[str] = []
    assert gobuild.build(RUNC, said.append, root=d.parents[4]).state == "cached"
    assert said == [f"go build {RUNC.key}: cached"]


def test_built_runc_declares_runtime_spec_1_3_with_seccomp():
    res = subprocess.run(
        [_built_runc(), "--version"], capture_output=True, text=True, timeout=20, check=True
    )
    assert "runc version 1.5.3" in res.stdout and "spec: 1.3.0" in res.stdout
    assert "libseccomp:" in res.stdout, res.stdout


def test_built_and_debian_runc_get_distinct_ids():
    from infra.subjects import Subject

    subs = [
        Subject(kind="runtime", id="", name="runc", path="/usr/sbin/runc"),
        Subject(kind="runtime", id="", name="runc-1.5.3", path="/cache/bin/runc"),
        Subject(kind="runtime", id="", name="crun", path="/usr/bin/crun"),
    ]
    assign_ids(subs)
    assert [s.id for s in subs] == ["runc", "runc-1.5.3", "crun"]


def _cached_schema(spec: str) -> str:
    d = gobuild.schema_dir(spec)
    if d is None:
        pytest.skip(f"no {spec} schemas copied from its Go module here")
    return d


def test_the_copied_runtime_spec_schema_is_the_default_and_names_its_version():
    d = _cached_schema("runtime-spec")
    assert str(schemas.schema_dir("runtime-spec")) == d
    assert schemas.schema_version(d) == "1.3.0"
    schemas.check(d, ("config-schema.json", "state-schema.json", "features-schema.json"))


def test_the_copied_image_spec_schema_names_its_version():
    d = _cached_schema("image-spec")
    assert schemas.schema_version(d) == "1.1.1"
    assert str(schemas.schema_dir("image-spec")) == d


@pytest.mark.parametrize("rootless", [False, True], ids=["root", "rootless"])
def test_the_baseline_bundles_validate_against_runtime_spec_1_3(rootless):
    d = _cached_schema("runtime-spec")
    cfg = baseline_config(user=RootlessUser(1000, 1000, 1024) if rootless else None)
    assert schemas.errors(d, "config-schema.json", cfg) == []
