"""Fixtures of the image suite: the layout under test, judged once per process; the
registry under test (`registry`, see RegistryUnderTest).

`layout_subject` is parametrized by the infra plugin with the layout kind's subjects
(infra/kinds/layout.py: `--image-layout PATH`, else our reference layout and the
layouts skopeo and umoci make from it); the kind makes or unpacks each layout once per
run and `layout_dir` finds it. A subject whose layout could not be made ends each of its
tests as `error` with the reason (the tool's command and output).

`converted` (conversion.md) converts one of conversion_data.py's images with the
converter under test (`converter_subject`, infra/kinds/converter.py; a ctr subject
through the containerd the kind started for it) once per process and subject, and adds
the conversion's evidence to each test that asks for it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from infra import schemas
from infra.drivers.converter import Conversion, convert
from infra.drivers.registry import RegistryClient
from infra.evidence import EvidenceLog
from infra.kinds.converter import conversions_dir
from infra.kinds.converter import daemon as converter_daemon
from infra.kinds.layout import LayoutError, layout_dir
from infra.kinds.registry import access as registry_access
from infra.outcomes import unsupported
from infra.plugin import run_context
from infra.run import RunContext
from infra.subjects import Subject
from suites.messages import requirement_headers
from suites.oci_image import conversion_data, registry_data
from suites.oci_image.registry_data import DataSet
from suites.oci_image.registry_flows import Failed, check_present, seed
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


# -- the registry suite (test_registry_*.py) ------------------------------------------
class DataSetMissing(Exception):
    """--read-only: a data set the test reads was not pushed beforehand (outcome error)."""


class RegistryUnderTest:
    """The registry a test talks to: a client (evidence into the test's log), where the
    tests write (`namespace`), and the data sets seeded once per run (with --read-only:
    expected present; the clients then refuse every write).

    Attributes:
        subject: the registry subject.
        client: RegistryClient with the run's credentials.
        namespace: "ocitest/RUN_ID" unless --registry-namespace says otherwise.
        nodelete: a client of the same storage with deletes disabled, or None.
        chunk_size: bytes per PATCH of a chunked push (--registry-chunk-size), 0: the default.
    """

    _counter = itertools.count(1)

    def __init__(self, subject: Subject, access, ctx: RunContext, log: EvidenceLog) -> None:
        self.subject = subject
        self.access = access
        self.ctx = ctx
        ro = access.read_only
        self.client = RegistryClient(
            access.url, log, access.username, access.password, read_only=ro
        )
        self.namespace = access.namespace
        self.chunk_size = access.chunk_size
        self.nodelete = (
            RegistryClient(access.nodelete_url, log, access.username, access.password, read_only=ro)
            if access.nodelete_url
            else None
        )

    def fresh_repo(self, what: str = "t") -> str:
        """A repository name of this test's own (nothing is in it yet)."""
        return f"{self.namespace}/{what}-{os.getpid()}-{next(self._counter)}"

    def seeded(self, name: str) -> tuple[str, DataSet]:
        """(repository, data set) with data set `name` pushed into it once per run; fails
        the test when the registry refused the push (the push tests say which step).

        Raises:
            DataSetMissing: --read-only and the data set is not in the registry."""
        ds = registry_data.get(name)
        repo = f"{self.namespace}/ds-{name}"
        seeder = RegistryClient(
            self.access.url,
            EvidenceLog(),
            self.access.username,
            self.access.password,
            read_only=self.access.read_only,
        )
        if self.access.read_only:
            why = check_present(seeder, self.ctx.state_base, self.subject.id, repo, ds)
        else:
            why = seed(seeder, self.ctx.state_base, self.subject.id, repo, ds, self.chunk_size)
        if why and ds.traits & registry_data.OPTIONAL:
            # storing such content is not a MUST: its own push test judges it
            unsupported(why.splitlines()[0])
        if why and self.access.read_only:
            raise DataSetMissing(why)
        if why:
            raise Failed(
                "wanted: the data set stored, to read it back\nseen: " + why.replace("\n", "\n  ")
            )
        return repo, ds


@pytest.fixture
def registry(
    registry_subject: Subject,
    ocitest_run: RunContext,
    evidence: EvidenceLog,
    request: pytest.FixtureRequest,
):
    """The registry under test (see RegistryUnderTest); `error` when it did not start.
    A test marked `writes(WHAT)` is skipped in a --read-only run ("--read-only: WHAT")."""
    acc, why = registry_access(ocitest_run, registry_subject)
    if acc is None:
        pytest.fail(f"no registry: {why}", pytrace=False)
    writes = request.node.get_closest_marker("writes")
    if acc.read_only and writes is not None:
        pytest.skip(f"--read-only: the test {writes.args[0]}")
    return RegistryUnderTest(registry_subject, acc, ocitest_run, evidence)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A registry test's failure opens with the header of each requirement it checks (as
    suites/messages.py's violation does): id, level, spec section, summary, link; only
    that of the failed check's own requirement when it names one (`expect(..., rid=)`)."""
    try:
        return (yield)
    except Failed as exc:
        ids = (
            [exc.rid] if exc.rid else [i for m in item.iter_markers("requirement") for i in m.args]
        )
        raise Failed(requirement_headers(ids) + str(exc), exc.rid) from None


# -- the conversion suite (test_conversion.py) ----------------------------------------
#: (subject id, image name) -> its conversion (per process)
_CONVERTED: dict[tuple[str, str], Conversion] = {}


@pytest.fixture(scope="session")
def conversion_dir(pytestconfig: pytest.Config):
    """This process's directory for the images and bundles of the conversion tests
    (below the first target's work directory; removed at the end of the session)."""
    path = conversions_dir(run_context(pytestconfig)) / str(os.getpid())
    path.mkdir(parents=True, exist_ok=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def converted(
    converter_subject: Subject,
    conversion_dir: Path,
    evidence: EvidenceLog,
    ocitest_run: RunContext,
) -> Callable[[str], Conversion]:
    """converted(image name) -> the Conversion of that image of conversion_data.IMAGES
    by the converter under test (made once per process; its evidence is added to the
    test's log each time). The bundle is already removed; the layout stays until the
    session ends."""

    def get(name: str) -> Conversion:
        key = (converter_subject.id, name)
        if key not in _CONVERTED:
            layout = conversion_dir / f"image-{name}"
            if not layout.exists():
                conversion_data.write(layout, conversion_data.IMAGES[name])
            bundle = conversion_dir / f"bundle-{converter_subject.id}-{name}"
            base, why = (
                converter_daemon(ocitest_run, converter_subject)
                if converter_subject.name == "ctr"
                else (None, "")
            )
            _CONVERTED[key] = convert(
                converter_subject, layout, conversion_data.REF, bundle, base, why
            )
        conv = _CONVERTED[key]
        evidence.add(conv.evidence)
        return conv

    return get
