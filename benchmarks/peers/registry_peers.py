"""`./ocitest peers`: a peer suite and ocitest's own tests against the same registry.

Not part of the conformance run and never in CI (docs/architecture.md). For each
registry (`--registry embedded:ID`, repeatable; default: every embedded registry this
host has, i.e. distribution-2.8.2 and, when built, ggcr-0.22.1) it

1. runs ocitest's registry tests (`suites/oci_image -k registry -n 2 --gate none`, no
   known-failures file, report in OUT/ocitest-ID/), timed;
2. starts the same embedded registry the harness starts (infra/services/registry.py)
   and runs distribution-spec's conformance suite against it (built at setup from its
   pinned Go module, infra/gobuild.py `distspec-conformance`; its own configuration is
   environment variables: OCI_REGISTRY, OCI_TLS, OCI_REPO1/2, OCI_USERNAME/PASSWORD,
   OCI_VERSION, OCI_RESULTS_DIR), timed, its junit.xml parsed;
3. matches each failure the peer reports to our catalogue ids (PEER_REQUIREMENTS, our
   own reading of what each of its checks exercises) and says whether ocitest failed a
   test of that requirement too, and the other way round.

OUT/peers.json (default OUT ./ocitest-peers):

    {"registries": {ID: {"ocitest": {tests, passed, failed, skipped, wall_seconds,
                                     failed_requirements: [...]},
                         "peers": {"distspec-conformance": {module, version, tests,
                                   passed, failed, skipped, wall_seconds, results_dir,
                                   failures: [{name, message, requirements, caught_by:
                                              [ocitest test ids] or "not caught by
                                              ocitest", ocitest_judges_otherwise?:
                                              why}]}},
                         "ocitest_only": [{test, requirements, message}]}}}

Exit status: 0 when both ran (whatever they found), 1 when one could not run, 4 for a
usage error. Nothing of the peer's code is used here: it runs as its own binary.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from infra import gobuild, hostsetup
from infra.services import ServiceError
from infra.services.registry import start_ggcr, start_registry, stop_registry
from infra.targets import open_target

PEER = "distspec-conformance"
#: seconds the peer suite may take against one registry (about 2 s here)
PEER_TIMEOUT = 900
#: seconds ocitest's registry tests may take against one registry (1 to 3 min here)
OCITEST_TIMEOUT = 1800
OUT_DIR = "ocitest-peers"

#: (pattern on the peer's test name, our catalogue ids): what each of the conformance
#: suite's checks exercises, in our catalogue's words. Every matching row counts.
PEER_REQUIREMENTS: list[tuple[str, tuple[str, ...]]] = [
    (r"/ping$", ("dist.api.v2-200",)),
    (r"/blob-post-only$", ("dist.push.single-post", "dist.push.single-post-201-location")),
    (r"/blob-post-put$", ("dist.push.post-202", "dist.push.put-201")),
    (r"/blob-patch-(chunked|stream)$", ("dist.push.chunk-202", "dist.push.chunked-close-201")),
    (r"out-of-order.*/blob-patch-chunked$", ("dist.push.upload-status-204",)),
    (r"/blob-mount$", ("dist.push.mount-201", "dist.push.mount-fallback-202")),
    (r"/blob-mount-anonymous$", ("dist.push.mount-without-from",)),
    (r"/blob-post-cancel$", ("dist.push.upload-cancel",)),
    (r"/blob-delete$", ("dist.manage.delete-blob-202", "dist.manage.delete-blob-404")),
    (r"/blob-get$", ("dist.pull.blob-get-200",)),
    (r"range requests/blob-get$", ("dist.pull.blob-range",)),
    (r"/blob-head$", ("dist.pull.head-200", "dist.pull.head-content-length")),
    (r"/get-missing$", ("dist.pull.blob-404",)),
    (r"sha512.*/blob-", ("dist.push.sha512-blob",)),
    (r"/push/manifest-by-(digest|tag)$", ("dist.push.manifest-201",)),
    (r"/pull/manifest-by-(digest|tag)$", ("dist.pull.manifest-get-200",)),
    (r"/manifest-head-by-(digest|tag)$", ("dist.pull.head-200",)),
    (r"/manifest-delete$", ("dist.manage.delete-manifest-202",)),
    (r"/tag-delete$", ("dist.manage.delete-tag-202",)),
    (r"/referrers$", ("dist.referrers.200", "dist.referrers.empty-list")),
    (r"/tag[ -]list$", ("dist.tags.list-200", "dist.tags.lexical-order")),
    (r"missing-manifest/by-(digest|tag)$", ("dist.pull.manifest-404",)),
    (r"invalid-digest-format/manifest-put$", ("dist.push.manifest-digest-mismatch",)),
    (
        r"invalid-digest-format/manifest-get$",
        ("dist.pull.manifest-404", "dist.push.manifest-digest-mismatch"),
    ),
    (r"bad digest", ("dist.push.digest-mismatch",)),
    (r"/manifest-by-digest$", ("dist.pull.manifest-digest-header-value",)),
    (r"range requests/range ", ("dist.pull.blob-range",)),
    (r"/sha512/", ("dist.push.sha512-blob",)),
    (
        r"non-distributable-layers/",
        ("dist.push.nondistributable-layers", "dist.push.missing-reference-may-reject"),
    ),
]
#: (pattern on the peer's failure message, our catalogue ids): a check that failed at a
#: step of another (its upload's closing PUT, a manifest stored under a bad digest)
PEER_MESSAGE_REQUIREMENTS: list[tuple[str, tuple[str, ...]]] = [
    (
        r'missing header "Location"|returned location|did not return a location',
        ("dist.push.put-201",),
    ),
    (r'"OCI-Subject"', ("dist.push.oci-subject-header",)),
    (r"out of order chunk", ("dist.push.chunk-out-of-order-416",)),
    (
        r'"Content-Type", expected "application/vnd.oci.image.index',
        ("dist.referrers.content-type",),
    ),
    (r"when last set to", ("dist.tags.last",)),
    (r"missing tag .* from listing", ("dist.tags.list-200",)),
    (r"Docker-Content-Digest header value", ("dist.pull.blob-digest-header-matches",)),
]
#: (pattern on the peer's test name, pattern on its message, why ocitest does not fail
#: it): where our reading of the spec differs from the peer's, said once
PEER_DISAGREEMENTS: list[tuple[str, str, str]] = [
    (
        r"/blob-[a-z-]+$",
        r"Docker-Content-Digest header value expected \"sha512:.*received \"sha256:",
        "spec 1.1.1 (Pushing blobs, Pulling blobs): the Docker-Content-Digest of a blob MAY "
        "differ from the digest the client gave; ocitest accepts any algorithm whose digest "
        "matches the body (dist.pull.blob-digest-header-matches), the peer wants sha512",
    ),
    (
        r"/manifest-by-(digest|tag)$",
        r'"OCI-Subject"',
        "OCI-Subject belongs to the referrers API: ocitest reports the header `unsupported` "
        "where GET referrers answers 404 and fails the missing API itself (dist.referrers.*)",
    ),
    (
        r"/manifest-by-digest$",
        r"Docker-Content-Digest header value expected \"sha512:.*received \"sha256:",
        "spec 1.1.1 (Pulling manifests, Docker-Content-Digest): the header's digest MAY differ "
        "from the one asked for; ocitest accepts any algorithm whose digest matches the body "
        "(dist.pull.manifest-digest-header-value), the peer wants the algorithm asked for",
    ),
]


class PeersUsageError(Exception):
    """A bad argument (one line; exit 4)."""


def requirements_of(peer_test: str, message: str = "") -> list[str]:
    """Our catalogue ids the peer's test `peer_test` exercises (maybe none), with those
    its failure `message` shows it failed at."""
    ids: list[str] = []
    rows = [(re.search(p, peer_test), r) for p, r in PEER_REQUIREMENTS]
    rows += [(re.search(p, message), r) for p, r in PEER_MESSAGE_REQUIREMENTS]
    for hit, rids in rows:
        if hit:
            ids += [r for r in rids if r not in ids]
    return ids


def disagreement(peer_test: str, message: str) -> str:
    """Why ocitest judges this failure of the peer otherwise, or ""."""
    for name, msg, why in PEER_DISAGREEMENTS:
        if re.search(name, peer_test) and re.search(msg, message):
            return why
    return ""


def parse_junit(path: Path) -> list[dict]:
    """The peer's junit.xml as [{name, status (passed|failure|error|skipped|disabled),
    message, seconds}], one per testcase. Raises OSError or ET.ParseError."""
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        status = case.get("status") or ("failure" if case.find("failure") is not None else "passed")
        msg = (case.findtext("system-out") or "").strip()
        out.append(
            {
                "name": case.get("name", ""),
                "status": status,
                "message": msg[:600],
                "seconds": float(case.get("time") or 0),
            }
        )
    return out


def _counts(statuses: list[str], failed: tuple[str, ...], passed: tuple[str, ...]) -> dict:
    return {
        "tests": len(statuses),
        "passed": sum(s in passed for s in statuses),
        "failed": sum(s in failed for s in statuses),
        "skipped": sum(s not in failed and s not in passed for s in statuses),
    }


# -- ocitest's side ----------------------------------------------------------------------
def run_ocitest(python: str, registry: str, report: Path) -> dict:
    """ocitest's registry tests against `registry` (an --registry value); their counts,
    wall time and the ids of the requirements whose tests failed, from results.json."""
    root = str(hostsetup.ROOT)
    cmd = [python, "-m", "pytest", "--rootdir", root, "-c", f"{root}/pyproject.toml"]
    cmd += ["suites/oci_image", "-k", "registry", "--registry", registry, "-n", "2"]
    cmd += ["--gate", "none", "--report-dir", str(report), "-q", "-p", "no:cacheprovider"]
    started = time.monotonic()
    res = subprocess.run(
        cmd, cwd=root, capture_output=True, text=True, timeout=OCITEST_TIMEOUT, check=False
    )
    wall = round(time.monotonic() - started, 1)
    try:
        data = json.loads((report / "results.json").read_text())
    except (OSError, ValueError):
        tail = (res.stdout + res.stderr).strip().splitlines()[-3:]
        return {"error": f"no results.json (exit {res.returncode}): {' | '.join(tail)}"}
    results = data["results"]
    out = _counts([r["outcome"] for r in results], ("failed", "error"), ("passed",))
    failures = [r for r in results if r["outcome"] in ("failed", "error")]
    out |= {
        "wall_seconds": wall,
        "report": str(report / "report.html"),
        "failed_requirements": sorted({i for r in failures for i in r["requirements"]}),
        "_failures": failures,
    }
    return out


# -- the peer's side ---------------------------------------------------------------------
def start_embedded(subject_id: str, directory: str):
    """Start the embedded registry `subject_id` as the harness does; (Registry, creds)."""
    target = open_target("local")
    if subject_id.startswith("ggcr-"):
        crane = f"{gobuild.built_dir('ggcr')}/crane"
        return target, start_ggcr(target, directory, crane)
    password = secrets.token_urlsafe(18)
    return target, start_registry(target, directory, "", "ocitest", password)


def run_peer(subject_id: str, results: Path) -> dict:
    """distribution-spec's conformance suite against a fresh embedded `subject_id`."""
    bindir = gobuild.built_dir(PEER)
    if bindir is None:
        return {"error": f"{PEER} is not built (OCITEST_GO_BUILDS={PEER} ./ocitest setup)"}
    build = gobuild.BUILDS[PEER]
    work = tempfile.mkdtemp(prefix="ocitest-peers-")
    target = reg = None
    try:
        target, reg = start_embedded(subject_id, f"{work}/registry")
        env = dict(
            os.environ,
            OCI_REGISTRY=reg.host,
            OCI_TLS="disabled",
            OCI_REPO1="peers/conformance/one",
            OCI_REPO2="peers/conformance/two",
            OCI_USERNAME=reg.username,
            OCI_PASSWORD=reg.password,
            OCI_VERSION="1.1",
            OCI_RESULTS_DIR=str(results),
        )
        env.pop("OCI_CONFIGURATION", None)  # its default file is not in `work`: env only
        started = time.monotonic()
        res = subprocess.run(
            [f"{bindir}/conformance"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=PEER_TIMEOUT,
            check=False,
        )
        wall = round(time.monotonic() - started, 1)
        (results / "stdout.txt").write_text(res.stdout)
        (results / "stderr.txt").write_text(res.stderr)
        cases = parse_junit(results / "junit.xml")
    except (ServiceError, OSError, ET.ParseError, subprocess.TimeoutExpired) as exc:
        return {"error": f"{PEER} did not run: {str(exc).splitlines()[0][:300]}"}
    finally:
        if reg is not None:
            stop_registry(target, reg)
        shutil.rmtree(work, ignore_errors=True)
    out = _counts([c["status"] for c in cases], ("failure", "error"), ("passed",))
    return out | {
        "module": build.module,
        "version": build.version,
        "wall_seconds": wall,
        "exit_status": res.returncode,
        "results_dir": str(results),
        "_cases": cases,
    }


# -- side by side ------------------------------------------------------------------------
def compare(ours: dict, peer: dict) -> tuple[list[dict], list[dict]]:
    """(the peer's failures, each with the requirements it exercises and the ocitest
    tests that failed one of them or "not caught by ocitest"; ocitest's failures whose
    requirements no failure of the peer exercises)."""
    by_req: dict[str, list[str]] = {}
    for r in ours.get("_failures", []):
        for i in r["requirements"]:
            by_req.setdefault(i, []).append(r["nodeid"].split("::", 1)[1])
    peer_fails = []
    peer_reqs: set[str] = set()
    for c in peer.get("_cases", []):
        if c["status"] not in ("failure", "error"):
            continue
        rids = requirements_of(c["name"], c["message"])
        peer_reqs.update(rids)
        caught = sorted({t for i in rids for t in by_req.get(i, [])})
        entry = {
            "name": c["name"],
            "message": c["message"],
            "requirements": rids,
            "caught_by": caught[:10] or "not caught by ocitest",
        }
        why = "" if caught else disagreement(c["name"], c["message"])
        if why:
            entry["ocitest_judges_otherwise"] = why
        peer_fails.append(entry)
    ours_only = [
        {
            "test": r["nodeid"].split("::", 1)[1],
            "requirements": r["requirements"],
            "message": _seen(r["message"]),
        }
        for r in ours.get("_failures", [])
        if not set(r["requirements"]) & peer_reqs
    ]
    return peer_fails, ours_only


def _seen(message: str) -> str:
    """The wanted/seen lines of one of our failure messages."""
    lines = [ln for ln in message.splitlines() if ln.startswith(("wanted:", "seen:"))]
    return " / ".join(lines[:2])[:300] or message.strip().splitlines()[0][:300]


def _embedded_ids() -> list[str]:
    out = ["distribution-2.8.2"]
    ggcr = gobuild.BUILDS["ggcr"]
    if gobuild.built_dir("ggcr"):
        out.append(ggcr.subject_id)
    return out


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise PeersUsageError(
            f"peers: {message} (usage: peers [--registry embedded:ID]... [--out DIR])"
        )


def _check_out(out: Path) -> None:
    """`out` may be written: missing, empty, or an earlier output of ours (peers.json, and
    only our ocitest-ID/ and PEER-ID/ beside it). Raises PeersUsageError."""
    if not str(out) or (out.exists() and not out.is_dir()):
        raise PeersUsageError(f"peers: --out {out}: not a directory")
    if not out.exists():
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise PeersUsageError(
                f"peers: --out {out}: cannot create it ({exc.strerror})"
            ) from None
        return
    entries = [e.name for e in out.iterdir()]
    mine = ("ocitest-", f"{PEER}-", "critest-", "performance.")  # cri_peers.py's too
    ours = all(e == "peers.json" or e.startswith(mine) for e in entries)
    if entries and not ("peers.json" in entries and ours):
        raise PeersUsageError(
            f"peers: --out {out}: not empty and not an earlier peers output; choose another"
        )


def _args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="ocitest peers")
    p.add_argument("--registry", action="append", metavar="embedded:ID")
    p.add_argument("--out", default=os.path.join(os.getcwd(), OUT_DIR), metavar="DIR")
    ns = p.parse_args(argv)
    known = _embedded_ids()
    ns.ids = []
    for value in ns.registry or [f"embedded:{i}" for i in known]:
        sid = value.partition(":")[2] if value.startswith("embedded:") else ""
        if sid not in known:
            raise PeersUsageError(
                f"peers: --registry {value}: expected one of "
                + ", ".join(f"embedded:{i}" for i in known)
            )
        ns.ids.append(sid)
    _check_out(Path(ns.out))  # last: a refused option leaves no directory behind
    return ns


def main(argv: list[str] | None = None) -> int:
    try:
        ns = _args(sys.argv[1:] if argv is None else argv)
    except PeersUsageError as exc:
        print(f"ocitest: {exc}", file=sys.stderr)
        return 4
    out = Path(ns.out)
    out.mkdir(parents=True, exist_ok=True)
    if gobuild.built_dir(PEER) is None:
        gobuild.build(gobuild.BUILDS[PEER], lambda m: print(f"ocitest peers: {m}"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))  # finally-blocks stop the registry
    doc: dict = {"registries": {}}
    rc = 0
    for sid in ns.ids:
        print(f"ocitest peers: {sid}: ocitest's registry tests ...", flush=True)
        ours = run_ocitest(sys.executable, f"embedded:{sid}", out / f"ocitest-{sid}")
        print(f"ocitest peers: {sid}: {PEER} ...", flush=True)
        results = out / f"{PEER}-{sid}"
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
        peer = run_peer(sid, results)
        peer_fails, ours_only = compare(ours, peer)
        rc |= int("error" in ours or "error" in peer)
        ours.pop("_failures", None)
        peer.pop("_cases", None)
        peer["failures"] = peer_fails
        doc["registries"][sid] = {"ocitest": ours, "peers": {PEER: peer}, "ocitest_only": ours_only}
        print(summary_line(sid, ours, peer, ours_only), flush=True)
    (out / "peers.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"ocitest peers: {out / 'peers.json'}")
    return rc


def summary_line(sid: str, ours: dict, peer: dict, ours_only: list) -> str:
    """One line per registry: both suites' tests, failures and wall time."""

    def part(name: str, d: dict) -> str:
        if "error" in d:
            return f"{name}: {d['error']}"
        return f"{name} {d['tests']} tests, {d['failed']} failed, {d['wall_seconds']} s"

    missed = [f for f in peer.get("failures", []) if f["caught_by"] == "not caught by ocitest"]
    return (
        f"ocitest peers: {sid}: {part('ocitest', ours)}; {part(PEER, peer)}; "
        f"{len(missed)} peer failures not caught by ocitest, {len(ours_only)} ocitest "
        "failures the peer does not report"
    )


if __name__ == "__main__":
    raise SystemExit(main())
