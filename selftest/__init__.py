"""Mutants: deliberately broken subjects for the harness's self-tests (see registry.py)."""

from __future__ import annotations

from infra.mutants.registry import MUTANTS, proofs

__all__ = ["MUTANTS", "proofs"]
