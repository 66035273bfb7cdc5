"""critest's outputs read, and matched to ocitest's: its JUnit report, its benchmark
files, docs/cri-critest-map.md (benchmarks/peers/cri_peers.py runs both tools; these
are the parts tests/test_peers.py feeds with recorded output)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from infra import hostsetup

MAP_DOC = hostsetup.ROOT / "docs" / "cri-critest-map.md"
#: critest's benchmark operation names -> the RPC (ours where we time it too)
RPC_OF = {
    "CreatePod": "RunPodSandbox",
    "StatusPod": "PodSandboxStatus",
    "StopPod": "StopPodSandbox",
    "RemovePod": "RemovePodSandbox",
    "StatusContainer": "ContainerStatus",
    "StatusImage": "ImageStatus",
}
#: ours -> the same RPC in critest's figures (our PullImage pulls the same 1 MiB image)
OURS_OF = {"PullImage (1 MiB layer)": "PullImage"}
#: (pattern on critest's test name + failure message, why): failures that need what this
#: machine cannot give, not findings of either tool
ENVIRONMENT: list[tuple[str, str]] = [
    (r"test-image-digest@sha256|image with digest",
     "needs critest's upstream image by its digest (sha256:9700f9...): content not made here"),
    (r"nonewprivs:1\.3.*(not found|failed to resolve)",
     "the no-new-privs stand-in needs gcc to be built here"),
    (r'sh: \w+: not found|exec: \\?"\w+\\?": executable file not found',
     "a command critest runs is not in our busybox-static stand-in image, not a finding about "
     "containerd (critest_images.py adds ipcs, pgrep and a /bin/ls of its own since)"),
    (r"should support MaskedPaths.*Expected an error to have occurred",
     "Debian's busybox-static runs `ls` inside `sh -c ls` as its own applet (prefer-applets), "
     "so critest's mask over /bin/ls is never executed; ocitest's test_masked_path_cannot_be_read "
     "checks the mask itself"),
    (r"master process",
     "our nginx stand-in did not show nginx's 'master process' command line as pid 1 "
     "(critest_images.py does since)"),
]  # fmt: skip


# -- parsers (tested with recorded output: tests/test_peers.py) ------------------------
def parse_junit(path: Path) -> list[dict]:
    """critest's ginkgo JUnit report as [{name, status (passed|failed|skipped|...),
    message, seconds}], the suite's own nodes ([BeforeSuite], ...) left out unless
    they failed. Raises OSError or ET.ParseError."""
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        status = case.get("status") or ""
        fail = case.find("failure")
        if fail is None:
            fail = case.find("error")
        if not status:
            status = (
                "failed"
                if fail is not None
                else "skipped"
                if case.find("skipped") is not None
                else "passed"
            )
        if name.startswith("[") and not name.startswith("[It]") and status == "passed":
            continue
        msg = ""
        if fail is not None:
            msg = (fail.get("message") or "") + "\n" + (fail.text or "")
        out.append({"name": re.sub(r"^\[It\]\s*", "", name), "status": status,
                    "message": msg.strip()[:3000], "seconds": float(case.get("time") or 0)})  # fmt: skip
    return out


def parse_map(text: str) -> list[tuple[str, list[str]]]:
    """docs/cri-critest-map.md as [(critest's words, [our test function names])]; a row
    whose "ours" cell names no test ("not yet", "none") maps to []."""
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in ("critest", "---") or set(cells[0]) <= {"-"}:
            continue
        words = cells[0].replace("...", "").replace("…", "").strip(" :")
        if words.startswith("(ours only)"):
            continue
        rows.append((words, re.findall(r"\b(test_\w+(?:\[[^\]]*\])?)(?!\.py|\w)", cells[1])))
    return rows


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


#: words too common in critest's names to tell its specs apart
_COMMON = {"runtime", "should", "support", "with", "container", "containers", "the", "and",
           "not", "yet", "tests", "when", "that", "for", "our", "none"}  # fmt: skip


def mapped_tests(name: str, rows: list[tuple[str, list[str]]]) -> list[str] | None:
    """Our tests for critest's test `name`: the longest map row whose words are in it;
    else the row sharing most distinctive words with it (2 or more, or one of 8+
    letters: a row such as "Privileged true / false" names several specs); [] for a row
    without a test of ours, None when no row matches."""
    n = _norm(name)
    best = None
    for words, tests in rows:
        w = _norm(words)
        if w and w in n and (best is None or len(w) > len(best[0])):
            best = (w, tests)
    if best is not None:
        return best[1]
    have = set(n.split())
    scored = []
    for words, tests in rows:
        shared = {t for t in _norm(words).split() if t not in _COMMON and len(t) > 3} & have
        if len(shared) >= 2 or any(len(t) >= 8 for t in shared):
            scored.append((len(shared), sum(map(len, shared)), tests))
    return max(scored, key=lambda x: x[:2])[2] if scored else None


def environment(name: str, message: str) -> str:
    """Why this failure is the environment's, or ""."""
    for pattern, why in ENVIRONMENT:
        if re.search(pattern, f"{name}\n{message}", re.S):
            return why
    return ""


def compare(cases: list[dict], ours: dict[str, str], rows) -> list[dict]:
    """critest's failed cases, each with our mapped tests and whether one of them failed
    (`ours`: our test function -> outcome, from results.json)."""
    out = []
    for c in cases:
        if c["status"] not in ("failed", "error", "panicked", "timedout", "interrupted"):
            continue
        entry = {"name": c["name"], "message": c["message"][:400]}
        why = environment(c["name"], c["message"])
        if why:
            out.append(entry | {"environment": why})
            continue
        tests = mapped_tests(c["name"], rows) or []
        failed = [t for t in tests if ours.get(t.split("[")[0]) in ("failed", "error")]
        entry["ocitest_tests"] = {t: ours.get(t.split("[")[0], "not run") for t in tests}
        entry["caught_by"] = failed or "not caught by ocitest"
        out.append(entry)
    return out


def bench_samples(directory: Path) -> dict[str, list[float]]:
    """critest's benchmark files (*_benchmark_data.json: operationsNames and datapoints of
    operationsDurationsNs) as RPC -> samples in seconds."""
    out: dict[str, list[float]] = {}
    for f in sorted(directory.glob("*_benchmark_data.json")):
        data = json.loads(f.read_text())
        names = [RPC_OF.get(n, n) for n in data.get("operationsNames", [])]
        for point in data.get("datapoints", []):
            for name, ns in zip(names, point.get("operationsDurationsNs", []), strict=False):
                out.setdefault(name, []).append(ns / 1e9)
    return out


def side_by_side(ours: dict[str, list[float]], theirs: dict[str, list[float]]) -> list[dict]:
    """Per RPC both tools time: the two p50s (ms), their ratio (ours / critest), and
    `within_noise`: each p50 inside the other's p10..p90."""
    from reports.performance import percentile

    rows = []
    for op, samples in ours.items():
        peer = theirs.get(OURS_OF.get(op, op))
        if not samples or not peer:
            continue
        p = {k: [percentile(v, q) for q in (10, 50, 90)] for k, v in (("o", samples), ("c", peer))}
        noise = p["c"][0] <= p["o"][1] <= p["c"][2] and p["o"][0] <= p["c"][1] <= p["o"][2]
        rows.append({"operation": op, "ocitest_p50_ms": round(p["o"][1] * 1e3, 1),
                     "critest_p50_ms": round(p["c"][1] * 1e3, 1),
                     "ratio": round(p["o"][1] / p["c"][1], 2) if p["c"][1] else None,
                     "within_noise": noise, "ocitest_n": len(samples), "critest_n": len(peer)})  # fmt: skip
    return rows
