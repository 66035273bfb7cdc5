"""Declaring mutants: the `Mutant` record and the decorators area modules use.

A config-suite mutant is usually one small edit of config.json made just before the real
runtime's `create` (the runtime then builds the wrong container, exactly as a runtime
that ignored that field would). Area modules `infra/mutants/config_<area>.py` declare
them beside nothing else:

    @edit_mutant(
        "ignores-readonly-root",
        breaks="root.readonly is not applied",
        fails=["test_root.py::test_readonly_root_refuses_writes"],
        requirements=["config.root.readonly"],
    )
    def _(cfg: dict) -> bool:
        ...change cfg in place; return False to leave this create alone...

`@features_mutant` does the same for the JSON that `features` prints. Standard library
only: runtime_mutant.py imports these modules under the system python with -I.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

BIN = Path(__file__).parent / "bin"

#: name -> edit(config dict) -> bool, for mutants declared with @edit_mutant
EDITS: dict[str, Callable[[dict], bool]] = {}
#: name -> rewrite(features dict) -> None, for mutants declared with @features_mutant
FEATURE_REWRITES: dict[str, Callable[[dict], None]] = {}
#: name -> the runtime-spec version a @claims_mutant declares (its base implements less)
CLAIMS: dict[str, str] = {}
#: name -> the version an @edit_mutant(claims=...) declares beside its edit
EDIT_CLAIMS: dict[str, str] = {}
#: the Mutant records declared by area modules, in declaration order
DECLARED: list[Mutant] = []


@dataclass(frozen=True)
class Mutant:
    """A runtime mutant: `bin/mutant-NAME`, implemented in runtime_mutant.py.

    Attributes:
        name: the mutant's name (the subject id is "mutant-NAME").
        suite: the suite directory it is run against.
        breaks: the one behaviour it breaks, in words.
        fails: the tests it must fail beyond those the real runtime fails, as
            "test_file.py::test_name" plus "[param]" for parametrized cases
            (without the subject id).
        requirements: the catalogue ids whose assertions those failures exercise.
        also_passes: tests the real runtime fails that this mutant happens to pass
            (by breaking the behaviour that made the real runtime fail them).
        base: the real runtime it wraps ("runc" or "crun").
        baseline: the registry key of the claims mutant whose run is this mutant's
            baseline, for a mutant that also claims a newer spec version (its tests
            are not required of the base itself); "" when the baseline is `base`.
    """

    name: str
    suite: str
    breaks: str
    fails: tuple[str, ...]
    requirements: tuple[str, ...]
    also_passes: tuple[str, ...] = ()
    base: str = "runc"
    baseline: str = ""

    @property
    def key(self) -> str:
        """The registry key: NAME for runc-based mutants, BASE-NAME otherwise."""
        return self.name if self.base == "runc" else f"{self.base}-{self.name}"

    @property
    def path(self) -> str:
        """The executable: bin/mutant-NAME wraps runc, bin/mutant-crun-NAME wraps crun."""
        return str(BIN / f"mutant-{self.key}")


def runtime_mutant(
    name: str,
    breaks: str,
    fails: list[str],
    requirements: list[str],
    also_passes: list[str] = (),
    base: str = "runc",
) -> Mutant:
    """The record of a runtime mutant of the oci_runtime suite (not yet registered)."""
    return Mutant(
        name, "oci_runtime", breaks, tuple(fails), tuple(requirements), tuple(also_passes), base
    )


def _declare(name, breaks, fails, requirements, also_passes, base, baseline="") -> Mutant:
    m = Mutant(
        name,
        "oci_runtime",
        breaks,
        tuple(fails),
        tuple(requirements),
        tuple(also_passes),
        base,
        baseline,
    )
    if any(d.key == m.key for d in DECLARED):
        raise ValueError(f"mutant {m.key} declared twice")
    DECLARED.append(m)
    return m


def _decorator(table: dict, name, breaks, fails, requirements, also_passes, base) -> Callable:
    def wrap(fn: Callable) -> Callable:
        m = _declare(name, breaks, fails, requirements, also_passes, base)
        table[m.key] = fn
        return fn

    return wrap


def edit_mutant(
    name: str,
    *,
    breaks: str,
    fails: list[str],
    requirements: list[str],
    also_passes: list[str] = (),
    base: str = "runc",
    claims: str = "",
) -> Callable:
    """Declare a mutant that edits config.json before `create` (see the module doc);
    the decorated function is `edit(cfg) -> bool`. With `claims` ("1.3.0") it also
    declares that spec version, as the claims mutant of its base does, and that claims
    mutant's run is its baseline: for requirements newer than the base's own version."""
    if not claims:
        return _decorator(EDITS, name, breaks, fails, requirements, also_passes, base)
    baseline = ("" if base == "runc" else f"{base}-") + f"claims-{claims}"

    def wrap(fn: Callable) -> Callable:
        m = _declare(name, breaks, fails, requirements, also_passes, base, baseline)
        EDITS[m.key] = fn
        EDIT_CLAIMS[m.key] = claims
        return fn

    return wrap


def features_mutant(
    name: str,
    *,
    breaks: str,
    fails: list[str],
    requirements: list[str],
    also_passes: list[str] = (),
    base: str = "runc",
) -> Callable:
    """Declare a mutant whose `features` output is rewritten by the decorated function,
    `rewrite(doc) -> None`."""
    return _decorator(FEATURE_REWRITES, name, breaks, fails, requirements, also_passes, base)


def claims_mutant(
    name: str,
    *,
    spec_version: str,
    breaks: str,
    fails: list[str],
    requirements: list[str],
    also_passes: list[str] = (),
    base: str = "runc",
) -> Mutant:
    """Declare a mutant that declares `spec_version` (in `--version`'s spec line and in
    features.ociVersionMax) while doing what its base does. Tests of requirements newer
    than the base's own version then run against it: those it fails prove they can fail
    ("proven against mutants only" until a runtime that really declares them is tested).
    """
    m = _declare(name, breaks, fails, requirements, also_passes, base)
    CLAIMS[m.key] = spec_version
    return m


def load_area_modules() -> None:
    """Import every infra/mutants/config_*.py (each registers its mutants on import)."""
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if info.name.startswith("config_"):
            importlib.import_module(f"infra.mutants.{info.name}")
