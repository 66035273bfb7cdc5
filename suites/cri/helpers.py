"""What the CRI tests share: judging an RPC's status, and `unsupported` for Unimplemented."""

from __future__ import annotations

from infra.drivers.cri import CriResult
from infra.outcomes import unsupported
from suites.messages import violation


def supported(res: CriResult) -> CriResult:
    """End the test as `unsupported` when the endpoint answered Unimplemented."""
    if res.unimplemented:
        unsupported(f"{res.rpc} answers Unimplemented: {res.details[:200]}")
    return res


def must_succeed(res: CriResult, rid: str, wanted: str = "") -> CriResult:
    """AssertionError citing `rid` unless `res` is OK (Unimplemented: unsupported)."""
    supported(res)
    assert res.ok, violation(
        rid,
        wanted=wanted or f"{res.rpc} succeeds (OK)",
        seen=f"{res.rpc} -> {res.code_name}: {res.details[:300]}",
        evidence=[res],
    )
    return res


def must_fail(res: CriResult, rid: str, wanted: str, code: str = "") -> CriResult:
    """AssertionError citing `rid` unless `res` failed (with `code`, when given)."""
    good = (not res.ok) and (not code or res.code_name == code)
    assert good, violation(
        rid,
        wanted=wanted + (f" (status {code})" if code else ""),
        seen=f"{res.rpc} -> {res.code_name}: {res.details[:300]}",
        evidence=[res],
    )
    return res
