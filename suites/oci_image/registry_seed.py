"""Push the registry suite's data sets into a registry beforehand, for a later
`--read-only` run that may not write there (`./ocitest registry seed URL`).

    python -m suites.oci_image.registry_seed URL [--registry-namespace NS]
        [--registry-user NAME --registry-password PASS]

Each data set of the pull and discovery tests (registry_data.names_with()) goes into
`NS/ds-NAME` (NS default: infra.kinds.registry.SEED_NAMESPACE, where --read-only looks);
a data set already there is pushed again (blobs the registry has are skipped).
Credentials as for the suite: the options or $OCITEST_REGISTRY_USER and
$OCITEST_REGISTRY_PASSWORD. One line per data set on stdout.

Exit status: 0 when every data set is stored (a refused optional one, such as sha512,
is reported and does not count), 1 when the registry refused one, 4 for bad input
(a malformed URL or namespace, a registry that does not answer GET /v2/ with 200, a
missing option value): one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from infra import redact
from infra.drivers.registry import RegistryClient, RegistryURLError, parse_url
from infra.evidence import EvidenceLog
from infra.kinds.registry import NAME_RE, PASSWORD_ENV, SEED_NAMESPACE, USER_ENV
from suites.oci_image import registry_data
from suites.oci_image.registry_flows import PushError, push_dataset

USAGE_EXIT = 4
PROG = "ocitest registry seed"
#: seconds one request of the seeding may take (the 64 MiB layer travels in 8 MiB chunks)
TIMEOUT = 120.0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors: one line, exit 4
        self.exit(USAGE_EXIT, f"{PROG}: {message}\n")


def _usage(message: str) -> int:
    sys.stderr.write(f"{PROG}: {message}\n")
    return USAGE_EXIT


def main(argv: list[str]) -> int:
    ap = _Parser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("url", metavar="URL", help="the registry, http(s)://HOST[:PORT]")
    ap.add_argument("--registry-namespace", default=SEED_NAMESPACE, metavar="NS")
    ap.add_argument("--registry-user", default=None, metavar="NAME")
    ap.add_argument("--registry-password", default=None, metavar="PASS")
    a = ap.parse_args(argv)
    user = a.registry_user if a.registry_user is not None else os.environ.get(USER_ENV, "")
    password = a.registry_password
    if password is None:
        password = os.environ.get(PASSWORD_ENV, "")
    if password:
        redact.add_secret(password, user)
    if bool(user) != bool(password):
        return _usage("--registry-user and --registry-password go together")
    try:
        parse_url(a.url)
    except RegistryURLError as exc:
        return _usage(f"URL {exc}")
    ns = a.registry_namespace
    if not re.fullmatch(NAME_RE, ns):
        return _usage(f"--registry-namespace {ns}: not a repository name")
    client = RegistryClient(a.url, EvidenceLog(), user, password, timeout=TIMEOUT)
    probe = client.get("/v2/")
    if probe.status != 200:
        seen = probe.error or f"HTTP {probe.status}"
        return _usage(f"{a.url}: GET /v2/ did not answer 200 ({redact.scrub(seen)[0]})")
    refused = 0
    for name in registry_data.names_with():
        ds = registry_data.get(name)
        repo = f"{ns}/ds-{name}"
        try:
            push_dataset(client, repo, ds)
        except PushError as exc:
            first = redact.scrub(str(exc).splitlines()[0])[0]
            optional = ds.traits & registry_data.OPTIONAL
            print(f"{name}: not stored in {repo}{' (optional)' if optional else ''}: {first}")
            refused += 0 if optional else 1
            continue
        print(f"{name}: stored in {repo}")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
