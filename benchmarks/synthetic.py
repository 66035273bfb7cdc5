"""A synthetic results document (results.json's shape) of any size, for the benchmarks.

`synthetic_results(n)` returns a document with `n` results over two runtimes (runc,
crun) that validates against reports/schemas/results.schema.json. It is made the way a
real run's is: Record objects, the gate's verdict (reports.gate.judge), the counts and
coverage of reports.writer, over the project's real catalogue padded with synthetic
requirements (three parametrized tests per requirement and subject). Each
result carries 2 to 6 commands (4 on average) with output excerpts cut as the drivers cut
them (infra.evidence.excerpt, EXCERPT_CHARS); about 5% fail, with a failure message in
the suites' wanted/seen form. The same `n` and `seed` give the same document.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from dataclasses import asdict
from pathlib import Path

from infra.evidence import EXCERPT_CHARS, Evidence, excerpt
from reports.catalogue import Catalogue, Requirement, catalogue_files, load_catalogue
from reports.gate import judge
from reports.known_failures import KnownFailure
from reports.records import Record
from reports.writer import SCHEMA_VERSION, counts, coverage

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = "ocbench01"
#: outcome -> share of results; the rest pass
OUTCOME_SHARES = {
    "failed": 0.05,
    "error": 0.004,
    "skipped": 0.03,
    "not-required": 0.02,
    "xfail": 0.01,
}
#: tests per requirement and subject (parametrized cases), as in the suites
TESTS_PER_REQUIREMENT = 3
#: share of commands whose stdout is long enough to be cut at EXCERPT_CHARS
LONG_OUTPUT_SHARE = 0.1
#: what the long outputs are made of (runc's debug log)
LOG_LEVELS = ("debug", "info", "warning")
LOG_EVENTS = (
    "update /proc/self/oom_score_adj",
    "setns(CLONE_NEWNS)",
    "mount cgroup",
    "write uid_map",
    "jump to stage-1",
)
#: padding requirements: spec -> (suite, documents)
PADDING = {
    "runtime-spec": ("oci_runtime", ["config.md", "config-linux.md", "features.md"]),
    "image-spec": ("oci_image", ["manifest.md", "image-index.md", "config.md", "layer.md"]),
    "distribution-spec": ("oci_image", ["spec.md"]),
    "cri-api": ("cri", ["RuntimeService.ExecSync", "ImageService.PullImage"]),
}


def _subjects() -> list[dict]:
    return [
        {
            "kind": "runtime",
            "id": name,
            "name": name,
            "version": version,
            "spec_version": spec,
            "path": f"/usr/sbin/{name}" if name == "runc" else f"/usr/bin/{name}",
            "endpoint": None,
            "args": [],
            "handler": None,
            "has_features": name == "runc",
        }
        for name, version, spec in (("runc", "1.1.5", "1.0.2-dev"), ("crun", "1.8.1", "1.0.0"))
    ]


def _catalogue(n_testable: int, rng: random.Random) -> Catalogue:
    """The project's catalogue, padded with synthetic entries (about 5% of them
    untestable) until it holds `n_testable` testable requirements."""
    cat = load_catalogue(catalogue_files(ROOT))
    specs = list(PADDING)
    i, testables = 0, sum(q.testable for q in cat.values())
    while testables < n_testable:
        spec = specs[i % len(specs)]
        suite, docs = PADDING[spec]
        doc = docs[(i // len(specs)) % len(docs)]
        rid = f"{spec.split('-')[0]}.synthetic.requirement-{i:04d}"
        testable = rng.random() > 0.05
        cat[rid] = Requirement(
            id=rid,
            spec=spec,
            spec_version="1.1.1" if spec != "runtime-spec" else "1.3.0",
            section=f"{doc}#section-{i % 13}" if doc.endswith(".md") else doc,
            level=rng.choices(["MUST", "SHOULD", "MAY"], [70, 20, 10])[0],
            summary=f"Synthetic requirement {i} of the report benchmark: the subject does "
            f"what {doc} section {i % 13} asks, and says so in its output.",
            testable=testable,
            why="" if testable else "needs a cgroup-v2-only VM target",
            suite=suite,
        )
        i, testables = i + 1, testables + testable
    return cat


def _log_text(rng: random.Random, chars: int) -> str:
    """Runtime-log-like lines, about `chars` characters."""
    lines, size = [], 0
    while size < chars:
        line = (
            f'time="2026-11-30T13:{rng.randrange(60):02d}:{rng.randrange(60):02d}.'
            f'{rng.randrange(10**6):06d}Z" level={rng.choice(LOG_LEVELS)} '
            f'msg="nsexec[{rng.randrange(1000, 65000)}]: {rng.choice(LOG_EVENTS)} '
            f'(fd {rng.randrange(3, 40)})"'
        )
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _state_json(cid: str, status: str, pid: int, spec: str) -> str:
    bundle = f"/var/lib/ocitest/runs/{RUN_ID}/{cid}"
    return json.dumps(
        {
            "ociVersion": spec,
            "id": cid,
            "pid": pid,
            "status": status,
            "bundle": bundle,
            "rootfs": f"{bundle}/rootfs",
            "created": "2026-11-30T13:13:56.690391Z",
            "owner": "",
        },
        indent=4,
    )


def _evidence(rng: random.Random, subject: dict, cid: str, failing: bool) -> list[dict]:
    """2 to 6 commands against `subject`; a failing test's last one says why."""
    root = f"/run/ocitest/{RUN_ID}/{subject['id']}"
    binary = subject["path"]
    out = []
    for k in range(rng.randint(2, 6)):
        verb = ["create", "state", "start", "state", "kill", "delete"][k]
        args = f"--bundle /var/lib/ocitest/runs/{RUN_ID}/{cid} {cid}" if k == 0 else cid
        cmd = f"{binary} --root {root} {verb} {args}"
        stdout = ""
        if verb == "state":
            stdout = _state_json(
                cid, "created", rng.randrange(1000, 65000), subject["spec_version"]
            )
        if rng.random() < LONG_OUTPUT_SHARE:
            stdout = _log_text(rng, rng.randrange(EXCERPT_CHARS // 2, 3 * EXCERPT_CHARS))
        stderr = ""
        if verb == "kill" and rng.random() < 0.3:
            stderr = "container not running\n"
        out.append(
            Evidence(cmd, 0, excerpt(stdout), excerpt(stderr), round(rng.uniform(0.005, 0.2), 4))
        )
    if failing:
        last = out[-1]
        last.exit_status = 1
        last.stderr = excerpt(_log_text(rng, rng.randrange(200, 2 * EXCERPT_CHARS)))
    return [asdict(e) for e in out]


def _message(req: Requirement, evidence: list[dict]) -> str:
    last = Evidence(**evidence[-1])
    return "\n".join(
        [
            f"{req.id} ({req.level}, {req.spec} {req.section}): {req.summary}",
            f"  {req.url}",
            f"  wanted: {req.summary[:60].lower()}",
            f"  seen:   exit status {last.exit_status}, then status None",
            "  " + last.brief().replace("\n", "\n  "),
        ]
    )


def _outcome(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for outcome, share in OUTCOME_SHARES.items():
        acc += share
        if x < acc:
            return outcome
    return "passed"


def synthetic_results(n: int, seed: int = 1) -> dict:
    """A results document with `n` results (two subjects); see the module's docstring."""
    rng = random.Random(seed)
    subjects = _subjects()
    tests = math.ceil(n / len(subjects))
    cat = _catalogue(math.ceil(tests / TESTS_PER_REQUIREMENT), rng)
    testable = sorted(q.id for q in cat.values() if q.testable)
    records = []
    for i in range(n):
        t, subject = divmod(i, len(subjects))
        s = subjects[subject]
        rid = testable[(t // TESTS_PER_REQUIREMENT) % len(testable)]
        req = cat[rid]
        outcome = _outcome(rng)
        failing = outcome in ("failed", "error", "xfail")
        cid = f"{RUN_ID}-gw{t % 2}-{t:04d}"
        evidence = _evidence(rng, s, cid, failing)
        function = "test_" + rid.split(".", 1)[1].replace(".", "_").replace("-", "_")
        area = rid.split(".")[1].replace("-", "_")
        test = f"suites/{req.suite}/test_{area}.py::{function}"
        case = f"[{s['id']}-case{t % TESTS_PER_REQUIREMENT}]"
        records.append(
            Record(
                nodeid=test + case,
                test=test,
                name=function + case,
                requirements=[rid],
                level=req.level,
                subject=s["id"],
                target="local",
                outcome=outcome,
                duration=round(sum(e["duration"] for e in evidence) + 0.05, 4),
                message=_message(req, evidence) if failing else "",
                evidence=evidence,
                known_failure=KnownFailure(
                    subject=s["id"], reason="known bug, reported upstream", requirement=rid
                ).as_dict()
                if outcome == "xfail"
                else None,
                complete=True,
            )
        )
    verdict = judge(records, "MUST")
    suites = {cat[r.requirements[0]].suite for r in records}
    catalogue = [
        q.as_entry(["mutant-runtime"] if rng.random() < 0.5 else [])
        for q in sorted(cat.values(), key=lambda q: q.id)
        if q.suite in suites
    ]
    results = [r.to_dict() for r in sorted(records, key=lambda r: r.nodeid)]
    now = dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": RUN_ID,
            "started": now.isoformat(timespec="seconds"),
            "finished": (now + dt.timedelta(minutes=30)).isoformat(timespec="seconds"),
            "complete": True,
            "interrupted": False,
            "harness_version": "benchmark",
            "python": "3.11",
            "command": "pytest suites --runtime runc --runtime crun -n 2",
            "options": {"gate": "MUST", "known_failures": None, "target": "local", "workers": 2},
            "schemas": {"runtime-spec": {"dir": "/usr/share/gocode", "version": "1.0.2-dev"}},
            "leftovers": [],
            "unused_known_failures": [],
        },
        "targets": [{"spec": "local", "facts": {"kernel": "6.1.0", "cgroup": "hybrid"}}],
        "subjects": subjects,
        "gate": verdict.as_dict(),
        "counts": counts(subjects, results),
        "coverage": coverage(catalogue, results, {}, {}),
        "catalogue": catalogue,
        "results": results,
    }
