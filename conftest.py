"""Loads ocitest's plugins once, for every run (suites and the harness's own tests)."""

pytest_plugins = ["infra.plugin", "infra.redact_plugin", "reports.plugin"]
