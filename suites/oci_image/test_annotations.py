"""annotations.md: annotation maps of indexes, manifests, descriptors and Labels.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.annotations.string-map")
def test_string_map(holds):
    """Annotations are a map from string keys to string values (MUST)."""
    holds()


@pytest.mark.requirement("image.annotations.unique-keys")
def test_unique_keys(holds):
    """No key appears twice in one annotations map (MUST)."""
    holds()


@pytest.mark.requirement("image.annotations.reverse-domain")
def test_reverse_domain(holds):
    """Annotation keys use reverse domain notation (com.example.key) (SHOULD)."""
    holds()


@pytest.mark.requirement("image.annotations.image-namespace-reserved")
def test_image_namespace_reserved(holds):
    """Keys under org.opencontainers.image are only those the image spec defines (MUST)."""
    holds()


@pytest.mark.requirement("image.annotations.absent-or-empty")
def test_absent_or_empty(holds):
    """With no annotations the field is absent or an empty map (never null) (MUST)."""
    holds()


@pytest.mark.requirement("image.annotations.ref-name-grammar")
def test_ref_name_grammar(holds):
    """A ref.name value uses A-Za-z0-9 and -._:@/+ and follows the reference grammar (SHOULD)."""
    holds()


@pytest.mark.requirement("image.annotations.base-name-format")
def test_base_name_format(holds):
    """base.name is a fully qualified image reference that names its registry (SHOULD)."""
    holds()


@pytest.mark.requirement("image.annotations.created-format")
def test_created_format(holds):
    """org.opencontainers.image.created is an RFC 3339 date-time (MUST)."""
    holds()
