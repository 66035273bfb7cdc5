"""Variant classes and variant coverage (issue 15; CONVENTIONS.md, "Variants, the way bugs
ship").

A requirement is tested by value and path: the deviations implementations ship hide where
one convenient value cannot see them. Each variant class names such a path; a test (or one
parameter case of it) carries `@pytest.mark.variant(CLASS, ...)`, and a catalogue entry may
list the classes that apply to it (`variants: [boundary, privilege]`). Variant coverage is,
per area, the (requirement, class) pairs the catalogue lists and those a test checks.

The classes (`CLASSES`), short and stable (they are data in the catalogue and the report):

- boundary: zero, empty, negative, maximum, or a wanted value equal to what the process
  would have anyway (the test makes the starting state differ first).
- state-present: the target already there with other attributes; the same bundle, pod or
  container made twice.
- privilege: a user namespace or not, rootful or rootless, an unusual umask or caller
  environment.
- provenance: a value that comes from the image vs the same value in the request, or both.
- process: children left behind, stdio kept or closed, signals ignored.
- scale-order: lists of many entries, duplicates, order that the spec makes a requirement.
- failure-path: a step that fails part-way (hook, network, stream, plugin), a container
  that exits during the operation.

Areas (`AREAS`) group requirements by id prefix: the runtime's process, mounts, devices,
namespaces, resources, hooks, lifecycle (and config for the rest), the CRI's RPC groups,
image layouts and registries.
"""

from __future__ import annotations

import ast
from pathlib import Path

#: class -> what it covers, in one line
CLASSES: dict[str, str] = {
    "boundary": "zero, empty, negative, maximum, or a value equal to the one it would have anyway",
    "state-present": "the target already there with other attributes; the same object made twice",
    "privilege": "user namespace or not, rootful or rootless, an unusual umask or environment",
    "provenance": "a value from the image vs the same value in the request, or both",
    "process": "children left behind, stdio kept or closed, signals ignored",
    "scale-order": "lists of many entries, duplicates, order as a requirement",
    "failure-path": "a step that fails part-way, a container that exits during the operation",
}

#: (suite, area, id prefixes), in report order; the first area whose prefix an id starts
#: with is its area
AREAS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("oci_runtime", "process", (
        "config.process.", "config.user.", "config.hostname", "config.domainname",
        "config-linux.personality", "config-linux.seccomp.",
    )),
    ("oci_runtime", "mounts", (
        "config.mounts.", "config.root.", "config-linux.rootfs-propagation",
        "config-linux.masked-paths", "config-linux.readonly-paths",
        "config-linux.default-filesystems", "config-linux.mount-label",
    )),
    ("oci_runtime", "devices", (
        "config-linux.devices", "config-linux.default-devices", "config-linux.netdevices",
    )),
    ("oci_runtime", "namespaces", (
        "config-linux.namespaces", "config-linux.userns", "config-linux.timens",
        "config-linux.sysctl",
    )),
    ("oci_runtime", "resources", (
        "config-linux.cgroups", "config-linux.cpu", "config-linux.memory", "config-linux.pids",
        "config-linux.blkio", "config-linux.hugepages", "config-linux.network",
        "config-linux.rdma", "config-linux.unified", "config-linux.intelrdt",
    )),
    ("oci_runtime", "hooks", ("config.hooks.",)),
    ("oci_runtime", "lifecycle", ("runtime.", "bundle.")),
    ("oci_runtime", "config", ("config.", "config-linux.", "features")),
    ("cri", "cri runtime info", (
        "cri.version", "cri.status", "cri.runtime-config", "cri.update-runtime-config",
    )),
    ("cri", "cri pod sandbox", ("cri.pod.",)),
    ("cri", "cri container", ("cri.container.", "cri.metrics.")),
    ("cri", "cri security context", ("cri.security.",)),
    ("cri", "cri streaming", ("cri.exec", "cri.attach", "cri.port-forward")),
    ("cri", "cri image", ("cri.image.",)),
    ("cri", "cri errors", ("cri.",)),
    ("oci_image", "image layout", ("image.",)),
    ("oci_image", "registry", ("dist.",)),
)  # fmt: skip


def area_of(rid: str) -> str:
    """The area of requirement id `rid` ("" when none of `AREAS` claims it)."""
    for _suite, area, prefixes in AREAS:
        if rid.startswith(prefixes):
            return area
    return ""


def unknown_classes(names: list[str] | tuple[str, ...]) -> list[str]:
    """The names of `names` that are not variant classes."""
    return [n for n in names if n not in CLASSES]


def _call_name(node: ast.AST) -> str:
    """The called name: "variant" for pytest.mark.variant(...); "" for no call."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute):
            return f.attr
        if isinstance(f, ast.Name):
            return f.id
    return ""


def _strings(call: ast.Call) -> list[str]:
    return [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _marks(nodes: list[ast.AST], skip_params: bool) -> tuple[set[str], set[str]]:
    """Requirement ids and variant classes named by the mark calls in `nodes` (not those
    inside pytest.param(...) calls when `skip_params`)."""
    reqs: set[str] = set()
    classes: set[str] = set()
    todo = list(nodes)
    while todo:
        node = todo.pop()
        name = _call_name(node)
        if skip_params and name == "param":
            continue
        if name == "requirement":
            reqs |= set(_strings(node))
        elif name == "variant":
            classes |= set(_strings(node))
        todo.extend(ast.iter_child_nodes(node))
    return reqs, classes


def _params(nodes: list[ast.AST]) -> list[ast.Call]:
    return [n for top in nodes for n in ast.walk(top) if _call_name(n) == "param"]


def variants_named_in_tests(suite_dir: Path) -> dict[str, set[str]]:
    """requirement id -> the variant classes that some test of the suite checks it in,
    read statically from the test modules (so a -k or path selection does not hide
    them): a function's variant marks pair with its requirement marks; a
    pytest.param(..., marks=...) case's variant marks pair with its own and its
    function's requirement marks. Module-level tables a decorator names are followed
    one level; markers added at run time are not seen."""
    out: dict[str, set[str]] = {}
    for f in sorted(suite_dir.glob("test_*.py")):
        try:
            tree = ast.parse(f.read_text())
        except (OSError, SyntaxError):
            continue
        tables: dict[str, ast.AST] = {}
        module_marks: list[ast.AST] = []
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        tables[t.id] = node.value
                        if t.id == "pytestmark":
                            module_marks.append(node.value)
        funcs = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
        ]
        for fn in funcs:
            nodes: list[ast.AST] = [*module_marks, *fn.decorator_list]
            named = {
                n.id for d in fn.decorator_list for n in ast.walk(d) if isinstance(n, ast.Name)
            }
            nodes += [tables[n] for n in sorted(named) if n in tables and n != "pytestmark"]
            reqs, classes = _marks(nodes, skip_params=True)
            for rid in reqs:
                out.setdefault(rid, set()).update(classes)
            for param in _params(nodes):
                p_reqs, p_classes = _marks([param], skip_params=False)
                for rid in reqs | p_reqs:
                    out.setdefault(rid, set()).update(p_classes)
    return {rid: c for rid, c in out.items() if c}


def variant_coverage(
    catalogue: list[dict], results: list[dict], named: dict[str, dict[str, list[str]]]
) -> dict:
    """Variant coverage per area: the results document's `variants` object.

    `catalogue`, `results`: the lists of a results document (entries carry `variants`,
    results carry `variants`); `named`: suite -> requirement id -> classes its tests
    check (variants_named_in_tests). Returns {"classes": CLASSES, "named": `named`,
    "areas": {area: {"suite", "requirements" (entries listing classes), "listed" (pairs),
    "tested" (listed pairs a test checks), "ran" (listed pairs with a result here),
    "percent", "extra" (pairs tested but not listed), "by_class": {class: [listed,
    tested]}, "untested": {id: [classes]}}}}."""
    ran: dict[str, set[str]] = {}
    for r in results:
        for rid in r["requirements"]:
            ran.setdefault(rid, set()).update(r.get("variants") or [])
    suites = {q["suite"] for q in catalogue}
    areas: dict[str, dict] = {}
    for suite, area, _prefixes in AREAS:
        if suite not in suites:
            continue
        reqs = [q for q in catalogue if q["suite"] == suite and area_of(q["id"]) == area]
        if not reqs:
            continue
        by_suite = named.get(suite, {})
        listed = tested = ran_n = extra = 0
        by_class = {c: [0, 0] for c in CLASSES}
        untested: dict[str, list[str]] = {}
        for q in reqs:
            want = list(q.get("variants") or [])
            have = set(by_suite.get(q["id"], []))
            listed += len(want)
            tested += sum(1 for c in want if c in have)
            ran_n += sum(1 for c in want if c in ran.get(q["id"], set()))
            extra += len(have - set(want))
            for c in want:
                by_class[c][0] += 1
                by_class[c][1] += c in have
            missing = [c for c in want if c not in have]
            if missing:
                untested[q["id"]] = missing
        areas[area] = {
            "suite": suite,
            "requirements": sum(1 for q in reqs if q.get("variants")),
            "listed": listed,
            "tested": tested,
            "ran": ran_n,
            "percent": round(100.0 * tested / listed, 1) if listed else 0.0,
            "extra": extra,
            "by_class": {c: v for c, v in by_class.items() if v[0]},
            "untested": untested,
        }
    return {
        "classes": dict(CLASSES),
        "named": {s: {rid: sorted(c) for rid, c in sorted(m.items())} for s, m in named.items()},
        "areas": areas,
    }
