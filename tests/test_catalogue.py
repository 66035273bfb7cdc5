"""The catalogue: well-formed, every testable requirement has a test, unknown ids are caught."""

from __future__ import annotations

import textwrap

import pytest

from reports.catalogue import (
    CatalogueError,
    catalogue_files,
    ids_named_in_tests,
    load_catalogue,
)
from tests.conftest import ROOT, run_demo_suite

SPEC_FILES = ("runtime.md", "runtime-linux.md", "bundle.md")


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(catalogue_files(ROOT))


def test_the_runtime_catalogue_covers_runtime_md_runtime_linux_md_and_bundle_md(catalogue):
    sections = {q.section.split("#")[0] for q in catalogue.values() if q.suite == "oci_runtime"}
    assert set(SPEC_FILES) <= sections


def test_every_testable_requirement_has_a_test(catalogue):
    used = ids_named_in_tests(ROOT / "suites" / "oci_runtime", set(catalogue))
    untested = sorted(
        q.id
        for q in catalogue.values()
        if q.suite == "oci_runtime" and q.testable and q.id not in used
    )
    assert not untested, f"testable requirements without a test: {untested}"


def test_every_testable_image_requirement_has_a_test(catalogue):
    used = ids_named_in_tests(ROOT / "suites" / "oci_image", set(catalogue))
    untested = sorted(
        q.id
        for q in catalogue.values()
        if q.suite == "oci_image" and q.testable and q.id not in used
    )
    assert not untested, f"testable requirements without a test: {untested}"


def test_the_image_catalogue_covers_the_nine_documents_of_image_spec(catalogue):
    sections = {
        q.section.split("#")[0]
        for q in catalogue.values()
        if q.suite == "oci_image" and q.spec == "image-spec"
    }
    assert sections == {
        "image-layout.md", "descriptor.md", "manifest.md", "image-index.md", "config.md",
        "layer.md", "conversion.md", "annotations.md", "media-types.md",
    }  # fmt: skip


def test_the_distribution_catalogue_covers_spec_md_and_the_changes_after_1_1_1(catalogue):
    dist = [q for q in catalogue.values() if q.spec == "distribution-spec"]
    assert {q.section.split("#")[0] for q in dist} == {"spec.md"}
    assert {q.suite for q in dist} == {"oci_image"}
    levels = {lvl: sum(1 for q in dist if q.level == lvl) for lvl in ("MUST", "SHOULD", "MAY")}
    assert levels["MUST"] >= 80 and levels["SHOULD"] >= 36 and levels["MAY"] >= 14, levels
    dev = {q.id for q in dist if q.since.endswith("-dev")}
    for rid in ("dist.push.upload-cancel", "dist.pull.manifest-digest-header-required"):
        assert rid in dev, rid


def test_every_untestable_requirement_says_why(catalogue):
    for q in catalogue.values():
        if not q.testable:
            assert len(q.why) > 20, q.id


def test_summaries_are_one_line_and_sections_link_into_the_spec(catalogue):
    for q in catalogue.values():
        assert "\n" not in q.summary and q.url.startswith("https://"), q.id
        if q.spec == "cri-api":  # CRI sections name an RPC or a message field of api.proto
            assert q.section.split(".")[0][:1].isupper(), q.id
        else:
            assert q.section.split("#")[0].endswith(".md"), q.id


def test_a_duplicate_id_is_rejected(tmp_path):
    text = textwrap.dedent("""\
        spec: runtime-spec
        spec_version: 1.3.0
        requirements:
          - {id: runtime.x.y, section: runtime.md#state, level: MUST, summary: one thing said once}
          - {id: runtime.x.y, section: runtime.md#state, level: MUST, summary: the same id said twice}
        """)
    d = tmp_path / "suites" / "s"
    d.mkdir(parents=True)
    (d / "requirements.yaml").write_text(text)
    with pytest.raises(CatalogueError, match="duplicate"):
        load_catalogue(catalogue_files(tmp_path))


def test_an_untestable_entry_without_why_is_rejected(tmp_path):
    d = tmp_path / "suites" / "s"
    d.mkdir(parents=True)
    (d / "requirements.yaml").write_text(
        "spec: runtime-spec\nspec_version: 1.3.0\nrequirements:\n"
        "  - {id: runtime.x.y, section: runtime.md#state, level: MUST, testable: false,"
        " summary: cannot be tested at all}\n"
    )
    with pytest.raises(CatalogueError, match="why"):
        load_catalogue(catalogue_files(tmp_path))


@pytest.mark.parametrize(
    "marker, needle",
    [
        ('@pytest.mark.requirement("no.such.requirement")', "not in any"),
        ("", "no @pytest.mark.requirement"),
    ],
)
def test_a_suite_test_with_a_bad_requirement_marker_is_a_collection_error(tmp_path, marker, needle):
    res = run_demo_suite(tmp_path, f"import pytest\n\n{marker}\ndef test_x():\n    pass\n")
    out = res.stdout + res.stderr
    assert res.returncode == 2 and needle in out, out[-2000:]
