"""`./ocitest peers` (benchmarks/peers/registry_peers.py) and the second embedded registry: the peer's
junit is read as it writes it, its failures are matched to our requirements and to the
ocitest tests that failed them, bad arguments are one line and exit 4. The peer itself
runs only when it and ggcr's registry were built (OCITEST_GO_BUILDS=ggcr,distspec-conformance)."""

from __future__ import annotations

import json
import subprocess

import pytest

from benchmarks.peers import registry_peers as peers
from infra import gobuild
from tests.conftest import ROOT
from tests.test_registry_kind import _usage
from tests.test_usage_errors import assert_one_line_usage_error

JUNIT = """<testsuites tests="3" failures="1">
 <testsuite name="OCI Conformance Test" tests="3" failures="1" errors="0" time="1.0">
  <testcase name="OCI Conformance Test/ping" time="0.01" status="passed"></testcase>
  <testcase name="OCI Conformance Test/image/push/blob-post-put" time="0.02" status="failure">
   <system-out>blob put failed: missing header "Location"</system-out></testcase>
  <testcase name="OCI Conformance Test/sha512/pull/manifest-by-digest" time="0.01" status="failure">
   <system-out>Docker-Content-Digest header value expected "sha512:aa", received "sha256:bb"</system-out></testcase>
  <testcase name="OCI Conformance Test/empty/referrers" time="0.01" status="skipped"></testcase>
 </testsuite>
</testsuites>"""


def test_the_peers_junit_is_read_per_testcase(tmp_path):
    (tmp_path / "junit.xml").write_text(JUNIT)
    cases = peers.parse_junit(tmp_path / "junit.xml")
    assert [c["status"] for c in cases] == ["passed", "failure", "failure", "skipped"]
    assert cases[1]["message"] == 'blob put failed: missing header "Location"'


def test_peer_failures_are_matched_by_requirement_both_ways(tmp_path):
    (tmp_path / "junit.xml").write_text(JUNIT)
    ours = {
        "_failures": [
            {
                "nodeid": "suites/x.py::test_put_answers_201[r]",
                "requirements": ["dist.push.put-201"],
                "message": "wanted: a Location\nseen: none",
            },
            {
                "nodeid": "suites/x.py::test_tags_sorted[r]",
                "requirements": ["dist.tags.lexical-order"],
                "message": "wanted: sorted\nseen: unsorted",
            },
        ]
    }
    peer = {"_cases": peers.parse_junit(tmp_path / "junit.xml")}
    peer_fails, ours_only = peers.compare(ours, peer)
    put, sha = peer_fails
    assert put["caught_by"] == ["test_put_answers_201[r]"]
    assert sha["caught_by"] == "not caught by ocitest"
    assert "MAY differ" in sha["ocitest_judges_otherwise"]
    assert [o["test"] for o in ours_only] == ["test_tags_sorted[r]"]
    assert ours_only[0]["message"] == "wanted: sorted / seen: unsorted"


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--bogus"], "unrecognized arguments"), (["--registry", "embedded:nope"], "expected one of")],
)
def test_bad_peers_arguments_are_one_line_usage_errors(args, needle):
    res = subprocess.run(
        [str(ROOT / "ocitest"), "peers", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 4, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("ocitest: ")]
    assert len(lines) == 1 and needle in lines[0], res.stderr


def test_an_unknown_embedded_registry_is_a_usage_error(tmp_path):
    assert_one_line_usage_error(
        _usage(tmp_path, "--registry", "embedded:nope"), "no such embedded registry"
    )


needs_peer = pytest.mark.skipif(
    not (gobuild.built_dir("ggcr") and gobuild.built_dir(peers.PEER)),
    reason="needs the ggcr and distspec-conformance builds "
    "(OCITEST_GO_BUILDS=ggcr,distspec-conformance ./ocitest setup)",
)


@needs_peer
def test_peers_runs_both_suites_against_ggcr_and_writes_peers_json(tmp_path):
    res = subprocess.run(
        [
            str(ROOT / "ocitest"),
            "peers",
            "--registry",
            "embedded:ggcr-0.22.1",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    doc = json.loads((tmp_path / "peers.json").read_text())["registries"]["ggcr-0.22.1"]
    ours, peer = doc["ocitest"], doc["peers"][peers.PEER]
    assert ours["tests"] > 300 and ours["failed"] > 0
    assert peer["tests"] > 500 and peer["failed"] > 0
    # ggcr's missing Location on a finished upload: both see it
    assert any(
        "dist.push.put-201" in f["requirements"] and f["caught_by"] != "not caught by ocitest"
        for f in peer["failures"]
    )


def test_a_peers_out_that_is_a_users_file_or_directory_is_refused_untouched(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "distspec-conformance-distribution-2.8.2").mkdir()  # a name peers would rmtree
    (mine / "keep").write_text("mine too\n")
    for out, needle in ((notes, "not a directory"), (mine, "not an earlier peers output")):
        for opt in (["--out", str(out)], [f"--out={out}"]):
            res = subprocess.run(
                [str(ROOT / "ocitest"), "peers", *opt],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            lines = [ln for ln in res.stderr.splitlines() if ln.startswith("ocitest: ")]
            assert res.returncode == 4 and len(lines) == 1 and needle in lines[0], res.stderr
            assert "Traceback" not in res.stderr
    assert notes.read_text() == "mine\n" and (mine / "keep").read_text() == "mine too\n"
    assert (mine / "distspec-conformance-distribution-2.8.2").is_dir()
