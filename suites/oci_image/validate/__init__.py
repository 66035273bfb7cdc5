"""Validation of an OCI image layout (image-spec 1.1.1): findings, never verdicts.

`judge(root, schema_dir)` reads the layout directory at `root` and returns a `Judgement`:
every `Finding` (requirement id, file or blob, wanted, seen) the rule modules produced.
Tests decide; the validator only reports. A tar layout is unpacked first (see
`infra/kinds/layout.py`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from suites.oci_image.validate.model import Finding, read_layout
from suites.oci_image.validate.rules_blobs import descriptor_findings, layout_findings
from suites.oci_image.validate.rules_docs import document_findings
from suites.oci_image.validate.rules_layers import layer_findings


@dataclass
class Judgement:
    """The findings about one layout, by requirement id."""

    root: str
    schema_dir: str
    by_id: dict[str, list[Finding]] = field(default_factory=dict)

    def findings(self, *ids: str) -> list[Finding]:
        """The findings of the given requirement ids, in the order found."""
        return [f for i in ids for f in self.by_id.get(i, [])]


def judge(root: Path, schema_dir: str) -> Judgement:
    """Every finding about the layout directory `root` (read-only; never raises for bad
    content, only OSError for an unreadable tree)."""
    lay = read_layout(root)
    out: dict[str, list[Finding]] = defaultdict(list)
    for source in (
        layout_findings(lay, schema_dir),
        descriptor_findings(lay),
        document_findings(lay, schema_dir),
        layer_findings(lay),
    ):
        for f in source:
            if f not in out[f.rid]:
                out[f.rid].append(f)
    return Judgement(str(root), schema_dir, dict(out))


__all__ = ["Finding", "Judgement", "judge"]
