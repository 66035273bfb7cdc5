"""Converter mutants: each wraps a real `umoci unpack` and breaks one rule of image-spec
conversion.md by editing the config.json umoci wrote (converter_mutant.py is the entry
point, `--converter DIR/mutant-NAME`).

A mutant names the tests it must fail beyond what its base (umoci on PATH, Debian's
0.4.7) fails: "test_conversion.py::test_function[case]" without the subject id, and the
requirement ids those tests check. tests/test_converter_mutants.py checks that exactly
those fail and that the failures name those ids. Each is also in selftest/declare.py's
registry (kind "converter", key converter-NAME), so its self-test result counts in the
mutation score. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from selftest.declare import Mutant, register

#: the suite module every converter mutant is judged with
MODULE = "test_conversion.py"


@dataclass(frozen=True)
class Image:
    """What the mutant may read of the converted image: its config, its manifest
    annotations and the rootfs's /etc/passwd (name -> (uid, gid))."""

    config: dict
    manifest_annotations: dict
    passwd: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class ConverterMutant:
    name: str
    breaks: str
    fails: tuple[str, ...]
    requirements: tuple[str, ...]
    edit: Callable[[dict, Image], None]
    on_failure: bool = False


MUTANTS: dict[str, ConverterMutant] = {}
#: the converter every mutant wraps (its subject: umoci-unpack-0.4.7)
BASE = "umoci"


class Refused(Exception):
    """Raised by an edit: the mutant fails the conversion (exit 1, the message)."""


class Accepted(Exception):
    """Raised by an `on_failure` edit: the mutant exits 0 and writes config `args[0]`."""


def mutant(name: str, *, breaks: str, fails: list[str], requirements: list[str], on_failure=False):
    """Declare the decorated edit(runtime config, image) -> None as mutant `name`: run on
    the config.json of a successful unpack (it may raise Refused), or with `on_failure`
    only after umoci failed (it may raise Accepted)."""

    def deco(fn):
        m = ConverterMutant(
            name,
            breaks,
            tuple(f"{MODULE}::{t}" for t in fails),
            tuple(requirements),
            fn,
            on_failure,
        )
        MUTANTS[name] = m
        how = "on-failure" if on_failure else "edit"
        register(Mutant("converter", name, how, m.breaks, m.fails, m.requirements, base=BASE))
        return fn

    return deco


@mutant(
    "drops-env",
    breaks="the image's Config.Env entries are left out of process.env",
    fails=["test_env_entries_are_copied_verbatim"],
    requirements=["image.conversion.verbatim-fields"],
)
def _(cfg: dict, image: Image) -> None:
    given = set(image.config.get("config", {}).get("Env") or [])
    proc = cfg.setdefault("process", {})
    proc["env"] = [e for e in proc.get("env") or [] if e not in given]


@mutant(
    "user-ignores-group",
    breaks="the group part of Config.User is ignored: process.user.gid is the user's own",
    fails=[
        "test_config_user_sets_process_user[uid-gid]",
        "test_config_user_sets_process_user[name-group]",
        "test_config_user_sets_process_user[name-gid]",
        "test_config_user_sets_process_user[uid-group]",
        "test_config_user_is_parsed_into_process_user",
    ],
    requirements=[
        "image.conversion.numeric-user-verbatim",
        "image.conversion.resolve-user-name",
        "image.conversion.parse-user",
    ],
)
def _(cfg: dict, image: Image) -> None:
    user = image.config.get("config", {}).get("User") or ""
    name, sep, _group = user.partition(":")
    if not sep:
        return
    if name.isdigit():
        gid = next((g for u, g in image.passwd.values() if u == int(name)), int(name))
    elif name in image.passwd:
        gid = image.passwd[name][1]
    else:
        return
    cfg.setdefault("process", {}).setdefault("user", {})["gid"] = gid


@mutant(
    "labels-lose-precedence",
    breaks="implicit and manifest annotations are written over the Config.Labels values",
    fails=[
        "test_a_label_wins_over_the_implicit_annotation[variant]",
        "test_a_label_wins_over_the_implicit_annotation[os.version]",
        "test_a_label_wins_over_the_implicit_annotation[os.features]",
        "test_a_label_wins_over_manifest_index_and_exposed_ports[com.example.ocitest.contested]",
    ],
    requirements=["image.conversion.labels-over-implicit", "image.conversion.labels-precedence"],
)
def _(cfg: dict, image: Image) -> None:
    ann = cfg.setdefault("annotations", {})
    prefix = "org.opencontainers.image."
    for field in ("os", "architecture", "variant", "os.version", "os.features", "author"):
        value = image.config.get(field)
        if prefix + field in ann and value:
            ann[prefix + field] = ",".join(value) if isinstance(value, list) else value
    for key, value in image.manifest_annotations.items():
        if key in ann:
            ann[key] = value


@mutant(
    "drops-cmd-with-entrypoint",
    breaks="Config.Cmd is dropped when Config.Entrypoint is set: process.args is the "
    "Entrypoint alone",
    fails=["test_process_args_come_from_entrypoint_and_cmd[both]"],
    requirements=["image.conversion.entrypoint-plus-cmd"],
)
def _(cfg: dict, image: Image) -> None:
    entrypoint = image.config.get("config", {}).get("Entrypoint") or []
    if entrypoint:
        cfg.setdefault("process", {})["args"] = list(entrypoint)


# -- the other tests' mutants: each test of test_conversion.py fails against one -------
@mutant(
    "ignores-working-dir",
    breaks="Config.WorkingDir is ignored: process.cwd is always /",
    fails=["test_working_dir_becomes_process_cwd"],
    requirements=["image.conversion.verbatim-fields"],
)
def _(cfg: dict, image: Image) -> None:
    cfg.setdefault("process", {})["cwd"] = "/"


@mutant(
    "duplicates-env-names",
    breaks="a PATH default is appended although Config.Env has PATH",
    fails=[
        "test_no_added_env_entry_repeats_an_image_name[env]",
        "test_no_added_env_entry_repeats_an_image_name[env-defaults]",
    ],
    requirements=["image.conversion.env-no-duplicate-names"],
)
def _(cfg: dict, image: Image) -> None:
    proc = cfg.setdefault("process", {})
    proc["env"] = [*(proc.get("env") or []), "PATH=/usr/local/sbin:/usr/local/bin"]


@mutant(
    "ignores-entrypoint",
    breaks="Config.Entrypoint is ignored: process.args is Config.Cmd alone",
    fails=[
        "test_process_args_come_from_entrypoint_and_cmd[both]",
        "test_process_args_come_from_entrypoint_and_cmd[entrypoint-only]",
        "test_process_args_come_from_entrypoint_and_cmd[empty-cmd]",
    ],
    requirements=["image.conversion.entrypoint-plus-cmd", "image.conversion.verbatim-fields"],
)
def _(cfg: dict, image: Image) -> None:
    cfg.setdefault("process", {})["args"] = list(image.config.get("config", {}).get("Cmd") or [])


@mutant(
    "ignores-cmd",
    breaks="Config.Cmd is ignored: process.args is Config.Entrypoint alone",
    fails=[
        "test_process_args_come_from_entrypoint_and_cmd[both]",
        "test_process_args_come_from_entrypoint_and_cmd[cmd-only]",
        "test_process_args_come_from_entrypoint_and_cmd[empty-entrypoint]",
    ],
    requirements=["image.conversion.entrypoint-plus-cmd", "image.conversion.verbatim-fields"],
)
def _(cfg: dict, image: Image) -> None:
    args = list(image.config.get("config", {}).get("Entrypoint") or [])
    cfg.setdefault("process", {})["args"] = args


@mutant(
    "refuses-no-command",
    breaks="an image with neither Entrypoint nor Cmd (or both empty) is refused",
    fails=[
        "test_an_image_config_converts_to_a_runtime_config[args-neither]",
        "test_an_image_config_converts_to_a_runtime_config[args-both-empty]",
    ],
    requirements=["image.conversion.rely-on-config"],
)
def _(cfg: dict, image: Image) -> None:
    conf = image.config.get("config", {})
    if not conf.get("Entrypoint") and not conf.get("Cmd"):
        raise Refused("no command to run in the image")


@mutant(
    "user-is-root",
    breaks="Config.User is ignored: process.user is uid 0, gid 0",
    fails=[
        *(
            f"test_config_user_sets_process_user[{case}]"
            for case in (
                "uid",
                "uid-unknown",
                "uid-gid",
                "name",
                "name-lonely",
                "name-group",
                "name-gid",
                "uid-group",
            )
        ),
        "test_config_user_is_parsed_into_process_user",
    ],
    requirements=[
        "image.conversion.numeric-user-verbatim",
        "image.conversion.resolve-user-name",
        "image.conversion.parse-user",
    ],
)
def _(cfg: dict, image: Image) -> None:
    user = cfg.setdefault("process", {}).setdefault("user", {})
    user["uid"], user["gid"] = 0, 0


@mutant(
    "no-additional-gids",
    breaks="process.user.additionalGids is never set",
    fails=["test_a_user_name_gets_its_groups_as_additional_gids[alice]"],
    requirements=["image.conversion.additional-gids"],
)
def _(cfg: dict, image: Image) -> None:
    cfg.setdefault("process", {}).setdefault("user", {}).pop("additionalGids", None)


@mutant(
    "given-group-as-additional-gid",
    breaks="a group given in Config.User is also added to process.user.additionalGids",
    fails=[
        "test_additional_gids_untouched_for_numeric_user_or_given_group[user-uid-gid]",
        "test_additional_gids_untouched_for_numeric_user_or_given_group[user-name-group]",
        "test_additional_gids_untouched_for_numeric_user_or_given_group[user-uid-group]",
    ],
    requirements=["image.conversion.additional-gids-untouched"],
)
def _(cfg: dict, image: Image) -> None:
    if ":" in (image.config.get("config", {}).get("User") or ""):
        user = cfg.setdefault("process", {}).setdefault("user", {})
        user["additionalGids"] = [user.get("gid", 0)]


@mutant(
    "accepts-unknown-user",
    breaks="a User unknown to the rootfs falls back to root instead of failing",
    fails=["test_a_user_unknown_to_the_rootfs_is_an_error"],
    requirements=["image.conversion.unknown-user-error"],
    on_failure=True,
)
def _(cfg: dict, image: Image) -> None:
    raise Accepted({"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0}}})


@mutant(
    "no-implicit-annotations",
    breaks="the implicit org.opencontainers.image.* annotations of the image config are left out",
    fails=[
        f"test_implicit_annotation_from_the_image_config[{k}]"
        for k in ("os", "architecture", "author", "created", "stopSignal")
    ],
    requirements=[
        f"image.conversion.annotation-{k}"
        for k in ("os", "architecture", "author", "created", "stop-signal")
    ],
)
def _(cfg: dict, image: Image) -> None:
    ann = cfg.setdefault("annotations", {})
    for field in ("os", "architecture", "author", "created"):
        if ann.get(f"org.opencontainers.image.{field}") == image.config.get(field):
            del ann[f"org.opencontainers.image.{field}"]
    stop = image.config.get("config", {}).get("StopSignal")
    if stop and ann.get("org.opencontainers.image.stopSignal") == stop:
        del ann["org.opencontainers.image.stopSignal"]


@mutant(
    "drops-empty-labels",
    breaks="a Config.Labels entry with an empty value is not made an annotation",
    fails=["test_labels_become_annotations_unchanged"],
    requirements=["image.conversion.keep-image-annotations"],
)
def _(cfg: dict, image: Image) -> None:
    labels = image.config.get("config", {}).get("Labels") or {}
    ann = cfg.setdefault("annotations", {})
    for key, value in labels.items():
        if value == "" and ann.get(key) == "":
            del ann[key]


@mutant(
    "takes-manifest-annotations",
    breaks="the manifest's annotations are copied into the runtime config",
    fails=["test_manifest_and_index_annotations_are_not_taken"],
    requirements=["image.conversion.no-manifest-annotations"],
)
def _(cfg: dict, image: Image) -> None:
    ann = cfg.setdefault("annotations", {})
    for key, value in image.manifest_annotations.items():
        ann.setdefault(key, value)


@mutant(
    "no-exposed-ports",
    breaks="Config.ExposedPorts gives no annotation",
    fails=["test_exposed_ports_become_the_exposed_ports_annotation"],
    requirements=["image.conversion.optional-fields", "image.conversion.exposed-ports-annotation"],
)
def _(cfg: dict, image: Image) -> None:
    labels = image.config.get("config", {}).get("Labels") or {}
    if "org.opencontainers.image.exposedPorts" not in labels:
        cfg.setdefault("annotations", {}).pop("org.opencontainers.image.exposedPorts", None)


@mutant(
    "no-volume-mounts",
    breaks="Config.Volumes gives no mounts",
    fails=["test_each_volume_gets_a_mount_at_its_path"],
    requirements=[
        "image.conversion.optional-fields",
        "image.conversion.volumes-mounts",
        "image.conversion.volumes-destination",
    ],
)
def _(cfg: dict, image: Image) -> None:
    volumes = image.config.get("config", {}).get("Volumes") or {}
    cfg["mounts"] = [m for m in cfg.get("mounts") or [] if m.get("destination") not in volumes]
