"""manifest.md: image and artifact manifests, their config and layers.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.manifest.property-types")
def test_property_types(holds):
    """Every manifest property has the type the spec gives it (checked with the official JSON schema) (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.schema-version")
def test_schema_version(holds):
    """A manifest's schemaVersion is 2 (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.media-type-used")
def test_media_type_used(holds):
    """A manifest carries its own mediaType field (SHOULD)."""
    holds()


@pytest.mark.requirement("image.manifest.media-type-value")
def test_media_type_value(holds):
    """A manifest's mediaType, when present, is application/vnd.oci.image.manifest.v1+json (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.artifact-type-with-empty-config")
def test_artifact_type_with_empty_config(holds):
    """A manifest whose config is the empty descriptor type sets artifactType (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.artifact-type-rfc6838")
def test_artifact_type_rfc6838(holds):
    """A manifest's artifactType, when set, is a well-formed RFC 6838 media type (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.config-required")
def test_config_required(holds):
    """A manifest has a config descriptor (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.config-portable-type")
def test_config_portable_type(holds):
    """A container image's config uses the OCI image config media type (SHOULD)."""
    holds()


@pytest.mark.requirement("image.manifest.config-type-rfc6838")
def test_config_type_rfc6838(holds):
    """Any config mediaType is a well-formed RFC 6838 media type (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-descriptors")
def test_layers_descriptors(holds):
    """Every entry of layers is a descriptor (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-at-least-one")
def test_layers_at_least_one(holds):
    """A manifest has at least one layer (SHOULD)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-base-first")
def test_layers_base_first(holds):
    """For an image config, layers[0] is the base layer (its diff_id is rootfs.diff_ids[0]) (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-stack-order")
def test_layers_stack_order(holds):
    """For an image config, the layers follow in stack order, the order of rootfs.diff_ids (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-final-filesystem")
def test_layers_final_filesystem(holds):
    """The image's filesystem is the layers applied in order to an empty directory: no entry or link leads outside it (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-portable-types")
def test_layers_portable_types(holds):
    """A portable image's layers use tar, tar+gzip or a non-distributable type (SHOULD)."""
    holds()


@pytest.mark.requirement("image.manifest.layers-type-rfc6838")
def test_layers_type_rfc6838(holds):
    """Any layer mediaType is a well-formed RFC 6838 media type (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.subject-is-manifest")
def test_subject_is_manifest(holds):
    """A manifest's subject, when set, is a descriptor of another manifest or index (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.annotations-rules")
def test_annotations_rules(holds):
    """A manifest's annotations follow the annotation rules (MUST)."""
    holds()


@pytest.mark.requirement("image.manifest.empty-descriptor-content")
def test_empty_descriptor_content(holds):
    """A descriptor of the empty media type references the two bytes {} (size 2, its sha256 digest) (SHOULD)."""
    holds()


@pytest.mark.requirement("image.manifest.artifact-single-layer")
def test_artifact_single_layer(holds):
    """An artifact without content has one layer of non-zero size (the empty descriptor) (SHOULD)."""
    holds()
