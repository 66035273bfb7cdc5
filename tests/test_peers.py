"""`./ocitest peers` (benchmarks/peers/registry_peers.py) and the second embedded registry: the peer's
junit is read as it writes it, its failures are matched to our requirements and to the
ocitest tests that failed them, bad arguments are one line and exit 4. The peer itself
runs only when it and ggcr's registry were built (OCITEST_GO_BUILDS=ggcr,distspec-conformance)."""

from __future__ import annotations

import json
import os
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
    [
        (["--bogus"], "unrecognized arguments"),
        (["--registry", "embedded:nope"], "expected one of"),
        (["runtime-tools", "--bogus"], "unrecognized arguments"),  # was argparse's usage block
        (["runtime-tools", "--runtime"], "expected one argument"),
    ],
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
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr  # no usage block


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


# -- critest (benchmarks/peers/cri_peers.py): its parsers fed with recorded output --------
from benchmarks.peers import cri_peers, critest_results  # noqa: E402
from benchmarks.peers.critest_images import repo_and_tag  # noqa: E402

CRITEST_JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="4" disabled="0" errors="0" failures="2" time="20.1">
 <testsuite name="CRI validation" package="/x" tests="4" disabled="0" skipped="1" errors="0" failures="2" time="20.1">
  <testcase name="[BeforeSuite]" classname="CRI validation" status="passed" time="0.3"></testcase>
  <testcase name="[It] [sig-node] Container runtime should support starting container [Conformance]" classname="CRI validation" status="passed" time="2.1"></testcase>
  <testcase name="[It] [sig-node] Container runtime runtime should support execSync with timeout [Conformance]" classname="CRI validation" status="failed" time="12.0">
   <failure message="Expected an error, got nil" type="failed">[FAILED] Expected an error</failure></testcase>
  <testcase name="[It] [sig-node] Image Manager public image with digest should be pulled and removed [Conformance]" classname="CRI validation" status="failed" time="1.0">
   <failure message="failed to pull gcr.io/k8s-staging-cri-tools/test-image-digest@sha256:9700f9a2: not found" type="failed"></failure></testcase>
  <testcase name="[It] [sig-node] Security Context SeccompProfilePath docker/default should support seccomp default on the container" classname="CRI validation" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
 </testsuite>
</testsuites>"""

CRITEST_MAP = """| critest | ours |
|---|---|
| runtime should support execSync | test_exec.py::test_exec_sync_returns_the_exit_code |
| runtime should support execSync with timeout | test_exec.py::test_exec_sync_gives_up_after_its_timeout_and_stops_the_command |
| mount with 'rprivate' propagation | not yet (mount propagation) |
"""


def test_critest_junit_is_read_per_spec_without_the_suites_own_nodes(tmp_path):
    (tmp_path / "junit.xml").write_text(CRITEST_JUNIT)
    cases = critest_results.parse_junit(tmp_path / "junit.xml")
    assert [c["status"] for c in cases] == ["passed", "failed", "failed", "skipped"]
    assert cases[1]["name"].startswith(
        "[sig-node] Container runtime runtime should support execSync"
    )
    assert "Expected an error" in cases[1]["message"]


def test_critest_failures_are_matched_through_the_map_or_marked_environment(tmp_path):
    (tmp_path / "junit.xml").write_text(CRITEST_JUNIT)
    cases = critest_results.parse_junit(tmp_path / "junit.xml")
    rows = critest_results.parse_map(CRITEST_MAP)
    assert rows[2] == ("mount with 'rprivate' propagation", [])
    timeout_test = "test_exec_sync_gives_up_after_its_timeout_and_stops_the_command"
    # the longest row wins: "execSync with timeout", not "execSync"
    assert critest_results.mapped_tests(cases[1]["name"], rows) == [timeout_test]
    passed = critest_results.compare(cases, {timeout_test: "passed"}, rows)
    assert [f.get("caught_by") for f in passed] == ["not caught by ocitest", None]
    assert "digest" in passed[1]["environment"]
    failed = critest_results.compare(cases, {timeout_test: "failed"}, rows)
    assert failed[0]["caught_by"] == [timeout_test]


def test_the_real_map_names_our_tests_for_critests_specs():
    rows = critest_results.parse_map(critest_results.MAP_DOC.read_text())
    assert len(rows) > 80
    got = critest_results.mapped_tests(
        "[sig-node] Container runtime should support starting container [Conformance]", rows
    )
    assert got == ["test_start_container_runs_it"]
    # a row naming several specs ("MaskedPaths, ReadonlyPaths") by its distinctive words
    got = critest_results.mapped_tests(
        "[k8s.io] Security Context bucket runtime should support ReadonlyPaths", rows
    )
    assert got == ["test_masked_path_cannot_be_read", "test_readonly_path_cannot_be_written"]
    assert (
        critest_results.mapped_tests("[k8s.io] Widget runtime should support frobbing", rows)
        is None
    )


def test_critest_benchmark_samples_become_our_figures_and_medians_side_by_side(tmp_path):
    ms = 1_000_000
    data = {"operationsNames": ["CreatePod", "StatusPod", "StopPod", "RemovePod"], "numParallel": 1,
            "datapoints": [{"sampleIndex": i, "startTime": 0, "endTime": 1, "metaInfo": {},
                            "operationsDurationsNs": [(100 + i) * ms, ms, 50 * ms, 10 * ms]}
                           for i in range(5)]}  # fmt: skip
    (tmp_path / "pod_benchmark_data.json").write_text(json.dumps(data))
    got = critest_results.bench_samples(tmp_path)
    assert got["RunPodSandbox"] == [0.1, 0.101, 0.102, 0.103, 0.104]
    rows = critest_results.side_by_side(
        {
            "RunPodSandbox": [0.1, 0.102, 0.104],
            "StopPodSandbox": [0.5, 0.5, 0.5],
            "ExecSync": [0.1],
        },
        got,
    )
    assert [r["operation"] for r in rows] == ["RunPodSandbox", "StopPodSandbox"]
    assert rows[0]["within_noise"] and rows[0]["critest_p50_ms"] == 102.0
    assert not rows[1]["within_noise"] and rows[1]["ratio"] == 10.0
    doc = cri_peers.performance_doc({"containerd-runc": {"RunPodSandbox": [0.1, 0.2]}},
                                    {"containerd-runc": got}, 2)  # fmt: skip
    assert {s["id"] for s in doc["subjects"]} == {"containerd-runc", "critest@containerd-runc"}


def test_critest_image_names_become_repositories_of_the_one_local_registry():
    assert repo_and_tag("registry.k8s.io/e2e-test-images/busybox:1.29-2") == (
        "e2e-test-images/busybox",
        "1.29-2",
    )
    assert repo_and_tag("gcr.io/k8s-staging-cri-tools/test-image-latest") == (
        "k8s-staging-cri-tools/test-image-latest",
        "latest",
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--cri-endpoint", "embedded:9.9"], "expected one of"), (["--bench-samples", "-1"], "0 or more"),
     (["--what"], "unrecognized")],
)  # fmt: skip
def test_bad_peers_critest_arguments_are_one_line_usage_errors(args, needle, tmp_path, capsys):
    assert cri_peers.main([*args, "--out", str(tmp_path / "o")]) == 4
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_reuse_reads_what_a_run_left_and_a_missing_part_is_an_error(tmp_path):
    d = tmp_path / "critest-embedded-2.4.2"
    (d / "benchmark").mkdir(parents=True)
    (d / "junit.xml").write_text(CRITEST_JUNIT)
    (d / "run.json").write_text(
        json.dumps(
            {
                "exit_status": 1,
                "wall_seconds": 20.1,
                "benchmark": {"exit_status": 0, "wall_seconds": 3.0},
            }
        )
    )
    data = {
        "operationsNames": ["PullImage", "StatusImage", "RemoveImage"],
        "datapoints": [{"operationsDurationsNs": [2e8, 1e6, 3e7]}],
    }
    (d / "benchmark" / "image_benchmark_data.json").write_text(json.dumps(data))
    got = cri_peers.read_critest(tmp_path, "embedded:2.4.2")
    assert (got["tests"], got["passed"], got["failed"], got["skipped"]) == (4, 1, 2, 1)
    assert got["benchmark"]["_samples"]["PullImage"] == [0.2]
    assert "no JUnit report" in cri_peers.read_critest(tmp_path, "embedded")["error"]
    assert "left no results" in cri_peers.read_ocitest(tmp_path)["error"]
    (tmp_path / "ocitest-cri").mkdir()
    (tmp_path / "ocitest-cri" / "peers-run.json").write_text('{"wall_seconds": 9.5}')
    results = [{"subject": "containerd-runc", "nodeid": f"suites/cri/test_exec.py::{fn}[containerd-runc]", "outcome": o}
               for fn, o in (("test_a", "passed"), ("test_a", "failed"), ("test_b", "xfailed"))]  # fmt: skip
    (tmp_path / "ocitest-cri" / "results.json").write_text(json.dumps({"results": results}))
    ours = cri_peers.read_ocitest(tmp_path)["containerd-runc"]
    assert (ours["tests"], ours["passed"], ours["failed"], ours["skipped"]) == (3, 1, 1, 1)
    assert ours["_outcomes"] == {"test_a": "failed", "test_b": "xfailed"}


# lines 1-2 as runtime-tools v0.9.0's validation/delete printed them against runc 1.1.5
# (2026-12-08); the third is TAP's skip directive
RUNTIME_TOOLS_TAP = """TAP version 13
ok 1 - `delete` operation MUST generate an error if it is not provided the container ID
not ok 2 - attempting to `delete` a container that is not `stopped` MUST generate an error
  ---
  {
    "reference": "https://github.com/opencontainers/runtime-spec/blob/v1.0.2/runtime.md#delete"
  }
  ...
ok 3 - hugepage limits # SKIP the kernel has no hugetlb controller
1..3
"""


def test_runtime_tools_tap_is_read_per_test():
    from benchmarks.peers.runtime_tools import parse_tap

    got = parse_tap(RUNTIME_TOOLS_TAP)
    assert [c["status"] for c in got] == ["passed", "failed", "skipped"]
    assert got[1]["test"].startswith("attempting to `delete` a container")


@pytest.mark.parametrize(
    ("message", "env"),
    [
        ("Expected\n    <string>: sh: pgrep: not found\nto be empty", True),
        ('OCI runtime exec failed: exec: \\"ipcs\\": executable file not found in $PATH', True),
        (
            'command timed out: "sh -c while ! cat /proc/1/cmdline | grep \\"master process\\""',
            True,
        ),
        ("rpc error: code = NotFound desc = an error occurred when try to find sandbox", False),
    ],
)
def test_what_our_stand_in_images_lack_is_environment_not_a_finding(message, env):
    assert bool(critest_results.environment("[sig-node] x", message)) is env


def test_runtime_tools_bundle_mounts_left_behind_are_unmounted(tmp_path):
    # runtime-tools' programs leave their bundle's proc/dev/sys mounts when the runtime
    # fails part-way (seen with runc 1.5.3): the peer unmounts below its TMPDIR after each
    from benchmarks.peers.runtime_tools import unmount_below

    if os.geteuid() != 0:
        pytest.skip("needs root (mount)")
    point = tmp_path / "ocitest1" / "dev"
    point.mkdir(parents=True)
    for name in ("one", "two"):  # two stacked on one point
        subprocess.run(["mount", "-t", "tmpfs", name, str(point)], check=True, timeout=30)
    (point / "pts").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "three", str(point / "pts")], check=True, timeout=30)
    assert unmount_below(str(tmp_path)) == [str(point), str(point / "pts")]
    with open("/proc/self/mountinfo", encoding="utf-8") as fh:
        assert str(tmp_path) not in fh.read()
