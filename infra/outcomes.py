"""Outcomes other than pass/fail that a test or fixture can declare.

The outcomes `unsupported` and `not-required` (docs/architecture.md, Outcomes; README,
Reading the report) are pytest skips whose reason starts with a fixed prefix; the
reports plugin maps them back. Use these helpers rather than writing the prefix by hand.
"""

from __future__ import annotations

import pytest

UNSUPPORTED = "unsupported: "
NOT_REQUIRED = "not-required: "


def unsupported(reason: str) -> None:
    """End the test as `unsupported`: the subject says it lacks the feature."""
    pytest.skip(UNSUPPORTED + reason)


def not_required(reason: str) -> None:
    """End the test as `not-required`: the subject's declared spec version predates it."""
    pytest.skip(NOT_REQUIRED + reason)


def classify_skip(reason: str) -> str:
    """Our outcome for a pytest skip reason: unsupported, not-required or skipped."""
    if reason.startswith(UNSUPPORTED):
        return "unsupported"
    if reason.startswith(NOT_REQUIRED):
        return "not-required"
    return "skipped"
