"""The mutant registry proxy: an HTTP proxy in front of the embedded registry that
breaks one behaviour (the mutant NAME of selftest/registry_mutants.py).

    python -m selftest.registry_proxy --listen 127.0.0.1:PORT --upstream URL --mutant NAME --run RUN_ID
    python -m selftest.registry_proxy --listen 127.0.0.1:PORT --upstream URL --refuse-writes FILE

With `--refuse-writes FILE` (no mutant) it is the guard of a registry the run may not
write: POST, PUT, PATCH and DELETE never go upstream; they answer 405 UNSUPPORTED and
each appends one line "METHOD PATH" to FILE (tests/test_registry_read_only.py counts them).

(or `--fault NAME` for a faulty registry of registry_faults.py instead of a mutant).

Every request goes upstream unchanged (method, path, headers, body) unless the mutant
edits it (or answers it itself by setting a status); the answer comes back unchanged
unless the mutant alters it. A mutant may ask upstream on its own (`Exchange.upstream`,
with the client's credentials) to decide. `--run` only
puts the run id on the command line, so the sweeper finds a proxy a killed run left.
Standard library only; never imported by the product.
"""

from __future__ import annotations

import argparse
import http.client
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selftest.registry_faults import FAULTS
from selftest.registry_mutants import Exchange, RegistryMutant, all_mutants

#: seconds an upstream request may take
UPSTREAM_TIMEOUT = 60
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
REFUSAL = b'{"errors":[{"code":"UNSUPPORTED","message":"this registry is read-only"}]}'


def _refusing(log: str) -> RegistryMutant:
    """The guard of --refuse-writes: every write answered 405 and logged to `log`."""

    def refuse(ex: Exchange) -> None:
        if ex.method in WRITES:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{ex.method} {ex.path}\n")
            ex.answer(405, REFUSAL, Content_Type="application/json")

    return RegistryMutant("refuse-writes", "refuses every write", (), (), edit_request=refuse)


def handler_for(upstream: str, mutant_name: str, fault_name: str = "", refuse_log: str = ""):
    """The request handler of the proxy of mutant `mutant_name`, of the faulty registry
    `fault_name` (registry_faults.py), or of the write guard (`refuse_log`)."""
    up = urllib.parse.urlsplit(upstream)
    if refuse_log:
        mutant = _refusing(refuse_log)
    elif mutant_name:
        mutant = all_mutants()[mutant_name]
    else:
        mutant = RegistryMutant("none", "", (), ())
    fault = FAULTS[fault_name] if fault_name else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            return

        def _upstream(self, method: str, path: str, headers: dict, body: bytes = b""):
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=UPSTREAM_TIMEOUT)
            try:
                conn.request(method, path, body=body or None, headers=headers)
                r = conn.getresponse()
                kept = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
                data = r.read() if method != "HEAD" else b""
                return r.status, kept, data, r.getheader("Content-Length", "")
            finally:
                conn.close()

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            ex = Exchange(self.command, self.path, headers, body)
            faulty = fault if fault is not None and fault.matches(ex.method, ex.path) else None
            if faulty is not None and faulty.before(self):
                return
            ex.upstream = lambda m, p: self._upstream(m, p, dict(headers))[0]
            mutant.edit_request(ex)
            length_head = ""
            if not ex.status:  # the mutant did not answer itself
                ex.status, ex.response_headers, ex.response_body, length_head = self._upstream(
                    ex.method, ex.path, ex.headers, ex.body
                )
                mutant.alter_response(ex)
            if faulty is not None and faulty.send(
                self, ex.status, ex.response_headers, ex.response_body
            ):
                return
            self.send_response(ex.status)
            for k, v in ex.response_headers:
                self.send_header(k, v)
            if self.command == "HEAD":
                if length_head and not ex.drop_length:
                    self.send_header("Content-Length", length_head)
            else:
                self.send_header("Content-Length", str(len(ex.response_body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(ex.response_body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    return Handler


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--upstream", required=True)
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--mutant", choices=sorted(all_mutants()))
    how.add_argument("--fault", choices=sorted(FAULTS))
    how.add_argument("--refuse-writes", metavar="FILE", default="")
    p.add_argument("--run", default="")
    a = p.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    handler = handler_for(a.upstream, a.mutant or "", a.fault or "", a.refuse_writes)
    server = ThreadingHTTPServer((host, int(port)), handler)
    server.daemon_threads = True
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
