"""conversion.md: an image config turned into a runtime config by a converter subject.

Each test converts one or more images of conversion_data.py (image config, layer with
/etc/passwd and /etc/group, manifest and index annotations made by our code) with the
converter under test (`converter_subject`: `umoci unpack`, infra/kinds/converter.py) and
judges the config.json it wrote. A failure names the requirement(s), what the spec wants,
what the converter produced, and the command with its stderr.

Not judged (implementation-defined in conversion.md): process.args when neither
Entrypoint nor Cmd is given (or both are empty), process.cwd without WorkingDir,
process.user without User, and the gid of a bare numeric user.
"""

from __future__ import annotations

import json

import pytest

from infra.drivers.converter import Conversion
from suites.messages import requirement_headers
from suites.oci_image import conversion_data as data


def _fail(rids: list[str], wanted: str, seen: str, conv: Conversion) -> str:
    """The failure message: each requirement's header, wanted, seen, the command."""
    return (
        requirement_headers(rids)
        + f"  wanted: {wanted}\n  seen:   {seen}\n  "
        + conv.evidence.brief().replace("\n", "\n  ")
    )


def _config(converted, name: str, rids: list[str]) -> tuple[dict, Conversion]:
    """The runtime config of image `name`; fails naming `rids` when there is none."""
    conv = converted(name)
    if conv.config is None:
        pytest.fail(
            _fail(rids, f"image {name!r} converted to a config.json", conv.error, conv),
            pytrace=False,
        )
    return conv.config, conv


def _show(value: object) -> str:
    return json.dumps(value) if value is not None else "(absent)"


# -- the default generated runtime config ---------------------------------------------
@pytest.mark.requirement("image.conversion.rely-on-config")
@pytest.mark.parametrize("image", ["args-neither", "args-both-empty", "cwd-unset", "user-absent"])
def test_an_image_config_converts_to_a_runtime_config(converted, image):
    """Images that leave args, cwd or user to the converter still convert into a runtime
    config with a process (MUST)."""
    cfg, conv = _config(converted, image, ["image.conversion.rely-on-config"])
    assert isinstance(cfg.get("process"), dict) and "ociVersion" in cfg, _fail(
        ["image.conversion.rely-on-config"],
        "a runtime config with ociVersion and process",
        _show(cfg),
        conv,
    )


# -- verbatim fields ------------------------------------------------------------------
@pytest.mark.requirement("image.conversion.verbatim-fields")
def test_working_dir_becomes_process_cwd(converted):
    """Config.WorkingDir is process.cwd, unchanged (MUST)."""
    cfg, conv = _config(converted, "cwd-set", ["image.conversion.verbatim-fields"])
    seen = cfg.get("process", {}).get("cwd")
    assert seen == "/srv/app", _fail(
        ["image.conversion.verbatim-fields"], '"/srv/app"', _show(seen), conv
    )


@pytest.mark.requirement("image.conversion.verbatim-fields")
def test_env_entries_are_copied_verbatim(converted):
    """Every Config.Env entry is in process.env unchanged and in the image's order;
    entries the converter adds may sit between them (MUST)."""
    cfg, conv = _config(converted, "env", ["image.conversion.verbatim-fields"])
    env = cfg.get("process", {}).get("env") or []
    ours = [e for e in env if e in data.ENV]
    assert ours == data.ENV, _fail(
        ["image.conversion.verbatim-fields"],
        f"{data.ENV} within process.env, in this order",
        _show(env),
        conv,
    )


@pytest.mark.requirement("image.conversion.defaults-keep-env")
def test_converter_defaults_keep_the_image_env(converted):
    """Names a converter defaults (HOME of the user, TERM, PATH) keep the values
    Config.Env gives them (SHOULD)."""
    cfg, conv = _config(converted, "env-defaults", ["image.conversion.defaults-keep-env"])
    env = cfg.get("process", {}).get("env") or []
    missing = [e for e in data.ENV_DEFAULTS if e not in env]
    assert not missing, _fail(
        ["image.conversion.defaults-keep-env"],
        f"{data.ENV_DEFAULTS} in process.env unchanged (the image sets User alice, whose "
        "passwd home is /home/alice)",
        f"{_show(env)}; changed or removed: {missing}",
        conv,
    )


@pytest.mark.requirement("image.conversion.env-no-duplicate-names")
@pytest.mark.parametrize("image", ["env", "env-defaults"])
def test_no_added_env_entry_repeats_an_image_name(converted, image):
    """Each variable name of Config.Env appears once in process.env (SHOULD)."""
    cfg, conv = _config(converted, image, ["image.conversion.env-no-duplicate-names"])
    env = cfg.get("process", {}).get("env") or []
    given = data.IMAGES[image].config["Env"]
    names = [e.split("=", 1)[0] for e in env]
    twice = sorted({n for n in (g.split("=", 1)[0] for g in given) if names.count(n) > 1})
    assert not twice, _fail(
        ["image.conversion.env-no-duplicate-names"],
        f"each name of {given} once in process.env",
        f"{_show(env)}; repeated: {twice}",
        conv,
    )


ARGS_CASES = [
    pytest.param(
        "args-both",
        data.ENTRYPOINT + data.CMD,
        "image.conversion.entrypoint-plus-cmd",
        marks=pytest.mark.requirement("image.conversion.entrypoint-plus-cmd"),
        id="both",
    ),
    *(
        pytest.param(
            f"args-{tag}",
            want,
            "image.conversion.verbatim-fields",
            marks=pytest.mark.requirement("image.conversion.verbatim-fields"),
            id=tag,
        )
        for tag, want in (
            ("entrypoint-only", data.ENTRYPOINT),
            ("cmd-only", data.CMD),
            ("empty-entrypoint", data.CMD),
            ("empty-cmd", data.ENTRYPOINT),
        )
    ),
]


@pytest.mark.parametrize("image, wanted, rid", ARGS_CASES)
def test_process_args_come_from_entrypoint_and_cmd(converted, image, wanted, rid):
    """process.args is Entrypoint followed by Cmd (MUST; an empty list adds nothing)."""
    cfg, conv = _config(converted, image, [rid])
    seen = cfg.get("process", {}).get("args")
    given = {k: v for k, v in data.IMAGES[image].config.items() if k in ("Entrypoint", "Cmd")}
    assert seen == wanted, _fail([rid], f"{wanted} (from {given})", _show(seen), conv)


# -- Config.User -----------------------------------------------------------------------
#: image -> {process.user field: (wanted value, requirement)}
USER_CASES = {
    "user-uid": {"uid": (1000, "image.conversion.numeric-user-verbatim")},
    "user-uid-unknown": {"uid": (1500, "image.conversion.numeric-user-verbatim")},
    "user-uid-gid": {
        "uid": (1000, "image.conversion.numeric-user-verbatim"),
        "gid": (3000, "image.conversion.numeric-user-verbatim"),
    },
    "user-name": {
        "uid": (1000, "image.conversion.resolve-user-name"),
        "gid": (1000, "image.conversion.resolve-user-name"),
    },
    "user-name-lonely": {
        "uid": (1001, "image.conversion.resolve-user-name"),
        "gid": (1001, "image.conversion.resolve-user-name"),
    },
    "user-name-group": {
        "uid": (1000, "image.conversion.resolve-user-name"),
        "gid": (2000, "image.conversion.resolve-user-name"),
    },
    "user-name-gid": {
        "uid": (1000, "image.conversion.resolve-user-name"),
        "gid": (3000, "image.conversion.numeric-user-verbatim"),
    },
    "user-uid-group": {
        "uid": (1001, "image.conversion.numeric-user-verbatim"),
        "gid": (2000, "image.conversion.resolve-user-name"),
    },
}


def _user_param(image: str):
    rids = sorted({rid for _, rid in USER_CASES[image].values()})
    return pytest.param(image, marks=pytest.mark.requirement(*rids), id=image.removeprefix("user-"))


@pytest.mark.parametrize("image", [_user_param(i) for i in USER_CASES])
def test_config_user_sets_process_user(converted, image):
    """A numeric uid or gid is copied (MUST); a user or group name is resolved from the
    rootfs's /etc/passwd and /etc/group (SHOULD)."""
    user = data.IMAGES[image].config["User"]
    rids = sorted({rid for _, rid in USER_CASES[image].values()})
    cfg, conv = _config(converted, image, rids)
    seen = cfg.get("process", {}).get("user") or {}
    for key, (want, rid) in USER_CASES[image].items():
        assert seen.get(key) == want, _fail(
            [rid], f"process.user.{key} {want} for User {user!r}", _show(seen), conv
        )


@pytest.mark.requirement("image.conversion.parse-user")
def test_config_user_is_parsed_into_process_user(converted):
    """Config.User "alice:extra" gives process.user uid 1000, gid 2000 (SHOULD)."""
    cfg, conv = _config(converted, "user-name-group", ["image.conversion.parse-user"])
    seen = cfg.get("process", {}).get("user") or {}
    got = (seen.get("uid"), seen.get("gid"))
    assert got == (1000, data.EXTRA_GID), _fail(
        ["image.conversion.parse-user"],
        "uid 1000, gid 2000 from User 'alice:extra'",
        _show(seen),
        conv,
    )


@pytest.mark.requirement("image.conversion.additional-gids")
@pytest.mark.parametrize(
    "image, wanted",
    [("user-name", {2000, 2001}), ("user-name-lonely", set())],
    ids=["alice", "bob"],
)
def test_a_user_name_gets_its_groups_as_additional_gids(converted, image, wanted):
    """User alice (in groups extra and more) gets gids 2000 and 2001; bob (in none) gets
    none besides his own primary group (SHOULD)."""
    cfg, conv = _config(converted, image, ["image.conversion.additional-gids"])
    user = cfg.get("process", {}).get("user") or {}
    gids = set(user.get("additionalGids") or [])
    primary = 1000 if data.IMAGES[image].config["User"] == "alice" else 1001
    assert gids - {primary} == wanted, _fail(
        ["image.conversion.additional-gids"],
        f"additionalGids {sorted(wanted)} (the primary gid {primary} may be added)",
        _show(user),
        conv,
    )


@pytest.mark.requirement("image.conversion.additional-gids-untouched")
@pytest.mark.parametrize("image", ["user-uid", "user-uid-gid", "user-name-group", "user-uid-group"])
def test_additional_gids_untouched_for_numeric_user_or_given_group(converted, image):
    """A numeric user, or a User with a group, adds no additionalGids (SHOULD)."""
    cfg, conv = _config(converted, image, ["image.conversion.additional-gids-untouched"])
    user = cfg.get("process", {}).get("user") or {}
    assert not user.get("additionalGids"), _fail(
        ["image.conversion.additional-gids-untouched"],
        f"no additionalGids for User {data.IMAGES[image].config['User']!r}",
        _show(user),
        conv,
    )


@pytest.mark.requirement("image.conversion.unknown-user-error")
def test_a_user_unknown_to_the_rootfs_is_an_error(converted):
    """User "nobody-here", in no /etc/passwd entry, makes the conversion fail (MUST)."""
    conv = converted("user-unknown-name")
    assert conv.failed, _fail(
        ["image.conversion.unknown-user-error"],
        "the converter exits non-zero for User 'nobody-here'",
        f"exit status {conv.evidence.exit_status}; process.user "
        + _show((conv.config or {}).get("process", {}).get("user")),
        conv,
    )


# -- annotations -----------------------------------------------------------------------
#: implicit annotation key -> its requirement
IMPLICIT_IDS = {
    "org.opencontainers.image.os": "image.conversion.annotation-os",
    "org.opencontainers.image.architecture": "image.conversion.annotation-architecture",
    "org.opencontainers.image.variant": "image.conversion.annotation-variant",
    "org.opencontainers.image.os.version": "image.conversion.annotation-os-version",
    "org.opencontainers.image.os.features": "image.conversion.annotation-os-features",
    "org.opencontainers.image.author": "image.conversion.annotation-author",
    "org.opencontainers.image.created": "image.conversion.annotation-created",
    "org.opencontainers.image.stopSignal": "image.conversion.annotation-stop-signal",
}


def _implicit_param(key: str):
    rid = IMPLICIT_IDS[key]
    return pytest.param(
        key,
        rid,
        marks=pytest.mark.requirement(rid),
        id=key.removeprefix("org.opencontainers.image."),
    )


IMPLICIT_CASES = [_implicit_param(k) for k in data.IMPLICIT]


@pytest.mark.parametrize("key, rid", IMPLICIT_CASES)
def test_implicit_annotation_from_the_image_config(converted, key, rid):
    """Each of os, architecture, variant, os.version, os.features, author, created and
    Config.StopSignal becomes its org.opencontainers.image.* annotation (MUST;
    os.features: its values comma-separated)."""
    cfg, conv = _config(converted, "annotations", [rid])
    seen = (cfg.get("annotations") or {}).get(key)
    want = data.implicit_value(key)
    assert seen == want, _fail(
        [rid], f"annotation {key} = {want!r} (image {data.IMPLICIT[key]})", _show(seen), conv
    )


@pytest.mark.parametrize("key", [*data.IMPLICIT], ids=lambda k: k.rsplit(".image.")[-1])
@pytest.mark.requirement("image.conversion.labels-over-implicit")
def test_a_label_wins_over_the_implicit_annotation(converted, key):
    """A Config.Labels entry with an implicit annotation's key gives that annotation its
    value (MUST)."""
    cfg, conv = _config(converted, "labels-override", ["image.conversion.labels-over-implicit"])
    seen = (cfg.get("annotations") or {}).get(key)
    want = data.OVERRIDES[key]
    assert seen == want, _fail(
        ["image.conversion.labels-over-implicit"],
        f"annotation {key} = {want!r} (the label), not the image's {data.IMPLICIT[key]}",
        _show(seen),
        conv,
    )


@pytest.mark.requirement("image.conversion.keep-image-annotations")
def test_labels_become_annotations_unchanged(converted):
    """Each Config.Labels entry (an empty value too) is an annotation with its value
    (MUST)."""
    cfg, conv = _config(converted, "annotations", ["image.conversion.keep-image-annotations"])
    ann = cfg.get("annotations") or {}
    wrong = {k: ann.get(k) for k, v in data.LABELS.items() if ann.get(k) != v}
    assert not wrong, _fail(
        ["image.conversion.keep-image-annotations"],
        f"annotations {data.LABELS}",
        f"{_show(ann)}; differing: {wrong}",
        conv,
    )


@pytest.mark.requirement("image.conversion.labels-precedence")
@pytest.mark.parametrize("key", [data.CONTESTED, data.EXPOSED_PORTS_KEY])
def test_a_label_wins_over_manifest_index_and_exposed_ports(converted, key):
    """A key in Config.Labels keeps the label's value against the manifest's and the
    index's annotations (com.example.ocitest.contested) and against the exposedPorts
    annotation the converter would make (MUST)."""
    cfg, conv = _config(converted, "labels-override", ["image.conversion.labels-precedence"])
    seen = (cfg.get("annotations") or {}).get(key)
    want = data.IMAGES["labels-override"].config["Labels"][key]
    assert seen == want, _fail(
        ["image.conversion.labels-precedence"],
        f"annotation {key} = {want!r} (the label)",
        _show(seen),
        conv,
    )


@pytest.mark.requirement("image.conversion.no-manifest-annotations")
def test_manifest_and_index_annotations_are_not_taken(converted):
    """Annotations only the manifest or the index carries stay out of the runtime
    config (SHOULD)."""
    cfg, conv = _config(converted, "annotations", ["image.conversion.no-manifest-annotations"])
    ann = cfg.get("annotations") or {}
    taken = sorted({data.MANIFEST_ONLY, data.INDEX_ONLY} & set(ann))
    assert not taken, _fail(
        ["image.conversion.no-manifest-annotations"],
        f"neither {data.MANIFEST_ONLY} (manifest) nor {data.INDEX_ONLY} (index)",
        f"{_show(ann)}; taken: {taken}",
        conv,
    )


# -- optional fields ---------------------------------------------------------------------
@pytest.mark.requirement(
    "image.conversion.optional-fields", "image.conversion.exposed-ports-annotation"
)
def test_exposed_ports_become_the_exposed_ports_annotation(converted):
    """org.opencontainers.image.exposedPorts lists the ExposedPorts keys, comma-separated
    (SHOULD; any order)."""
    cfg, conv = _config(converted, "annotations", ["image.conversion.exposed-ports-annotation"])
    seen = (cfg.get("annotations") or {}).get(data.EXPOSED_PORTS_KEY)
    ports = sorted((seen or "").split(",")) if seen else []
    assert ports == sorted(data.EXPOSED), _fail(
        ["image.conversion.optional-fields", "image.conversion.exposed-ports-annotation"],
        f"annotation {data.EXPOSED_PORTS_KEY} = {','.join(sorted(data.EXPOSED))!r} (any order)",
        _show(seen),
        conv,
    )


@pytest.mark.requirement(
    "image.conversion.optional-fields",
    "image.conversion.volumes-mounts",
    "image.conversion.volumes-destination",
)
def test_each_volume_gets_a_mount_at_its_path(converted):
    """Each Config.Volumes path is the destination of a mount (SHOULD)."""
    cfg, conv = _config(converted, "volumes", ["image.conversion.volumes-mounts"])
    dests = [m.get("destination") for m in cfg.get("mounts") or []]
    missing = sorted(v for v in data.VOLUMES if v not in dests)
    assert not missing, _fail(
        [
            "image.conversion.optional-fields",
            "image.conversion.volumes-mounts",
            "image.conversion.volumes-destination",
        ],
        f"a mount with destination {sorted(data.VOLUMES)} each",
        f"mount destinations {dests}; none at {missing}",
        conv,
    )
