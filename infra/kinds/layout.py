"""The layout kind: OCI image layouts (image-spec image-layout.md), judged as written.

Options (docs/architecture.md, Contracts / Options): `--image-layout PATH` (repeatable; a layout
directory, or a tar of one); `--image-tool NAME|PATH` (repeatable; an image tool whose
layout of our reference image is judged: a program with skopeo's command line, `PROG copy
--all oci:SRC:REF oci:DEST:REF` and `PROG --version`, or umoci's (ctr's, with its
containerd beside it) when its base name is umoci (ctr); NAME is a program on PATH or the id of a setup build, `umoci-0.6.0`). Subjects: one
per `--image-layout`, id the path's base name without `.tar`/`.tar.gz`/`.tgz` (`-2`, `-3`
... for repeats); one per `--image-tool`, id `TOOL-VERSION` for a skopeo or umoci, else
the program's base name. Without either option, the layouts made on this host from our
reference image (infra/images/reference_layout.py): `ocitest-reference` itself,
`TOOL-VERSION` for each image tool found on PATH (`skopeo-1.9.3`, `umoci-0.4.7`; a
tool-made layout carries the tool's version), the umoci setup built
(`OCITEST_GO_BUILDS=umoci ./ocitest setup`: `umoci-0.6.0`) and `ctr images export` of the
containerd setup built (`ctr-2.4.2`: a private containerd started for it under the run's
directories, infra/images/ctr_export.py).

Once per run (`start`, under the run's lock) the made layouts are written and the given
tars unpacked below the run's work directory (`WORK/RUN_ID/layouts/ID`); a given
directory is judged where it is, never written to. A subject whose layout could not be
made keeps its reason; its tests end as `error` with it (`layout_dir`). `stop` removes
what `start` wrote. The layouts are made on the harness host (targets are local so far).
`layout_dir` raises infra.images.layouts.LayoutError (re-exported here).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

from infra import gobuild, schemas
from infra.images.layouts import (
    LAYOUT_NAMES,
    TOOLS,
    LayoutError,
    make_layout,
    tar_holds_a_layout,
    tool_version,
    unpack_tar,
)
from infra.kinds.base import Kind, KindUsageError
from infra.kinds.runs import current
from infra.run import RunContext
from infra.subjects import Subject

#: the maker of the reference layout (the subject `ocitest-reference`)
REFERENCE = "ocitest"
#: the image-spec version the reference layout is written to
REFERENCE_SPEC = "1.1.1"
#: the setup build (infra/gobuild.py) whose `ctr images export` is a default subject
CTR_BUILD = "containerd"
#: the subject names whose layout `start` makes (a given layout's name is never one)
MAKERS = (REFERENCE, *TOOLS, "ctr")


class LayoutKind(Kind):
    """OCI image layouts, given or made by image tools; fixture `layout_subject`."""

    name = "layout"
    fixture = "layout_subject"

    @classmethod
    def add_options(cls, group) -> None:
        group.addoption(
            "--image-layout",
            dest="ocitest_image_layouts",
            action="append",
            default=None,
            metavar="PATH",
            help="OCI image layout to validate, a directory or a tar (repeatable; default: "
            "our reference layout and the layouts skopeo and umoci make from it)",
        )
        group.addoption(
            "--image-tool",
            dest="ocitest_image_tools",
            action="append",
            default=None,
            metavar="NAME|PATH",
            help="image tool whose layout of our reference image is judged: skopeo's command "
            "line (umoci's or ctr's when named so); a program on PATH, a path or a built id "
            "(umoci-0.6.0) (repeatable)",
        )

    def check(self) -> list[Subject] | None:
        """One subject per `--image-tool` (an executable: a path, a setup build's id or a
        program on PATH), then one per `--image-layout` (each path must exist, be readable
        and be a layout directory, holding oci-layout, index.json or blobs, or a tar of
        one). Raises KindUsageError (one line) for a value that is neither."""
        given = self.options.ocitest_image_layouts
        tools = self.options.ocitest_image_tools
        if given is None and tools is None:
            return None
        subjects: list[Subject] = []
        seen_paths: set[str] = set()
        for spec in tools or []:
            path = _find_tool(spec)
            if path is None:
                raise KindUsageError(f"--image-tool {spec}: {_why_not(spec)}")
            if os.path.abspath(path) in seen_paths:
                raise KindUsageError(f"--image-tool {spec}: given twice")
            seen_paths.add(os.path.abspath(path))
            subjects.append(_tool_subject(self.name, path, subjects))
        for p in given or []:
            path = os.path.abspath(p)
            if path in seen_paths:
                raise KindUsageError(f"--image-layout {p}: given twice")
            seen_paths.add(path)
            _check_path(p, path)
            base = _base_name(path)
            sid, n = base, 2
            while any(s.id == sid for s in subjects):
                sid, n = f"{base}-{n}", n + 1
            # a given layout's name is never a maker's: start tells the two apart by it
            name = f"{base}-layout" if base in MAKERS else base
            subjects.append(Subject(kind=self.name, id=sid, name=name, path=path))
        return subjects

    def resolve(self) -> list[Subject]:
        """The reference layout, one layout per image tool found on PATH and one of the
        umoci setup built (when built)."""
        subjects = [
            Subject(
                kind=self.name,
                id=f"{REFERENCE}-reference",
                name=REFERENCE,
                spec_version=REFERENCE_SPEC,
            )
        ]
        for tool in TOOLS:
            binary = shutil.which(tool)
            if binary:
                subjects.append(_tool_subject(self.name, binary, subjects))
        built = gobuild.built_dir("umoci")
        if built:
            subjects.append(_tool_subject(self.name, os.path.join(built, "umoci"), subjects))
        built = gobuild.built_dir(CTR_BUILD)
        if built:
            subjects.append(_tool_subject(self.name, os.path.join(built, "ctr"), subjects))
        return subjects

    def start(self, subjects: list[Subject]) -> tuple[dict | None, str]:
        """Make or unpack each subject's layout; services = {"dirs": {id: directory},
        "errors": {id: why not}}. The error is "" unless no layout could be had."""
        base = self._base()
        dirs: dict[str, str] = {}
        errors: dict[str, str] = {}
        for s in subjects:
            dest = base / s.id
            made = s.name in MAKERS
            try:
                if not made and os.path.isdir(s.path):
                    dirs[s.id] = s.path
                    continue
                base.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(dest, ignore_errors=True)
                if not made:
                    unpack_tar(s.path, dest)
                elif s.name == "ctr":
                    self._ctr_export(s.path, dest)
                else:
                    rootfs = self._rootfs() if s.name == "umoci" else ""
                    make_layout(s.name, dest, rootfs, binary=s.path)
                dirs[s.id] = str(dest)
            except (LayoutError, OSError) as exc:
                errors[s.id] = f"{s.id}: the layout was not made: {exc}".replace("\n", " ")
        why = (
            "" if dirs or not subjects else "no layout could be made: " + "; ".join(errors.values())
        )
        return {"dirs": dirs, "errors": errors}, why

    def _base(self) -> Path:
        return Path(self.ctx.work_base) / "layouts"

    def _ctr_dirs(self) -> tuple[str, str]:
        """The private containerd's work and state directories (RUN/ctr each)."""
        return f"{self.ctx.work_base}/ctr", f"{self.ctx.state_base}/ctr"

    def _ctr_export(self, ctr: str, dest: Path) -> None:
        """`ctr images export` of the reference, through a containerd started for it."""
        from infra.images.ctr_export import export_layout

        source = dest.with_name(dest.name + ".source")
        make_layout(REFERENCE, source)
        try:
            export_layout(ctr, source, dest, *self._ctr_dirs())
        finally:
            shutil.rmtree(source, ignore_errors=True)

    def _rootfs(self) -> str:
        """The cached busybox rootfs umoci inserts (built once per cache)."""
        from infra.images.rootfs import cached_rootfs
        from infra.targets import TargetError, open_target

        try:
            return cached_rootfs(open_target("local"), self.ctx.cache_dir)
        except TargetError as exc:
            raise LayoutError(str(exc)) from None

    def stop(self, subjects: list[Subject], services: dict | None) -> list[str]:
        """Remove the layouts `start` made or unpacked (not a leak: nothing to report), and
        what a start killed while `ctr` exported left (its containerd, its directories)."""
        from infra.images.ctr_export import stop

        shutil.rmtree(self._base(), ignore_errors=True)
        stop(*self._ctr_dirs())
        return []

    def schemas(self) -> dict[str, dict]:
        """The image-spec schemas the suite validates with (infra/schemas.py's choice)."""
        try:
            sdir = str(schemas.schema_dir("image-spec"))
        except schemas.SchemaError:
            return {"image-spec": {"dir": "", "version": "missing"}}
        return {"image-spec": {"dir": sdir, "version": schemas.schema_version(sdir)}}


def layout_dir(ctx: RunContext, subject: Subject) -> str:
    """The directory holding `subject`'s layout in this run (after the kind's start).

    Raises:
        LayoutError: it was not made or unpacked (the reason, one line).
    """
    run = current(ctx, LayoutKind.name)
    if run is None or run.services is None:
        raise LayoutError(run.error if run and run.error else "the layouts were not made")
    services = run.services
    if subject.id in services["errors"]:
        raise LayoutError(services["errors"][subject.id])
    if subject.id not in services["dirs"]:
        raise LayoutError(f"{subject.id}: no layout was made for this subject")
    return services["dirs"][subject.id]


def _find_tool(spec: str) -> str | None:
    """The executable `spec` names: a path, a setup build's id or a program on PATH."""
    if "/" in spec:
        path = os.path.abspath(spec)
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    if gobuild.built_name(spec):
        name = spec.rpartition("-")[0]
        built = gobuild.built_dir(name)
        if built and name == "umoci" and gobuild.BUILDS[name].subject_id == spec:
            return os.path.join(built, "umoci")
        return None
    return shutil.which(spec)


def _why_not(spec: str) -> str:
    if not spec.strip():
        return "empty value"
    if "/" in spec:
        return "no such executable file"
    if gobuild.built_name(spec):
        return (
            f"no such built image tool (setup builds {gobuild.BUILDS['umoci'].subject_id} "
            "with OCITEST_GO_BUILDS=umoci ./ocitest setup)"
        )
    return "not found on PATH"


def _tool_subject(kind: str, path: str, taken: list[Subject]) -> Subject:
    """The subject of the image tool at `path`: it speaks umoci's or ctr's command line when
    its base name is umoci or ctr, else skopeo's; id TOOL-VERSION for those three, else
    the base name."""
    base = os.path.basename(path)
    tool = base if base in ("umoci", "ctr") else "skopeo"
    version, output = tool_version(path)
    sid = f"{base}-{version}" if base in MAKERS and version else base
    unique, n = sid, 2
    while any(s.id == unique for s in taken):
        unique, n = f"{sid}-{n}", n + 1
    return Subject(
        kind=kind, id=unique, name=tool, version=version, path=path, version_output=output
    )


def _base_name(path: str) -> str:
    name = Path(path).name
    for suffix in (".tar.gz", ".tgz", ".tar"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name or "layout"


def _check_path(given: str, path: str) -> None:
    """Raise KindUsageError (one line) unless `path` is a readable layout or layout tar."""
    where = f"--image-layout {given}"
    if not given.strip():
        raise KindUsageError("--image-layout: empty value")
    if not os.path.lexists(path):
        raise KindUsageError(f"{where}: no such file or directory")
    if os.path.isdir(path):
        try:
            names = set(os.listdir(path))
        except OSError as exc:
            raise KindUsageError(f"{where}: cannot read the directory: {exc.strerror}") from None
        if not names & set(LAYOUT_NAMES):
            raise KindUsageError(
                f"{where}: not an OCI image layout (none of {', '.join(LAYOUT_NAMES)} in it)"
            )
        return
    if not os.path.isfile(path):
        raise KindUsageError(f"{where}: neither a directory nor a regular file")
    if not os.access(path, os.R_OK):
        raise KindUsageError(f"{where}: not readable")
    try:
        holds = tar_holds_a_layout(path)
    except (OSError, tarfile.TarError) as exc:
        raise KindUsageError(
            f"{where}: neither a layout directory nor a readable tar ({exc})".replace("\n", " ")
        ) from None
    if not holds:
        raise KindUsageError(
            f"{where}: a tar without an OCI image layout (none of "
            f"{', '.join(LAYOUT_NAMES)} at its top)"
        )


__all__ = ["LayoutError", "LayoutKind", "layout_dir"]
