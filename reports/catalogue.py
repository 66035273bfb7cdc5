"""The requirement catalogue: `suites/<suite>/requirements.yaml` (docs/architecture.md,
Catalogue entry).

A suite's catalogue may be split by area into `requirements-<area>.yaml` files beside
`requirements.yaml`; all are loaded and merged (ids stay unique across them).

Each entry summarises one spec requirement in our own words and links to its section.
`load_catalogue(paths)` validates every file against reports/schemas/catalogue.schema.json
and returns a `Catalogue`; a malformed file or a duplicate id raises `CatalogueError`.

`basis`: on what the runtime's (or endpoint's) duty rests, so a verdict can be traced to
spec text rather than to how important the behaviour seems. One of its spec's `BASES`:

- runtime-spec
  - `keyword`: the sentence's own RFC 2119 keyword addresses the runtime (or an operation
    it performs); the level is that keyword's.
  - `valid-values`: the sentence is a rule for config authors ("cwd MUST be absolute",
    "keys MUST NOT be empty"); it becomes a runtime duty only through config.md's "Valid
    values" rule (runtimes MUST generate an error for invalid or unsupported values),
    so the entry is about the runtime refusing such a config.
  - `create-applies`: the field's meaning is stated without a keyword for the runtime;
    the duty is runtime.md's create rule (every property but `process` applied, or an
    error and no container) and start's (the program run as `process` says).
  - `error-exposure`: how an error is reported (exit status, a message). runtime.md's
    Errors section does not mandate how, or even if, an error is exposed, so such an
    entry is MAY unless its own sentence says more ("print an error and fail").
  - `author-only`: advice or a rule for config authors that puts no duty on the runtime
    (a SHOULD for authors does not make other values invalid); always `testable: false`.
- cri-api (api.proto has no RFC 2119 text)
  - `proto`: api.proto's comment on the RPC or field states the behaviour (its
    definition, or a "must"/"should" sentence).
  - `critest`, `kubelet`: api.proto does not state it; the entry follows what critest
    checks or what the kubelet relies on. Level SHOULD at most.
- distribution-spec
  - `keyword`: the sentence's own RFC 2119 keyword binds the registry.
  - `endpoint-table`: spec.md's endpoint table gives the status code (no sentence).
  - `client-only`: a rule for clients, at its own level; never testable against a
    registry. `guidance`: advice to implementers (SHOULD at most). `since: dev` marks a change merged after the catalogue's release.
- image-spec
  - `keyword`: the sentence's own RFC 2119 keyword (or REQUIRED) binds the producer or
    implementation; the level is that keyword's.
  - `definition`: the spec defines the form without a keyword (a property's type, a
    date-time format, a whiteout being an empty file); content of another form is not
    what it claims to be, so the entry may be a MUST.
  - `guidance`: the spec's advice for portable content; SHOULD at most.

`load_catalogue` refuses a basis of another spec's vocabulary, a MUST resting on
critest/kubelet/error-exposure/author-only/guidance (`NOT_MUST`), and a testable
author-only entry; tests/test_catalogue_basis.py checks that every entry of the
repository's catalogues has a basis.

`variants`: the variant classes (reports/variants.py) in which the entry's behaviour takes
a path of its own in real implementations; each should have a test marked
`@pytest.mark.variant(CLASS)`. An unknown class is refused (CatalogueError, one line).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from reports.schemas import load_schema
from reports.variants import CLASSES, unknown_classes

#: libyaml's safe loader when PyYAML was built with it (about 9x faster), else PyYAML's own
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LEVELS = ("MUST", "SHOULD", "MAY")
#: strictness order, strictest first
LEVEL_RANK = {"MUST": 0, "SHOULD": 1, "MAY": 2}
SPEC_URLS = {
    "runtime-spec": "https://github.com/opencontainers/runtime-spec/blob/{version}/{section}",
    "image-spec": "https://github.com/opencontainers/image-spec/blob/{version}/{section}",
    "distribution-spec": "https://github.com/opencontainers/distribution-spec/blob/{version}/{section}",
    "cri-api": "https://github.com/kubernetes/cri-api/blob/master/pkg/apis/runtime/v1/api.proto",
}


#: spec -> its basis vocabulary: basis -> (what it means in one line, the link for it or
#: "" for the entry's own section)
BASES: dict[str, dict[str, tuple[str, str]]] = {
    "runtime-spec": {
        "keyword": ("the sentence's own RFC 2119 keyword addresses the runtime", ""),
        "valid-values": (
            "a rule for config authors; config.md's Valid values makes refusing a config "
            "that breaks it the runtime's duty (MUST generate an error)",
            "https://github.com/opencontainers/runtime-spec/blob/{version}/config.md#valid-values",
        ),
        "create-applies": (
            "the field's meaning, stated without a keyword; runtime.md's create applies every "
            "property or errors (and start runs process as given)",
            "https://github.com/opencontainers/runtime-spec/blob/{version}/runtime.md#create",
        ),
        "error-exposure": (
            "how an error is reported; runtime.md's Errors section leaves that to the runtime",
            "https://github.com/opencontainers/runtime-spec/blob/{version}/runtime.md#errors",
        ),
        "author-only": ("advice or a rule for config authors only; no duty of the runtime", ""),
    },
    "image-spec": {
        "keyword": (
            "the sentence's own RFC 2119 keyword (or REQUIRED) binds the producer or "
            "implementation",
            "",
        ),
        "definition": (
            "the spec defines the form (a type, a format, what a whiteout is) without a "
            "keyword; content of another form is not of this kind",
            "",
        ),
        "guidance": ("the spec's guidance for portable content (SHOULD at most)", ""),
    },
    "distribution-spec": {
        "keyword": ("the sentence's own RFC 2119 keyword (or REQUIRED) binds the registry", ""),
        "endpoint-table": (
            "spec.md's table of endpoints gives the success and failure status codes",
            "https://github.com/opencontainers/distribution-spec/blob/{version}/spec.md#endpoints",
        ),
        "client-only": ("a rule for clients; no duty of the registry", ""),
        "guidance": ("the spec's advice to implementers (SHOULD at most)", ""),
    },
    "cri-api": {
        "proto": ("api.proto's comment on this RPC or field states it", ""),
        "critest": (
            "not stated by api.proto; critest checks it (SHOULD at most)",
            "https://github.com/kubernetes-sigs/cri-tools/tree/master/pkg/validate",
        ),
        "kubelet": (
            "not stated by api.proto; the kubelet relies on it (SHOULD at most)",
            "https://github.com/kubernetes/kubernetes/tree/master/pkg/kubelet/kuberuntime",
        ),
    },
}
#: bases that cannot carry a MUST: the text they rest on has no MUST for this behaviour
NOT_MUST = {"critest", "kubelet", "error-exposure", "author-only", "guidance"}


class CatalogueError(Exception):
    """A catalogue file is malformed or two entries share an id."""


@dataclass(frozen=True)
class Requirement:
    """One catalogue entry. `since`/`until` are spec versions ("" when unbounded)."""

    id: str
    spec: str
    spec_version: str
    section: str
    level: str
    summary: str
    since: str = ""
    until: str = ""
    applies: str = "all"
    testable: bool = True
    why: str = ""
    expect: str = ""
    suite: str = ""
    basis: str = ""
    variants: tuple[str, ...] = ()

    def as_entry(self, proven_by: list[str], failed_by: list[str] = ()) -> dict:
        """The catalogue entry of results.json, with its proofs: the mutants that
        prove its tests can fail (`proven_by`) and the real subjects of this run that
        fail it at an assertion naming it (`failed_by`)."""
        return {
            "id": self.id,
            "spec": self.spec,
            "spec_version": self.spec_version,
            "section": self.section,
            "url": self.url,
            "level": self.level,
            "summary": self.summary,
            "since": self.since or None,
            "until": self.until or None,
            "testable": self.testable,
            "why": self.why or None,
            "suite": self.suite,
            "proven_by": sorted(proven_by),
            "failed_by": sorted(failed_by),
            "basis": self.basis or None,
            "basis_text": self._basis[0] if self._basis else None,
            "basis_url": self.basis_url or None,
            "variants": list(self.variants),
        }

    @property
    def basis_url(self) -> str:
        """The link to the text the basis rests on (the entry's own section for keyword
        and proto); "" without a basis."""
        if not self._basis:
            return ""
        tpl = self._basis[1]
        return tpl.format(version="v" + self.spec_version) if tpl else self.url

    @property
    def _basis(self) -> tuple[str, str] | None:
        return BASES.get(self.spec, {}).get(self.basis)

    @property
    def url(self) -> str:
        tpl = SPEC_URLS.get(self.spec, "")
        # a change merged after the release (since X-dev) is read on the main branch
        version = "main" if self.since.endswith("-dev") else "v" + self.spec_version
        return tpl.format(version=version, section=self.section) if tpl else ""


class Catalogue(dict[str, Requirement]):
    """id -> Requirement for every loaded catalogue file.

    Attributes:
        scopes: suite -> the spec documents its catalogue covers (and those it does not yet).
        suite_dirs: suite -> its directory.
    """

    def __init__(self) -> None:
        super().__init__()
        self.scopes: dict[str, str] = {}
        self.suite_dirs: dict[str, Path] = {}

    def strictest(self, ids: list[str]) -> str:
        """The strictest level among `ids` (MUST < SHOULD < MAY); "" for no known id."""
        levels = [self[i].level for i in ids if i in self]
        return min(levels, key=LEVEL_RANK.__getitem__) if levels else ""


def load_catalogue(paths: list[Path]) -> Catalogue:
    """Load and merge catalogue files. Raises CatalogueError."""
    schema = load_schema("catalogue.schema.json")
    # one validator for every file (jsonschema.validate checks the schema itself and
    # builds a validator on each call: 1.3 s for the 18 files, most of loading)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    cat = Catalogue()
    for path in paths:
        try:
            doc = yaml.load(path.read_text(), Loader=_LOADER)
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"{path}: cannot read: {exc}") from exc
        error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if error is not None:  # the same error jsonschema.validate would raise
            where = "/".join(str(p) for p in error.absolute_path)
            raise CatalogueError(f"{path}: {where}: {error.message}")
        suite = path.parent.name
        if doc.get("scope"):
            cat.scopes[suite] = "; ".join(filter(None, [cat.scopes.get(suite), doc["scope"]]))
        cat.scopes.setdefault(suite, "")
        cat.suite_dirs[suite] = path.parent
        for entry in doc["requirements"]:
            rid = entry["id"]
            if rid in cat:
                raise CatalogueError(f"{path}: duplicate requirement id {rid}")
            spec = entry.get("spec", doc["spec"])
            basis = entry.get("basis", "")
            if basis and basis not in BASES.get(spec, {}):
                raise CatalogueError(f"{path}: {rid}: basis {basis} is not one of {spec}'s")
            if basis in ("author-only", "client-only") and entry.get("testable", True):
                raise CatalogueError(f"{path}: {rid}: an author-only entry is testable: false")
            if basis in NOT_MUST and entry["level"] == "MUST":
                raise CatalogueError(
                    f"{path}: {rid}: a MUST cannot rest on {basis} (SHOULD at most)"
                )
            variants = tuple(entry.get("variants", ()))
            bad = unknown_classes(variants)
            if bad:
                raise CatalogueError(
                    f"{path}: {rid}: unknown variant class {', '.join(bad)} (known: "
                    f"{', '.join(CLASSES)})"
                )
            if len(set(variants)) != len(variants):
                raise CatalogueError(f"{path}: {rid}: a variant class is listed twice")
            cat[rid] = Requirement(
                id=rid,
                spec=spec,
                spec_version=entry.get("spec_version", doc["spec_version"]),
                section=entry["section"],
                level=entry["level"],
                summary=entry["summary"],
                since=_since(entry, doc),
                until=_since(entry, doc, "until"),
                applies=entry.get("applies", "all"),
                testable=entry.get("testable", True),
                why=entry.get("why", ""),
                expect=str(entry.get("expect", "")),
                suite=suite,
                basis=basis,
                variants=variants,
            )
    return cat


def _since(entry: dict, doc: dict, key: str = "since") -> str:
    """An entry's `since` (or `until`); `dev` (a change merged after the release the
    catalogue follows) becomes "RELEASE-dev", which infra/specversion.py orders after
    RELEASE."""
    since = str(entry.get(key, ""))
    if since == "dev":
        return entry.get("spec_version", doc["spec_version"]) + "-dev"
    return since


def ids_named_in_tests(suite_dir: Path, ids: set[str]) -> set[str]:
    """The catalogue ids (of `ids`) that the suite's test modules name anywhere: in
    requirement markers or in parameter tables. Static, so a -k or path selection does
    not make a requirement look untested; that each test's markers are valid is checked
    at collection. An f-string such as f"config.mounts.option-{o}" names the ids whose
    varying part is a string constant of the same module (its parameter table)."""
    named = set()
    for f in sorted(suite_dir.glob("test_*.py")):
        try:
            tree = ast.parse(f.read_text())
        except (OSError, SyntaxError):
            continue
        constants = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        named |= constants & ids
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                named |= _ids_of_template(node, constants, ids)
    return named


def _ids_of_template(node: ast.JoinedStr, constants: set[str], ids: set[str]) -> set[str]:
    """ids matching PREFIX{x}SUFFIX where x is one of the module's string constants."""
    parts = node.values
    kinds = [isinstance(p, ast.FormattedValue) for p in parts]
    if kinds.count(True) != 1:
        return set()
    i = kinds.index(True)
    prefix = "".join(p.value for p in parts[:i] if isinstance(p, ast.Constant))
    suffix = "".join(p.value for p in parts[i + 1 :] if isinstance(p, ast.Constant))
    if not prefix:
        return set()
    return {
        rid
        for rid in ids
        if rid.startswith(prefix)
        and rid.endswith(suffix)
        and rid[len(prefix) : len(rid) - len(suffix)] in constants
    }


def catalogue_files(root: Path) -> list[Path]:
    """Every suites/*/requirements.yaml and requirements-*.yaml below `root`, sorted
    (a suite's main file first)."""
    files = (root / "suites").glob("*/requirements*.yaml")
    return sorted(files, key=lambda p: (p.parent.name, p.name != "requirements.yaml", p.name))
