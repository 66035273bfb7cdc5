"""Variant classes (reports/variants.py): the marker, the catalogue's `variants:`, the
report's variant coverage, and the variant mutants' link to the tests that catch them."""

from __future__ import annotations

import ast
import json
import textwrap

import jsonschema
import pytest

from reports.catalogue import CatalogueError, catalogue_files, load_catalogue
from reports.schemas import load_schema
from reports.variants import CLASSES, area_of, variant_coverage, variants_named_in_tests
from tests.conftest import ROOT, run_demo_suite, run_pytest


def _catalogue(tmp_path, variants: str) -> None:
    d = tmp_path / "suites" / "s"
    d.mkdir(parents=True)
    (d / "requirements.yaml").write_text(
        "spec: runtime-spec\nspec_version: 1.3.0\nrequirements:\n"
        "  - {id: config.user.uid, section: config.md#user, level: MUST,"
        f" summary: the uid is applied as given, variants: {variants}}}\n"
    )


def test_an_unknown_variant_class_in_the_catalogue_is_refused_in_one_line(tmp_path):
    _catalogue(tmp_path, "[boundary, edgy]")
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(catalogue_files(tmp_path))
    text = str(exc.value)
    assert "unknown variant class edgy" in text and "config.user.uid" in text
    assert "\n" not in text


def test_a_variant_class_listed_twice_is_refused(tmp_path):
    _catalogue(tmp_path, "[boundary, boundary]")
    with pytest.raises(CatalogueError, match="listed twice"):
        load_catalogue(catalogue_files(tmp_path))


def test_the_catalogue_keeps_the_listed_classes(tmp_path):
    _catalogue(tmp_path, "[boundary, privilege]")
    cat = load_catalogue(catalogue_files(tmp_path))
    assert cat["config.user.uid"].variants == ("boundary", "privilege")
    assert cat["config.user.uid"].as_entry([])["variants"] == ["boundary", "privilege"]


@pytest.mark.parametrize(
    "marker, needle",
    [
        ('@pytest.mark.variant("edgy")', "variant class 'edgy' is not one of"),
        ("@pytest.mark.variant()", "names no class"),
    ],
)
def test_a_suite_test_with_a_bad_variant_marker_is_a_collection_error(tmp_path, marker, needle):
    source = f'import pytest\n\n{marker}\n@pytest.mark.requirement("demo.real.one")\ndef test_x():\n    pass\n'
    res = run_demo_suite(tmp_path, source)
    out = res.stdout + res.stderr
    assert res.returncode == 2 and needle in out, out[-2000:]


def test_variant_marks_are_read_statically_from_functions_params_and_tables(tmp_path):
    (tmp_path / "test_demo.py").write_text(
        textwrap.dedent("""\
        import pytest

        CASES = [pytest.param(1, marks=[pytest.mark.variant("privilege"),
                                         pytest.mark.requirement("b.c.d")])]

        @pytest.mark.variant("boundary")
        @pytest.mark.requirement("a.b.c")
        def test_one():
            pass

        @pytest.mark.requirement("a.b.c")
        @pytest.mark.parametrize("x", CASES)
        def test_two(x):
            pass

        @pytest.mark.requirement("e.f.g")
        def test_plain():
            pass
        """)
    )
    named = variants_named_in_tests(tmp_path)
    assert named == {"a.b.c": {"boundary", "privilege"}, "b.c.d": {"privilege"}}


def test_variant_coverage_counts_listed_and_tested_pairs_per_area():
    catalogue = [
        {"id": "config.user.uid", "suite": "oci_runtime", "variants": ["boundary", "privilege"]},
        {"id": "config.user.gid", "suite": "oci_runtime", "variants": ["boundary"]},
        {"id": "config.hooks.env", "suite": "oci_runtime", "variants": []},
    ]
    named = {"oci_runtime": {"config.user.uid": {"boundary", "scale-order"}}}
    results = [{"requirements": ["config.user.uid"], "variants": ["boundary"]}]
    doc = variant_coverage(catalogue, results, named)
    process = doc["areas"]["process"]
    assert (process["requirements"], process["listed"], process["tested"], process["ran"]) == (
        2,
        3,
        1,
        1,
    )
    assert process["percent"] == 33.3 and process["extra"] == 1
    assert process["untested"] == {
        "config.user.uid": ["privilege"],
        "config.user.gid": ["boundary"],
    }
    assert process["by_class"] == {"boundary": [2, 1], "privilege": [1, 0]}
    assert doc["areas"]["hooks"]["listed"] == 0


def test_every_runtime_and_cri_requirement_has_an_area():
    cat = load_catalogue(catalogue_files(ROOT))
    lost = [q.id for q in cat.values() if not area_of(q.id)]
    assert not lost, lost


def _marks_of(path, func: str) -> set[str]:
    tree = ast.parse(path.read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == func)
    return {
        a.value
        for d in fn.decorator_list
        for n in ast.walk(d)
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "variant"
        for a in n.args
        if isinstance(a, ast.Constant)
    }


def test_every_variant_mutant_targets_tests_marked_with_its_class():
    from selftest.declare import load

    variant = {k: m for k, m in load("runtime").items() if m.variant}
    assert variant, "no variant mutants declared"
    for m in variant.values():
        assert m.variant in CLASSES, f"{m.key}: unknown class {m.variant}"
        for test in m.fails:
            module, func = test.split("::")
            marks = _marks_of(ROOT / "suites" / m.suite / module, func.split("[")[0])
            assert m.variant in marks, f"{m.key}: {test} is not marked variant({m.variant!r})"


@pytest.fixture(scope="module")
def variant_report(tmp_path_factory):
    rd = tmp_path_factory.mktemp("variant-report")
    run = run_pytest(
        [
            "suites/oci_runtime/test_user_variants.py",
            "-k",
            "umask_zero or umask_is_applied_in",
            "--runtime",
            "runc",
        ],
        rd,
    )
    assert run.rc == 0, run.stdout[-2000:]
    return rd


def test_the_report_shows_variant_coverage_per_area(variant_report):
    doc = json.loads((variant_report / "results.json").read_text())
    jsonschema.validate(doc, load_schema("results.schema.json"))
    seen = {r["name"]: r["variants"] for r in doc["results"]}
    assert seen == {
        "test_umask_zero_is_applied[runc]": ["boundary"],
        "test_umask_is_applied_in_a_user_namespace[runc]": ["privilege"],
    }
    process = doc["variants"]["areas"]["process"]
    assert process["listed"] > 0 and 0 < process["tested"] <= process["listed"]
    assert 0 < process["ran"] <= process["tested"]
    assert process["untested"]["config.user.uid"] == ["boundary"]  # privilege: userns test
    html = (variant_report / "report.html").read_text()
    assert 'id="variants-process"' in html and "Variant coverage" in html
    assert "variants: boundary (no test), privilege</span>" in html
