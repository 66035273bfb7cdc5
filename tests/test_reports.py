"""The report directory of a real run: results.json, junit.xml, report.html, summary.md."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from reports.schemas import load_schema


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from tests.conftest import run_pytest

    rd = tmp_path_factory.mktemp("report")
    run = run_pytest(
        [
            "suites/oci_runtime/test_state.py",
            "suites/oci_runtime/test_delete.py",
            "--runtime",
            "runc",
            "--runtime",
            "crun",
            "-n",
            "2",
        ],
        rd,
    )
    assert run.rc == 1, run.stdout[-2000:]  # delete of a created container: real failures
    return rd


def test_all_report_files_are_written(report):
    for name in ("results.json", "junit.xml", "report.html", "summary.md", ".ocitest-report"):
        assert (report / name).is_file(), name


def test_results_json_validates_against_its_schema(report):
    doc = json.loads((report / "results.json").read_text())
    jsonschema.validate(doc, load_schema("results.schema.json"))
    assert {s["id"] for s in doc["subjects"]} == {"runc", "crun"}
    assert all(r["requirements"] and r["level"] for r in doc["results"])


def test_junit_has_one_testcase_per_result_with_requirement_properties(report):
    doc = json.loads((report / "results.json").read_text())
    suite = ET.parse(report / "junit.xml").getroot()
    cases = suite.findall("testcase")
    assert len(cases) == len(doc["results"])
    failing = [c for c in cases if c.find("failure") is not None]
    assert len(failing) == sum(r["outcome"] == "failed" for r in doc["results"]) > 0
    for case in cases:
        reqs = [p.get("value") for p in case.iter("property") if p.get("name") == "requirement"]
        assert reqs, case.get("name")


def test_report_html_shows_verdict_matrix_and_the_failure_evidence(report):
    html = (report / "report.html").read_text()
    assert "Gate MUST: FAILED" in html
    assert 'id="req-runtime.delete.not-stopped-errors"' in html
    assert "wanted: delete of a created container fails" in html
    assert "runtime.state.schema" in html and "Coverage" in html
    # self-contained: no external scripts, styles, images or fonts
    assert "<script src" not in html and "<link" not in html and "<img" not in html
    assert "@import" not in html and "url(" not in html


def test_summary_md_names_the_failures(report):
    md = (report / "summary.md").read_text()
    assert "gate MUST **FAILED**" in md and "test_delete_of_a_container_not_stopped_fails" in md


def test_a_report_dir_we_wrote_can_be_reused(report):
    from reports.reportdir import check_report_dir

    assert check_report_dir(str(report)) == str(report)


def test_junit_xml_is_accepted_by_a_junit_parser(report):
    from junitparser import JUnitXml

    xml = JUnitXml.fromfile(str(report / "junit.xml"))
    doc = json.loads((report / "results.json").read_text())
    cases = [case for suite in ([xml] if xml._tag == "testsuite" else xml) for case in suite]
    assert len(cases) == len(doc["results"])
    failed = [c for c in cases if any(type(r).__name__ == "Failure" for r in c.result)]
    assert len(failed) == sum(r["outcome"] == "failed" for r in doc["results"])


def test_the_report_shows_the_mutation_score_of_the_committed_proofs(report):
    from reports.proofs import load_score

    doc = json.loads((report / "results.json").read_text())
    assert doc["mutation"] == load_score() and {"runtime", "cri", "corpus"} <= set(doc["mutation"])
    html = (report / "report.html").read_text()
    k = doc["mutation"]["runtime"]
    assert f"runtime {k['caught']}/{k['all']}" in html and 'id="mutation-score"' in html
