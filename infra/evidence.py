"""Evidence: what a driver did to a subject and what it saw, recorded per test.

Each record is one command or RPC with its exit status, output excerpts and duration.
The records travel with the test's report (as a user property, so they survive xdist)
and end up in results.json, junit.xml and report.html. Every record is scrubbed of the
secrets the run knows (infra/redact.py) when it is added, and again when the log is
turned into dicts (a driver may fill a field after adding it); `redactions` counts the
values replaced.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from infra import redact

#: output excerpts are cut at this many characters (each of stdout and stderr)
EXCERPT_CHARS = 4096
#: a test keeps at most this many records (the first ones, then the last ones)
MAX_RECORDS = 60
#: the fields of a record that may hold a secret
TEXT_FIELDS = ("command", "stdout", "stderr", "note")


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


@dataclass
class Evidence:
    """One interaction with a subject.

    Attributes:
        command: the command line (or RPC name) as run.
        exit_status: exit status (or gRPC status code); None when it never ran.
        stdout, stderr: excerpts (see EXCERPT_CHARS).
        duration: seconds.
        note: what the harness made of it, e.g. "timed out after 30 s".
        redactions: how many secret values were replaced by redact.MARKER in it.
    """

    command: str
    exit_status: int | None
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    note: str = ""
    redactions: int = 0

    def scrub(self) -> int:
        """Replace the secrets in every text field; returns how many were replaced."""
        total = 0
        for name in TEXT_FIELDS:
            text, n = redact.scrub(getattr(self, name))
            if n:
                setattr(self, name, text)
                total += n
        self.redactions += total
        return total

    def brief(self) -> str:
        """One paragraph for failure messages: command, exit status, stderr."""
        lines = [f"$ {self.command}", f"  exit status: {self.exit_status}"]
        if self.note:
            lines.append(f"  note: {self.note}")
        if self.stdout.strip():
            lines.append("  stdout: " + excerpt(self.stdout.strip(), 800))
        if self.stderr.strip():
            lines.append("  stderr: " + excerpt(self.stderr.strip(), 800))
        return "\n".join(lines)


@dataclass
class EvidenceLog:
    """The evidence of one test, in order."""

    records: list[Evidence] = field(default_factory=list)
    dropped: int = 0

    def add(self, ev: Evidence) -> Evidence:
        ev.scrub()  # before the cut, which could leave part of a secret unrecognised
        ev.stdout, ev.stderr = excerpt(ev.stdout), excerpt(ev.stderr)
        if len(self.records) >= MAX_RECORDS:
            self.records.pop(MAX_RECORDS // 2)
            self.dropped += 1
        self.records.append(ev)
        return ev

    def as_dicts(self) -> list[dict]:
        """The records as dicts (results.json's evidence items); `redactions` only where
        some value was replaced."""
        out = []
        for r in self.records:
            r.scrub()
            d = asdict(r)
            if not d["redactions"]:
                del d["redactions"]
            out.append(d)
        if self.dropped:
            out.insert(
                MAX_RECORDS // 2,
                {
                    "command": f"[{self.dropped} records dropped]",
                    "exit_status": None,
                    "stdout": "",
                    "stderr": "",
                    "duration": 0.0,
                    "note": "evidence limit",
                },
            )
        return out
