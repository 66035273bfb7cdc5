"""Checks the product's layers: `python -m tools.check_layers` (exit 1 on a problem).

The product is infra/, reports/ and suites/ (selftest/ is self-test code; infra.mutants,
its former place, stays refused). Its imports, read with ast (also those inside functions), must obey
docs/architecture.md (What may import what): no product module imports the self-test code (selftest, infra.mutants);
infra/ and reports/ never import suites; infra/ never imports reports; and the product's
import graph has no cycle (a module importing `a.b.c` depends on `a.b.c`, not on its
parent packages). Prints one line per problem, or one line saying all is well.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("infra", "reports", "suites")
#: self-test code: no product module may import it (and it is not checked itself)
SELFTEST = ("selftest", "infra.mutants")
#: layer -> packages it must not import
FORBIDDEN = {
    "infra": ("suites", "reports"),
    "reports": ("suites",),
}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def product_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name -> file, for every product module below `root`."""
    out = {}
    for top in PRODUCT:
        for f in sorted((root / top).rglob("*.py")):
            parts = list(f.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            if not _within(name, SELFTEST):
                out[name] = f
    return out


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file; `from a import b` names
    a.b when that is a module of `known`, else a. Relative imports are resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((node.lineno, sub if sub in known else base))
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                found.append(sorted(comp))

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def problems(root: Path = ROOT) -> list[str]:
    """One line per layering problem of the product below `root` ([] when none)."""
    modules = product_modules(root)
    known = set(modules)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    out = []
    for name, path in modules.items():
        rel = path.relative_to(root)
        layer = name.split(".")[0]
        for line, imported in imports_of(name, path, known):
            if _within(imported, SELFTEST):
                out.append(f"{rel}:{line}: imports {imported}: self-test code")
            elif _within(imported, FORBIDDEN.get(layer, ())):
                out.append(f"{rel}:{line}: imports {imported}: {layer}/ must not import it")
            if imported in known and imported != name:
                graph[name].add(imported)
            elif imported == name:
                graph[name].add(name)
    for comp in _cycles(graph):
        out.append("import cycle among " + ", ".join(comp))
    return out


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    if not found:
        print(
            f"check_layers: {len(product_modules())} product modules, no forbidden import, no cycle"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
