"""performance.json and performance.html: latency figures of a benchmark run.

Pure functions of data (no pytest): `figure()` turns samples into the figures of one
operation on one subject (seconds, or bytes for a peak memory figure: n, min, p50, p90,
p99, max, mean; warm-up already dropped by the caller; with the bytes one operation
moves, its throughput in MiB/s at the p50 and p99 latency), `build()` makes the
document (schema:
reports/schemas/performance.schema.json), `compare()` finds the operations whose p50 grew
past a threshold against an earlier document, `render_html()` makes the page: one table
per operation with the subjects side by side, the ratio of each subject's p50 to the
first subject's, a latency CDF per operation (one line per subject) and a p50/p99 bar
chart, inline SVG from matplotlib with text drawn as paths (the page renders the same in
any browser, with no font of its own). `write()` writes both files.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from collections import defaultdict
from pathlib import Path

import jinja2
import jsonschema

from reports.schemas import load_schema

FORMAT = "ocitest-performance/1"
SCHEMA = "performance.schema.json"
TEMPLATES = Path(__file__).with_name("templates")
JSON_NAME, HTML_NAME = "performance.json", "performance.html"


class PerformanceError(Exception):
    """A baseline file that cannot be read or is not a performance.json (one line)."""


def percentile(samples: list[float], pct: float) -> float:
    """The `pct` percentile (0..100) of `samples`, linear between closest ranks (the
    "inclusive" method: p0 is the min, p100 the max). Raises ValueError when empty."""
    if not samples:
        raise ValueError("no samples")
    xs = sorted(samples)
    pos = (len(xs) - 1) * pct / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


MIB = 1024 * 1024


def figure(
    operation: str,
    subject: str,
    samples: list[float],
    warmup_dropped: int = 0,
    *,
    unit: str = "s",
    group: str = "",
    clients: int = 0,
    bytes: int = 0,
) -> dict:
    """The figure of one operation on one subject from its samples (seconds, or bytes
    when `unit` is "bytes"). `group` (runtime, cri, registry, image, memory) and
    `clients` (how many called at once) are kept when given; `bytes` moved or processed
    per operation is kept on a latency figure and adds `throughput` (MiB/s at the p50
    and at the p99 latency, and over all samples) unless those are 0 s (a CPU time below
    the clock's tick)."""
    out = _figure(operation, subject, samples, warmup_dropped, unit)
    out |= {k: v for k, v in (("group", group), ("clients", clients)) if v}
    if bytes and unit == "s":
        out["bytes"] = bytes
    if bytes and unit == "s" and out["p50"] > 0 and out["p99"] > 0:
        out["throughput"] = {
            "unit": "MiB/s",
            "at_p50": bytes / MIB / out["p50"],
            "at_p99": bytes / MIB / out["p99"],
            "mean": bytes * len(samples) / MIB / sum(samples),
        }
    return out


def _figure(operation: str, subject: str, samples: list[float], warmup: int, unit: str) -> dict:
    digits = 6 if unit == "s" else 0
    return {
        "operation": operation,
        "subject": subject,
        "unit": unit,
        "n": len(samples),
        "min": min(samples),
        "p50": percentile(samples, 50),
        "p90": percentile(samples, 90),
        "p99": percentile(samples, 99),
        "max": max(samples),
        "mean": sum(samples) / len(samples),
        "warmup_dropped": warmup,
        "samples": [round(s, digits) for s in samples],
    }


def shown(value: float, unit: str) -> str:
    """A value as the page and the terminal show it: ms for seconds, MiB for bytes."""
    return f"{value * 1000:.1f} ms" if unit == "s" else f"{value / MIB:.1f} MiB"


def line(f: dict) -> str:
    """One terminal line of a figure."""
    u = f["unit"]
    scale, name = (1000, "ms") if u == "s" else (1 / MIB, "MiB")
    text = (
        f"{f['operation']:<28} {f['subject']:<22} n={f['n']:<3} p50 {f['p50'] * scale:8.1f} "
        f"{name}  p90 {f['p90'] * scale:8.1f}  p99 {f['p99'] * scale:8.1f}  "
        f"min {f['min'] * scale:7.1f}  max {f['max'] * scale:8.1f}"
    )
    if "throughput" in f:
        t = f["throughput"]
        text += f"  {t['at_p50']:.3g} MiB/s at p50, {t['at_p99']:.3g} at p99"
    return text


def build(
    figures: list[dict],
    subjects: list[dict],
    where: dict[str, str],
    samples: int,
    warmup: int,
    baseline: str | None = None,
    threshold_pct: float | None = None,
) -> dict:
    """The performance document; validated against the schema (jsonschema's
    ValidationError when a caller breaks it)."""
    doc = {
        "format": FORMAT,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "settings": {
            "samples": samples,
            "warmup": warmup,
            "baseline": baseline,
            "threshold_pct": threshold_pct,
        },
        "where": {k: str(v) for k, v in where.items()},
        "subjects": subjects,
        "figures": sorted(figures, key=lambda f: (f["operation"], f["subject"])),
    }
    jsonschema.validate(doc, load_schema(SCHEMA))
    return doc


def load(path: str, what: str = "--perf-baseline") -> dict:
    """A performance.json read back and validated. Raises PerformanceError (one line
    naming `what`, the option that gave the path)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PerformanceError(f"{what} {path}: cannot read: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PerformanceError(f"{what} {path}: not JSON: {exc}") from None
    try:
        jsonschema.validate(doc, load_schema(SCHEMA))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise PerformanceError(
            f"{what} {path}: not a performance.json: {where}: {exc.message}"
        ) from None
    return doc


def compare(doc: dict, baseline: dict, threshold_pct: float) -> list[dict]:
    """Figures of `doc` whose p50 exceeds the same operation's and subject's p50 in
    `baseline` by more than `threshold_pct` percent, each with a one-line message naming
    the operation. Figures missing from either side are not compared."""
    base = {(f["operation"], f["subject"]): f for f in baseline["figures"]}
    out = []
    for f in doc["figures"]:
        b = base.get((f["operation"], f["subject"]))
        if b is None or b["p50"] <= 0:
            continue
        change = (f["p50"] / b["p50"] - 1) * 100
        if change > threshold_pct:
            out.append(
                {
                    "operation": f["operation"],
                    "subject": f["subject"],
                    "p50": f["p50"],
                    "baseline_p50": b["p50"],
                    "change_pct": round(change, 1),
                    "message": (
                        f"{f['operation']} on {f['subject']}: p50 {shown(f['p50'], f['unit'])}, "
                        f"baseline {shown(b['p50'], f['unit'])} (+{change:.0f}%, threshold "
                        f"{threshold_pct:g}%)"
                    ),
                }
            )
    return out


def _by_operation(doc: dict) -> dict[str, list[dict]]:
    """operation -> its figures, subjects in the document's order (so the first subject
    is the reference of the ratios and has the same colour in every chart)."""
    order = {s["id"]: i for i, s in enumerate(doc["subjects"])}
    ops: dict[str, list[dict]] = defaultdict(list)
    for f in sorted(doc["figures"], key=lambda f: order.get(f["subject"], len(order))):
        ops[f["operation"]].append(f)
    return dict(ops)


def _svg(fig) -> str:
    """An inline <svg> of a matplotlib figure, text as paths, no XML prologue."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _scoped(svg: str, prefix: str) -> str:
    """The SVG with its ids (and references to them) prefixed, so charts on one page do
    not share clip paths or glyphs."""
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', svg)


def _groups(doc: dict) -> dict[str, dict[str, list[dict]]]:
    """(group, unit) label -> operation -> figures: one bar chart each, so that a 64 MiB
    push in seconds and a state call in milliseconds do not share an axis."""
    out: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for op, figs in _by_operation(doc).items():
        f0 = figs[0]
        key = (f0.get("group") or "all") + ("" if f0["unit"] == "s" else " (peak memory)")
        out[key][op] = figs
    return dict(out)


def plots(doc: dict) -> dict[str, str]:
    """SVG charts: "cdf:OPERATION" (CDF of the samples, one line per subject) and
    "bars:GROUP" (p50 and p99 per operation and subject, one chart per group of
    operations of one unit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    subjects = [s["id"] for s in doc["subjects"]]
    colour = {sid: f"C{i % 10}" for i, sid in enumerate(subjects)}
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "ocitest"}):
        for op, figs in _by_operation(doc).items():
            scale, name = _scale(figs[0]["unit"])
            fig, ax = plt.subplots(figsize=(5.2, 3.0))
            for f in figs:
                xs = sorted(s * scale for s in f["samples"])
                ys = [(i + 1) / len(xs) for i in range(len(xs))]
                ax.step(xs, ys, where="post", label=f["subject"], color=colour.get(f["subject"]))
            ax.set_xlabel(f"{op} ({name})" if figs[0]["unit"] != "s" else f"{op} latency (ms)")
            ax.set_ylabel("fraction of samples")
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
            out[f"cdf:{op}"] = _svg(fig)
            plt.close(fig)
        for group, ops in _groups(doc).items():
            out[f"bars:{group}"] = _bars(plt, ops, subjects, colour)
    return out


def _scale(unit: str) -> tuple[float, str]:
    return (1000.0, "ms") if unit == "s" else (1 / MIB, "MiB")


def _bars(plt, ops: dict[str, list[dict]], subjects: list[str], colour: dict) -> str:
    """Horizontal bars (an operation a row, a bar per subject: p50 dark, p99 pale), so
    that many operations keep readable labels."""
    scale, name = _scale(next(iter(ops.values()))[0]["unit"])
    present = [s for s in subjects if any(f["subject"] == s for fs in ops.values() for f in fs)]
    height = 0.8 / max(1, len(present))
    rows = len(ops) * max(1, len(present))
    fig, ax = plt.subplots(figsize=(7.0, 0.9 + 0.16 * rows + 0.1 * len(present)))
    for i, sid in enumerate(present):
        per = {f["operation"]: f for figs in ops.values() for f in figs if f["subject"] == sid}
        ys = [j + i * height for j in range(len(ops))]
        p50 = [per[o]["p50"] * scale if o in per else 0 for o in ops]
        p99 = [per[o]["p99"] * scale if o in per else 0 for o in ops]
        ax.barh(ys, p99, height, alpha=0.35, color=colour[sid])
        ax.barh(ys, p50, height, color=colour[sid], label=f"{sid} (p50; pale: p99)")
    ax.set_yticks([j + height * (len(present) - 1) / 2 for j in range(len(ops))])
    ax.set_yticklabels(list(ops), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(name)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    text = _svg(fig)
    plt.close(fig)
    return text


def ratios(doc: dict) -> list[dict]:
    """Per operation, each subject's p50 and p99 over the first subject's (the reference)."""
    order = [s["id"] for s in doc["subjects"]]
    rows = []
    for op, figs in _by_operation(doc).items():
        per = {f["subject"]: f for f in figs}
        ref = next((s for s in order if s in per), None)
        for sid in order:
            if sid in per and ref and sid != ref:
                rows.append(
                    {
                        "operation": op,
                        "subject": sid,
                        "reference": ref,
                        "p50": per[sid]["p50"] / per[ref]["p50"] if per[ref]["p50"] else None,
                        "p99": per[sid]["p99"] / per[ref]["p99"] if per[ref]["p99"] else None,
                    }
                )
    return rows


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["slug"] = lambda text: re.sub(r"[^A-Za-z0-9_-]+", "-", str(text)).strip("-")
    return env


def section(doc: dict, prefix: str = "") -> dict:
    """What templates/performance_section.html.j2 renders: the document, its operations,
    charts (ids scoped by `prefix`, so that report.html can hold them beside its own),
    ratios and whether any figure has a throughput."""
    charts = {k: _scoped(v, f"{prefix}c{i}") for i, (k, v) in enumerate(plots(doc).items())}
    return {
        "perf": doc,
        "operations": _by_operation(doc),
        "charts": charts,
        "bar_charts": {k[5:]: v for k, v in charts.items() if k.startswith("bars:")},
        "ratios": ratios(doc),
        "throughput": any("throughput" in f for f in doc["figures"]),
        "prefix": prefix,
    }


def render_html(doc: dict) -> str:
    """performance.html: one self-contained page (see the module docstring)."""
    return _env().get_template("performance.html.j2").render(doc=doc, **section(doc))


def render_section(doc: dict, prefix: str = "perf-") -> str:
    """The performance section of report.html (an HTML fragment: h2, tables, charts)."""
    return _env().get_template("performance_section.html.j2").render(**section(doc, prefix))


def find(report_dir: str, given: str | None = None) -> dict | None:
    """The performance document for a report: `given` (a path; PerformanceError when it
    cannot be read or is not one), else REPORT_DIR/performance.json when it is there and
    valid, else None."""
    if given:
        return load(given, "--performance")
    path = Path(report_dir) / JSON_NAME
    if not path.is_file():
        return None
    try:
        return load(str(path), "report directory's")
    except PerformanceError:
        return None


def write(doc: dict, out_dir: str) -> tuple[str, str]:
    """Write performance.json and performance.html into `out_dir`; their paths."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    js, html = d / JSON_NAME, d / HTML_NAME
    js.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    html.write_text(render_html(doc), encoding="utf-8")
    return str(js), str(html)
