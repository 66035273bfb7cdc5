"""Peers run side by side with ocitest for comparison (never in CI; see benchmarks/README.md)."""
