"""report.html of a real run, as a person sees it in a browser (headless Chromium).

A small real run (state and delete against runc and crun; delete of a created container
really fails in both) writes its report; Chromium loads report.html and the tests assert
on what is displayed, not on the HTML text. A screenshot of the whole page is left in
that run's report directory (report-screenshot.png) for a person to look at.
The same results, put on three targets (subject ids `runc@qemu:debian`, ...), give a
report with six subject columns: at 1400 px every column head must be reachable by
scrolling the matrix sideways, with the requirement column staying in view.
Without Chromium the tests skip, naming the package, except under CI, where they fail.
"""

from __future__ import annotations

import os

import pytest

from benchmarks.browser import file_url, full_page_screenshot, headless_chromium, unavailable
from infra.subjects import target_tag
from reports.writer import counts, write_doc
from tests.conftest import run_pytest

try:
    from selenium.webdriver.common.by import By
except ImportError:  # unavailable() names the missing package: the tests skip or fail
    By = None

FAILING_REQUIREMENT = "runtime.delete.not-stopped-errors"
SUBJECTS = ("runc", "crun")
#: a PNG file starts with these bytes
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def require_chromium() -> None:
    reason = unavailable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The report directory and results document of a small real run."""
    require_chromium()
    args = ["suites/oci_runtime/test_state.py", "suites/oci_runtime/test_delete.py"]
    for subject in SUBJECTS:
        args += ["--runtime", subject]
    inner = run_pytest([*args, "-n", "2"], tmp_path_factory.mktemp("browser-report"))
    assert inner.rc == 1, inner.stdout[-2000:]  # delete of a created container: real failures
    return inner


@pytest.fixture(scope="module")
def page(run):
    """Chromium showing the run's report.html."""
    with headless_chromium() as driver:
        driver.get(file_url(run.report_dir / "report.html"))
        yield driver


def table_after(page, heading_id: str):
    return page.find_element(By.XPATH, f"//h2[@id='{heading_id}']/following-sibling::table[1]")


def rows_by_first_cell(table) -> dict:
    rows = {}
    for tr in table.find_elements(By.TAG_NAME, "tr"):
        cells = tr.find_elements(By.TAG_NAME, "td")
        if cells:
            rows[cells[0].text.strip()] = (tr, cells)
    return rows


def test_the_page_loads_without_console_errors(page):
    errors = [e["message"] for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_the_gate_verdict_is_shown_failed(page):
    verdict = page.find_element(By.ID, "verdict")
    assert verdict.is_displayed()
    assert verdict.text == "Gate MUST: FAILED"
    assert "bad" in verdict.get_attribute("class").split()


def test_the_failing_requirement_row_shows_failed_for_both_runtimes(page, run):
    row = page.find_element(By.ID, f"req-{FAILING_REQUIREMENT}")
    assert row.is_displayed()
    header = row.find_element(By.XPATH, "ancestor::table[1]").find_element(By.TAG_NAME, "tr")
    columns = [th.text.strip() for th in header.find_elements(By.TAG_NAME, "th")]
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[0].text.strip() == FAILING_REQUIREMENT
    # the level cell names the level, then what the duty rests on (the catalogue's basis)
    assert cells[1].text.split() == ["MUST", "keyword"], cells[1].text
    for subject in SUBJECTS:
        cell = cells[columns.index(subject)]
        assert cell.is_displayed(), subject
        assert any(p.startswith("failed") for p in cell.text.split(", ")), (subject, cell.text)
        assert "o-failed" in cell.get_attribute("class").split(), subject
        # the cell's colour is the failure colour, not the page's
        assert cell.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)", subject


def test_a_failed_cell_links_to_its_visible_evidence(page):
    row = page.find_element(By.ID, f"req-{FAILING_REQUIREMENT}")
    link = row.find_element(By.PARTIAL_LINK_TEXT, "failed")
    target = link.get_attribute("href").split("#")[1]
    link.click()
    result = page.find_element(By.ID, target)
    assert result.is_displayed()
    assert "test_delete_of_a_container_not_stopped_fails" in result.text
    message = result.find_element(By.TAG_NAME, "pre")
    assert message.is_displayed()
    assert "wanted: delete of a created container fails" in message.text


def test_the_subjects_table_shows_both_runtimes_with_their_counts(page, run):
    table = table_after(page, "subjects")
    assert table.is_displayed()
    columns = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
    rows = rows_by_first_cell(table)
    counts = run.results["counts"]
    for subject in SUBJECTS:
        tr, cells = rows[subject]
        assert tr.is_displayed(), subject
        assert cells[columns.index("failed")].text == str(counts[subject]["failed"]) != "0"
        assert cells[columns.index("passed")].text == str(counts[subject]["passed"])


def test_the_coverage_figure_is_shown(page, run):
    table = table_after(page, "coverage")
    columns = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
    tr, cells = rows_by_first_cell(table)["oci_runtime"]
    assert tr.is_displayed()
    cov = run.results["coverage"]["oci_runtime"]
    figure = cells[columns.index("coverage")]
    assert figure.is_displayed()
    assert figure.text == f"{cov['percent']}%"
    assert cells[columns.index("with a test")].text == str(cov["covered"])


def test_the_problems_only_filter_hides_passing_rows_and_keeps_failing_ones(page, run):
    passing = next(
        q["id"]
        for q in run.results["catalogue"]
        if q["testable"]
        and {r["outcome"] for r in run.results["results"] if q["id"] in r["requirements"]}
        == {"passed"}
    )
    box = page.find_element(By.ID, "only-problems")
    assert box.is_displayed()
    box.click()
    try:
        assert page.find_element(By.ID, f"req-{FAILING_REQUIREMENT}").is_displayed()
        assert not page.find_element(By.ID, f"req-{passing}").is_displayed()
    finally:
        box.click()
    assert page.find_element(By.ID, f"req-{passing}").is_displayed()


def test_a_screenshot_of_the_whole_page_is_saved_in_the_report_dir(page, run):
    out = run.report_dir / "report-screenshot.png"
    page.execute_script("window.scrollTo(0, 0)")
    width, height = full_page_screenshot(page, out)
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000, len(data)
    # IHDR: the image is as wide as the window, and taller than one screen
    png_width, png_height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert png_width == width and 1000 < png_height <= height, (png_width, png_height)


# -- many columns: subjects x targets ------------------------------------------------
#: the window width at which the matrix once pushed the second subject off-screen
WIDE = 1400
#: the targets the wide report puts every subject of the real run on
TARGETS = ("local", "qemu:debian", "qemu:linuxkit")


def on_targets(doc: dict, targets: tuple[str, ...]) -> dict:
    """`doc` as if each subject had run on each of `targets`: ids `runc@qemu:debian`, the
    same results per target (the ids and nodeids a multi-target run gives)."""
    subjects, results = [], []
    for s in doc["subjects"]:
        for t in targets:
            subjects.append({**s, "id": f"{s['id']}@{target_tag(t)}", "target": t})
    for r in doc["results"]:
        for t in targets:
            sid = r["subject"]
            tagged = f"{sid}@{target_tag(t)}" if sid else sid
            nodeid = r["nodeid"].replace(f"[{sid}", f"[{tagged}") if sid else r["nodeid"]
            results.append({**r, "subject": tagged, "target": t, "nodeid": nodeid})
    return {**doc, "subjects": subjects, "results": results, "counts": counts(subjects, results),
            "targets": [{"spec": t, "facts": {}} for t in targets]}  # fmt: skip


#: per subject head of the first matrix: [visible after scrolling it into view, what
#: covers its centre ("" when nothing), its title]
_HEADS = """
var out = [], vw = window.innerWidth;
document.querySelector("table.matrix").querySelectorAll("th.subj").forEach(function (th) {
  th.scrollIntoView({block: "center", inline: "center"});
  var r = th.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
  var hit = document.elementFromPoint(x, y);
  out.push([r.left >= 0 && r.right <= vw, hit && th.contains(hit) ? "" : (hit ? hit.outerHTML.slice(0, 80) : "nothing"), th.title]);
});
return out;"""

#: after scrolling the first matrix to its right end: [did it scroll, is a requirement
#: cell still at the left edge and on top, page wider than the window]
_STICKY = """
var wrap = document.querySelector("div.wide"), rid = wrap.querySelector("td.rid");
rid.scrollIntoView({block: "center"});
wrap.scrollLeft = wrap.scrollWidth;
var w = wrap.getBoundingClientRect(), r = rid.getBoundingClientRect();
var hit = document.elementFromPoint(r.left + 5, (r.top + r.bottom) / 2);
return [wrap.scrollLeft > 0, Math.abs(r.left - w.left) < 2 && rid.contains(hit),
        document.documentElement.scrollWidth > window.innerWidth + 1];"""


def assert_every_column_head_reachable(driver, subjects: list[dict]) -> None:
    heads = driver.execute_script(_HEADS)
    assert len(heads) == len(subjects), heads
    for (visible, covered, title), s in zip(heads, subjects, strict=True):
        assert visible and not covered, (s["id"], covered)
        assert title.startswith(s["id"]), (s["id"], title)  # the full id as a tooltip


@pytest.fixture(scope="module")
def wide(run, tmp_path_factory):
    """(driver at WIDE px showing the run's report with its subjects on three targets,
    that report's directory)."""
    out = tmp_path_factory.mktemp("wide-report")
    write_doc(on_targets(run.results, TARGETS), str(out))
    with headless_chromium(width=WIDE) as driver:
        driver.get(file_url(out / "report.html"))
        yield driver, out


def test_at_1400_px_the_real_runs_subject_columns_are_on_screen(run):
    with headless_chromium(width=WIDE) as driver:
        driver.get(file_url(run.report_dir / "report.html"))
        assert_every_column_head_reachable(driver, run.results["subjects"])


def test_with_subjects_on_three_targets_every_column_head_is_reachable(wide):
    driver, _ = wide
    subjects = [{"id": f"{s}@{target_tag(t)}"} for s in SUBJECTS for t in TARGETS]
    assert_every_column_head_reachable(driver, subjects)
    names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.matrix th.subj .nm")]
    wheres = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "table.matrix th.subj .where")]
    n = len(SUBJECTS) * len(TARGETS)
    assert names[:n] == [s for s in SUBJECTS for _ in TARGETS], names[:n]
    assert wheres[:n] == [t for _ in SUBJECTS for t in TARGETS], wheres[:n]


def test_the_matrix_scrolls_sideways_under_a_sticky_requirement_column(wide):
    driver, out = wide
    scrolled, sticky, page_too_wide = driver.execute_script(_STICKY)
    assert scrolled, "the matrix did not scroll: its columns fit or the page scrolls instead"
    assert sticky, "the requirement column left the screen when the matrix scrolled"
    assert not page_too_wide, "the page itself is wider than the window"
    driver.execute_script(
        "document.querySelector('div.wide').scrollLeft = 0; window.scrollTo(0, 0)"
    )
    full_page_screenshot(driver, out / "report-screenshot.png", width=WIDE)
    assert (out / "report-screenshot.png").read_bytes().startswith(PNG_SIGNATURE)
