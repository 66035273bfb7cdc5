"""report.html's peers section (reports/peers.py, reports/writer.py write_doc): shown when
the report directory holds a peers.json or one is given (--peers), absent otherwise; a
table of every peer run (the peer's counts and wall time, ocitest's beside it, its
findings by how ocitest stands on them) and per run the findings ocitest does not
report. tests/data/peers.json is a trimmed real output of `./ocitest peers` (critest
against containerd, runtime-tools against runc, distribution-spec's conformance suite
against distribution 2.8.2). The browser test loads the page in headless Chromium as
tests/test_report_browser.py does; without Chromium it skips, naming the package,
except under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from benchmarks.browser import file_url, headless_chromium, unavailable
from benchmarks.synthetic import synthetic_results
from reports import peers
from reports.schemas import load_schema
from reports.writer import write_doc
from tests.test_usage_errors import assert_one_line_usage_error, pytest_usage

try:
    from selenium.webdriver.common.by import By
except ImportError:  # unavailable() names the missing package: the test skips or fails
    By = None

SAMPLE = Path(__file__).parent / "data" / "peers.json"
# peer, subject, tests, passed, failed, skipped, wall, ocitest tests/passed/failed/wall,
# caught, not caught, environment, unmatched: as in tests/data/peers.json
ROWS = [
    ["distspec-conformance v0.0.0-20260831232431-97274622c111", "distribution-2.8.2",
     "686", "556", "98", "32", "16.9", "408", "328", "42", "146.3", "3", "1", "0", "0"],
    ["critest v1.37.0", "containerd-runc (embedded)",
     "142", "86", "8", "48", "945.7", "108", "95", "6", "203.7", "2", "0", "4", "0"],
    ["critest v1.37.0", "containerd-2.4.2-runc (embedded:2.4.2)",
     "142", "109", "5", "28", "310.6", "108", "102", "5", "203.7", "0", "1", "4", "0"],
    ["runtime-tools v0.9.0", "runc",
     "303", "266", "37", "0", "160.6", "not run beside it", "0", "0", "0", "4"],
]  # fmt: skip


def _section(html: str) -> str:
    m = re.search(r'<section id="peers-section">(.*?)</section>', html, re.S)
    return m.group(1) if m else ""


def _cells(section: str) -> list[list[str]]:
    table = re.search(r'<table class="peers-table".*?</table>', section, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows]  # fmt: skip


def test_the_sample_and_the_recorded_outputs_match_the_schema():
    jsonschema.validate(json.loads(SAMPLE.read_text()), load_schema(peers.SCHEMA))
    with pytest.raises(jsonschema.ValidationError, match="'wall_seconds' is a required"):
        doc = json.loads(SAMPLE.read_text())
        del doc["runtime-tools"]["runtimes"]["runc"]["wall_seconds"]
        jsonschema.validate(doc, load_schema(peers.SCHEMA))


def test_no_peers_json_no_section(tmp_path):
    write_doc(synthetic_results(5), str(tmp_path))
    assert 'id="peers' not in (tmp_path / "report.html").read_text()


def test_the_report_dirs_peers_json_gives_the_table_and_the_not_caught_list(tmp_path):
    shutil.copy(SAMPLE, tmp_path / peers.JSON_NAME)
    write_doc(synthetic_results(5), str(tmp_path))
    html = (tmp_path / "report.html").read_text()
    sec = _section(html)
    assert _cells(sec) == ROWS
    lists = re.findall(r'<ul class="peers-not-caught">(.*?)</ul>', sec, re.S)
    assert len(lists) == 3  # distribution 2.8.2, containerd 2.4.2, runc
    assert "<b>not caught by ocitest</b>: OCI Conformance Test/artifacts-with-subject" in lists[0]
    assert "OCI-Subject belongs to the referrers API" in lists[0]
    assert "<code>dist.push.oci-subject-header</code>" in lists[0]
    assert "<b>not caught by ocitest</b>: [k8s.io] Image Identifier Consistency" in lists[1]
    assert lists[2].count("<b>not matched</b>") == 4
    assert "caught by <code>test_stop_pod_sandbox_of_an_unknown_id_succeeds</code>" in sec
    assert "2 failure(s) ocitest reports that distspec-conformance does not" in sec
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert not [i for i, n in ids.items() if n > 1], "ids of the page must be unique"


def test_a_given_peers_json_is_used_and_a_bad_one_refused(tmp_path):
    out = tmp_path / "report"
    write_doc(synthetic_results(5), str(out), peers=str(SAMPLE))
    assert len(_cells(_section((out / "report.html").read_text()))) == len(ROWS)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"critest": {"version": "v1"}}))
    with pytest.raises(peers.PeersError, match=r"not a peers\.json: critest"):
        write_doc(synthetic_results(5), str(out), peers=str(bad))


@pytest.mark.parametrize(
    "content, needle",
    [
        (None, "cannot read"),
        ("{not json", "not JSON"),
        ('{"registries": 3}', "not a peers.json"),
        ('{"a": 1}', "not a peers.json"),  # was accepted: no known peer section
    ],
)
def test_a_missing_or_malformed_peers_file_is_a_usage_error(tmp_path, content, needle):
    path = tmp_path / "peers.json"
    if content is not None:
        path.write_text(content)
    res = pytest_usage("--peers", str(path), report_dir=str(tmp_path / "r"))
    assert_one_line_usage_error(res, needle)
    assert not (tmp_path / "r").exists()


def test_the_section_renders_in_headless_chromium(tmp_path):
    reason = unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(reason)
    shutil.copy(SAMPLE, tmp_path / peers.JSON_NAME)
    write_doc(synthetic_results(5), str(tmp_path))
    with headless_chromium() as page:
        page.get(file_url(tmp_path / "report.html"))
        table = page.find_element(By.ID, "peers-table")
        assert table.is_displayed()
        assert len(table.find_elements(By.TAG_NAME, "tr")) == 1 + len(ROWS)
        items = page.find_elements(By.CSS_SELECTOR, "ul.peers-not-caught > li")
        assert len(items) == 1 + 1 + 4 and all(i.is_displayed() for i in items)
        severe = [e for e in page.get_log("browser") if e.get("level") == "SEVERE"]
        assert not severe, severe
