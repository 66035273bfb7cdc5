"""image-index.md: index.json and nested indexes, their entries and platforms.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.index.property-types")
def test_property_types(holds):
    """Every index property has the type the spec gives it (checked with the official JSON schema) (MUST)."""
    holds()


@pytest.mark.requirement("image.index.schema-version")
def test_schema_version(holds):
    """An index's schemaVersion is 2 (MUST)."""
    holds()


@pytest.mark.requirement("image.index.media-type-used")
def test_media_type_used(holds):
    """An index carries its own mediaType field (SHOULD)."""
    holds()


@pytest.mark.requirement("image.index.media-type-value")
def test_media_type_value(holds):
    """An index's mediaType, when present, is application/vnd.oci.image.index.v1+json (MUST)."""
    holds()


@pytest.mark.requirement("image.index.artifact-type-rfc6838")
def test_artifact_type_rfc6838(holds):
    """An index's artifactType, when set, is a well-formed RFC 6838 media type (MUST)."""
    holds()


@pytest.mark.requirement("image.index.manifests-required")
def test_manifests_required(holds):
    """An index has a manifests array of descriptors (MUST)."""
    holds()


@pytest.mark.requirement("image.index.portable-types")
def test_portable_types(holds):
    """A portable index lists only image manifests and image indexes (SHOULD)."""
    holds()


@pytest.mark.requirement("image.index.platform-when-specific")
def test_platform_when_specific(holds):
    """An entry whose target is platform-specific (an image manifest) carries a platform (SHOULD)."""
    holds()


@pytest.mark.requirement("image.index.platform-architecture")
def test_platform_architecture(holds):
    """A platform has an architecture string (MUST)."""
    holds()


@pytest.mark.requirement("image.index.platform-os")
def test_platform_os(holds):
    """A platform has an os string (MUST)."""
    holds()


@pytest.mark.requirement("image.index.platform-goarch")
def test_platform_goarch(holds):
    """A platform's architecture is a GOARCH value (SHOULD)."""
    holds()


@pytest.mark.requirement("image.index.platform-goos")
def test_platform_goos(holds):
    """A platform's os is a GOOS value (SHOULD)."""
    holds()


@pytest.mark.requirement("image.index.variant-values")
def test_variant_values(holds):
    """A platform's variant is one the Platform Variants table lists for its architecture (SHOULD)."""
    holds()


@pytest.mark.requirement("image.index.subject-is-manifest")
def test_subject_is_manifest(holds):
    """An index's subject, when set, is a descriptor of another manifest or index (MUST)."""
    holds()


@pytest.mark.requirement("image.index.annotations-rules")
def test_annotations_rules(holds):
    """An index's annotations follow the annotation rules (MUST)."""
    holds()
