"""The registry of subject kinds (docs/architecture.md, Contracts / Subjects).

`KINDS` maps a kind's name to its class (infra/kinds/base.py); infra/plugin.py loops
over it to add options, check them, parametrize the kinds' fixtures, stop services, and
the report plugin to find a test's subject and the schemas used. A new kind is one
module with its `Kind` subclass plus its entry here (or a `register` call from a pytest
plugin module; such a module adds the kind's options from its own pytest_addoption
when it is loaded after infra.plugin).
"""

from __future__ import annotations

from infra.kinds.base import Kind, KindUnavailable, KindUsageError, Unavailable
from infra.kinds.converter import ConverterKind
from infra.kinds.cri import CriKind
from infra.kinds.layout import LayoutKind
from infra.kinds.registry import RegistryKind
from infra.kinds.runtime import RuntimeKind

#: kind name -> class, in the order the report lists their subjects
KINDS: dict[str, type[Kind]] = {
    k.name: k for k in (RuntimeKind, CriKind, LayoutKind, RegistryKind, ConverterKind)
}


def register(kind: type[Kind]) -> None:
    """Add `kind` to the registry (a name already there is replaced)."""
    KINDS[kind.name] = kind


def lookup(name: str) -> type[Kind]:
    """The kind called `name`. Raises KeyError naming the known kinds."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown subject kind {name!r}; known: {', '.join(KINDS)}") from None


def fixtures() -> dict[str, type[Kind]]:
    """Fixture name -> kind, for every registered kind."""
    return {k.fixture: k for k in KINDS.values()}


__all__ = [
    "KINDS",
    "Kind",
    "KindUnavailable",
    "KindUsageError",
    "Unavailable",
    "fixtures",
    "lookup",
    "register",
]
