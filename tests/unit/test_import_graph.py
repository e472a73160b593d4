"""The package's import graph, built from the source (every import: module level, inside functions, under
TYPE_CHECKING, relative or absolute, the package __init__ too), has no cycle."""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

import defirisk

PACKAGE = Path(defirisk.__file__).parent


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of a source file under `root` (the package's parent)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Modules of `known` that `source` imports; `from pkg import name` is pkg.name when that is a module."""
    pkg = module.split(".") if is_package else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = pkg[: len(pkg) - (node.level - 1)] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            names = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for n in names:
            while n and n not in known:  # a name inside a module: the module
                n = n.rpartition(".")[0]
            if n:
                out.add(n)
    return out


def import_graph(package: Path) -> nx.DiGraph:
    """module -> modules it imports, for every .py file of the package."""
    root = package.parent
    files = {module_name(p, root): p for p in package.rglob("*.py")}
    known = set(files)
    g = nx.DiGraph()
    for mod, path in files.items():
        g.add_node(mod)
        for dep in imports_of(path.read_text(), mod, path.name == "__init__.py", known):
            if dep != mod:
                g.add_edge(mod, dep)
    return g


def test_the_package_has_no_import_cycle() -> None:
    g = import_graph(PACKAGE)
    assert g.number_of_nodes() > 50 and g.has_edge("defirisk.api", "defirisk.engine.analyze")
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])


def test_the_check_finds_a_cycle_through_a_function_level_or_type_checking_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import f\n")
    (pkg / "a.py").write_text("def f():\n    from . import b\n    return b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n")
    g = import_graph(pkg)
    assert sorted(map(sorted, nx.simple_cycles(g))) == [["pkg.a", "pkg.b"]]
    (pkg / "b.py").write_text("import pkg\n")  # through the package __init__
    assert sorted(map(sorted, nx.simple_cycles(import_graph(pkg)))) == [["pkg", "pkg.a", "pkg.b"]]


@pytest.mark.parametrize("name", ["api", "engine.analyze", "results"])
def test_the_engine_never_imports_the_public_face(name: str) -> None:
    g = import_graph(PACKAGE)
    assert not nx.has_path(g, "defirisk.engine.analyze", "defirisk.api")
    assert not nx.has_path(g, "defirisk.scan.snapshot", "defirisk.api")
    assert f"defirisk.{name}" in g
