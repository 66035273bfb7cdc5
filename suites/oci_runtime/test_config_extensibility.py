"""config.md#extensibility, #valid-values, #annotations and #specification-version: which
configs a runtime must accept (unknown properties and annotation keys, an older minor
version) and which it must reject (invalid values, a foreign major version).

That the state carries the annotations is runtime.state.annotations (test_state.py).
"""

from __future__ import annotations

import pytest

from infra.probe import probe_args
from suites.messages import violation

#: unknown properties, by where they sit in config.json
UNKNOWN_PROPERTIES = {
    "top level": lambda cfg: cfg.update({"org.ocitest.unknown": {"nested": [1, "two"]}}),
    "process": lambda cfg: cfg["process"].update({"ocitestUnknown": True}),
    "process.user": lambda cfg: cfg["process"]["user"].update({"ocitestUnknown": "x"}),
    "root": lambda cfg: cfg["root"].update({"ocitestUnknown": 7}),
    "linux": lambda cfg: cfg["linux"].update({"ocitestUnknown": {"a": None}}),
}


@pytest.mark.parametrize("where", sorted(UNKNOWN_PROPERTIES))
@pytest.mark.requirement("config.extensibility.unknown-properties-ignored")
def test_unknown_properties_are_ignored(containers, runtime, where):
    b = containers.bundle()
    UNKNOWN_PROPERTIES[where](b.config)
    c = containers.create(b)
    rr = runtime.start(c.id) if c.created else c.create_result
    assert c.created and rr.ok, violation(
        "config.extensibility.unknown-properties-ignored",
        wanted=f"create and start succeed with an unknown property in {where}",
        seen=f"create exit {c.create_result.exit_status}, start exit {rr.exit_status}",
        evidence=[c.create_result, rr],
    )


@pytest.mark.requirement("config.annotations.unknown-keys-ignored")
def test_unknown_annotation_keys_are_ignored(containers):
    b = containers.bundle()
    b.config["annotations"] = {
        "org.ocitest.unknown": "value",
        "com.example.nested.key": "",
        "not-reverse-domain": '{"json": "inside"}',
    }
    c = containers.create(b)
    assert c.created, violation(
        "config.annotations.unknown-keys-ignored",
        wanted=f"create succeeds with annotations {b.config['annotations']}",
        seen=f"exit status {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


def _create_unvalidated(containers, edit):
    b = containers.bundle(args=probe_args())
    edit(b.config)
    b.write_unvalidated(b.config)
    return containers.create(b)


@pytest.mark.requirement("config.annotations.key-not-empty", "config.valid-values.invalid-errors")
def test_an_empty_annotation_key_is_rejected(containers):
    c = _create_unvalidated(containers, lambda cfg: cfg.update(annotations={"": "value"}))
    assert not c.created, violation(
        "config.annotations.key-not-empty",
        wanted='create fails: annotations has the key ""',
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.parametrize(
    "annotations", [["org.ocitest.a"], {"org.ocitest.n": 1}], ids=["a list", "a number value"]
)
@pytest.mark.requirement("config.annotations.map", "config.valid-values.invalid-errors")
def test_annotations_that_are_not_a_string_map_are_rejected(containers, annotations):
    c = _create_unvalidated(containers, lambda cfg: cfg.update(annotations=annotations))
    assert not c.created, violation(
        "config.annotations.map",
        wanted=f"create fails: annotations {annotations!r} is not a map of strings",
        seen="exit status 0",
        evidence=[c.create_result],
    )


#: known properties given a value of the wrong JSON type
WRONG_TYPES = {
    "hostname": lambda cfg: cfg.update(hostname=5),
    "process.terminal": lambda cfg: cfg["process"].update(terminal="yes"),
    "process.user.uid": lambda cfg: cfg["process"]["user"].update(uid="0"),
    "root.readonly": lambda cfg: cfg["root"].update(readonly="true"),
}


@pytest.mark.parametrize("prop", sorted(WRONG_TYPES))
@pytest.mark.requirement("config.valid-values.invalid-errors")
def test_a_value_of_the_wrong_type_is_rejected(containers, prop):
    c = _create_unvalidated(containers, WRONG_TYPES[prop])
    assert not c.created, violation(
        "config.valid-values.invalid-errors",
        wanted=f"create fails: {prop} has a value of the wrong JSON type",
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.oci-version.semver", "config.valid-values.invalid-errors")
def test_an_oci_version_that_is_not_semver_is_rejected(containers):
    c = _create_unvalidated(containers, lambda cfg: cfg.update(ociVersion="not-a-version"))
    assert not c.created, violation(
        "config.oci-version.semver",
        wanted='create fails: ociVersion "not-a-version" is not SemVer',
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.oci-version.other-major-rejected")
def test_an_oci_version_of_another_major_is_rejected(containers):
    c = _create_unvalidated(containers, lambda cfg: cfg.update(ociVersion="2.0.0"))
    assert not c.created, violation(
        "config.oci-version.other-major-rejected",
        wanted='create fails: ociVersion "2.0.0" is outside the 1.x line the runtime implements',
        seen="exit status 0",
        evidence=[c.create_result],
    )


@pytest.mark.requirement("config.oci-version.same-major-accepted")
def test_an_oci_version_of_an_older_minor_is_accepted(containers, runtime):
    b = containers.bundle()
    b.config["ociVersion"] = "1.0.0"
    c = containers.create(b)
    rr = runtime.start(c.id) if c.created else c.create_result
    assert c.created and rr.ok, violation(
        "config.oci-version.same-major-accepted",
        wanted='create and start succeed with ociVersion "1.0.0"',
        seen=f"create exit {c.create_result.exit_status}, start exit {rr.exit_status}",
        evidence=[c.create_result, rr],
    )
