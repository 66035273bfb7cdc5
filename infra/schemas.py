"""The official OCI JSON schemas, loaded for jsonschema.

Default: the schemas that setup copied out of the spec modules (runtime-spec v1.3.0,
image-spec v1.1.1; infra/gobuild.py), else the older ones Debian packages
(golang-github-opencontainers-specs-dev: runtime-spec 1.0.2+dev;
golang-github-opencontainers-image-spec-dev: image-spec 1.1.0-rc2). `--schema-dir DIR`
points at another schema directory (a spec checkout's schema/, or a Go module cache's
.../runtime-spec@v1.3.0/schema). The report names the version used (`schema_version`).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from infra import gobuild

PACKAGED = {
    "runtime-spec": "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema",
    "image-spec": "/usr/share/gocode/src/github.com/opencontainers/image-spec/schema",
}
#: a file that tells each spec's schema directory apart
MARKER = {"runtime-spec": "state-schema.json", "image-spec": "image-manifest-schema.json"}


class SchemaError(Exception):
    """The schema directory is missing or unreadable."""


def schema_dir(spec: str, override: str | None = None) -> Path:
    """The schema directory for `spec` ("runtime-spec" or "image-spec").

    Raises:
        SchemaError: neither `override` nor the packaged directory holds the schemas.
    """
    d = Path(override or gobuild.schema_dir(spec) or PACKAGED[spec])
    if not (d / MARKER[spec]).is_file():
        where = f"--schema-dir {override}" if override else f"packaged schemas in {d}"
        raise SchemaError(
            f"{where}: no {MARKER[spec]} there (install "
            "golang-github-opencontainers-specs-dev, or point --schema-dir "
            "at a runtime-spec schema/ directory)"
        )
    return d


@lru_cache(maxsize=8)
def validator(directory: str, name: str) -> jsonschema.Draft4Validator:
    """A validator for schema file `name` in `directory`, with its $refs resolvable."""
    d = Path(directory)
    resources = []
    for f in sorted(d.glob("*.json")):
        try:
            contents = json.loads(f.read_text())
        except ValueError as exc:
            raise SchemaError(f"{f}: not JSON: {exc}") from exc
        resources.append(
            (f.as_uri(), Resource.from_contents(contents, default_specification=DRAFT4))
        )
    registry = Registry().with_resources(resources)
    return jsonschema.Draft4Validator(
        {"$ref": (d / name).as_uri()}, registry=registry, format_checker=None
    )


def check(directory: str, names: tuple[str, ...]) -> None:
    """Load `names` from `directory` with their $refs, or raise SchemaError (one line)."""
    for name in names:
        if not (Path(directory) / name).is_file():
            raise SchemaError(f"schema directory {directory}: no {name}")
        try:
            v = validator(directory, name)
            v.check_schema(json.loads((Path(directory) / name).read_text()))
            list(v.iter_errors({}))  # resolves the $refs
        except SchemaError:
            raise
        except Exception as exc:  # any failure to load is the directory's fault
            first = (str(exc).splitlines() or [""])[0][:200]
            raise SchemaError(
                f"schema directory {directory}: {name} unusable: {type(exc).__name__}: {first}"
            ) from None


def errors(directory: str, name: str, instance: object) -> list[str]:
    """Schema violations of `instance` against `name`, one line each ([] when valid)."""
    out = []
    for err in validator(directory, name).iter_errors(instance):
        where = "/".join(str(p) for p in err.absolute_path) or "(top)"
        out.append(f"{where}: {err.message}")
    return out


def schema_version(directory: str) -> str:
    """The version of a schema directory, as best known (for the report)."""
    d = Path(directory)
    for candidate in (d.parent / "specs-go" / "version.go", d.parent / "version.go"):
        if candidate.is_file():
            text = candidate.read_text()
            parts = {
                k: v
                for k, v in re.findall(
                    r"Version(Major|Minor|Patch|Dev)\s*=\s*\"?([\w.-]*)\"?", text
                )
            }
            if parts:
                return f"{parts.get('Major', '?')}.{parts.get('Minor', '?')}.{parts.get('Patch', '?')}{parts.get('Dev', '')}"
    return "unknown"
