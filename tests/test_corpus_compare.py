"""The plumbing of `./ocitest corpus compare` (benchmarks/peers/corpus_compare.py) on a
corpus of three cases, with ocitest's validator alone: peers never run in CI (the full
comparison is the documented command, benchmarks/README.md)."""

from __future__ import annotations

import json

from benchmarks.peers import corpus_compare
from infra.images import reference_layout as ref
from suites.oci_image.corpus import all_cases

PICK = ("oci-layout-missing", "blob-content-wrong", "layers-empty")


def _small_corpus(dest):
    cases = [c for c in all_cases() if c.name in PICK]
    ref.write_layout(dest / "reference")
    for c in cases:
        ref.write_layout(dest / c.name, c.edit)
    table = {c.name: {"requirement": c.rid, "doc": c.doc, "what": c.what} for c in cases}
    (dest / "cases.json").write_text(json.dumps(table))
    return cases


def test_compare_writes_a_verdict_per_case_and_totals_per_document(tmp_path, capsys):
    cases = _small_corpus(tmp_path / "corpus")
    out = tmp_path / "cmp.json"
    rc = corpus_compare.main(["--corpus", str(tmp_path / "corpus"), "--tools", "ocitest", "--out", str(out)])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["format"] == corpus_compare.FORMAT and list(doc["tools"]) == ["ocitest"]
    assert doc["reference"]["ocitest"]["caught"] is False  # no false positive
    assert {r["name"] for r in doc["cases"]} == set(PICK)
    for r in doc["cases"]:
        v = r["verdicts"]["ocitest"]
        assert v["caught"] and v["distinct"] and r["requirement"] in v["ids"], r
    assert doc["totals"]["all"] == {"cases": 3, "ocitest": {"caught": 3, "distinct": 3}}
    assert sum(t["cases"] for d, t in doc["totals"].items() if d != "all") == 3
    printed = capsys.readouterr().out
    assert "reference" in printed and "accepted" in printed
    for c in cases:
        assert any(
            line.startswith(c.name) and line.rstrip().endswith("x") for line in printed.splitlines()
        )


def test_a_rejected_reference_makes_a_case_with_its_error_no_catch_of_its_own(tmp_path):
    """crane rejects the reference (its uncompressed layer: "gzip: invalid header"); a
    case rejected with that error, digests, paths and repository aside, is `=`, one
    rejected otherwise is `x`; a validator that accepts the reference makes every
    rejection a catch."""
    err = "validating children: failed to validate image Manifests[0](sha256:{}): validating layers: {}"
    ref_dir, case = tmp_path / "reference", tmp_path / "gzip-truncated"
    ref_v = {"caught": True, "message": err.format("42" * 32, "gzip: invalid header")}
    same = {"caught": True, "message": err.format("59" * 32, "gzip: invalid header")}
    other = {"caught": True, "message": err.format("ab" * 32, "undersized layer")}
    assert not corpus_compare.distinct(same, case, ref_v, ref_dir)
    assert corpus_compare.distinct(other, case, ref_v, ref_dir)
    assert corpus_compare.distinct(same, case, {"caught": False, "message": ""}, ref_dir)
    assert not corpus_compare.distinct({"caught": False, "message": ""}, case, ref_v, ref_dir)
    marks = [
        corpus_compare._mark({**v, "stage": "validate", "distinct": d})
        for v, d in ((same, False), (other, True))
    ]
    assert marks == ["=", "x"]


def test_bad_options_are_one_line_and_exit_4(tmp_path, capsys):
    assert corpus_compare.main(["--tools", "ocitest,nope"]) == 4
    assert corpus_compare.main(["--corpus", str(tmp_path)]) == 4  # no cases.json
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("ocitest corpus compare: ") for line in err), err


def test_an_argparse_error_is_one_line_and_a_users_out_file_is_refused_untouched(tmp_path, capsys):
    mine = tmp_path / "mine.json"
    mine.write_text("the user's own notes\n")
    assert corpus_compare.main(["--bogus"]) == 4
    assert corpus_compare.main(["--out"]) == 4
    assert corpus_compare.main(["--out", str(mine), "--corpus", str(tmp_path)]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("ocitest corpus compare: ") for line in err), err
    assert "unrecognized arguments: --bogus" in err[0] and "exists and is not" in err[2], err
    assert mine.read_text() == "the user's own notes\n"
