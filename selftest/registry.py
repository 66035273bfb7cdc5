"""The mutant registry: every declared mutant, of every kind, in one dict.

Each mutant breaks one behaviour and names the tests it must fail (see declare.py).
tests/test_mutants.py, tests/test_cri_mutants.py, tests/test_registry_mutants.py,
tests/test_converter_mutants.py and tests/test_image_tool_mutants.py run the suites against them and
check that exactly those tests fail; proofs.py turns their results into
reports/proofs.json, which the report reads.
"""

from __future__ import annotations

from selftest.declare import Mutant, load

#: registry key -> mutant, every kind (runtime keys: NAME or BASE-NAME; the others:
#: KIND-NAME, e.g. cri-NAME, corpus-NAME, image-tool-NAME)
REGISTRY: dict[str, Mutant] = {
    **load("runtime"),
    **load("cri"),
    **load("registry"),
    **load("corpus"),
    **load("converter"),
    **load("image-tool"),
}
#: registry key -> runtime mutant (suites/oci_runtime; entry point mutant-KEY, see executables.py)
MUTANTS: dict[str, Mutant] = {k: m for k, m in REGISTRY.items() if m.kind == "runtime"}
#: name -> CRI mutant (suites/cri; `--cri-endpoint mutant:NAME`)
CRI_MUTANTS: dict[str, Mutant] = {m.name: m for m in REGISTRY.values() if m.kind == "cri"}
#: name -> registry mutant (suites/oci_image/test_registry_*.py; `--registry mutant:NAME`)
REGISTRY_MUTANTS: dict[str, Mutant] = {m.name: m for m in REGISTRY.values() if m.kind == "registry"}
#: name -> converter mutant (suites/oci_image/test_conversion.py; `--converter DIR/mutant-NAME`)
CONVERTER_MUTANTS: dict[str, Mutant] = {
    m.name: m for m in REGISTRY.values() if m.kind == "converter"
}
#: name -> image-tool mutant (the layout tests; `--image-tool DIR/mutant-NAME[/ctr]`)
IMAGE_TOOL_MUTANTS: dict[str, Mutant] = {
    m.name: m for m in REGISTRY.values() if m.kind == "image-tool"
}


def declared_proofs() -> dict[str, list[str]]:
    """requirement id -> registry keys of the mutants declared to prove it (as if every
    mutant were caught by exactly its `fails`); reports/proofs.json has the measured ones."""
    out: dict[str, list[str]] = {}
    for key, m in REGISTRY.items():
        for rid in m.requirements:
            out.setdefault(rid, []).append(key)
    return {rid: sorted(keys) for rid, keys in out.items()}
