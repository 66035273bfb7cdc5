"""The containerd 2.x built at setup as an embedded CRI subject (infra/services/containerd.py,
infra/kinds/cri.py; issue 12): which containerds `embedded[:VERSION]` selects, and the
config version 3 it is started with."""

from __future__ import annotations

import tomllib

import pytest

from infra.kinds.cri import _flavours
from infra.services import containerd as ctd

BUILT = ctd.built_version()


def test_without_the_build_embedded_is_debians_containerd_alone(monkeypatch):
    monkeypatch.setenv("OCITEST_GO_BUILDS", "none")
    assert ctd.built_version() == ""
    assert [f.prefix for f in _flavours("embedded")] == ["containerd"]
    assert ctd.daemon("2.4.2") is None
    assert "not built" in ctd.not_built("2.4.2")
    assert "builds containerd 2.4.2 only" in ctd.not_built("9.9")


@pytest.mark.skipif(not BUILT, reason="containerd 2.4.2 is not built (./ocitest setup with Go)")
def test_with_the_build_embedded_is_both_and_embedded_version_the_built_one_alone():
    assert [f.prefix for f in _flavours("embedded")] == ["containerd", "containerd-2.4.2"]
    assert [f.endpoint_option for f in _flavours("embedded:2.4.2")] == ["embedded:2.4.2"]
    two = ctd.daemon("2.4.2")
    assert two.binary.endswith("/bin/containerd") and two.shim.endswith("containerd-shim-runc-v2")
    assert two.opt_in == ("crun",)  # Debian's crun 1.8.1 refuses ociVersion 1.2+
    assert (two.tag, two.bridge_suffix, two.subnet_base) == ("cri2", "b2", "10.232")


def test_the_built_containerd_gets_a_version_3_config_of_its_own():
    flavour = ctd.Daemon("2.4.2", "/x/containerd", "/x/containerd-shim-runc-v2", {}, "cri2")
    text = ctd.config_text(
        "/w/cri2/root",
        "/s/cri2/state",
        "/s/cri2/containerd.sock",
        "registry.k8s.io/pause:3.9",
        {"runc": "/x/runc", "crun": "/usr/bin/crun"},
        "/s",
        "/w/cri2/net.d",
        "/w/cri2/hosts.d",
        flavour,
    )
    cfg = tomllib.loads(text)
    assert cfg["version"] == 3 and cfg["grpc"]["address"] == "/s/cri2/containerd.sock"
    assert "io.containerd.nri.v1.nri" in cfg["disabled_plugins"]
    plugins = cfg["plugins"]
    images = plugins["io.containerd.cri.v1.images"]
    assert images["pinned_images"]["sandbox"] == "registry.k8s.io/pause:3.9"
    assert images["registry"]["config_path"] == "/w/cri2/hosts.d"
    runtime = plugins["io.containerd.cri.v1.runtime"]
    assert runtime["containerd"]["default_runtime_name"] == "runc"
    runc = runtime["containerd"]["runtimes"]["runc"]
    assert runc["runtime_type"] == "io.containerd.runc.v2"
    assert runc["runtime_path"] == "/x/containerd-shim-runc-v2"  # not Debian's 1.6 shim
    assert runc["options"] == {"BinaryName": "/x/runc", "Root": "/s/cri2-runc-root"}
    assert runtime["cni"]["conf_dir"] == "/w/cri2/net.d"
    assert plugins["io.containerd.shim.v1.manager"]["socket_dir"] == "/s/cri2/s"
    net = ctd.cni_config("octabcdef", "/s/cri2", flavour)
    assert net["plugins"][0]["bridge"] == "octabcdef-b2"
    assert net["plugins"][0]["ipam"]["ranges"][0][0]["subnet"].startswith("10.232.")
