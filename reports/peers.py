"""report.html's peers section: what `./ocitest peers` wrote to peers.json.

peers.json (schema: reports/schemas/peers.schema.json; written by
benchmarks/peers/registry_peers.py, cri_peers.py and runtime_tools.py) holds one section
per peer suite, each shaped by its writer. `runs()` flattens them to one row per peer
run on one subject: the peer's counts and wall time (seconds), ocitest's on the same
subject where it ran, and the peer's findings, each with how ocitest stands on it
(`caught` by our tests, `not caught` by ocitest, `environment`: not a finding about the
subject, or `unmatched`: the peer has no map to our catalogue yet). `render_section()`
makes the HTML; `find()` picks the document the way reports/performance.py does.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import jsonschema

from reports.schemas import load_schema

SCHEMA = "peers.schema.json"
JSON_NAME = "peers.json"
TEMPLATES = Path(__file__).with_name("templates")
NOT_CAUGHT = "not caught by ocitest"


class PeersError(Exception):
    """A given peers.json that cannot be read or does not match its schema (one line)."""


def load(path: str, what: str = "--peers") -> dict:
    """peers.json at `path`, read and validated. Raises PeersError (one line naming
    `what`, the option that gave the path)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PeersError(f"{what} {path}: cannot read: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PeersError(f"{what} {path}: not JSON: {exc}") from None
    try:
        jsonschema.validate(doc, load_schema(SCHEMA))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise PeersError(f"{what} {path}: not a peers.json: {where}: {exc.message}") from None
    return doc


def find(report_dir: str, given: str | None = None) -> dict | None:
    """The peers document for a report: `given` (a path; PeersError when it is not one),
    else REPORT_DIR/peers.json when it is there and valid, else None."""
    if given:
        return load(given)
    path = Path(report_dir) / JSON_NAME
    if not path.is_file():
        return None
    try:
        return load(str(path), "report directory's")
    except PeersError:
        return None


def _finding(f: dict) -> dict:
    """One peer failure as {name, message, requirements, status, tests, why}."""
    caught = f.get("caught_by")
    if f.get("environment"):
        status, why = "environment", f["environment"]
    elif caught is None:
        status, why = "unmatched", "no map of this peer's checks to our catalogue yet"
    elif caught == NOT_CAUGHT or not caught:
        status, why = "not caught", f.get("ocitest_judges_otherwise", "")
    else:
        status, why = "caught", ""
    return {
        "name": f.get("name") or f"{f.get('program')}: {f.get('test')}",
        "message": (f.get("message") or "").strip(),
        "requirements": f.get("requirements", []),
        "status": status,
        "tests": caught if isinstance(caught, list) else [],
        "why": why,
    }


def _run(
    peer: str,
    version: str,
    subject: str,
    *,
    theirs: dict,
    ours: dict | None,
    failures: list[dict],
    only: list[dict] | None = None,
) -> dict:
    findings = [_finding(f) for f in failures]
    return {
        "peer": peer,
        "version": version,
        "subject": subject,
        "peer_counts": theirs,
        "ocitest": ours,
        "findings": findings,
        "counted": {
            s: sum(f["status"] == s for f in findings)
            for s in ("caught", "not caught", "environment", "unmatched")
        },
        "ocitest_only": only or [],
    }


def runs(doc: dict) -> list[dict]:
    """One row per peer run on one subject, in document order: {peer, version, subject,
    peer_counts ({tests, passed, failed, skipped, wall_seconds} or {error}), ocitest
    (the same, or None where ocitest was not run beside it), findings (see `_finding`),
    counted ({status: n}), ocitest_only ([{test, requirements, message}])}."""
    out = []
    for sid, reg in doc.get("registries", {}).items():
        for name, p in reg["peers"].items():
            only = reg.get("ocitest_only", [])
            out.append(
                _run(
                    name,
                    p["version"],
                    sid,
                    theirs=p,
                    ours=reg["ocitest"],
                    failures=p["failures"],
                    only=only,
                )
            )
    if "critest" in doc:
        c = doc["critest"]
        for ep, e in c["endpoints"].items():
            subject = f"{e['subject']} ({ep})"
            out.append(
                _run(
                    "critest",
                    c["version"],
                    subject,
                    theirs=e["critest"],
                    ours=e.get("ocitest"),
                    failures=e["failures"],
                )
            )
    if "runtime-tools" in doc:
        r = doc["runtime-tools"]
        for rid, rt in r["runtimes"].items():
            out.append(
                _run(
                    "runtime-tools",
                    r["version"],
                    rid,
                    theirs=rt,
                    ours=None,
                    failures=rt["failures"],
                )
            )
    return out


def render_section(doc: dict) -> str:
    """The peers section of report.html (templates/peers_section.html.j2): a table of
    every peer run, then per run the findings ocitest does not report."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("peers_section.html.j2").render(runs=runs(doc))
