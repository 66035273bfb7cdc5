"""performance.json and performance.html: latency figures of a benchmark run.

Pure functions of data (no pytest): `figure()` turns samples into the figures of one
operation on one subject (seconds: n, min, p50, p90, p99, max, mean; warm-up already
dropped by the caller), `build()` makes the document (schema:
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
MIB = 1 << 20


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


def figure(
    operation: str,
    subject: str,
    samples: list[float],
    warmup_dropped: int = 0,
    nbytes: int | None = None,
) -> dict:
    """The figure of one operation on one subject from its samples (seconds); with
    `nbytes` (bytes each sample processed) also `bytes` and `mib_per_s`, the throughput
    at the median (nbytes / p50 / 2**20)."""
    out = {
        "operation": operation,
        "subject": subject,
        "unit": "s",
        "n": len(samples),
        "min": min(samples),
        "p50": percentile(samples, 50),
        "p90": percentile(samples, 90),
        "p99": percentile(samples, 99),
        "max": max(samples),
        "mean": sum(samples) / len(samples),
        "warmup_dropped": warmup_dropped,
        "samples": [round(s, 6) for s in samples],
    }
    if nbytes is not None:
        out["bytes"] = nbytes
        out["mib_per_s"] = round(nbytes / out["p50"] / MIB, 3) if out["p50"] > 0 else 0.0
    return out


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


def load(path: str) -> dict:
    """A performance.json read back and validated. Raises PerformanceError (one line)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PerformanceError(f"--perf-baseline {path}: cannot read: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PerformanceError(f"--perf-baseline {path}: not JSON: {exc}") from None
    try:
        jsonschema.validate(doc, load_schema(SCHEMA))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise PerformanceError(
            f"--perf-baseline {path}: not a performance.json: {where}: {exc.message}"
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
                        f"{f['operation']} on {f['subject']}: p50 {f['p50'] * 1000:.1f} ms, "
                        f"baseline {b['p50'] * 1000:.1f} ms (+{change:.0f}%, threshold "
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


def plots(doc: dict) -> dict[str, str]:
    """SVG charts: "cdf:OPERATION" (latency CDF, one line per subject) and "bars" (p50
    and p99 per operation and subject)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "ocitest"}):
        for op, figs in _by_operation(doc).items():
            fig, ax = plt.subplots(figsize=(5.2, 3.0))
            colour = {s["id"]: f"C{i}" for i, s in enumerate(doc["subjects"])}
            for f in figs:
                xs = sorted(s * 1000 for s in f["samples"])
                ys = [(i + 1) / len(xs) for i in range(len(xs))]
                ax.step(xs, ys, where="post", label=f["subject"], color=colour.get(f["subject"]))
            ax.set_xlabel(f"{op} latency (ms)")
            ax.set_ylabel("fraction of samples")
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
            out[f"cdf:{op}"] = _svg(fig)
            plt.close(fig)
        ops = _by_operation(doc)
        subjects = [s["id"] for s in doc["subjects"]]
        if ops and subjects:
            fig, ax = plt.subplots(figsize=(max(5.2, 1.3 * len(ops)), 3.2))
            width = 0.8 / len(subjects)
            for i, sid in enumerate(subjects):
                per = {
                    f["operation"]: f for figs in ops.values() for f in figs if f["subject"] == sid
                }
                xs = [j + i * width for j in range(len(ops))]
                p50 = [per[o]["p50"] * 1000 if o in per else 0 for o in ops]
                p99 = [per[o]["p99"] * 1000 if o in per else 0 for o in ops]
                ax.bar(xs, p99, width, alpha=0.35, color=f"C{i}")
                ax.bar(xs, p50, width, color=f"C{i}", label=f"{sid} (p50; pale: p99)")
            ax.set_xticks([j + width * (len(subjects) - 1) / 2 for j in range(len(ops))])
            ax.set_xticklabels(list(ops), rotation=20, fontsize=8)
            ax.set_ylabel("ms")
            ax.legend(fontsize=8)
            ax.grid(axis="y", alpha=0.3)
            out["bars"] = _svg(fig)
            plt.close(fig)
    return out


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


def render_html(doc: dict) -> str:
    """performance.html: one self-contained page (see the module docstring)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    charts = {k: _scoped(v, f"c{i}") for i, (k, v) in enumerate(plots(doc).items())}
    return env.get_template("performance.html.j2").render(
        doc=doc, operations=_by_operation(doc), charts=charts, ratios=ratios(doc)
    )


def write(doc: dict, out_dir: str) -> tuple[str, str]:
    """Write performance.json and performance.html into `out_dir`; their paths."""
    d = Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    js, html = d / JSON_NAME, d / HTML_NAME
    js.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    html.write_text(render_html(doc), encoding="utf-8")
    return str(js), str(html)
