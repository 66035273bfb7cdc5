"""Mutants of area A (config.md: ociVersion, root, process, user, annotations, unknown
properties): each edits config.json before `create`, as a runtime that mishandled that
one field would. Standard library only (see declare.py).
"""

from __future__ import annotations

from selftest.declare import edit_mutant

#: infra.probe.PROBE_PATH (not imported: mutants run with the system Python, without the
#: virtualenv's packages that infra.probe's package needs)
PROBE_PATH = "/ocitest/probe"

P = "test_process.py::"
CAPS = "test_process_caps.py::"
LINUX = "test_process_linux.py::"
RLIMITS = "test_process_rlimits.py::"
USER = "test_process_user.py::"
ROOT = "test_root.py::"
EXT = "test_config_extensibility.py::"

#: the properties config.md and config-linux.md define (runtime-spec 1.3.0 schema)
KNOWN = {
    "": {
        "annotations", "domainname", "freebsd", "hooks", "hostname", "linux", "mounts",
        "ociVersion", "process", "root", "solaris", "vm", "windows", "zos",
    },
    "process": {
        "apparmorProfile", "args", "capabilities", "commandLine", "consoleSize", "cwd", "env",
        "execCPUAffinity", "ioPriority", "noNewPrivileges", "oomScoreAdj", "rlimits",
        "scheduler", "selinuxLabel", "terminal", "user",
    },
    "user": {"additionalGids", "gid", "uid", "umask", "username"},
    "root": {"path", "readonly"},
    "linux": {
        "cgroupsPath", "devices", "gidMappings", "intelRdt", "maskedPaths", "memoryPolicy",
        "mountLabel", "namespaces", "netDevices", "personality", "readonlyPaths", "resources",
        "rootfsPropagation", "seccomp", "sysctl", "timeOffsets", "uidMappings",
    },
}  # fmt: skip
#: a root.path no bundle has: the edit that makes create fail
NO_ROOT = "/nonexistent/ocitest-mutant-rootfs"
#: the PATH of the baseline config (infra/images/bundle.py)
DEFAULT_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"


def _process(cfg: dict) -> dict:
    return cfg.get("process") or {}


def _caps(cfg: dict) -> dict:
    return _process(cfg).get("capabilities") or {}


@edit_mutant(
    "wrong-cwd",
    breaks="process.cwd is ignored: the program always starts in /",
    fails=[
        P + "test_the_program_starts_in_cwd",
        "test_start.py::test_start_runs_the_program_as_process_says",
    ],
    requirements=[
        "config.process.cwd",
        "runtime.start.runs-program",
        "runtime.lifecycle.run-program",
    ],
)
def _(cfg: dict) -> bool:
    cwd = _process(cfg).get("cwd", "/")
    if not cwd.startswith("/") or cwd == "/":
        return False
    cfg["process"]["cwd"] = "/"
    return True


@edit_mutant(
    "ignores-env-path",
    breaks="args[0] is looked up in the default PATH, not in the PATH of process.env",
    fails=[P + "test_args0_without_a_slash_is_searched_in_the_process_path"],
    requirements=["config.process.args-execvp"],
)
def _(cfg: dict) -> bool:
    env = _process(cfg).get("env") or []
    paths = [i for i, e in enumerate(env) if e.startswith("PATH=")]
    if not paths or env[paths[0]] == DEFAULT_PATH:
        return False
    env[paths[0]] = DEFAULT_PATH
    return True


@edit_mutant(
    "runs-a-default-program",
    breaks="a process without args runs a default program (echo) instead of being refused",
    fails=[
        P + "test_a_process_without_args_cannot_run[empty]",
        P + "test_a_process_without_args_cannot_run[absent]",
        P + "test_a_process_without_args_is_refused_with_an_exit_status[empty]",
        P + "test_a_process_without_args_is_refused_with_an_exit_status[absent]",
        "test_config_errors.py::test_a_config_without_a_program_fails_at_create_or_start[empty-args]",
    ],
    requirements=[
        "config.process.args-required",
        "config.process.args-required-reported",
        "runtime.start.no-process-errors",
    ],
)
def _(cfg: dict) -> bool:
    if "process" not in cfg or _process(cfg).get("args"):
        return False
    cfg["process"]["args"] = ["echo", "ocitest-default-program"]
    return True


@edit_mutant(
    "rejects-console-size",
    breaks="consoleSize without a terminal makes create fail",
    fails=[P + "test_console_size_without_terminal_is_ignored"],
    requirements=["config.process.console-size-ignored"],
)
def _(cfg: dict) -> bool:
    if "consoleSize" not in _process(cfg) or _process(cfg).get("terminal"):
        return False
    cfg["root"]["path"] = NO_ROOT
    return True


@edit_mutant(
    "ignores-readonly-root",
    breaks="root.readonly is not applied",
    fails=[ROOT + "test_readonly_root_refuses_writes"],
    requirements=["config.root.readonly"],
)
def _(cfg: dict) -> bool:
    if (cfg.get("root") or {}).get("readonly") is not True:
        return False
    cfg["root"]["readonly"] = False
    return True


@edit_mutant(
    "readonly-root-by-default",
    breaks="a root without readonly is mounted read-only",
    fails=[ROOT + "test_root_without_readonly_is_writable"],
    requirements=["config.root.readonly-default"],
)
def _(cfg: dict) -> bool:
    if "root" not in cfg or "readonly" in cfg["root"]:
        return False
    cfg["root"]["readonly"] = True
    return True


@edit_mutant(
    "absolute-root-path-under-bundle",
    breaks="an absolute root.path is taken as relative to the bundle",
    fails=[ROOT + "test_an_absolute_root_path_names_the_rootfs"],
    requirements=["config.root.path-absolute"],
)
def _(cfg: dict) -> bool:
    path = (cfg.get("root") or {}).get("path", "")
    if not path.startswith("/"):
        return False
    cfg["root"]["path"] = path.lstrip("/")
    return True


@edit_mutant(
    "defaults-root",
    breaks="a config without root gets root.path rootfs instead of an error",
    fails=[ROOT + "test_a_config_without_root_is_rejected"],
    requirements=["config.root.required"],
)
def _(cfg: dict) -> bool:
    if "root" in cfg:
        return False
    cfg["root"] = {"path": "rootfs"}
    return True


@edit_mutant(
    "ignores-user",
    breaks="user.uid and user.gid are ignored: the program runs as root",
    fails=[
        USER + "test_the_program_runs_as_user_uid_and_gid",
    ],
    requirements=["config.user.uid", "config.user.gid"],
)
def _(cfg: dict) -> bool:
    user = _process(cfg).get("user") or {}
    ids = (user.get("uid", 0), user.get("gid", 0))
    if not all(isinstance(i, int) for i in ids) or ids == (0, 0):
        return False
    user["uid"] = user["gid"] = 0
    return True


@edit_mutant(
    "drops-additional-gids",
    breaks="user.additionalGids is not applied",
    fails=[USER + "test_the_supplementary_groups_are_additional_gids"],
    requirements=["config.user.additional-gids"],
)
def _(cfg: dict) -> bool:
    return _process(cfg).get("user", {}).pop("additionalGids", None) is not None


@edit_mutant(
    "ignores-umask",
    breaks="user.umask is not applied",
    fails=[USER + "test_the_program_runs_with_user_umask"],
    requirements=["config.user.umask"],
)
def _(cfg: dict) -> bool:
    return _process(cfg).get("user", {}).pop("umask", None) is not None


@edit_mutant(
    "drops-bounding-capability",
    breaks="a bounding set smaller than the default one loses CAP_SETUID",
    fails=[CAPS + "test_the_bounding_set_is_capabilities_bounding"],
    requirements=["config.process.capabilities-bounding"],
)
def _(cfg: dict) -> bool:
    bounding = _caps(cfg).get("bounding") or []
    if len(bounding) >= 14 or "CAP_SETUID" not in bounding:  # baseline: 14 capabilities
        return False
    bounding.remove("CAP_SETUID")
    return True


@edit_mutant(
    "drops-mknod-from-a-full-bounding-set",
    breaks="a bounding set of 30 or more capabilities (a runtime's whole list) loses CAP_MKNOD",
    fails=["test_features_linux.py::test_every_listed_capability_is_recognized"],
    requirements=["features-linux.capabilities-recognized"],
)
def _(cfg: dict) -> bool:
    bounding = _caps(cfg).get("bounding") or []
    if len(bounding) < 30 or "CAP_MKNOD" not in bounding:
        return False
    bounding.remove("CAP_MKNOD")
    return True


@edit_mutant(
    "permitted-is-bounding",
    breaks="capabilities.permitted (and effective) are replaced by the bounding set",
    fails=[CAPS + "test_the_permitted_set_is_capabilities_permitted"],
    requirements=["config.process.capabilities-permitted"],
)
def _(cfg: dict) -> bool:
    caps = _caps(cfg)
    if "bounding" not in caps or set(caps.get("permitted", [])) == set(caps["bounding"]):
        return False
    caps["permitted"] = caps["effective"] = list(caps["bounding"])
    return True


@edit_mutant(
    "ignores-inheritable-capabilities",
    breaks="capabilities.inheritable is not applied (nor, therefore, ambient)",
    fails=[
        CAPS + "test_the_inheritable_set_is_capabilities_inheritable",
        CAPS + "test_the_ambient_set_is_capabilities_ambient",
    ],
    requirements=["config.process.capabilities-inheritable"],
)
def _(cfg: dict) -> bool:
    caps = _caps(cfg)
    dropped = caps.pop("inheritable", None) is not None
    return bool(caps.pop("ambient", None) is not None or dropped)


@edit_mutant(
    "ignores-ambient-capabilities",
    breaks="capabilities.ambient is not applied",
    fails=[CAPS + "test_the_ambient_set_is_capabilities_ambient"],
    requirements=["config.process.capabilities-ambient"],
)
def _(cfg: dict) -> bool:
    return _caps(cfg).pop("ambient", None) is not None


@edit_mutant(
    "ignores-no-new-privileges",
    breaks="noNewPrivileges is not applied (in containers without seccomp)",
    fails=[
        LINUX + "test_no_new_privileges_sets_the_flag",
        CAPS + "test_the_permitted_set_is_capabilities_permitted",
    ],
    requirements=["config.process.no-new-privileges"],
)
def _(cfg: dict) -> bool:
    if _process(cfg).get("noNewPrivileges") is not True or "seccomp" in cfg.get("linux", {}):
        return False
    cfg["process"]["noNewPrivileges"] = False
    return True


@edit_mutant(
    "drops-an-rlimit",
    breaks="the RLIMIT_CORE entry of rlimits is not applied",
    fails=[RLIMITS + "test_each_rlimit_is_applied_as_soft_and_hard"],
    requirements=["config.process.rlimits-soft", "config.process.rlimits-hard"],
)
def _(cfg: dict) -> bool:
    rlimits = _process(cfg).get("rlimits") or []
    kept = [r for r in rlimits if r.get("type") != "RLIMIT_CORE"]
    if len(kept) == len(rlimits):
        return False
    cfg["process"]["rlimits"] = kept
    return True


@edit_mutant(
    "accepts-unknown-rlimit",
    breaks="an rlimits entry of an unknown type is skipped instead of refused",
    fails=[RLIMITS + "test_an_unknown_rlimit_type_is_an_error"],
    requirements=["config.process.rlimits-unknown-type-errors"],
)
def _(cfg: dict) -> bool:
    rlimits = _process(cfg).get("rlimits") or []
    kept = [r for r in rlimits if r.get("type") != "RLIMIT_OCITEST"]
    if len(kept) == len(rlimits):
        return False
    cfg["process"]["rlimits"] = kept
    return True


@edit_mutant(
    "ignores-oom-score-adj",
    breaks="process.oomScoreAdj is not applied",
    fails=[LINUX + "test_oom_score_adj_is_set[positive]"],
    requirements=["config.process.oom-score-adj-set"],
)
def _(cfg: dict) -> bool:
    return _process(cfg).pop("oomScoreAdj", None) is not None


@edit_mutant(
    "sets-oom-score-adj",
    breaks="without process.oomScoreAdj the runtime sets oom_score_adj 500",
    fails=[LINUX + "test_without_oom_score_adj_the_value_is_left_alone"],
    requirements=["config.process.oom-score-adj-unset"],
)
def _(cfg: dict) -> bool:
    if "process" not in cfg or "oomScoreAdj" in cfg["process"]:
        return False
    cfg["process"]["oomScoreAdj"] = 500
    return True


def _unknown_properties(cfg: dict) -> list[str]:
    process = _process(cfg)
    where = {
        "": cfg,
        "process": process,
        "user": process.get("user") or {},
        "root": cfg.get("root") or {},
        "linux": cfg.get("linux") or {},
    }
    return [f"{w}.{k}" for w, obj in where.items() for k in obj if k not in KNOWN[w]]


@edit_mutant(
    "rejects-unknown-properties",
    breaks="an unknown property anywhere in config.json makes create fail",
    fails=[
        EXT + f"test_unknown_properties_are_ignored[{where}]"
        for where in ("linux", "process", "process.user", "root", "top level")
    ],
    requirements=["config.extensibility.unknown-properties-ignored"],
)
def _(cfg: dict) -> bool:
    if not _unknown_properties(cfg):
        return False
    cfg["root"]["path"] = NO_ROOT
    return True


@edit_mutant(
    "rejects-unknown-annotations",
    breaks="an annotation key outside org.opencontainers makes create fail",
    fails=[
        EXT + "test_unknown_annotation_keys_are_ignored",
        "test_state.py::test_state_carries_the_annotations",
    ],
    requirements=["config.annotations.unknown-keys-ignored"],
    also_passes=[EXT + "test_an_empty_annotation_key_is_rejected"],
)
def _(cfg: dict) -> bool:
    keys = cfg.get("annotations") or {}
    if not isinstance(keys, dict) or all(k.startswith("org.opencontainers.") for k in keys):
        return False
    cfg["root"]["path"] = NO_ROOT
    return True


@edit_mutant(
    "drops-malformed-annotations",
    breaks="annotations that are not a map of strings are dropped instead of refused",
    fails=[
        EXT + "test_annotations_that_are_not_a_string_map_are_rejected[a list]",
        EXT + "test_annotations_that_are_not_a_string_map_are_rejected[a number value]",
    ],
    requirements=["config.annotations.map"],
)
def _(cfg: dict) -> bool:
    ann = cfg.get("annotations")
    if ann is None or (isinstance(ann, dict) and all(isinstance(v, str) for v in ann.values())):
        return False
    del cfg["annotations"]
    return True


#: property -> (the object holding it, the type it has) for the wrong-type tests
_TYPED = {
    "hostname": (lambda c: c, str),
    "terminal": (_process, bool),
    "uid": (lambda c: _process(c).get("user") or {}, int),
    "readonly": (lambda c: c.get("root") or {}, bool),
}


@edit_mutant(
    "skips-wrongly-typed-values",
    breaks="a known property with a value of the wrong JSON type is skipped, not refused",
    fails=[
        EXT + f"test_a_value_of_the_wrong_type_is_rejected[{p}]"
        for p in ("hostname", "process.terminal", "process.user.uid", "root.readonly")
    ],
    requirements=["config.valid-values.invalid-errors"],
)
def _(cfg: dict) -> bool:
    changed = False
    for name, (holder, kind) in _TYPED.items():
        obj = holder(cfg)
        if name in obj and not isinstance(obj[name], kind):
            obj.pop(name)
            changed = True
    return changed


@edit_mutant(
    "rejects-older-oci-version",
    breaks="a config declaring ociVersion 1.0.0 is refused",
    fails=[EXT + "test_an_oci_version_of_an_older_minor_is_accepted"],
    requirements=["config.oci-version.same-major-accepted"],
)
def _(cfg: dict) -> bool:
    if cfg.get("ociVersion") != "1.0.0":
        return False
    cfg["root"]["path"] = NO_ROOT
    return True


@edit_mutant(
    "ignores-oci-version",
    breaks="the config's ociVersion is never checked",
    fails=[
        EXT + "test_an_oci_version_that_is_not_semver_is_rejected",
        EXT + "test_an_oci_version_of_another_major_is_rejected",
    ],
    requirements=["config.oci-version.semver", "config.oci-version.other-major-rejected"],
    base="crun",
)
def _(cfg: dict) -> bool:
    if str(cfg.get("ociVersion", "")).startswith("1."):
        return False
    cfg["ociVersion"] = "1.0.2"
    return True


@edit_mutant(
    "accepts-relative-cwd",
    breaks="a relative cwd is taken as relative to / instead of refused",
    fails=[P + "test_a_relative_cwd_is_rejected"],
    requirements=["config.process.cwd-absolute"],
)
def _(cfg: dict) -> bool:
    cwd = _process(cfg).get("cwd", "/")
    if cwd.startswith("/"):
        return False
    cfg["process"]["cwd"] = "/" + cwd
    return True


@edit_mutant(
    "args-through-a-shell",
    breaks="process.args are joined into one `sh -c` command line (split, expanded, dropped)",
    fails=[
        f"test_process.py::test_the_program_receives_args_as_its_argv[{v}]"
        for v in ("empty", "newline", "shell", "spaces")
    ]
    + ["test_process.py::test_the_environment_is_process_env"],  # the shell adds PWD, SHLVL
    requirements=["config.process.args-argv", "config.process.env"],
)
def _(cfg: dict) -> bool:
    args = (cfg.get("process") or {}).get("args") or []
    if args[:1] != [PROBE_PATH]:  # the probe's runs only: the harness's own commands work
        return False
    cfg["process"]["args"] = ["/bin/sh", "-c", "exec " + " ".join(args)]
    return True
