"""Failure messages that say what the spec wants, what was seen, and the evidence.

`violation("runtime.kill.sends-signal", wanted=..., seen=..., evidence=[rr])` gives:

    runtime.kill.sends-signal (MUST, runtime-spec runtime.md#kill): <summary>
      <url>
      wanted: ...
      seen:   ...
      $ runc --root ... kill ID USR1
        exit status: 0
        stderr: ...
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reports.catalogue import Catalogue, catalogue_files, load_catalogue

ROOT = Path(__file__).resolve().parent.parent


@cache
def catalogue() -> Catalogue:
    return load_catalogue(catalogue_files(ROOT))


def violation(rid: str, *, wanted: str, seen: str, evidence: list = ()) -> str:
    """A failure message for requirement `rid`. `evidence` holds RuntimeResult or Evidence."""
    req = catalogue()[rid]
    lines = [
        f"{rid} ({req.level}, {req.spec} {req.section}): {req.summary}",
        f"  {req.url}",
        f"  wanted: {wanted}",
        f"  seen:   {seen}",
    ]
    for ev in evidence:
        ev = getattr(ev, "evidence", ev)
        lines.append("  " + ev.brief().replace("\n", "\n  "))
    return "\n".join(lines)


def requirement_headers(rids: list[str]) -> str:
    """The violation header lines of each of `rids` (id, level, section, summary, link),
    one requirement after another, ending in a newline; "" for no ids."""
    out = []
    for rid in rids:
        req = catalogue()[rid]
        out += [f"{rid} ({req.level}, {req.spec} {req.section}): {req.summary}", f"  {req.url}"]
    return "".join(line + "\n" for line in out)
