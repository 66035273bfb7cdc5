"""What the runtime's `features` document (features.md, features-linux.md) says it supports.

`needs_feature(runtime, "linux", "namespaces", value="time")` ends the test as
`unsupported` when the runtime has a features document and it does not list the
feature. A runtime without `features` (it predates runtime-spec 1.1, like crun 1.8.1)
is judged by its declared version alone: the catalogue's `since` makes a newer
requirement `not-required` for it. Guessing from anything else is a bug: `unsupported` is
what the runtime itself says it lacks (README, Reading the report).
"""

from __future__ import annotations

from infra.drivers.runtime import RuntimeDriver
from infra.outcomes import unsupported

_MISSING = object()


def lookup(features: dict, path: tuple[str, ...]):
    """The value at `path` in the features document, or _MISSING."""
    node = features
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def lists_feature(features: dict | None, *path: str, value: str | None = None) -> bool | None:
    """True/False: whether `features` lists it; None when there is no features document.

    With `value`, the node at `path` must be a list containing it; without, the node must
    exist and not be false or {"enabled": false}.
    """
    if features is None:
        return None
    node = lookup(features, path)
    if node is _MISSING or node is False or node is None:
        return False
    if isinstance(node, dict) and node.get("enabled") is False:
        return False
    if value is not None:
        return isinstance(node, list) and value in node
    return True


def needs_feature(runtime: RuntimeDriver, *path: str, value: str | None = None) -> None:
    """End the test as `unsupported` when the runtime's features document lacks it."""
    if lists_feature(runtime.subject.features, *path, value=value) is False:
        where = ".".join(path) + (f" ∌ {value}" if value is not None else "")
        unsupported(f"{runtime.subject.id}'s features document does not list {where}")
