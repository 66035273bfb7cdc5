"""The converter kind: tools that turn an OCI image into a runtime bundle (image-spec
conversion.md: image config -> runtime config.json).

A kind of its own, not part of the layout kind: a layout subject is a document judged as
written, a converter is a program the suite feeds with images of its own (one per case,
suites/oci_image/conversion_data.py) and whose output (config.json) it judges; the two
share no subject, input or fixture.

Options (docs/architecture.md, Contracts / Options): `--converter NAME|PATH` (repeatable):
a program with umoci's command line (`PROG unpack --image LAYOUT:REF BUNDLE`,
`PROG --version`): `umoci` (on PATH), the id of a setup build (`umoci-0.6.0`,
infra/gobuild.py) or a path. Subjects: id `umoci-unpack-VERSION` for a umoci (not the
layout kind's `umoci-VERSION`, the same tool as an image writer: ids are unique in a run),
else the base name of the path (`-2`, ... for repeats). Without the option: `umoci` on PATH
(Debian's 0.4.7: `umoci-unpack-0.4.7`) and the built umoci when setup built it
(`OCITEST_GO_BUILDS=umoci ./ocitest setup`: `umoci-unpack-0.6.0`). The converters run on the
harness host; the images and bundles of the conversions live below the run's work
directory (`conversions_dir`; a bundle is removed as soon as its config.json is read,
infra/drivers/converter.py); `stop` removes that directory. Nothing is started.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from infra import gobuild
from infra.images.layouts import tool_version
from infra.kinds.base import Kind, KindUnavailable, KindUsageError
from infra.run import RunContext
from infra.subjects import Subject

#: the tool whose command line a converter subject speaks
TOOL = "umoci"


class ConverterKind(Kind):
    """Image-to-bundle converters (umoci unpack); fixture `converter_subject`."""

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
            help="image-to-bundle converter with umoci's command line (repeatable; default: "
            "umoci on PATH and the umoci setup built)",
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
            if os.path.abspath(path) in seen:  # not realpath: mutants are symlinks to one script
                raise KindUsageError(f"--converter {spec}: given twice")
            seen.add(os.path.abspath(path))
            subjects.append(_subject(self.name, path, subjects))
        return subjects

    def resolve(self) -> list[Subject]:
        """umoci on PATH and the built umoci (each when there)."""
        subjects: list[Subject] = []
        found = shutil.which(TOOL)
        if found:
            subjects.append(_subject(self.name, found, subjects))
        built = gobuild.built_dir(TOOL)
        if built:
            subjects.append(_subject(self.name, os.path.join(built, TOOL), subjects))
        if not subjects:
            raise KindUnavailable(
                f"no converter: no {TOOL} on PATH (apt-get install umoci) and none built "
                f"(OCITEST_GO_BUILDS=umoci ./ocitest setup)"
            )
        return subjects

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        """Remove the conversions' directory (what a killed worker left too)."""
        shutil.rmtree(conversions_dir(self.ctx), ignore_errors=True)
        return []


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
            return os.path.join(built, gobuild.BUILDS[name].binaries[0])
    return shutil.which(spec)


def _why_not(spec: str) -> str:
    if not spec:
        return "empty value"
    if "/" in spec:
        return "no such executable file"
    if gobuild.built_name(spec):
        known = ", ".join(b.subject_id for b in gobuild.BUILDS.values() if b.name == TOOL)
        return (
            f"no such built converter (setup builds {known} with "
            f"OCITEST_GO_BUILDS={TOOL} ./ocitest setup) and none on PATH"
        )
    return "not found on PATH"


def _subject(kind: str, path: str, taken: list[Subject]) -> Subject:
    version, output = tool_version(path)
    base = os.path.basename(path)
    sid = f"{base}-unpack-{version}" if base == TOOL and version else base
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


__all__ = ["ConverterKind", "conversions_dir"]
