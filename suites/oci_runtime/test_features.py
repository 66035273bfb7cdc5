"""features.md: the `features` document, checked for its shape and against what the
runtime really does with what it lists. (What features-linux.md's `linux` object lists
is test_features_linux.py's.)

The packaged schemas (1.0.2-dev) have no features schema: the shape is checked against
suites/oci_runtime/features_properties.py, and against features-schema.json too when
--schema-dir names a directory that has one. The `features` fixture (the document, or
the test ends `unsupported`) is in this suite's conftest.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import schemas, specversion
from infra.outcomes import unsupported
from suites.messages import violation
from suites.oci_runtime.features_properties import (
    MAP,
    PROPERTIES,
    defined_at,
    has_type,
    type_problems,
)

HOOK_NAMES = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart")


def features_call(runtime) -> list:
    """The evidence of the `features` call (for violation messages)."""
    return [ev for ev in runtime.log.records if " features" in ev.command][:1]


@pytest.mark.requirement("features.structure")
def test_features_properties_have_their_types(runtime, features, ocitest_run):
    problems = [p for p in type_problems(features, PROPERTIES, "1.3.0") if "not defined" not in p]
    schema = Path(ocitest_run.schema_dir) / "features-schema.json"
    if schema.is_file():
        problems += schemas.errors(ocitest_run.schema_dir, "features-schema.json", features)
    assert not problems, violation(
        "features.structure",
        wanted="every property of the type features.md gives it"
        + (f" and valid against {schema}" if schema.is_file() else ""),
        seen="; ".join(problems[:8]),
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.version-range-present")
def test_oci_version_min_and_max_are_spec_versions(runtime, features):
    seen = {k: features.get(k) for k in ("ociVersionMin", "ociVersionMax")}
    bad = {}
    for key, value in seen.items():
        try:
            specversion.parse(str(value)) if isinstance(value, str) else bad.setdefault(key, value)
        except ValueError:
            bad[key] = value
    assert not bad, violation(
        "features.version-range-present",
        wanted="ociVersionMin and ociVersionMax, each a spec version string",
        seen=f"{seen}",
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.max-not-below-min")
def test_oci_version_max_is_not_below_min(runtime, features):
    low, high = str(features.get("ociVersionMin")), str(features.get("ociVersionMax"))
    try:
        ok = not specversion.before(high, low)
    except ValueError:
        pytest.skip(
            f"needs ociVersionMin and ociVersionMax that parse ({low!r}, {high!r}): "
            "test_oci_version_min_and_max_are_spec_versions reports them"
        )
    assert ok, violation(
        "features.max-not-below-min",
        wanted=f"ociVersionMax >= ociVersionMin ({low})",
        seen=f"ociVersionMax {high}",
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.no-undefined-properties")
def test_features_holds_only_properties_of_its_version(runtime, features):
    version = defined_at(features)
    extra = [p for p in type_problems(features, PROPERTIES, version) if "not defined" in p]
    assert not extra, violation(
        "features.no-undefined-properties",
        wanted=f"only properties defined by runtime-spec {version} (ociVersionMax)",
        seen="; ".join(extra[:8]),
        evidence=features_call(runtime),
    )


@pytest.mark.requires("root")
@pytest.mark.parametrize(
    "bound",
    [
        pytest.param("ociVersionMin", marks=pytest.mark.requirement("features.min-accepted")),
        pytest.param("ociVersionMax", marks=pytest.mark.requirement("features.max-accepted")),
    ],
)
def test_the_runtime_accepts_its_declared_versions(containers, features, bound):
    b = containers.bundle()
    b.config["ociVersion"] = str(features.get(bound))
    b.write_unvalidated(b.config)
    c = containers.create(b)
    rid = "features.min-accepted" if bound == "ociVersionMin" else "features.max-accepted"
    assert c.created, violation(
        rid,
        wanted=f"create accepts ociVersion {features.get(bound)!r} ({bound})",
        seen=f"create exited {c.create_result.exit_status}",
        evidence=[c.create_result],
    )


@pytest.mark.requires("root")
@pytest.mark.requirement("features.hooks-supported")
def test_every_listed_hook_runs(containers, features):
    listed = [h for h in features.get("hooks") or [] if h in (*HOOK_NAMES, "poststop")]
    if not listed:
        unsupported("features lists no hooks")
    b = containers.bundle()
    log = f"{b.path}/hooks.log"
    b.config["hooks"] = {
        h: [{"path": "/bin/sh", "args": ["sh", "-c", f"echo {h} >> {log}"]}]
        for h in listed
        if h != "poststop" and h not in ("createContainer", "startContainer")
    }
    for h in {"createContainer", "startContainer"} & set(listed):  # run in the container
        b.config["hooks"][h] = [{"path": "/bin/sh", "args": ["sh", "-c", f"echo {h}"]}]
    report = containers.probe(b)
    seen = set((containers.target.read_text(log) or "").split())
    host_side = {h for h in b.config["hooks"] if h not in ("createContainer", "startContainer")}
    missing = host_side - seen
    assert not missing, violation(
        "features.hooks-supported",
        wanted=f"the listed hooks {listed} run (host-side ones write {log})",
        seen=f"never ran: {sorted(missing)}",
        evidence=[report.evidence],
    )


@pytest.mark.requirement("features.mount-options-no-fs-data")
def test_mount_options_hold_no_filesystem_data(runtime, features):
    fs_data = {"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "inode64", "huge"}
    bad = [o for o in features.get("mountOptions") or [] if "=" in o or o in fs_data]
    assert not bad, violation(
        "features.mount-options-no-fs-data",
        wanted="mountOptions without filesystem-specific data options",
        seen=f"{bad}",
        evidence=features_call(runtime),
    )


@pytest.mark.requirement("features.annotations-convention")
def test_features_annotations_are_a_string_map(runtime, features):
    notes = features.get("annotations")
    if notes is None:
        unsupported("features has no annotations")
    ok = has_type(notes, MAP) and all(notes)
    assert ok, violation(
        "features.annotations-convention",
        wanted="annotations: non-empty string keys to string values",
        seen=f"{json.dumps(notes)[:200]}",
        evidence=features_call(runtime),
    )
