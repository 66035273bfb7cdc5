"""report.html's performance section (reports/writer.py write_doc, reports/performance.py
render_section): shown when the report directory holds a performance.json or one is
given (--performance), absent otherwise; per operation and subject a CDF, p50/p99 bars
per group, the ratio table, as inline SVG whose text is drawn as paths. The browser test
loads the page in headless Chromium (as tests/test_report_browser.py does) and checks
what is displayed. Without Chromium it skips, naming the package, except under CI.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter

import pytest

from benchmarks.browser import file_url, full_page_screenshot, headless_chromium, unavailable
from benchmarks.synthetic import synthetic_results
from reports import performance
from reports.writer import write_doc

try:
    from selenium.webdriver.common.by import By
except ImportError:  # unavailable() names the missing package: the test skips or fails
    By = None

MIB = performance.MIB


def _perf() -> dict:
    """A performance document of every kind of figure: runtime latencies, CRI latencies
    with one and 2 clients, registry latencies with throughput, peak memory."""
    f = performance.figure
    figs = [
        f("create", "runc", [0.05, 0.06, 0.08], group="runtime"),
        f("create", "crun", [0.03, 0.04, 0.05], group="runtime"),
        f("RunPodSandbox", "containerd-runc", [0.3, 0.35, 0.5], group="cri"),
        f("RunPodSandbox", "containerd-2.4.2-runc", [0.25, 0.3, 0.4], group="cri"),
        f(
            "RunPodSandbox (2 clients)",
            "containerd-runc",
            [0.5, 0.6, 0.9, 1.0],
            group="cri",
            clients=2,
        ),
        f(
            "push 64 MiB monolithic",
            "distribution-2.8.2",
            [0.4, 0.45, 0.6],
            group="registry",
            bytes=64 * MIB,
        ),
        f("runtime peak RSS: create", "runc", [9.5 * MIB, 9.6 * MIB], unit="bytes", group="memory"),
    ]
    subjects = [
        {"id": s, "kind": k}
        for s, k in [
            ("runc", "runtime"), ("crun", "runtime"), ("containerd-runc", "cri"),
            ("containerd-2.4.2-runc", "cri"), ("distribution-2.8.2", "registry"),
        ]
    ]  # fmt: skip
    return performance.build(figs, subjects, {"hostname": "h"}, 3, 1)


OPERATIONS = 5  # create, RunPodSandbox, its 2-client case, the push, the peak RSS
GROUPS = ["runtime", "cri", "registry", "memory (peak memory)"]


def _section(html: str) -> str:
    m = re.search(r'<section id="performance">(.*?)</section>', html, re.S)
    return m.group(1) if m else ""


def test_no_performance_json_no_section(tmp_path):
    write_doc(synthetic_results(20), str(tmp_path))
    html = (tmp_path / "report.html").read_text()
    assert 'id="performance"' not in html and "<svg" not in html


def test_the_report_dirs_performance_json_gives_the_section(tmp_path):
    (tmp_path / performance.JSON_NAME).write_text(json.dumps(_perf()))
    write_doc(synthetic_results(20), str(tmp_path))
    html = (tmp_path / "report.html").read_text()
    sec = _section(html)
    assert sec.count("<svg") == OPERATIONS + len(GROUPS)  # a CDF each, a bar chart per group
    assert "<text" not in sec, "text must be drawn as paths (no fonts needed)"
    for g in GROUPS:
        assert f"p50 and p99: {g}</h3>" in sec
    assert 'id="perf-ratios"' in sec and "containerd-2.4.2-runc" in sec
    assert "0.67" in sec  # crun's create p50 over runc's (0.04 / 0.06)
    ids = Counter(re.findall(r'\bid="([^"]+)"', html))
    assert not [i for i, n in ids.items() if n > 1], "ids of the page must be unique"


def test_a_given_performance_json_is_used_and_a_bad_one_refused(tmp_path):
    given = tmp_path / "elsewhere.json"
    given.write_text(json.dumps(_perf()))
    out = tmp_path / "report"
    write_doc(synthetic_results(20), str(out), str(given))
    assert "RunPodSandbox (2 clients)" in _section((out / "report.html").read_text())
    given.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(performance.PerformanceError, match=r"not a performance\.json"):
        write_doc(synthetic_results(20), str(out), str(given))


def test_the_section_renders_in_headless_chromium(tmp_path):
    reason = unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(reason)
    (tmp_path / performance.JSON_NAME).write_text(json.dumps(_perf()))
    write_doc(synthetic_results(20), str(tmp_path))
    with headless_chromium() as page:
        page.get(file_url(tmp_path / "report.html"))
        section = page.find_element(By.ID, "performance")
        assert section.is_displayed()
        charts = section.find_elements(By.TAG_NAME, "svg")
        assert len(charts) == OPERATIONS + len(GROUPS)
        for svg in charts:  # drawn: a real box, and paths inside it (glyphs and lines)
            box = svg.rect
            assert box["width"] > 150 and box["height"] > 100, box
            assert len(svg.find_elements(By.TAG_NAME, "path")) > 10
        rows = section.find_elements(By.CSS_SELECTOR, "table.perf-ratios tr")
        assert len(rows) == 1 + 2  # header; crun over runc; 2.4.2 over 1.6
        summary = section.find_element(By.ID, "perf-summary").text
        assert "MiB/s at p50" in summary and "push 64 MiB monolithic" in summary
        severe = [e for e in page.get_log("browser") if e.get("level") == "SEVERE"]
        assert not severe, severe
        full_page_screenshot(page, tmp_path / "report-screenshot.png")
