"""Registry mutants: each breaks one behaviour of the embedded registry, through the
proxy of selftest/registry_proxy.py (`--registry mutant:NAME` with selftest.plugin).

A mutant names the tests it must fail beyond what the embedded registry fails
(`fails`: "test_file.py::test_function", any parametrization of that function; the
modules to run are theirs) and the requirement ids those tests check; it is one entry of
selftest/declare.py's registry (kind "registry", key registry-NAME), so its self-test
result goes into reports/proofs.json. tests/test_registry_mutants.py checks that exactly
those functions fail. This module holds the machinery and the first mutants; the
others live in the modules of declare.AREAS["registry"] (`all_mutants` loads them).
Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from selftest.declare import Mutant, load, register


@dataclass
class Exchange:
    """One request through the proxy and, once upstream answered, its response."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    drop_length: bool = False  # HEAD: leave Content-Length out
    #: ask upstream yourself: upstream(method, path) -> status (the client's credentials)
    upstream: Callable[[str, str], int] | None = field(default=None, repr=False)

    def answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        """Answer the request without going upstream (in an edit of the request)."""
        self.status, self.response_body = status, body
        self.response_headers = [(k.replace("_", "-"), v) for k, v in headers.items()]

    def error_body(self, edit: Callable[[list[dict]], None]) -> None:
        """Edit the `errors` list of a JSON error body in place (no-op for other bodies)."""
        try:
            doc = json.loads(self.response_body)
        except ValueError:
            return
        if isinstance(doc, dict) and isinstance(doc.get("errors"), list):
            edit(doc["errors"])
            self.response_body = json.dumps(doc).encode()

    def is_(self, method: str, part: str) -> bool:
        return self.method == method and part in self.path.split("?")[0]

    def set_header(self, name: str, value: str | None) -> None:
        self.response_headers = [
            (k, v) for k, v in self.response_headers if k.lower() != name.lower()
        ]
        if value is not None:
            self.response_headers.append((name, value))

    def header(self, name: str) -> str:
        return next((v for k, v in self.response_headers if k.lower() == name), "")


def _nothing(ex: Exchange) -> None:
    return None


@dataclass(frozen=True)
class RegistryMutant:
    """What the proxy of one mutant does (the behaviour of its declare.Mutant)."""

    name: str
    breaks: str
    fails: tuple[str, ...]
    requirements: tuple[str, ...]
    edit_request: Callable[[Exchange], None] = _nothing
    alter_response: Callable[[Exchange], None] = _nothing

    @property
    def modules(self) -> tuple[str, ...]:
        """The test files of its `fails`, sorted."""
        return tuple(sorted({t.split("::")[0] for t in self.fails}))


#: name -> RegistryMutant, of the modules imported so far (all of them: `all_mutants`)
MUTANTS: dict[str, RegistryMutant] = {}


def all_mutants() -> dict[str, RegistryMutant]:
    """Every registry mutant, by name (imports the modules of declare.AREAS["registry"])."""
    load("registry")
    return MUTANTS


def mutant(
    name: str,
    *,
    breaks: str,
    fails: list[str],
    requirements: list[str],
    request: bool = False,
    then: Callable[[Exchange], None] | None = None,
) -> Callable[[Callable[[Exchange], None]], Callable[[Exchange], None]]:
    """Declare the decorated function as registry mutant `name`: it alters the upstream
    answer in place, or with `request=True` edits the request before it goes upstream
    (or answers it: Exchange.answer), and `then` alters the upstream answer to the
    edited request. Raises ValueError for a name declared twice."""

    def deco(fn: Callable[[Exchange], None]) -> Callable[[Exchange], None]:
        kw = {"edit_request": fn} if request else {"alter_response": fn}
        if then is not None:
            kw["alter_response"] = then
        behaviour = RegistryMutant(name, breaks, tuple(fails), tuple(requirements), **kw)
        register(
            Mutant(
                "registry",
                name,
                "request" if request else "response",
                breaks,
                tuple(fails),
                tuple(requirements),
                base="embedded",
                behaviour=behaviour,
            )
        )
        MUTANTS[name] = behaviour
        return fn

    return deco


@mutant(
    "wrong-manifest-digest",
    breaks="Docker-Content-Digest of a manifest GET names other bytes",
    fails=["test_registry_pull.py::test_manifest_docker_content_digest_is_the_digest_of_the_body"],
    requirements=["dist.pull.manifest-digest-header-value"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/manifests/") and ex.status == 200:
        ex.set_header("Docker-Content-Digest", "sha256:" + "0" * 64)


@mutant(
    "chunk-range-lost",
    breaks="a PATCH's 202 answer has no Range header",
    fails=["test_registry_push.py::test_chunked_upload_answers_202_with_range_then_201"],
    requirements=["dist.push.chunk-202"],
)
def _(ex: Exchange) -> None:
    if ex.method == "PATCH":
        ex.set_header("range", None)


@mutant(
    "missing-blob-500",
    breaks="GET of a missing blob answers 500",
    fails=["test_registry_pull.py::test_missing_blob_answers_404_blob_unknown"],
    requirements=["dist.pull.blob-404"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/blobs/sha") and ex.status == 404:
        ex.status = 500


@mutant(
    "content-type-parameters",
    breaks="a manifest's Content-Type gets a charset parameter",
    fails=["test_registry_pull.py::test_manifest_content_type_carries_no_parameters"],
    requirements=["dist.pull.content-type-no-parameters"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/manifests/") and ex.status == 200:
        ex.set_header("Content-Type", ex.header("content-type") + "; charset=utf-8")


@mutant(
    "tag-list-without-name",
    breaks="the tag list's JSON loses its name",
    fails=["test_registry_discovery.py::test_tag_list_answers_200_with_name_and_tags"],
    requirements=["dist.tags.json-body"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/tags/list") and ex.status == 200:
        doc = json.loads(ex.response_body)
        doc.pop("name", None)
        ex.response_body = json.dumps(doc).encode()


@mutant(
    "range-ignored",
    breaks="a blob GET ignores its Range header (200 with the whole blob)",
    fails=["test_registry_pull.py::test_blob_range_request_answers_206_with_the_slice"],
    requirements=["dist.pull.blob-range"],
    request=True,
)
def _(ex: Exchange) -> None:
    ex.headers = {k: v for k, v in ex.headers.items() if k.lower() != "range"}


@mutant(
    "head-without-length",
    breaks="HEAD answers leave out Content-Length",
    fails=["test_registry_pull.py::test_head_carries_the_content_length"],
    requirements=["dist.pull.head-content-length"],
)
def _(ex: Exchange) -> None:
    if ex.method == "HEAD":
        ex.drop_length = True


@mutant(
    "accepts-digest-mismatch",
    breaks="a closing PUT whose digest does not match the bytes answers 201",
    fails=["test_registry_push.py::test_a_blob_whose_digest_does_not_match_is_refused"],
    requirements=["dist.push.digest-mismatch"],
)
def _(ex: Exchange) -> None:
    if (
        ex.is_("PUT", "/blobs/uploads/")
        and ex.status == 400
        and b"DIGEST_INVALID" in ex.response_body
    ):
        ex.status, ex.response_body = 201, b""


@mutant(
    "manifest-unknown-code",
    breaks="a missing manifest's error code is NOT_FOUND, not MANIFEST_UNKNOWN",
    fails=[
        "test_registry_pull.py::test_missing_manifest_answers_404_manifest_unknown",
        "test_registry_pull.py::test_error_bodies_have_the_spec_format",
        "test_registry_pull.py::test_pull_from_a_repository_that_does_not_exist_answers_404",
    ],
    requirements=[
        "dist.pull.manifest-404",
        "dist.errors.code-known",
        "dist.push.nonexistent-repo-404",
    ],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/manifests/") and ex.status == 404:
        ex.response_body = ex.response_body.replace(b"MANIFEST_UNKNOWN", b"NOT_FOUND")


@mutant(
    "upload-status-without-range",
    breaks="GET of an upload session answers without Range",
    fails=["test_registry_push.py::test_an_open_upload_session_answers_204_with_its_range"],
    requirements=["dist.push.upload-status-204"],
)
def _(ex: Exchange) -> None:
    if ex.is_("GET", "/blobs/uploads/"):
        ex.set_header("Range", None)


@mutant(
    "mount-without-location",
    breaks="a successful mount's 201 has no Location header (a registry that never mounts "
    "and answers 202 conforms: spec.md, Mounting a blob)",
    fails=["test_registry_push.py::test_a_blob_mounted_from_another_repository_answers_201"],
    requirements=["dist.push.mount-201"],
)
def _(ex: Exchange) -> None:
    if ex.method == "POST" and "mount=" in ex.path and ex.status == 201:
        ex.set_header("Location", None)


@mutant(
    "manifest-delete-200",
    breaks="DELETE of a manifest answers 200 instead of 202",
    fails=[
        "test_registry_management.py::test_delete_of_a_manifest_by_digest_answers_202_and_removes_it"
    ],
    requirements=["dist.manage.delete-manifest-202"],
)
def _(ex: Exchange) -> None:
    if ex.is_("DELETE", "/manifests/") and ex.status == 202:
        ex.status = 200


@mutant(
    "manifest-put-without-location",
    breaks="a manifest push's 201 has no Location header",
    fails=["test_registry_push.py::test_push_of_a_data_set_post_then_put"],
    requirements=["dist.push.manifest-201"],
)
def _(ex: Exchange) -> None:
    if ex.is_("PUT", "/manifests/") and ex.status == 201:
        ex.set_header("Location", None)
