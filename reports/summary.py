"""summary.md: short enough for a CI step summary or a PR comment."""

from __future__ import annotations

#: at most this many failing rows are listed
MAX_ROWS = 25


def _seen(message: str) -> str:
    """The "seen:" line of a failure message (else its first line), up to 200 characters."""
    lines = [ln.strip() for ln in message.strip().splitlines()]
    seen = next((ln for ln in lines if ln.startswith("seen:")), lines[0] if lines else "")
    return seen if len(seen) <= 200 else seen[:199] + "…"


def _basis(cat: dict[str, dict], ids: list[str]) -> str:
    """Each requirement's basis, linked to the text it rests on: "[keyword](url)", ...;
    "none stated" for an entry without a basis."""
    parts = []
    for rid in ids:
        q = cat.get(rid)
        if q is None:
            continue
        url = q.get("basis_url") or q.get("url") or ""
        name = q.get("basis") or "none stated"
        parts.append(f"[{name}]({url})" if url else name)
    return ", ".join(dict.fromkeys(parts)) or "—"


def render_summary(doc: dict) -> str:
    g = doc["gate"]
    lines = [f"## ocitest: gate {g['mode']} {'passed' if g['passed'] else '**FAILED**'}"]
    if not doc["run"]["complete"]:
        lines.append(
            "\n**Incomplete run** (interrupted, or a worker died): results below are partial."
        )
    for t in doc.get("targets", []):
        f = t.get("facts", {})
        lines.append(
            f"\nTarget `{t.get('spec', '?')}`: {f.get('distro', '?')}, kernel "
            f"{f.get('kernel', '?')} ({f.get('arch', '?')}), cgroup {f.get('cgroup', '?')}, "
            f"PID 1 {f.get('init', '?')}"
        )
    lines += [
        "",
        "| subject | version | spec | passed | failed | error | xfail | stale | skipped | unsupported | not-required |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in doc["subjects"]:
        c = doc["counts"].get(s["id"], {})
        lines.append(
            f"| {s['id']} | {s['version']} | {s['spec_version']} | "
            + " | ".join(
                str(c.get(k, 0))
                for k in (
                    "passed",
                    "failed",
                    "error",
                    "xfail",
                    "stale",
                    "skipped",
                    "unsupported",
                    "not-required",
                )
            )
            + " |"
        )
    lines.append("")
    for suite, cov in doc["coverage"].items():
        specs = ", ".join(f"{k} {v}" for k, v in sorted(cov.get("specs", {}).items()))
        lines.append(
            f"Coverage of `{suite}`{f' ({specs})' if specs else ''}: {cov['covered']}/{cov['testable']} testable requirements "
            f"({cov['percent']}%), {len(cov['untestable'])} untestable."
        )
    bad = [r for r in doc["results"] if r["outcome"] in ("failed", "error", "stale")]
    if bad:
        cat = {q["id"]: q for q in doc["catalogue"]}
        lines += [
            "",
            "| test | subject | level | basis | outcome | why |",
            "|---|---|---|---|---|---|",
        ]
        for r in bad[:MAX_ROWS]:
            why = _seen(r["message"]).replace("|", "\\|")
            lines.append(
                f"| `{r['name']}` | {r['subject']} | {r['level']} | "
                f"{_basis(cat, r['requirements'])} | {r['outcome']} | {why} |"
            )
        if len(bad) > MAX_ROWS:
            lines.append(f"\n… and {len(bad) - MAX_ROWS} more in report.html.")
    redacted = [r for r in doc["results"] if r.get("redactions")]
    if redacted:
        n = sum(r["redactions"] for r in redacted)
        lines.append(
            f"\nRedacted: {n} secret value(s) in {len(redacted)} result(s) (see report.html)."
        )
    if doc["run"]["leftovers"]:
        lines.append(
            f"\n**Leak:** the sweeper removed {len(doc['run']['leftovers'])} objects after the run."
        )
    return "\n".join(lines) + "\n"
