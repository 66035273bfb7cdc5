"""Throughput and latency of a registry's HTTP API (distribution-spec 1.1.1 spec.md), one
`--registry` subject at a time (default embedded: Debian's docker-registry).

Figures, each the wall time of what the registry driver sent and received
(infra/drivers/registry.py; one HTTP exchange, or the exchanges of one push or pull):
- push and pull of a blob of 1 MiB and of 64 MiB, monolithic (POST then one PUT; one
  GET) and chunked (POST, PATCHes of 256 KiB or 8 MiB, the closing PUT; GETs of the same
  ranges), with the throughput in MiB/s at the p50 and the p99 latency. Every push is
  of bytes new to the registry (the blob's first bytes are the iteration's number);
- push and pull of an image of 100 layers (suites/oci_image/registry_data.py's
  many-layers: every blob and the manifest, into a repository of its own each time;
  pull: the manifest, the config and each layer);
- GET of the tag list of a repository of 1,000 tags (following Link pages, if any);
- GET of the referrers list of an image with 200 referrers (skipped when the registry
  has no referrers API: docker-registry 2.8.2 answers 404).
What the benchmark pushes lives below `--registry-namespace`; the embedded registry's
storage goes with it at the end of the run. Run with `./ocitest bench -k registry`.
"""

from __future__ import annotations

import random
import time

import pytest

from suites.oci_image import registry_data
from suites.oci_image.registry_data import CHUNK, Blob, digest_of
from suites.oci_image.registry_flows import (
    Failed,
    blob_path,
    manifest_path,
    next_link,
    push_blob,
    push_dataset,
)

GROUP = "registry"
MIB = 1024 * 1024
#: blob size -> the chunk size of its chunked push and pull
SIZES = {1 * MIB: 256 * 1024, 64 * MIB: CHUNK}
#: seconds one request of a large blob may take
BLOB_TIMEOUT = 300.0


def _label(size: int) -> str:
    return f"{size // MIB} MiB"


_BASE: dict[int, bytes] = {}


def _blob(size: int, n: int) -> Blob:
    """A blob of `size` random bytes (the same per size in a process) whose first 16
    bytes are `n` and the time: new content for the registry at every call."""
    if size not in _BASE:
        _BASE[size] = random.Random(size).randbytes(size)
    data = f"{n:08d}{time.monotonic_ns() % 10**8:08d}".encode() + _BASE[size][16:]
    return Blob(digest_of(data), data, "application/octet-stream")


def _pull(client, repo: str, blob: Blob, chunk: int) -> None:
    """GET the blob whole (chunk 0) or in Range requests of `chunk` bytes; checks the
    bytes that came back."""
    path = blob_path(repo, blob.digest)
    if not chunk:
        r = client.request("GET", path, timeout=BLOB_TIMEOUT)
        assert r.status == 200 and r.body == blob.data, f"benchmark: GET blob\n{r.brief()}"
        return
    got = []
    for start in range(0, blob.size, chunk):
        end = min(start + chunk, blob.size) - 1
        r = client.request("GET", path, headers={"Range": f"bytes={start}-{end}"})
        assert r.status == 206, f"benchmark: GET blob range {start}-{end}\n{r.brief()}"
        got.append(r.body)
    assert b"".join(got) == blob.data, "benchmark: the ranges do not add up to the blob"


@pytest.mark.parametrize("mode", ["monolithic", "chunked"])
@pytest.mark.parametrize("size", list(SIZES), ids=[_label(s).replace(" ", "") for s in SIZES])
def test_blob_push_and_pull(registry, bench, size, mode):
    client, repo = registry.client, registry.fresh_repo("bench-blob")
    client.timeout = BLOB_TIMEOUT
    chunk = SIZES[size] if mode == "chunked" else 0
    meta = {"group": GROUP, "size": size}
    for i in bench.iterations():
        blob = _blob(size, i)
        t0 = time.monotonic()
        push_blob(client, repo, blob, chunk)
        bench.record(f"push {_label(size)} {mode}", time.monotonic() - t0, **meta)
        t0 = time.monotonic()
        _pull(client, repo, blob, chunk)
        bench.record(f"pull {_label(size)} {mode}", time.monotonic() - t0, **meta)


def test_image_of_100_layers(registry, bench):
    ds = registry_data.get("many-layers")
    size = sum(b.size for b in ds.blobs) + sum(m.size for m in ds.manifests)
    root = ds.manifest(ds.tags["v1"])
    for _ in bench.iterations():
        repo = registry.fresh_repo("bench-layers")
        t0 = time.monotonic()
        push_dataset(registry.client, repo, ds)
        bench.record("push image of 100 layers", time.monotonic() - t0, group=GROUP, size=size)
        t0 = time.monotonic()
        r = registry.client.get(manifest_path(repo, "v1"), {"Accept": root.media_type})
        assert r.status == 200, f"benchmark: GET manifest\n{r.brief()}"
        for b in ds.blobs:
            got = registry.client.get(blob_path(repo, b.digest))
            assert got.status == 200 and got.body == b.data, f"benchmark: GET\n{got.brief()}"
        bench.record("pull image of 100 layers", time.monotonic() - t0, group=GROUP, size=size)


def _seeded(registry, name: str) -> str:
    try:
        return registry.seeded(name)[0]
    except Failed as exc:
        pytest.skip(f"the registry did not store data set {name}: {str(exc).splitlines()[-1]}")


def test_tag_list_of_1000_tags(registry, bench):
    repo = _seeded(registry, "many-tags")
    for _ in bench.iterations():
        t0, tags, path = time.monotonic(), [], f"/v2/{repo}/tags/list"
        while path:
            r = registry.client.get(path)
            assert r.status == 200, f"benchmark: GET tag list\n{r.brief()}"
            tags += r.json().get("tags") or []
            path = next_link(r)
        bench.record("tag list (1,000 tags)", time.monotonic() - t0, group=GROUP)
        assert len(set(tags)) == 1001, f"benchmark: the tag list has {len(set(tags))} of 1001"


def test_referrers_of_200(registry, bench):
    ds = registry_data.get("many-referrers")
    # asked first of a small image's repository (a registry with the API answers 200
    # and an index, "MUST NOT" 404), so that one without it is not seeded for nothing
    small = registry_data.get("image")
    probe = f"/v2/{_seeded(registry, 'image')}/referrers/{small.tags['v1']}"
    if registry.client.get(probe).status == 404:
        pytest.skip(f"no referrers API: GET {probe} answered 404")
    repo = _seeded(registry, "many-referrers")
    path = f"/v2/{repo}/referrers/{ds.subject}"
    for _ in bench.iterations():
        t0, found, page = time.monotonic(), 0, path
        while page:
            r = registry.client.get(page)
            assert r.status == 200, f"benchmark: GET referrers\n{r.brief()}"
            found += len(r.json().get("manifests") or [])
            page = next_link(r)
        bench.record("referrers (200)", time.monotonic() - t0, group=GROUP)
        assert found == 200, f"benchmark: the referrers list has {found} of 200"
