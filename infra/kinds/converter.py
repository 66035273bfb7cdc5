"""The converter kind: tools that turn an OCI image into a runtime bundle (image-spec
conversion.md: image config -> runtime config.json).

A kind of its own, not part of the layout kind: a layout subject is a document judged as
written, a converter is a program the suite feeds with images of its own (one per case,
suites/oci_image/conversion_data.py) and whose output (config.json) it judges; the two
share no subject, input or fixture.

Two tools (infra/drivers/converter.py runs each): umoci (`PROG unpack --image LAYOUT:REF
BUNDLE`) and containerd's `ctr` (the image imported into a private containerd, a
container made of it with `ctr run` and the spec containerd wrote read back with `ctr
containers info --spec`).

Options (docs/architecture.md, Contracts / Options): `--converter NAME|PATH` (repeatable):
`umoci` or `ctr` (on PATH), the id of a setup build (`umoci-0.6.0`, `containerd-2.4.2`
for its ctr, infra/gobuild.py) or a path; a program named `ctr` speaks ctr's command line
(its containerd beside it), any other umoci's. Subjects: id `umoci-unpack-VERSION` for a
umoci (not the layout kind's `umoci-VERSION`, the same tool as an image writer: ids are
unique in a run), `containerd-ctr-VERSION` for a ctr, else the base name of the path
(`-2`, ... for repeats). Without the option: `umoci` on PATH (Debian's 0.4.7:
`umoci-unpack-0.4.7`), the built umoci when setup built it (`OCITEST_GO_BUILDS=umoci
./ocitest setup`: `umoci-unpack-0.6.0`), `ctr` on PATH with its containerd (Debian's:
`containerd-ctr-1.6.20`) and the ctr of the containerd setup built
(`containerd-ctr-2.4.2`). The converters run on the harness host; the images and bundles
of the conversions live below the run's work directory (`conversions_dir`; a bundle is
removed as soon as its config.json is read, infra/drivers/converter.py). `start` starts
one private containerd per ctr subject (infra/images/ctr_export.py's, root
WORK/conv-ctr-N, socket under STATE/conv-ctr-N: its command line names the run's
directories, so the sweeper finds what a killed run left); `stop` stops them and removes
the conversions' directory.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from infra import gobuild
from infra.images.layouts import tool_version
from infra.kinds.base import Kind, KindUnavailable, KindUsageError
from infra.kinds.runs import current
from infra.run import RunContext
from infra.subjects import Subject

#: the tool whose command line a converter subject speaks (unless it is CTR)
TOOL = "umoci"
#: containerd's client: a converter subject of that name speaks ctr's command line
CTR = "ctr"
#: the setup build (infra/gobuild.py) whose ctr is a default subject
CTR_BUILD = "containerd"


class ConverterKind(Kind):
    """Image-to-bundle converters (umoci unpack, containerd's ctr); fixture
    `converter_subject`."""

    name = "converter"
    fixture = "converter_subject"

    @classmethod
    def add_options(cls, group) -> None:
        group.addoption(
            "--converter",
            dest="ocitest_converters",
            action="append",
            default=None,
            metavar="NAME|PATH",
            help="image-to-bundle converter: umoci's command line, ctr's when named ctr "
            "(repeatable; default: umoci and ctr on PATH, the umoci and the containerd setup "
            "built)",
        )

    def check(self) -> list[Subject] | None:
        """One subject per `--converter`: a built id, a name on PATH or an executable path.

        Raises:
            KindUsageError: no such program, or not executable (one line).
        """
        given = self.options.ocitest_converters
        if given is None:
            return None
        subjects: list[Subject] = []
        seen: set[str] = set()
        for spec in given:
            path = _find(spec) if spec else None
            if path is None:
                raise KindUsageError(f"--converter {spec}: {_why_not(spec)}")
            if os.path.basename(path) == CTR and not _has_daemon(path):
                raise KindUsageError(f"--converter {spec}: no containerd beside {path}")
            if os.path.abspath(path) in seen:  # not realpath: mutants are symlinks to one script
                raise KindUsageError(f"--converter {spec}: given twice")
            seen.add(os.path.abspath(path))
            subjects.append(_subject(self.name, path, subjects))
        return subjects

    def resolve(self) -> list[Subject]:
        """umoci on PATH, the built umoci, ctr on PATH (with a containerd beside it) and
        the built containerd's ctr (each when there)."""
        subjects: list[Subject] = []
        found = shutil.which(TOOL)
        if found:
            subjects.append(_subject(self.name, found, subjects))
        built = gobuild.built_dir(TOOL)
        if built:
            subjects.append(_subject(self.name, os.path.join(built, TOOL), subjects))
        found = shutil.which(CTR)
        if found and _has_daemon(found):
            subjects.append(_subject(self.name, found, subjects))
        built = gobuild.built_dir(CTR_BUILD)
        if built:
            subjects.append(_subject(self.name, os.path.join(built, CTR), subjects))
        if not subjects:
            raise KindUnavailable(
                f"no converter: no {TOOL} or {CTR} on PATH (apt-get install umoci "
                f"containerd) and none built (OCITEST_GO_BUILDS=umoci ./ocitest setup)"
            )
        return subjects

    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        """A private containerd per ctr subject; services = {"ctr": {id: {"base": ctr argv
        prefix that talks to it, "pid": its pid}}, "errors": {id: why it did not start}}.
        The error is "" unless no subject can convert."""
        from infra.images.ctr_export import start_daemon
        from infra.images.layouts import LayoutError

        daemons: dict[str, dict] = {}
        errors: dict[str, str] = {}
        for i, s in enumerate(subjects):
            if s.name != CTR:
                continue
            try:
                pid, base = start_daemon(s.path, *self._daemon_dirs(i))
                daemons[s.id] = {"base": base, "pid": pid}
            except LayoutError as exc:
                errors[s.id] = f"{s.id}: its containerd did not start: {exc}"
        ctrs = [s for s in subjects if s.name == CTR]
        why = "; ".join(errors.values()) if len(ctrs) == len(subjects) == len(errors) else ""
        return {"ctr": daemons, "errors": errors}, why

    def _daemon_dirs(self, index: int) -> tuple[str, str]:
        """The work and state directories of subject `index`'s containerd."""
        return (f"{self.ctx.work_base}/conv-ctr-{index}", f"{self.ctx.state_base}/conv-ctr-{index}")

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        """Stop the private containerds (also those a killed start left, by their pid
        files) and remove the conversions' directory (what a killed worker left too)."""
        from infra.images.ctr_export import stop

        daemons = (services or {}).get("ctr") or {}
        for i, s in enumerate(subjects):
            if s.name == CTR:
                stop(*self._daemon_dirs(i), (daemons.get(s.id) or {}).get("pid", 0))
        shutil.rmtree(conversions_dir(self.ctx), ignore_errors=True)
        return []


def daemon(ctx: RunContext, subject: Subject) -> tuple[list[str] | None, str]:
    """(the ctr argv prefix that talks to ctr subject `subject`'s containerd, or None and
    why not)."""
    run = current(ctx, ConverterKind.name)
    if run is None:
        return None, "no converter subject was resolved in this process"
    services = run.services or {}
    found = (services.get("ctr") or {}).get(subject.id)
    if found:
        return list(found["base"]), ""
    why = (services.get("errors") or {}).get(subject.id) or run.error
    return None, why or f"{subject.id}: its containerd was not started"


def _has_daemon(ctr: str) -> bool:
    """A containerd beside `ctr` (the one a ctr subject talks to)."""
    return os.access(os.path.join(os.path.dirname(ctr), "containerd"), os.X_OK)


def conversions_dir(ctx: RunContext) -> Path:
    """Where the conversion tests of run `ctx` write images and bundles."""
    return Path(ctx.work_base) / "conversions"


def _find(spec: str) -> str | None:
    if "/" in spec:
        path = os.path.abspath(spec)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    if gobuild.built_name(spec):
        name = spec.rpartition("-")[0]
        built = gobuild.built_dir(name)
        if built and gobuild.BUILDS[name].subject_id == spec:
            binary = CTR if name == CTR_BUILD else gobuild.BUILDS[name].binaries[0]
            return os.path.join(built, binary)
    return shutil.which(spec)


def _why_not(spec: str) -> str:
    if not spec:
        return "empty value"
    if "/" in spec:
        return "no such executable file"
    if gobuild.built_name(spec):
        known = ", ".join(
            b.subject_id for b in gobuild.BUILDS.values() if b.name in (TOOL, CTR_BUILD)
        )
        return (
            f"no such built converter (setup builds {known} with "
            f"OCITEST_GO_BUILDS={TOOL},{CTR_BUILD} ./ocitest setup) and none on PATH"
        )
    return "not found on PATH"


def _subject(kind: str, path: str, taken: list[Subject]) -> Subject:
    version, output = tool_version(path)
    base = os.path.basename(path)
    sid = base
    if base == TOOL and version:
        sid = f"{base}-unpack-{version}"
    elif base == CTR and version:
        sid = f"containerd-{base}-{version}"
    unique, n = sid, 2
    while any(s.id == unique for s in taken):
        unique, n = f"{sid}-{n}", n + 1
    return Subject(
        kind=kind,
        id=unique,
        name=base,
        version=version,
        spec_version=_image_spec(output),
        path=path,
        version_output=output,
    )


def _image_spec(version_output: str) -> str:
    """The `image spec: X` line of `umoci --version` (0.6.0 prints one; 0.4.7 does not)."""
    for line in version_output.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "image spec" and value.strip():
            return value.strip()
    return ""


__all__ = ["ConverterKind", "conversions_dir", "daemon"]
