"""Which validator catches which broken layout: the corpus side by side (issue 10).

    ./ocitest corpus compare [--out FILE] [--corpus DIR] [--tools NAME,...]
    .venv/bin/python -m benchmarks.peers.corpus_compare [same options]

Every layout of the image suite's corpus (suites/oci_image/corpus.py; written into a
temporary directory, or `--corpus DIR` as `./ocitest corpus write DIR` left it) and the
reference layout go through each validator of benchmarks/peers/image_validators.py:
ocitest, oci-image-tool (every ref, and the `latest` ref only), crane validate (and
with --fast). A case is caught when the validator rejects it; the reference rejected is
a false positive. When a validator rejects the reference, a case it rejects with the
same error (digests and paths aside) is marked `=`, not `x`: that catch says nothing
about the case. Prints one table (a row per case, then totals per image-spec document)
and writes the verdicts as JSON to FILE (default ./ocitest-corpus-compare.json).
Exit 0; 4 with one line for a bad option or an unusable directory. Peers never run in
CI; tests/test_corpus_compare.py runs this on three cases with ocitest alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from benchmarks.peers import image_validators as iv
from infra import schemas
from infra.wait import WaitTimeout
from suites.oci_image.corpus import write_corpus
from suites.oci_image.validate.schema import default_dir

FORMAT = "ocitest-corpus-compare/1"
TOOLS = ("ocitest", "oci-image-tool", "oci-image-tool-ref", "crane", "crane-fast")
DEFAULT_OUT = "ocitest-corpus-compare.json"
MARKS = {"caught": "x", "same": "=", "missed": ".", "timeout": "t", "n/a": "-"}


class UsageError(Exception):
    """A bad option or directory (one line, exit 4)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        raise UsageError(f"{message} (see 'corpus compare --help')")


def _check_out(out: Path) -> None:
    """`out` may be written: a new file in an existing directory, or an earlier output
    of ours (never a file of the user's). Raises UsageError."""
    if out.is_dir() or not out.parent.resolve().is_dir():
        raise UsageError(f"--out {out}: not a file in an existing directory")
    if not out.exists():
        return
    try:
        ours = json.loads(out.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        ours = False
    if not ours:
        raise UsageError(f"--out {out}: exists and is not an earlier corpus compare output")


def _args(argv: list[str]) -> argparse.Namespace:
    p = _Parser(prog="ocitest corpus compare", add_help=True)
    p.add_argument("--out", default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    p.add_argument("--corpus", default=None, help="a corpus written by 'corpus write DIR'")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma list of {', '.join(TOOLS)}")
    try:
        a = p.parse_args(argv)
    except SystemExit as exc:
        if exc.code == 0:
            raise
        raise UsageError("see 'corpus compare --help'") from None
    a.tools = [t for t in a.tools.split(",") if t]
    bad = [t for t in a.tools if t not in TOOLS]
    if bad or not a.tools:
        raise UsageError(f"--tools: unknown {bad or 'empty list'} (known: {', '.join(TOOLS)})")
    return a


def _cases(corpus: Path) -> list[dict]:
    try:
        table = json.loads((corpus / "cases.json").read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"--corpus {corpus}: no readable cases.json ({exc})") from None
    if not (corpus / "reference").is_dir():
        raise UsageError(f"--corpus {corpus}: no reference/ layout")
    return [{"name": n, **table[n]} for n in sorted(table)]


def _mark(v: dict | None) -> str:
    if v is None:
        return MARKS["n/a"]
    if v["stage"] == "timeout":
        return MARKS["timeout"]
    if not v["caught"]:
        return MARKS["missed"]
    return MARKS["caught"] if v["distinct"] else MARKS["same"]


def distinct(v: dict, layout: Path, ref: dict, ref_dir: Path) -> bool:
    """Whether verdict `v` on `layout` is a catch of its own: the validator rejected it,
    and either accepted the reference `ref_dir` or rejected that with another error."""
    if not v["caught"]:
        return False
    same = iv.normalised(v["message"], layout) == iv.normalised(ref["message"], ref_dir)
    return not (ref["caught"] and same)


def compare(corpus: Path, tools: list) -> dict:
    """The verdicts of `tools` (ready validators) on `corpus`'s reference and cases."""
    ref_dir = corpus / "reference"
    reference = {t.name: asdict(t.run(ref_dir, "")) for t in tools}
    rows = []
    for c in _cases(corpus):
        layout = corpus / c["name"]
        verdicts = {}
        for t in tools:
            v = asdict(t.run(layout, c["requirement"]))
            v["distinct"] = distinct(v, layout, reference[t.name], ref_dir)
            verdicts[t.name] = v
        rows.append({**c, "verdicts": verdicts})
    return {"reference": reference, "cases": rows}


def totals(rows: list[dict], names: list[str]) -> dict:
    """Per document (and "all"): cases, and per tool caught and distinct counts."""
    out: dict[str, dict] = defaultdict(lambda: {"cases": 0, **{n: {"caught": 0, "distinct": 0} for n in names}})  # fmt: skip
    for r in rows:
        for doc in (r["doc"], "all"):
            out[doc]["cases"] += 1
            for n in names:
                v = r["verdicts"].get(n)
                if v and v["caught"]:
                    out[doc][n]["caught"] += 1
                    out[doc][n]["distinct"] += int(v["distinct"])
    return dict(out)


def table(doc: dict) -> str:
    """The comparison as a plain-text table: a row per case, the reference, totals."""
    names = [n for n in doc["tools"] if not doc["tools"][n]["missing"]]
    w = max(len(r["name"]) for r in doc["cases"]) + 2
    head = f"{'case':<{w}}{'document':<13}" + "".join(f"{n:>20}" for n in names)
    lines = [head, "-" * len(head)]
    ref = doc["reference"]
    lines.append(
        f"{'reference':<{w}}{'(valid)':<13}"
        + "".join(f"{'REJECTED (FP)' if ref[n]['caught'] else 'accepted':>20}" for n in names)
    )
    for r in doc["cases"]:
        lines.append(
            f"{r['name']:<{w}}{r['doc']:<13}"
            + "".join(f"{_mark(r['verdicts'].get(n)):>20}" for n in names)
        )
    lines += ["", f"{'totals':<{w}}{'cases':<13}" + "".join(f"{n:>20}" for n in names)]
    for d, t in sorted(doc["totals"].items(), key=lambda kv: (kv[0] == "all", kv[0])):
        cells = [f"{t[n]['caught']} ({t[n]['distinct']})" for n in names]
        lines.append(f"{d:<{w}}{t['cases']:<13}" + "".join(f"{c:>20}" for c in cells))
    lines.append(
        "x caught, = rejected with the reference's own error, . accepted, t timed out; "
        "totals: caught (of them distinct from the reference's error)"
    )
    for n, info in doc["tools"].items():
        if info["missing"]:
            lines.append(f"{n}: not run: {info['missing']}")
    return "\n".join(lines)


def _tools(names: list[str], stack: contextlib.ExitStack) -> tuple[list, dict]:
    """The validators that can run, and every requested one's facts (label, version,
    missing)."""
    bindir = iv.crane_bindir() if {"crane", "crane-fast"} & set(names) else None
    registry = None
    if bindir is not None:
        try:
            registry = stack.enter_context(iv.CraneRegistry(str(Path(bindir) / "registry")))
        except WaitTimeout as exc:
            raise UsageError(f"crane: {exc}") from None
    try:
        schema_dir = default_dir()
    except schemas.SchemaError as exc:
        raise UsageError(f"image-spec schemas: {exc}") from None
    makers = {
        "ocitest": lambda: iv.Ocitest(schema_dir),
        "oci-image-tool": lambda: iv.OciImageTool("all"),
        "oci-image-tool-ref": lambda: iv.OciImageTool("ref"),
        "crane": lambda: iv.Crane(bindir, registry),
        "crane-fast": lambda: iv.Crane(bindir, registry, fast=True),
    }
    ready, facts = [], {}
    for n in names:
        t = makers[n]()
        why = t.missing()
        facts[n] = {"label": t.label, "version": "" if why else t.version(), "missing": why}
        if not why:
            ready.append(t)
    return ready, facts


def main(argv: list[str]) -> int:
    try:
        a = _args(argv)
        out = Path(a.out)
        _check_out(out)
        with contextlib.ExitStack() as stack:
            if a.corpus:
                corpus = Path(a.corpus)
            else:
                corpus = Path(
                    stack.enter_context(tempfile.TemporaryDirectory(prefix="ocitest-corpus-"))
                )
                write_corpus(corpus)
            _cases(corpus)  # a bad --corpus fails before any tool starts
            tools, facts = _tools(a.tools, stack)
            for n, info in facts.items():
                if info["missing"]:
                    print(
                        f"ocitest corpus compare: {n}: not run: {info['missing']}", file=sys.stderr
                    )
            got = compare(corpus, tools)
        doc = {
            "format": FORMAT,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": facts,
            **got,
            "totals": totals(got["cases"], [t.name for t in tools]),
        }
        out.write_text(json.dumps(doc, indent=1) + "\n")
    except UsageError as exc:
        print(f"ocitest corpus compare: {exc}", file=sys.stderr)
        return 4
    except OSError as exc:
        print(f"ocitest corpus compare: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 4
    print(table(doc))
    print(f"ocitest corpus compare: {len(doc['cases'])} cases; verdicts in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
