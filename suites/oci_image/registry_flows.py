"""The registry suite's workflows and judging helpers (distribution-spec 1.1.1 spec.md).

Pushing a data set (POST then PUT, or chunked PATCHes for the `chunked` ones), seeding
a data set once per run into its read-only repository (`NS/ds-NAME`, under a file lock
shared by xdist workers) or, in a --read-only run, checking once that it is there, and
`expect`, which fails a test with what the spec wants,
what was seen and the request. Every HTTP call goes through infra/drivers/registry.py.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from infra.drivers.registry import RegistryClient, Response
from suites.oci_image.registry_data import CHUNK, Blob, DataSet, Manifest

#: the error codes of spec.md's table (Error Codes)
ERROR_CODES = {
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
}


class Failed(AssertionError):
    """A registry did not do what the spec wants; `rid`: the one requirement the failed
    check judges ("" for the test's requirements: its markers)."""

    def __init__(self, message: str, rid: str = "") -> None:
        super().__init__(message)
        self.rid = rid


def expect(
    ok: bool, wanted: str, seen: str, resp: Response | None = None, *, rid: str = ""
) -> None:
    """Fail unless `ok`: 'wanted: ... / seen: ... / request: ...' (the exchange's evidence).
    `rid`: the requirement this check judges, for a test that names several (the
    failure then opens with its header alone, so it is charged to it alone)."""
    if ok:
        return
    lines = [f"wanted: {wanted}", f"seen: {seen}"]
    if resp is not None:
        lines.append("request:\n" + resp.brief())
    raise Failed("\n".join(lines), rid)


def expect_status(
    resp: Response, wanted: int | tuple[int, ...], what: str, *, rid: str = ""
) -> None:
    """Fail unless `resp` has one of the `wanted` status codes and came whole (no
    transport error after the status line, such as a body cut short); `rid` as `expect`."""
    codes = (wanted,) if isinstance(wanted, int) else wanted
    names = " or ".join(str(c) for c in codes)
    expect(
        resp.status in codes and not resp.error,
        f"{what}: {names}",
        f"HTTP {resp.status}" + (f" ({resp.error})" if resp.error else ""),
        resp,
        rid=rid,
    )


def error_codes(resp: Response) -> list[str]:
    """The codes of a JSON error body ([] when the body is not such JSON)."""
    try:
        doc = resp.json()
        return [e.get("code", "") for e in doc.get("errors", [])]
    except (ValueError, AttributeError, TypeError):
        return []


def expect_error(
    resp: Response, status: int | tuple[int, ...], code: str | tuple[str, ...]
) -> None:
    """The status is one of `status` and, when the body is JSON, it holds one of `code`."""
    expect_status(resp, status, "status")
    codes = (code,) if isinstance(code, str) else code
    if _is_json(resp):
        got = error_codes(resp)
        expect(
            any(c in codes for c in got),
            f"an error code {' or '.join(codes)}",
            f"codes {got}",
            resp,
        )


def _is_json(resp: Response) -> bool:
    return (
        resp.header("content-type").split(";")[0].strip().endswith("json") or resp.body[:1] == b"{"
    )


# -- paths -------------------------------------------------------------------------
def manifest_path(repo: str, ref: str) -> str:
    return f"/v2/{repo}/manifests/{ref}"


def blob_path(repo: str, digest: str) -> str:
    return f"/v2/{repo}/blobs/{digest}"


def uploads_path(repo: str, query: dict | None = None) -> str:
    q = ("?" + urllib.parse.urlencode(query)) if query else ""
    return f"/v2/{repo}/blobs/uploads/{q}"


def with_query(location: str, **params: str) -> str:
    sep = "&" if "?" in location else "?"
    return location + sep + urllib.parse.urlencode(params)


# -- pushing -----------------------------------------------------------------------
class PushError(Exception):
    """A push step did not succeed (the message holds the exchange)."""


def _ok(resp: Response, codes: tuple[int, ...], step: str) -> Response:
    if resp.status not in codes:
        raise PushError(f"{step}: wanted {codes}, got HTTP {resp.status}\n{resp.brief()}")
    return resp


def start_upload(client: RegistryClient, repo: str, query: dict | None = None) -> Response:
    """POST /v2/REPO/blobs/uploads/ (end-4a)."""
    return client.request("POST", uploads_path(repo, query), b"", {"Content-Length": "0"})


def push_blob(client: RegistryClient, repo: str, blob: Blob, chunk: int = 0) -> Response:
    """Push `blob` by POST then PUT, or in PATCH chunks of `chunk` bytes; the closing
    response. Raises PushError at a step that fails."""
    post = _ok(start_upload(client, repo), (202,), f"POST upload for {blob.digest}")
    loc = post.header("location")
    if chunk and blob.size > chunk:
        for start in range(0, blob.size, chunk):
            part = blob.data[start : start + chunk]
            resp = patch_chunk(client, loc, part, start)
            _ok(resp, (202,), f"PATCH {start}-{start + len(part) - 1}")
            loc = resp.header("location") or loc
        return _ok(
            client.request("PUT", with_query(loc, digest=blob.digest), b"", record_body=False),
            (201,),
            "closing PUT",
        )
    return _ok(
        client.request(
            "PUT",
            with_query(loc, digest=blob.digest),
            blob.data,
            {"Content-Type": "application/octet-stream"},
            record_body=False,
        ),
        (201,),
        f"PUT {blob.digest}",
    )


def patch_chunk(client: RegistryClient, location: str, data: bytes, start: int) -> Response:
    """PATCH one chunk with its inclusive Content-Range (end-5)."""
    end = start + len(data) - 1
    return client.request(
        "PATCH",
        location,
        data,
        {"Content-Type": "application/octet-stream", "Content-Range": f"{start}-{end}"},
        record_body=False,
    )


def push_manifest(client: RegistryClient, repo: str, m: Manifest, ref: str = "") -> Response:
    """PUT the manifest under `ref` (default: its digest) with its media type (end-7)."""
    return client.request(
        "PUT", manifest_path(repo, ref or m.digest), m.data, {"Content-Type": m.media_type}
    )


def push_dataset(client: RegistryClient, repo: str, ds: DataSet, chunk_size: int = 0) -> None:
    """Push every blob, manifest and tag of `ds` into `repo`; the blobs of a `chunked`
    data set in PATCHes of `chunk_size` bytes (0: CHUNK). Raises PushError."""
    chunk = (chunk_size or CHUNK) if "chunked" in ds.traits else 0

    def one(blob: Blob) -> None:
        if client.head(blob_path(repo, blob.digest)).status != 200:
            push_blob(client, repo, blob, chunk)

    _parallel(ds.blobs, one)
    referrers = {m.digest for m in ds.referrers}
    # a run of referrers in a row does not depend on itself: pushed side by side (after
    # the manifests before them), like the tags
    run: list[Manifest] = []
    for m in [*ds.manifests, None]:
        if m is not None and m.digest in referrers:
            run.append(m)
            continue
        _parallel(run, lambda r: _ok(push_manifest(client, repo, r), (201,), f"PUT {r.digest}"))
        run = []
        if m is not None:
            _ok(push_manifest(client, repo, m), (201,), f"PUT manifest {m.digest}")
    _parallel(
        list(ds.tags.items()),
        lambda t: _ok(
            push_manifest(client, repo, ds.manifest(t[1]), t[0]), (201,), f"PUT tag {t[0]}"
        ),
    )


#: requests a seeding push keeps in flight at once (many tags, many referrers)
PARALLEL = 6


def _parallel(items: list, fn) -> None:
    """fn(item) for each item, PARALLEL at a time; the first PushError is raised."""
    if len(items) < 8:
        for it in items:
            fn(it)
        return
    with ThreadPoolExecutor(PARALLEL) as pool:
        for fut in [pool.submit(fn, it) for it in items]:
            fut.result()


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def seed(
    client: RegistryClient,
    state_dir: str,
    subject_id: str,
    repo: str,
    ds: DataSet,
    chunk_size: int = 0,
) -> str:
    """Push `ds` into `repo` once per run (the first process to ask does it, under a file
    lock in `state_dir`; chunks of `chunk_size` bytes, see push_dataset); "" when seeded,
    else why not (every later ask gets the same)."""
    mark = os.path.join(state_dir, f"registry-seed-{subject_id}-{ds.name}")
    with _locked(mark + ".lock"):
        if os.path.exists(mark):
            with open(mark, encoding="utf-8") as fh:
                return fh.read()
        try:
            push_dataset(client, repo, ds, chunk_size)
            why = ""
        except PushError as exc:
            why = f"data set {ds.name} could not be pushed to {repo}: {exc}"
        with open(mark, "w", encoding="utf-8") as fh:
            fh.write(why)
        return why


def check_present(
    client: RegistryClient, state_dir: str, subject_id: str, repo: str, ds: DataSet
) -> str:
    """For a read-only run: "" when `ds` is in `repo` (its root manifest by digest and
    its first tag answer 200 to HEAD), else why not; checked once per run (a file in
    `state_dir`, like `seed`). Sends no write."""
    mark = os.path.join(state_dir, f"registry-present-{subject_id}-{ds.name}")
    with _locked(mark + ".lock"):
        if os.path.exists(mark):
            with open(mark, encoding="utf-8") as fh:
                return fh.read()
        refs = [ds.root.digest, *list(ds.tags)[:1]]
        missing = []
        for ref in refs:
            resp = client.head(manifest_path(repo, ref), {"Accept": ds.root.media_type})
            if resp.status != 200:
                missing.append(f"{ref[:23]} (HEAD: {resp.error or f'HTTP {resp.status}'})")
        why = (
            f"--read-only: data set {ds.name} is not in {repo}: {', '.join(missing)}; push the "
            "data sets first: ocitest registry seed URL [--registry-namespace NS]"
            if missing
            else ""
        )
        with open(mark, "w", encoding="utf-8") as fh:
            fh.write(why)
        return why


# -- judging -----------------------------------------------------------------------
def bare_type(value: str) -> str:
    return value.split(";")[0].strip()


LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def next_link(resp: Response) -> str:
    """The target of a Link rel="next" header ("" when none)."""
    m = LINK_RE.search(resp.header("link"))
    return m.group(1) if m else ""


def lexical(tags: list[str]) -> bool:
    return tags == sorted(tags, key=str.lower) or tags == sorted(tags, key=lambda t: (t.lower(), t))


def asciibetical(tags: list[str]) -> bool:
    return tags == sorted(tags)
