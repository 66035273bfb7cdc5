"""Faulty registries for ocitest's self-tests (tests/test_faults_registry.py): the proxy
of registry_proxy.py in front of the embedded registry, reached as `--registry
fault:NAME` (selftest/plugin.py), breaks the HTTP exchange itself, for the requests
whose path holds the fault's `marker` (a path only one test of test_registry_pull.py
asks for; every other request goes through unchanged):

- `resets`: the connection is reset (TCP RST) before any answer;
- `slow`: the answer comes SLOW seconds late, beyond the client's deadline;
- `truncates`: the body is cut short of its Content-Length.

The harness must end that one test as failed with the request and the reason, go on,
write the report and leave nothing behind. Standard library only; never imported by
the product.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

#: seconds the slow registry waits before it answers
SLOW = 20.0
#: bytes the truncating registry promises beyond what it sends
MISSING = 512


@dataclass(frozen=True)
class RegistryFault:
    """One faulty registry.

    Attributes:
        name: `--registry fault:NAME`, subject fault-NAME.
        marker: the part of a GET request's path that triggers it.
        hits: the one test whose request that is ("test_file.py::test_name").
        expect: words the failure message of `hits` must contain.
    """

    name: str
    marker: str
    hits: str
    expect: tuple[str, ...]

    def matches(self, method: str, path: str) -> bool:
        return method == "GET" and self.marker in path

    def before(self, handler) -> bool:
        """Runs before the request goes upstream; True when it answered (or did not)
        itself and the proxy must do nothing more."""
        return False

    def send(self, handler, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        """Runs instead of the proxy's own answer; True when it sent one."""
        return False


class Resets(RegistryFault):
    def before(self, handler) -> bool:
        conn = handler.connection
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # with linger 0: a reset, not a goodbye
        handler.close_connection = True
        return True


class Slow(RegistryFault):
    def before(self, handler) -> bool:
        time.sleep(SLOW)
        return False


class Truncates(RegistryFault):
    def send(self, handler, status: int, headers: list[tuple[str, str]], body: bytes) -> bool:
        handler.send_response(status)
        for k, v in headers:
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body) + MISSING))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True
        return True


PULL = "test_registry_pull.py::"
FAULTS: dict[str, RegistryFault] = {
    f.name: f
    for f in (
        Resets(
            "resets",
            "/Upper-Case/",
            PULL + "test_a_repository_name_outside_the_grammar_is_refused",
            ("GET /v2/", "Connection reset"),
        ),
        Slow(
            "slow",
            "/never-",
            PULL + "test_pull_from_a_repository_that_does_not_exist_answers_404",
            ("GET /v2/", "timed out after"),
        ),
        Truncates(
            "truncates",
            "/manifests/T_a.b-c",
            PULL + "test_a_tag_of_128_characters_is_accepted",
            ("GET /v2/", f"body cut short: {MISSING} of its Content-Length"),
        ),
    )
}
