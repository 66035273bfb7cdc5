"""Fixtures of the image suite: the layout under test, judged once per process.

`layout_subject` is parametrized by the infra plugin with the layout kind's subjects
(infra/kinds/layout.py: `--image-layout PATH`, else our reference layout and the
layouts skopeo and umoci make from it); the kind makes or unpacks each layout once per
run and `layout_dir` finds it. A subject whose layout could not be made ends each of its
tests as `error` with the reason (the tool's command and output).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import schemas
from infra.kinds.layout import LayoutError, layout_dir
from infra.run import RunContext
from infra.subjects import Subject
from suites.oci_image.validate import Judgement, judge
from suites.oci_image.validate.schema import default_dir

#: subject id -> its judgement, or why its layout is not available (per process)
_JUDGED: dict[str, Judgement | str] = {}


@pytest.fixture(scope="session")
def image_schema_dir() -> str:
    """The image-spec schema directory (1.1.1's from setup's Go module cache, else
    Debian's 1.1.0-rc2; infra/schemas.py)."""
    try:
        return default_dir()
    except schemas.SchemaError as exc:
        pytest.fail(f"image-spec schemas: {exc}")


@pytest.fixture
def layout(layout_subject: Subject, ocitest_run: RunContext, image_schema_dir: str) -> Judgement:
    """The findings about the layout under test (judged once per process).

    Raises:
        LayoutError: the subject's layout was not made (outcome `error`).
    """
    key = layout_subject.id
    if key not in _JUDGED:
        try:
            root = layout_dir(ocitest_run, layout_subject)
            _JUDGED[key] = judge(Path(root), image_schema_dir)
        except LayoutError as exc:
            _JUDGED[key] = str(exc)
        except OSError as exc:
            _JUDGED[key] = f"{key}: cannot read the layout: {exc}"
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
