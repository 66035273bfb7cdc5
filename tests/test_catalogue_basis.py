"""Every catalogue entry says on what its duty rests (reports/catalogue.py's `basis`), and
the level follows from it: issue 18's "verdicts a maintainer cannot argue with"."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import specversion
from reports.catalogue import NOT_MUST, CatalogueError, catalogue_files, load_catalogue

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(catalogue_files(ROOT))


def test_every_must_entry_of_every_catalogue_has_a_basis(catalogue):
    missing = sorted(r.id for r in catalogue.values() if r.level == "MUST" and not r.basis)
    assert not missing, f"MUST entries without a basis: {missing}"


def test_every_entry_has_a_basis(catalogue):
    missing = sorted(r.id for r in catalogue.values() if not r.basis)
    assert not missing, f"entries without a basis: {missing}"


def test_no_must_rests_on_critest_kubelet_or_error_exposure(catalogue):
    bad = sorted(r.id for r in catalogue.values() if r.level == "MUST" and r.basis in NOT_MUST)
    assert not bad, f"MUST entries resting on a basis that carries SHOULD at most: {bad}"


def test_author_only_entries_are_untestable(catalogue):
    bad = sorted(r.id for r in catalogue.values() if r.basis == "author-only" and r.testable)
    assert not bad


@pytest.mark.parametrize(
    ("spec", "entry", "message"),
    [
        ("cri-api", "level: MUST, basis: critest", "cannot rest on critest"),
        ("cri-api", "level: MUST, basis: keyword", "is not one of cri-api's"),
        ("image-spec", "level: MUST, basis: guidance", "cannot rest on guidance"),
        ("image-spec", "level: MUST, basis: valid-values", "is not one of image-spec's"),
        ("runtime-spec", "level: MUST, basis: definition", "is not one of runtime-spec's"),
    ],
)
def test_loader_refuses_a_basis_that_does_not_fit(tmp_path, spec, entry, message):
    f = tmp_path / "suite" / "requirements.yaml"
    f.parent.mkdir()
    f.write_text(
        f'spec: {spec}\nspec_version: "1"\nrequirements:\n'
        f"  - {{id: x.y.z, section: X, {entry}, summary: a summary here}}\n"
    )
    with pytest.raises(CatalogueError, match=message):
        load_catalogue([f])


def test_image_entries_use_image_specs_vocabulary(catalogue):
    image = [r for r in catalogue.values() if r.spec == "image-spec"]
    assert image and {r.basis for r in image} <= {"keyword", "definition", "guidance"}
    entry = catalogue["image.layer.whiteout-form"].as_entry([])
    assert entry["basis"] == "definition" and entry["basis_text"]
    assert entry["basis_url"] == entry["url"]


def test_basis_url_points_at_the_rule_it_rests_on(catalogue):
    assert catalogue["config.process.cwd-absolute"].basis_url.endswith("config.md#valid-values")
    assert catalogue["config-linux.memory.limit"].basis_url.endswith("runtime.md#create")
    assert catalogue["runtime.start.no-process-errors"].basis_url == (
        catalogue["runtime.start.no-process-errors"].url
    )


RUNC = "runc version 1.1.5\ncommit: v1.1.5-0-gf19387a\nspec: 1.0.2-dev\n"


def test_runc_1_1_is_judged_at_the_runtime_spec_commit_it_vendors(catalogue):
    snap = specversion.snapshot_of(RUNC, "1.1.5", "1.0.2-dev")
    assert snap is not None and snap.commit.startswith("1c3f411")
    for rid in (
        "config.process.capabilities-unknown-warns",
        "config-linux.unified.enables-controllers",
    ):
        r = catalogue[rid]
        assert r.since == "1.1.0"
        assert specversion.holds("1.0.2-dev", r.since, r.until, rid, snap)
        assert not specversion.holds("1.0.2-dev", r.since, r.until, rid, None)
    r = catalogue["config.process.capabilities-unknown-errors"]
    assert not specversion.holds("1.0.2-dev", r.since, r.until, r.id, snap)
    # 1.1.0 text the commit did not have yet does not apply
    r = catalogue["config.domainname.applied"]
    assert not specversion.holds("1.0.2-dev", r.since, r.until, r.id, snap)
    # relative mount destinations came in 1.2.0: the absolute rule still holds
    r = catalogue["config.errors.mount-destination-absolute"]
    assert specversion.holds("1.0.2-dev", r.since, r.until, r.id, snap)


def test_snapshot_ids_are_catalogue_ids(catalogue):
    for snap in specversion.SNAPSHOTS:
        assert not (snap.has | snap.lacks) - set(catalogue)


def test_an_unknown_dev_snapshot_is_judged_at_the_release_it_follows():
    assert specversion.snapshot_of("crun version 1.8.1\nspec: 1.0.0\n", "1.8.1", "1.0.0") is None
    assert specversion.snapshot_of(RUNC.replace("1.1.5", "1.2.0"), "1.2.0", "1.0.2-dev") is None
    assert specversion.holds("1.0.2-dev", "1.0.2", "", "x")
    assert not specversion.holds("1.0.2-dev", "1.1.0", "", "x")
    assert specversion.holds("1.0.2-dev", "", "1.1.0", "x")
