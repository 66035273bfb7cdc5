"""Benchmark of report.html: render time, size, and load time in headless Chromium.

    .venv/bin/python -m benchmarks.bench_report --results 2000 --runs 5

Builds a synthetic results document of N results (benchmarks.synthetic), validates it
against reports/schemas/results.schema.json, renders report.html with
reports.html.render_html K times, and loads the page K times in headless Chromium,
timing navigation start to the end of the load event (Navigation Timing 2:
PerformanceNavigationTiming.loadEventEnd, whose startTime is the navigation start).
Prints a short table and writes the figures as JSON (--out). Exit status 0, or 4 when
an option is bad or headless Chromium is not installed (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jsonschema

from benchmarks.browser import PAGE_LOAD_TIMEOUT, file_url, headless_chromium, unavailable
from benchmarks.synthetic import synthetic_results
from reports.html import render_html
from reports.schemas import load_schema

USAGE_EXIT = 4
#: the navigation entry once its load event has ended, else null
NAVIGATION_JS = """
const e = performance.getEntriesByType("navigation")[0];
return e && e.loadEventEnd > 0 ? e.toJSON() : null;
"""


class BenchmarkError(Exception):
    """The page did not load as it should (the figures would mean nothing)."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="benchmarks.bench_report", description=__doc__.split("\n")[0])
    p.add_argument("--results", type=_positive, default=2000, help="results in the document")
    p.add_argument("--runs", type=_positive, default=5, help="renders and page loads to time")
    p.add_argument("--out", default="benchmark-report.json", help="where the JSON figures go")
    p.add_argument("--html", default=None, help="keep the rendered report.html at this path")
    p.add_argument("--seed", type=int, default=1, help="seed of the synthetic document")
    try:
        return p.parse_args(argv)
    except SystemExit as exc:  # argparse's usage errors exit 2; ours is 4
        raise SystemExit(USAGE_EXIT if exc.code else 0) from None


def _summary(values: list[float], digits: int) -> dict:
    return {
        "median": round(statistics.median(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def time_renders(doc: dict, runs: int) -> tuple[str, list[float]]:
    """render_html(doc) `runs` times; the page and each render's seconds."""
    times, html = [], ""
    for _ in range(runs):
        t0 = time.perf_counter()
        html = render_html(doc)
        times.append(time.perf_counter() - t0)
    return html, times


def time_loads(page: Path, runs: int, expected_results: int) -> tuple[list[dict], str]:
    """Load `page` `runs` times in one headless Chromium (about:blank in between); each
    run's navigation timings in milliseconds, and the browser's version. Raises
    BenchmarkError when the page shows another number of results than expected."""
    from selenium.webdriver.support.ui import WebDriverWait

    loads = []
    with headless_chromium() as driver:
        version = driver.capabilities.get("browserVersion", "")
        for _ in range(runs):
            driver.get("about:blank")
            driver.get(file_url(page))
            nav = WebDriverWait(driver, PAGE_LOAD_TIMEOUT).until(
                lambda d: d.execute_script(NAVIGATION_JS),
                f"no load event within {PAGE_LOAD_TIMEOUT} s",
            )
            shown = driver.execute_script("return document.querySelectorAll('div.result').length")
            if shown != expected_results:
                raise BenchmarkError(f"the page shows {shown} results, wanted {expected_results}")
            loads.append(
                {
                    "load_ms": nav["loadEventEnd"] - nav["startTime"],
                    "dom_content_loaded_ms": nav["domContentLoadedEventEnd"] - nav["startTime"],
                    "response_end_ms": nav["responseEnd"] - nav["startTime"],
                }
            )
    return loads, version


def run(args: argparse.Namespace) -> dict:
    """The benchmark's figures (the JSON document written to --out)."""
    t0 = time.perf_counter()
    doc = synthetic_results(args.results, seed=args.seed)
    build_s = time.perf_counter() - t0
    jsonschema.validate(doc, load_schema("results.schema.json"))
    html, renders = time_renders(doc, args.runs)
    size = len(html.encode("utf-8"))
    with tempfile.TemporaryDirectory(prefix="ocitest-bench-") as tmp:
        page = Path(args.html) if args.html else Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        loads, version = time_loads(page, args.runs, len(doc["results"]))
    return {
        "benchmark": "report.html",
        "results": len(doc["results"]),
        "subjects": [s["id"] for s in doc["subjects"]],
        "requirements": len(doc["catalogue"]),
        "evidence_records": sum(len(r["evidence"]) for r in doc["results"]),
        "failed": sum(r["outcome"] == "failed" for r in doc["results"]),
        "build_s": round(build_s, 3),
        "size_bytes": size,
        "size_mb": round(size / 1e6, 2),
        "render_s": _summary(renders, 3),
        "load_ms": _summary([x["load_ms"] for x in loads], 1),
        "dom_content_loaded_ms": _summary([x["dom_content_loaded_ms"] for x in loads], 1),
        "response_end_ms": _summary([x["response_end_ms"] for x in loads], 1),
        "chromium": version,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def table(fig: dict) -> str:
    """A few lines for a terminal."""
    rows = [
        ("results", f"{fig['results']} ({', '.join(fig['subjects'])}; {fig['failed']} failed)"),
        ("evidence records", str(fig["evidence_records"])),
        ("report.html", f"{fig['size_mb']} MB ({fig['size_bytes']} bytes)"),
        ("render (Python)", _fmt(fig["render_s"], "s")),
        ("load (Chromium)", _fmt(fig["load_ms"], "ms")),
        ("DOMContentLoaded", _fmt(fig["dom_content_loaded_ms"], "ms")),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _fmt(summary: dict, unit: str) -> str:
    runs = ", ".join(f"{v:g}" for v in summary["runs"])
    return f"median {summary['median']:g} {unit}  (runs: {runs})"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = unavailable()
    if reason:
        print(f"benchmarks.bench_report: {reason}", file=sys.stderr)
        return USAGE_EXIT
    fig = run(args)
    Path(args.out).write_text(json.dumps(fig, indent=1) + "\n", encoding="utf-8")
    print(table(fig))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
