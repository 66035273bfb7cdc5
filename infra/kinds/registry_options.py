"""The registry kind's command-line options (infra/kinds/registry.py documents them)."""

from __future__ import annotations

#: the distribution-spec release the catalogue follows
SPEC_RELEASE = "1.1.1"
USER_ENV, PASSWORD_ENV = "OCITEST_REGISTRY_USER", "OCITEST_REGISTRY_PASSWORD"
#: where `ocitest registry seed` puts the data sets, and where --read-only looks for them
SEED_NAMESPACE = "ocitest/data"


def add_options(group) -> None:
    """Add the registry options to pytest's option group `group`."""
    group.addoption(
        "--registry",
        dest="ocitest_registries",
        action="append",
        default=None,
        metavar="URL|embedded[:ID]",
        help="registry to test: http(s)://HOST[:PORT], embedded (Debian's docker-registry "
        "and, when built, go-containerregistry's, on 127.0.0.1, started by the harness) or "
        "embedded:ID (one of them: embedded:ggcr-0.22.1) (repeatable; default: embedded)",
    )
    group.addoption(
        "--registry-user",
        dest="ocitest_registry_user",
        default=None,
        metavar="NAME",
        help=f"basic-auth user for --registry URLs (or ${USER_ENV})",
    )
    group.addoption(
        "--registry-password",
        dest="ocitest_registry_password",
        default=None,
        metavar="PASS",
        help=f"basic-auth password for --registry URLs (or ${PASSWORD_ENV}; redacted)",
    )
    group.addoption(
        "--registry-auth",
        dest="ocitest_registry_auth",
        default="basic",
        metavar="basic|token",
        help="how the embedded docker-registry authenticates: basic (htpasswd, the "
        "default) or token (bearer tokens of a token service the harness runs)",
    )
    group.addoption(
        "--registry-chunk-size",
        dest="ocitest_registry_chunk_size",
        default=None,
        metavar="BYTES",
        help="bytes per PATCH of the chunked pushes (the 64 MiB data set, the chunked-"
        "upload test), for backends with a minimum part size, e.g. 5242880 (default: "
        "8 MiB, a third of a small blob)",
    )
    group.addoption(
        "--registry-namespace",
        dest="ocitest_registry_namespace",
        default="",
        metavar="NS",
        help="repository namespace the registry tests write below (default ocitest/RUN_ID)",
    )
    group.addoption(
        "--distribution-spec",
        dest="ocitest_distribution_spec",
        default=SPEC_RELEASE,
        metavar="1.1.1|dev",
        help="distribution-spec text to judge against (default 1.1.1; dev adds the "
        "changes merged after it)",
    )
    group.addoption(
        "--read-only",
        dest="ocitest_registry_read_only",
        action="store_true",
        default=False,
        help="pull-only run against --registry URLs: nothing is written, tests that "
        "write are skipped, the data sets must have been pushed by `ocitest registry "
        f"seed URL` (namespace default {SEED_NAMESPACE})",
    )
