"""descriptor.md and media-types.md: every descriptor against the blob it names.

Each test judges the layout subject with the validator (suites/oci_image/validate/)
and fails with every finding of its requirement: file or blob, wanted, seen.
"""

from __future__ import annotations

import pytest


@pytest.mark.requirement("image.descriptor.media-type-required")
def test_media_type_required(holds):
    """Every descriptor has a mediaType string (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.media-type-rfc6838")
def test_media_type_rfc6838(holds):
    """A descriptor's mediaType is a well-formed RFC 6838 type/subtype name (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.media-type-of-content")
def test_media_type_of_content(holds):
    """A descriptor's mediaType is the type of the bytes it references (JSON for +json types, gzip, zstd or tar for layers) (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.digest-required")
def test_digest_required(holds):
    """Every descriptor has a digest string (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.digest-matches-content")
def test_digest_matches_content(holds):
    """A descriptor's digest is the digest of the content it references (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.size-required")
def test_size_required(holds):
    """Every descriptor has a size, a non-negative int64 (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.size-matches-content")
def test_size_matches_content(holds):
    """A descriptor's size is the byte length of the raw content it references (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.urls-rfc3986")
def test_urls_rfc3986(holds):
    """Each entry of a descriptor's urls is an RFC 3986 URI (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.urls-http")
def test_urls_http(holds):
    """Entries of urls use the http or https scheme (SHOULD)."""
    holds()


@pytest.mark.requirement("image.descriptor.annotations-rules")
def test_annotations_rules(holds):
    """A descriptor's annotations follow the annotation rules (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.data-base64")
def test_data_base64(holds):
    """A descriptor's data field is standard base64 (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.data-matches")
def test_data_matches(holds):
    """The decoded data field is byte for byte the referenced content (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.artifact-type-rfc6838")
def test_artifact_type_rfc6838(holds):
    """A descriptor's artifactType, when set, is a well-formed RFC 6838 media type (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.manifest-platform")
def test_manifest_platform(holds):
    """A descriptor of an image manifest (in an index) carries a platform (SHOULD)."""
    holds()


@pytest.mark.requirement("image.descriptor.digest-grammar")
def test_digest_grammar(holds):
    """A digest is ALGORITHM:ENCODED per the spec's grammar (lowercase algorithm components, [a-zA-Z0-9=_-] encoded) (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.use-sha256")
def test_use_sha256(holds):
    """Descriptors use SHA-256 digests (SHOULD)."""
    holds()


@pytest.mark.requirement("image.descriptor.sha256-encoding")
def test_sha256_encoding(holds):
    """A sha256 digest's encoded part is exactly 64 lowercase hex digits (MUST)."""
    holds()


@pytest.mark.requirement("image.descriptor.sha512-encoding")
def test_sha512_encoding(holds):
    """A sha512 digest's encoded part is exactly 128 lowercase hex digits (MUST)."""
    holds()


@pytest.mark.requirement("image.media-types.known-types")
def test_known_types(holds):
    """An OCI media type used in a descriptor (application/vnd.oci.*) is one the spec defines (MUST)."""
    holds()
