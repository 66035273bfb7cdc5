"""image-layout.md: the oci-layout file, index.json and the blobs directory.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.layout.blobs-dir")
def test_blobs_dir(holds):
    """The layout has a blobs directory (it may hold nothing) (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.oci-layout-exists")
def test_oci_layout_exists(holds):
    """The layout has an oci-layout file at its top (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.oci-layout-object")
def test_oci_layout_object(holds):
    """The oci-layout file holds one JSON object (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.oci-layout-version")
def test_oci_layout_version(holds):
    """The oci-layout object has an imageLayoutVersion field (a version the layout schema knows) (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.index-exists")
def test_index_exists(holds):
    """The layout has an index.json file at its top (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.index-is-image-index")
def test_index_is_image_index(holds):
    """index.json is an image index JSON object (schemaVersion, manifests) (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.blob-content-matches-path")
def test_blob_content_matches_path(holds):
    """The bytes of blobs/ALG/ENC hash to the digest ALG:ENC (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.blob-path-grammar")
def test_blob_path_grammar(holds):
    """The directory and file names under blobs follow the algorithm and encoded grammar of digests (MUST)."""
    holds()


@pytest.mark.requirement("image.layout.missing-blobs-external")
def test_missing_blobs_external(holds):
    """A referenced blob missing from the layout is to be fetched from an external store (a layout gives none but a descriptor's urls) (SHOULD)."""
    holds()
