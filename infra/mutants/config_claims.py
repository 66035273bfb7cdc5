"""Mutants that declare runtime-spec 1.3.0 while doing only what their base does.

runc 1.1.5 and crun 1.8.1 declare 1.0.x, so the tests of requirements added in 1.1 to
1.3 are `not-required` for them. Against these mutants those tests run; each one the
base cannot pass is listed in `fails`: the proof that the test can fail. The report
calls such requirements "proven against mutants only".
"""

from __future__ import annotations

from infra.mutants.declare import claims_mutant

claims_mutant(
    "claims-1.3.0",
    spec_version="1.3.0",
    breaks="declares runtime-spec 1.3.0 (features.ociVersionMax) while implementing runc 1.1.5",
    fails=[],
    requirements=[],
)
claims_mutant(
    "claims-1.3.0",
    spec_version="1.3.0",
    breaks="declares runtime-spec 1.3.0 (--version's spec line) while implementing crun 1.8.1",
    fails=[],
    requirements=[],
    base="crun",
)
