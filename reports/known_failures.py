"""Known failures: a YAML list of failures the project knows about, each with a reason.

Schema: reports/schemas/known-failures.schema.json. An entry names a `test` (nodeid,
with or without its [subject] part) or a `requirement` id, the `subject` id it applies
to ("*" for every subject), a `reason`, optionally a `link` and a `target` (a `--target`
spec such as `qemu:debian`: the entry holds only for the subject on that target; without
it, on every target). With several targets a subject's id ends with `@TARGET`; an
entry's `subject` may give the id with or without that part. A listed test that
fails is `xfail`; one that passes is `stale` (and fails the gate), unless the entry says
`intermittent: true` (a race in the subject that shows only on some runs, like pytest's
non-strict xfail): then a pass is `passed`, with the entry recorded beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from infra.subjects import target_tag
from reports.records import test_of
from reports.schemas import load_schema

#: libyaml's safe loader when PyYAML was built with it (about 9x faster), else PyYAML's own
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


#: the target specs an entry's `target` may give (as `--target` takes them)
TARGET_FORMS = "local, ssh://USER@HOST[:PORT], qemu:IMAGE, vagrant:NAME"


class KnownFailuresError(Exception):
    """The file cannot be read or does not match the schema (a usage error)."""


@dataclass(frozen=True)
class KnownFailure:
    subject: str
    reason: str
    test: str = ""
    requirement: str = ""
    link: str = ""
    intermittent: bool = False
    target: str = ""

    def matches(
        self, nodeid: str, subject: str | None, requirements: list[str], target: str = ""
    ) -> bool:
        """`subject`: the subject's id; `target`: the spec of the target it ran on."""
        if self.target and self.target != target:
            return False
        tag = f"@{target_tag(target)}" if target else ""
        base = subject.removesuffix(tag) if subject and tag else subject
        if self.subject not in ("*", subject, base):
            return False
        if self.test:  # `[runc-created]` names `[runc@qemu:debian-created]` too
            untagged = nodeid.replace(tag, "") if tag and subject != base else nodeid
            return self.test in (nodeid, untagged, test_of(nodeid))
        return self.requirement in requirements

    def as_dict(self) -> dict:
        d = {"reason": self.reason, "subject": self.subject}
        if self.test:
            d["test"] = self.test
        if self.requirement:
            d["requirement"] = self.requirement
        if self.link:
            d["link"] = self.link
        if self.intermittent:
            d["intermittent"] = True
        if self.target:
            d["target"] = self.target
        return d


def load_known_failures(
    path: str, catalogue_ids: set[str] | None = None, root: Path | None = None
) -> list[KnownFailure]:
    """Load and validate `path`. Raises KnownFailuresError (one line)."""
    if Path(path).exists() and not Path(path).is_file():
        raise KnownFailuresError(f"--known-failures {path}: not a regular file")
    try:
        doc = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise KnownFailuresError(f"--known-failures {path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KnownFailuresError(f"--known-failures {path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise KnownFailuresError(f"--known-failures {path}: not valid YAML{where}") from None
    if doc is None:
        doc = {"known_failures": []}
    try:
        jsonschema.validate(doc, load_schema("known-failures.schema.json"))
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        why = exc.message
        if exc.validator == "pattern" and exc.absolute_path and exc.absolute_path[-1] == "target":
            why = f"{exc.instance!r} is not a target spec ({TARGET_FORMS})"
        if exc.validator == "oneOf":  # the entry's whole dict would be repeated
            both = isinstance(exc.instance, dict) and "test" in exc.instance
            why = "give a test or a requirement, " + ("not both" if both else "one of them")
        raise KnownFailuresError(f"--known-failures {path}: {where}: {why}") from None
    entries = [KnownFailure(**e) for e in doc["known_failures"]]
    for i, e in enumerate(entries):
        why = _unknown_target(e.target)
        if why:
            raise KnownFailuresError(f"--known-failures {path}: known_failures/{i}/target: {why}")
    if catalogue_ids is not None:
        for e in entries:
            if e.requirement and e.requirement not in catalogue_ids:
                raise KnownFailuresError(
                    f"--known-failures {path}: unknown requirement id {e.requirement!r}"
                )
    if root is not None:
        for e in entries:
            problem = _missing_test(root, e.test) if e.test else ""
            if problem:
                raise KnownFailuresError(f"--known-failures {path}: {problem}")
    return entries


def _unknown_target(spec: str) -> str:
    """Why a well-formed target spec names no target ocitest has ("" when it does): a
    qemu image or an ssh port that `--target` would refuse."""
    kind, _, name = spec.partition(":")
    if kind == "qemu":
        from infra.targets.qemu import IMAGES

        if name not in IMAGES:
            return f"{spec!r}: unknown image (known: {', '.join(sorted(IMAGES))})"
    port = re.search(r":(\d+)$", spec) if kind == "ssh" else None
    if port and not 0 < int(port.group(1)) < 65536:
        return f"{spec!r}: port outside 1..65535"
    return ""


def _missing_test(root: Path, nodeid: str) -> str:
    """Why `nodeid` names no test below `root` ("" when it does)."""
    file, _, rest = nodeid.partition("::")
    func = re.sub(r"\[.*\]$", "", rest.split("::")[-1])
    f = root / file
    if not f.is_file():
        return f"unknown test {nodeid!r}: no file {file}"
    if not re.search(rf"^\s*def {re.escape(func)}\(", f.read_text(), re.M):
        return f"unknown test {nodeid!r}: no {func} in {file}"
    return ""


def find(
    entries: list[KnownFailure],
    nodeid: str,
    subject: str | None,
    requirements: list[str],
    target: str = "",
) -> KnownFailure | None:
    """The first entry that holds for the test `nodeid` of `subject` on `target`."""
    for e in entries:
        if e.matches(nodeid, subject, requirements, target):
            return e
    return None
