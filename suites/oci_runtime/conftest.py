"""Fixtures of the runtime suite's own test modules (the suites' shared ones are in
suites/conftest.py)."""

from __future__ import annotations

import pytest

from infra.outcomes import unsupported
from suites.messages import violation


@pytest.fixture
def features(runtime) -> dict:
    """The runtime's features document (the test ends `unsupported` without one)."""
    rr = runtime.features()
    if not rr.ok:
        unsupported(f"{runtime.subject.id} has no features command (exit {rr.exit_status})")
    try:
        doc = rr.json()
    except ValueError as exc:
        raise AssertionError(
            violation("features.structure", wanted="a JSON object", seen=f"{exc}", evidence=[rr])
        ) from None
    return doc
