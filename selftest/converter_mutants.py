"""Converter mutants: each wraps a real `umoci unpack` and breaks one rule of image-spec
conversion.md by editing the config.json umoci wrote (converter_mutant.py is the entry
point, `--converter DIR/mutant-NAME`).

A mutant names the tests it must fail beyond what its base (umoci on PATH, Debian's
0.4.7) fails: "test_conversion.py::test_function[case]" without the subject id, and the
requirement ids those tests check. tests/test_converter_mutants.py checks that exactly
those fail and that the failures name those ids. Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


MUTANTS: dict[str, ConverterMutant] = {}


def mutant(name: str, *, breaks: str, fails: list[str], requirements: list[str]):
    """Declare the decorated edit(runtime config, image) -> None as mutant `name`."""

    def deco(fn):
        MUTANTS[name] = ConverterMutant(
            name, breaks, tuple(f"{MODULE}::{t}" for t in fails), tuple(requirements), fn
        )
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
