"""layer.md: every layer read as a stream (tar, gzip, zstd), entries and whiteouts.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.layer.tar-archive")
def test_tar_archive(holds):
    """A layer's payload (after decompression) is a tar archive (MUST)."""
    holds()


@pytest.mark.requirement("image.layer.no-duplicate-paths")
def test_no_duplicate_paths(holds):
    """A layer's tar holds at most one entry per file path (MUST)."""
    holds()


@pytest.mark.requirement("image.layer.no-sparse-files")
def test_no_sparse_files(holds):
    """Layers do not use sparse file entries (SHOULD)."""
    holds()


@pytest.mark.requirement("image.layer.hardlink-target-present")
def test_hardlink_target_present(holds):
    """A hard link entry names a file that exists in the filesystem at that point (this or a lower layer) (MUST)."""
    holds()


@pytest.mark.requirement("image.layer.whiteout-form")
def test_whiteout_form(holds):
    """A whiteout (.wh.NAME, .wh..wh..opq) is an empty regular file (MUST)."""
    holds()


@pytest.mark.requirement("image.layer.whiteouts-before-siblings")
def test_whiteouts_before_siblings(holds):
    """Whiteout entries come before the directory entries that are their siblings (SHOULD)."""
    holds()


@pytest.mark.requirement("image.layer.explicit-whiteouts")
def test_explicit_whiteouts(holds):
    """Producers write explicit whiteouts rather than opaque ones (SHOULD)."""
    holds()


@pytest.mark.requirement("image.layer.nondistributable-no-new")
def test_nondistributable_no_new(holds):
    """Producers do not make new non-distributable layers (SHOULD)."""
    holds()
