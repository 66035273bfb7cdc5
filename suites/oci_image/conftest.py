"""The layouts under test: `--image-layout PATH` (repeatable; a directory or a tar), else
the layouts this machine's image tools make from our own reference image.

Until layouts are a subject kind of the infra registry (issue 10's prerequisite), the
option lives here: pytest takes options from a suite conftest only when the run names
this directory (or a file in it); `OCITEST_IMAGE_LAYOUTS` (paths joined by ":") serves
runs that start elsewhere. Each layout is one subject (kind `layout`): its id is the
directory's name for a given layout, `ocitest-reference`, `skopeo-VERSION` or
`umoci-VERSION` for made ones. Layouts are made once per run (xdist workers share them
under a file lock) and judged once per process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra import schemas
from infra.subjects import Subject
from suites.oci_image.subjects import LayoutError, layout_subjects, prepare
from suites.oci_image.validate import Judgement, judge
from suites.oci_image.validate.schema import default_dir

ENV = "OCITEST_IMAGE_LAYOUTS"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("ocitest").addoption(
        "--image-layout",
        dest="ocitest_image_layouts",
        action="append",
        default=None,
        metavar="PATH",
        help="OCI image layout to validate, a directory or a tar (repeatable; default: "
        "the layouts skopeo and umoci make from our reference image, and the reference)",
    )


def _given(config: pytest.Config) -> list[str]:
    paths = getattr(config.option, "ocitest_image_layouts", None) or []
    return paths or [p for p in os.environ.get(ENV, "").split(":") if p]


def pytest_configure(config: pytest.Config) -> None:
    for p in _given(config):
        if not os.path.exists(p):
            raise pytest.UsageError(f"--image-layout {p}: no such file or directory")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "layout_subject" in metafunc.fixturenames:
        subjects = layout_subjects(_given(metafunc.config))
        metafunc.parametrize("layout_subject", subjects, ids=[s.id for s in subjects])


_JUDGED: dict[str, Judgement | str] = {}


@pytest.fixture(scope="session")
def image_schema_dir() -> str:
    """The image-spec schema directory (Debian's 1.1.0-rc2 by default)."""
    try:
        return default_dir()
    except schemas.SchemaError as exc:
        pytest.fail(f"image-spec schemas: {exc}")


@pytest.fixture
def layout(
    layout_subject: Subject, tmp_path_factory: pytest.TempPathFactory, image_schema_dir: str
) -> Judgement:
    """The findings about the layout under test (made and judged once per process)."""
    key = layout_subject.id
    if key not in _JUDGED:
        shared = tmp_path_factory.getbasetemp().parent / "ocitest-image-layouts"
        try:
            root = prepare(layout_subject, shared)
            _JUDGED[key] = judge(Path(root), image_schema_dir)
        except LayoutError as exc:
            _JUDGED[key] = str(exc)
    got = _JUDGED[key]
    if isinstance(got, str):
        raise LayoutError(got)
    return got


@pytest.fixture
def holds(layout: Judgement, request: pytest.FixtureRequest):
    """Assert that the layout breaks none of the test's requirement ids: a failure lists
    each finding (requirement, file or blob, wanted, seen)."""

    def check() -> None:
        ids = [i for m in request.node.iter_markers("requirement") for i in m.args]
        found = layout.findings(*ids)
        if found:
            lines = [f"{f.rid}: {f}" for f in found[:20]]
            more = f"\n... and {len(found) - 20} more" if len(found) > 20 else ""
            raise AssertionError(f"layout {layout.root}:\n" + "\n".join(lines) + more)

    return check
