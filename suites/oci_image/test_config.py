"""config.md: the image config, rootfs.diff_ids against the layers, history.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.config.created-format")
def test_created_format(holds):
    """created (of the config and of history entries) is an RFC 3339 date-time (MUST)."""
    holds()


@pytest.mark.requirement("image.config.property-types")
def test_property_types(holds):
    """Every image config property has the type the spec gives it (checked with the official JSON schema) (MUST)."""
    holds()


@pytest.mark.requirement("image.config.architecture-required")
def test_architecture_required(holds):
    """An image config has an architecture string (MUST)."""
    holds()


@pytest.mark.requirement("image.config.architecture-goarch")
def test_architecture_goarch(holds):
    """The config's architecture is a GOARCH value (SHOULD)."""
    holds()


@pytest.mark.requirement("image.config.os-required")
def test_os_required(holds):
    """An image config has an os string (MUST)."""
    holds()


@pytest.mark.requirement("image.config.os-goos")
def test_os_goos(holds):
    """The config's os is a GOOS value (SHOULD)."""
    holds()


@pytest.mark.requirement("image.config.variant-values")
def test_variant_values(holds):
    """The config's variant is one the Platform Variants table lists for its architecture (SHOULD)."""
    holds()


@pytest.mark.requirement("image.config.labels-rules")
def test_labels_rules(holds):
    """config.Labels follows the annotation rules (MUST)."""
    holds()


@pytest.mark.requirement("image.config.rootfs-required")
def test_rootfs_required(holds):
    """An image config has rootfs with type and a diff_ids array (MUST)."""
    holds()


@pytest.mark.requirement("image.config.rootfs-type-layers")
def test_rootfs_type_layers(holds):
    """rootfs.type is layers (MUST)."""
    holds()


@pytest.mark.requirement("image.config.diff-ids-match-layers")
def test_diff_ids_match_layers(holds):
    """rootfs.diff_ids lists, in order, the digest of each layer's uncompressed tar, one per layer (MUST)."""
    holds()


@pytest.mark.requirement("image.config.history-empty-layer")
def test_history_empty_layer(holds):
    """The history entries not marked empty_layer are as many as the layers (MUST)."""
    holds()
