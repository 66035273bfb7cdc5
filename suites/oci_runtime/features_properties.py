"""The properties a `features` document may hold (features.md, features-linux.md), the
spec version that defines each, and a checker of their types.

The packaged runtime-spec schemas (1.0.2-dev) have no features schema, so
test_features.py checks the document's shape with `type_problems`.
"""

from __future__ import annotations

import json

from infra import specversion

STR, BOOL, STRS, MAP = "string", "boolean", "array of strings", "object of strings"
#: property -> (spec version that defines it, its type or its own properties)
PROPERTIES = {
    "ociVersionMin": ("1.1.0", STR),
    "ociVersionMax": ("1.1.0", STR),
    "hooks": ("1.1.0", STRS),
    "mountOptions": ("1.1.0", STRS),
    "annotations": ("1.1.0", MAP),
    "potentiallyUnsafeConfigAnnotations": ("1.2.0", STRS),
    "linux": (
        "1.1.0",
        {
            "namespaces": ("1.1.0", STRS),
            "capabilities": ("1.1.0", STRS),
            "cgroup": (
                "1.1.0",
                {k: ("1.1.0", BOOL) for k in ("v1", "v2", "systemd", "systemdUser", "rdma")},
            ),
            "seccomp": (
                "1.1.0",
                {
                    "enabled": ("1.1.0", BOOL),
                    **{
                        k: ("1.1.0", STRS)
                        for k in ("actions", "operators", "archs", "knownFlags", "supportedFlags")
                    },
                },
            ),
            "apparmor": ("1.1.0", {"enabled": ("1.1.0", BOOL)}),
            "selinux": ("1.1.0", {"enabled": ("1.1.0", BOOL)}),
            "intelRdt": (
                "1.1.0",
                {
                    "enabled": ("1.1.0", BOOL),
                    "schemata": ("1.3.0", BOOL),
                    "monitoring": ("1.3.0", BOOL),
                },
            ),
            "mountExtensions": (
                "1.2.0",
                {"idmap": ("1.2.0", {"enabled": ("1.2.0", BOOL)})},
            ),
            "memoryPolicy": ("1.3.0", {"modes": ("1.3.0", STRS), "flags": ("1.3.0", STRS)}),
            "netDevices": ("1.3.0", {"enabled": ("1.3.0", BOOL)}),
        },
    ),
}


def type_problems(doc: object, props: dict, version: str, where: str = "") -> list[str]:
    """Properties of `doc` that are undefined at `version` or of the wrong type."""
    if not isinstance(doc, dict):
        return [f"{where or '(top)'}: not an object"]
    out = []
    for key, value in doc.items():
        path = f"{where}.{key}" if where else key
        if key not in props or specversion.before(version, props[key][0]):
            out.append(f"{path}: not defined in {version}")
            continue
        kind = props[key][1]
        if value is None and key not in ("ociVersionMin", "ociVersionMax"):
            continue
        if isinstance(kind, dict):
            out += type_problems(value, kind, version, path)
        elif not has_type(value, kind):
            out.append(f"{path}: {json.dumps(value)[:60]} is not an {kind}")
    return out


def has_type(value: object, kind: str) -> bool:
    """Whether `value` is of `kind` (STR, BOOL, STRS or MAP)."""
    if kind == STR:
        return isinstance(value, str)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == STRS:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def defined_at(features: dict) -> str:
    """The spec version whose properties the document may hold (1.1.0 at least)."""
    top = str(features.get("ociVersionMax", ""))
    try:
        return top if not specversion.before(top, "1.1.0") else "1.1.0"
    except ValueError:
        return "1.3.0"
