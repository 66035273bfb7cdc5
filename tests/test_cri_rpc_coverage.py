"""Every RPC of the pinned cri-api v1 stubs is called by at least one CRI suite test
(directly, or through the suite's pods.py for RunPodSandbox and CreateContainer)."""

from __future__ import annotations

import ast

from infra.drivers.cri import RPC_SERVICE
from tests.conftest import ROOT


def _strings_in_tests() -> set[str]:
    found = set()
    suite = ROOT / "suites" / "cri"
    for f in [*suite.glob("test_*.py"), suite / "pods.py"]:  # pods.py: run and create
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_the_pinned_stubs_have_35_rpcs():
    assert len(RPC_SERVICE) == 35, sorted(RPC_SERVICE)


def test_every_v1_rpc_is_named_by_a_cri_test():
    missing = sorted(set(RPC_SERVICE) - _strings_in_tests())
    assert not missing, f"RPCs no test of suites/cri calls: {missing}"


def test_the_critest_map_names_existing_tests():
    text = (ROOT / "docs" / "cri-critest-map.md").read_text()
    for f in (ROOT / "suites" / "cri").glob("test_*.py"):
        assert f.name in text, f"{f.name} is not in docs/cri-critest-map.md"
