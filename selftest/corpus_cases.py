"""The image corpus's broken layouts as mutants of kind "corpus", so that they count in
reports/proofs.json and the mutation score like every other broken subject.

A corpus case (suites/oci_image/corpus.py, product code: `./ocitest corpus write`) is a
layout that breaks one requirement; tests/test_image_corpus.py runs the image suite over
all of them at once and records, per case, the tests that failed on it and the ids their
failed assertions named. The declared `fails` stay empty: which tests of a document fail
on a broken blob is measured, not promised; the promise is the case's requirement, which
the self-test checks is named by a failed test.
"""

from __future__ import annotations

from selftest.declare import Mutant, register
from suites.oci_image.corpus import all_cases

for _case in all_cases():
    register(
        Mutant(
            "corpus",
            _case.name,
            "layout",
            _case.what,
            (),
            (_case.rid,),
            base="ocitest-reference",
        )
    )
