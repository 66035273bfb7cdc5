"""The official image-spec JSON schemas, applied to one document.

The directory is Debian's (golang-github-opencontainers-image-spec-dev: image-spec
1.1.0-rc2) unless the caller names a newer one; `schema_label(dir)` names the version
used, for failure messages and the report. The image-spec schemas give each file an `id` URL and refer to siblings relatively
("defs-descriptor.json"), which resolves against those URLs: any reference is looked up
by its file name in the directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4

from infra import schemas
from suites.oci_image.validate.model import Finding


def default_dir() -> str:
    """The packaged image-spec schema directory. Raises infra.schemas.SchemaError."""
    return str(schemas.schema_dir("image-spec"))


def schema_label(directory: str) -> str:
    """ "image-spec 1.1.0-rc2 schemas" (or "unknown") for `directory`."""
    return f"image-spec {schemas.schema_version(directory)} schemas"


def schema_findings(
    directory: str, name: str, instance: object, where: str, rid: str
) -> Iterator[Finding]:
    """One finding (id `rid`) per violation of schema file `name` by `instance`."""
    for err in validator(directory, name).iter_errors(instance):
        at = "/".join(str(p) for p in err.absolute_path) or "(top)"
        seen = f"{at}: {err.message}"[:200]
        yield Finding(rid, where, f"valid per {name} ({schema_label(directory)})", seen)


@lru_cache(maxsize=16)
def validator(directory: str, name: str) -> jsonschema.Draft4Validator:
    """A draft-04 validator of schema file `name`, its references resolved by file name
    within `directory`. Raises infra.schemas.SchemaError for a missing or bad file."""
    d = Path(directory)

    def retrieve(uri: str) -> Resource:
        f = d / uri.rstrip("/").split("/")[-1].split("#")[0]
        if not f.suffix:
            f = f.with_suffix(".json")
        if not f.is_file():
            raise NoSuchResource(ref=uri)
        return Resource.from_contents(json.loads(f.read_text()), default_specification=DRAFT4)

    path = d / name
    try:
        schema = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise schemas.SchemaError(f"{path}: {exc}") from None
    return jsonschema.Draft4Validator(schema, registry=Registry(retrieve=retrieve))
