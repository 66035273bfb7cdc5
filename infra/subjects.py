"""Subjects: what is under test (docs/architecture.md, Subjects).

A runtime subject is resolved from a `--runtime NAME|PATH` option (plus the
`--runtime-arg`s that follow it) on a target: the binary must exist and be executable
there; its version and declared spec version come from `features` (ociVersionMax) or,
failing that, the `spec:` line of `--version`. A NAME that is the id of a runtime built
at setup (`runc-1.5.3`, infra/gobuild.py) resolves to its cached binary on the local
target and keeps that id.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field

from infra import gobuild
from infra.targets import Target

#: seconds allowed for `--version` and `features` while resolving
PROBE_TIMEOUT = 20


class SubjectError(Exception):
    """A subject option cannot be resolved (a usage error at start)."""


@dataclass
class Subject:
    """What is under test.

    Attributes:
        kind: the name of its kind in infra/kinds (runtime, cri, ...).
        id: unique in a run; the same string in test ids, results.json, junit.xml and
            the known-failures file.
        name: short name (the binary's basename for a runtime).
        version: the subject's own version string ("1.1.5+ds1"), or "".
        spec_version: the spec version it declares implementing ("1.0.2-dev"), or "".
        path: absolute path of the binary (runtime) or "".
        endpoint: URI (cri, registry) or "".
        args: extra global arguments passed on every call (runtime).
        handler: CRI runtime handler, or "".
        features: the parsed `features` document, or None when the runtime has none.
        version_output: the raw `--version` output.
        target: the spec of the target it runs on (`--target`), "" before resolution;
            with more than one target in the run the id ends with `@` and this spec.
    """

    kind: str
    id: str
    name: str
    version: str = ""
    spec_version: str = ""
    path: str = ""
    endpoint: str = ""
    args: list[str] = field(default_factory=list)
    handler: str = ""
    features: dict | None = None
    version_output: str = ""
    target: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Subject:
        return cls(**data)

    def summary(self) -> dict:
        """The subject object of results.json."""
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "spec_version": self.spec_version,
            "path": self.path or None,
            "endpoint": self.endpoint or None,
            "args": self.args,
            "handler": self.handler or None,
            "has_features": self.features is not None,
            "target": self.target or None,
        }


def resolve_runtime(target: Target, spec: str, args: list[str]) -> Subject:
    """Resolve `--runtime spec` on `target`.

    Raises:
        SubjectError: not found, not a regular file, not executable, or it does not
            answer `--version` like an OCI runtime.
    """
    if not spec:
        raise SubjectError("--runtime: empty value")
    built = gobuild.built_binary(spec) if target.spec == "local" else None
    if built:  # a subject built at setup (runc-1.5.3): its id is its name
        return _probe_runtime(target, spec, built, args, name=spec)
    if "/" in spec:
        path = os.path.abspath(spec)
        if not target.exists(path):
            raise SubjectError(f"--runtime {spec}: no such file")
    else:
        res = target.run(["sh", "-c", 'command -v "$1"', "sh", spec], timeout=PROBE_TIMEOUT)
        path = res.stdout.strip()
        if res.exit_status != 0 or not path.startswith("/"):
            if gobuild.built_name(spec):
                raise SubjectError(f"--runtime {spec}: {gobuild.not_built(spec)}")
            raise SubjectError(f"--runtime {spec}: not found on PATH")
    return _probe_runtime(target, spec, path, args, name=os.path.basename(path))


def _probe_runtime(target: Target, spec: str, path: str, args: list[str], name: str) -> Subject:
    """The runtime subject at `path`, from its `--version` and `features` answers."""
    chk = target.run(
        ["sh", "-c", 'test -f "$1" && test -x "$1"', "sh", path], timeout=PROBE_TIMEOUT
    )
    if chk.exit_status != 0:
        raise SubjectError(f"--runtime {spec}: {path} is not an executable file")
    ver = target.run([path, *args, "--version"], timeout=PROBE_TIMEOUT)
    if ver.timed_out or ver.exit_status == 137:
        raise SubjectError(
            f"--runtime {spec}: '{path} --version' did not answer within {PROBE_TIMEOUT} s"
        )
    if ver.exit_status != 0:
        err = (ver.stderr or ver.stdout).strip().splitlines()
        raise SubjectError(
            f"--runtime {spec}: '{path} --version' failed with exit status "
            f"{ver.exit_status}: {err[-1] if err else 'no output'}"
        )
    version, declared = parse_version_output(ver.stdout)
    if not version and not declared:
        raise SubjectError(
            f"--runtime {spec}: does not look like an OCI runtime: "
            f"'{path} --version' printed no version"
        )
    features = None
    feat = target.run([path, *args, "features"], timeout=PROBE_TIMEOUT)
    if feat.exit_status == 0:
        try:
            features = json.loads(feat.stdout)
        except ValueError:
            features = None
    if isinstance(features, dict) and features.get("ociVersionMax"):
        declared = str(features["ociVersionMax"])
    return Subject(
        kind="runtime",
        id="",
        name=name,
        version=version,
        spec_version=declared,
        path=path,
        args=list(args),
        features=features,
        version_output=ver.stdout.strip(),
    )


def parse_version_output(text: str) -> tuple[str, str]:
    """(version, spec version) from a runtime's `--version` output.

    runc prints `runc version 1.1.5` and `spec: 1.0.2-dev`; crun `crun version 1.8.1`
    and `spec: 1.0.0`. Missing parts come back as "".
    """
    version = spec = ""
    for line in text.splitlines():
        m = re.match(r"^\S+ version:? (\S+)", line.strip())
        if m and not version:
            version = m.group(1)
        m = re.match(r"^spec(?: version)?:\s*(\S+)", line.strip())
        if m:
            spec = m.group(1)
    return version, spec


def target_tag(spec: str) -> str:
    """What a subject id carries after its `@` for target `spec` when a run has several
    targets: the spec itself (`qemu:debian`), with no `/` (ids name directories):
    `ssh://root@host:2222` -> `ssh:root@host:2222`."""
    return spec.replace("://", ":").replace("/", "-")


def assign_ids(subjects: list[Subject]) -> None:
    """Give every subject a unique, stable id (in place).

    The basename when it is unique; otherwise the basename plus the binary's directory
    (`runc@usr-local-bin`) and, for the same binary with other arguments, the arguments.
    """
    by_name: dict[str, list[Subject]] = {}
    for s in subjects:
        by_name.setdefault(s.name, []).append(s)
    for name, group in by_name.items():
        if len(group) == 1:
            group[0].id = name
            continue
        paths = {s.path for s in group}
        for s in group:
            sid = name
            if len(paths) > 1:
                sid += "@" + (os.path.dirname(s.path).strip("/").replace("/", "-") or "root")
            if s.args:
                sid += "+" + "+".join(a.lstrip("-") for a in s.args)
            s.id = re.sub(r"[^A-Za-z0-9@+=._-]", "_", sid)
    seen: set[str] = set()
    for i, s in enumerate(subjects):
        if s.id in seen:
            s.id = f"{s.id}-{i + 1}"
        seen.add(s.id)
