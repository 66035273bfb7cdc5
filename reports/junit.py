"""junit.xml: one testcase per test × subject, requirement ids as properties."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from infra.evidence import excerpt

_SKIPS = {"skipped", "unsupported", "not-required", "xfail"}


def _evidence_text(evidence: list[dict]) -> str:
    lines = []
    for e in evidence:
        lines.append(
            f"$ {e['command']}  (exit {e['exit_status']}, {e['duration']} s) {e['note']}".rstrip()
        )
        for stream in ("stdout", "stderr"):
            if e[stream].strip():
                lines.append(f"  {stream}: {excerpt(e[stream].strip(), 1000)}")
    return "\n".join(lines)


def render_junit(doc: dict) -> str:
    """The junit.xml text for a results document."""
    results = doc["results"]
    cat = {q["id"]: q for q in doc.get("catalogue", [])}
    suite = ET.Element(
        "testsuite",
        {
            "name": "ocitest",
            "tests": str(len(results)),
            "failures": str(sum(r["outcome"] in ("failed", "stale") for r in results)),
            "errors": str(sum(r["outcome"] == "error" for r in results)),
            "skipped": str(sum(r["outcome"] in _SKIPS for r in results)),
            "time": f"{sum(r['duration'] for r in results):.3f}",
            "timestamp": doc["run"]["started"],
            "hostname": doc["targets"][0]["spec"],
        },
    )
    props = ET.SubElement(suite, "properties")
    for s in doc["subjects"]:
        ET.SubElement(
            props,
            "property",
            {
                "name": f"subject:{s['id']}",
                "value": f"{s['path'] or s['endpoint']} {s['version']} (spec {s['spec_version']})",
            },
        )
    ET.SubElement(
        props,
        "property",
        {
            "name": "gate",
            "value": f"{doc['gate']['mode']}: {'passed' if doc['gate']['passed'] else 'failed'}",
        },
    )
    for r in results:
        module, _, name = r["nodeid"].partition("::")
        tc = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": module.removesuffix(".py").replace("/", "."),
                "name": name,
                "time": f"{r['duration']:.3f}",
            },
        )
        p = ET.SubElement(tc, "properties")
        for rid in r["requirements"]:
            ET.SubElement(p, "property", {"name": "requirement", "value": rid})
            q = cat.get(rid)
            if q is not None:
                basis = q.get("basis") or "none stated"
                link = q.get("basis_url") or q.get("url") or ""
                ET.SubElement(
                    p, "property", {"name": "basis", "value": f"{rid}: {basis} {link}".strip()}
                )
        for key in ("level", "subject", "outcome"):
            ET.SubElement(p, "property", {"name": key, "value": str(r[key] or "")})
        if r["known_failure"]:
            ET.SubElement(
                p, "property", {"name": "known_failure", "value": r["known_failure"]["reason"]}
            )
        if r.get("redactions"):
            ET.SubElement(p, "property", {"name": "redactions", "value": str(r["redactions"])})
        msg = r["message"]
        first = msg.strip().splitlines()[0] if msg.strip() else r["outcome"]
        if r["outcome"] in ("failed", "stale"):
            ET.SubElement(tc, "failure", {"message": first[:500], "type": r["outcome"]}).text = msg
        elif r["outcome"] == "error":
            ET.SubElement(tc, "error", {"message": first[:500], "type": "error"}).text = msg
        elif r["outcome"] in _SKIPS:
            ET.SubElement(
                tc, "skipped", {"message": f"{r['outcome']}: {first}"[:500], "type": r["outcome"]}
            )
        if r["evidence"]:
            ET.SubElement(tc, "system-out").text = _evidence_text(r["evidence"])
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
