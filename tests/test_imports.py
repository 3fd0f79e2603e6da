"""The import graph of desktop_app: no cycles, and the layers of pyproject.toml's [tool.importlinter].

An import counts wherever it is written, inside a function too: a function-local import only hides a cycle
until the function runs. Imports under ``if TYPE_CHECKING:`` do not count: they never run.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "desktop_app"


@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} (line {self.line})"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """``desktop_app.core.engine.sampler`` → its file, for every module of ``package`` under ``root``."""
    names = {}
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement under ``node``, at any depth, except the body of ``if TYPE_CHECKING:``
    (its ``else:`` runs, so it counts)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.orelse:
                if isinstance(statement, ast.Import | ast.ImportFrom):
                    yield statement
                yield from _imports(statement)
        else:
            yield from _imports(child)


def import_edges(root: Path, package: str) -> list[Edge]:
    """The package's imports of its own modules. ``from a.b import c`` imports the module ``a.b.c`` when
    there is one, else ``a.b``; an import of a module does not count as importing the packages above it."""
    modules = module_names(root, package)

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = set()
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [known(alias.name) for alias in node.names]
            else:
                if node.level:
                    base = here.split(".")[: len(here.split(".")) - node.level + 1]
                    origin = ".".join([*base, node.module] if node.module else base)
                else:
                    origin = node.module or ""
                targets = [known(f"{origin}.{alias.name}") for alias in node.names]
            edges |= {Edge(name, t, node.lineno) for t in targets if t and t != name}
    return sorted(edges, key=lambda e: (e.importer, e.imported, e.line))


def cycles(edges: list[Edge]) -> list[list[Edge]]:
    """The strongly connected components of more than one module (Tarjan), each as the imports that run
    between its modules."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        graph.setdefault(e.importer, set()).add(e.imported)
        graph.setdefault(e.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

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
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [
        [e for e in edges if e.importer in component and e.imported in component]
        for component in sorted(components, key=min)
    ]


def test_desktop_app_has_no_import_cycles():
    found = cycles(import_edges(ROOT, PACKAGE))
    report = "\n\n".join("\n".join(str(e) for e in cycle) for cycle in found)
    assert found == [], f"{len(found)} import cycle(s), counting imports inside functions:\n\n{report}"


def test_the_cycle_check_counts_imports_in_functions_but_not_type_checking_ones(tmp_path: Path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.sub import c\n")
    (package / "sub" / "c.py").write_text("from ..a import x\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg import a\nelse:\n    import pkg.e\n"
    )
    (package / "e.py").write_text("import typing\nif typing.TYPE_CHECKING:\n    from pkg import d\n")

    edges = import_edges(tmp_path, "pkg")
    assert {(e.importer, e.imported) for e in edges} == {
        ("pkg.a", "pkg.b"),
        ("pkg.b", "pkg.sub.c"),
        ("pkg.sub.c", "pkg.a"),
        ("pkg.d", "pkg.e"),
    }
    assert [[str(e) for e in cycle] for cycle in cycles(edges)] == [
        ["pkg.a -> pkg.b (line 1)", "pkg.b -> pkg.sub.c (line 2)", "pkg.sub.c -> pkg.a (line 1)"]
    ]


def _contracts() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    assert config["root_packages"] == [PACKAGE]
    return config["contracts"]


def _below(upper: str, lower: str) -> bool:
    """Whether a layers contract puts ``upper`` in a layer above the one holding ``lower``."""
    for contract in _contracts():
        if contract["type"] != "layers":
            continue
        layers = [{m.strip() for m in layer.replace("|", ":").split(":")} for layer in contract["layers"]]
        for i, layer in enumerate(layers):
            if upper in layer and any(lower in below for below in layers[i + 1 :]):
                return True
    return False


def test_the_layers_are_contracts():
    for upper, lower in [
        ("desktop_app.core.engine", "desktop_app.core.store"),
        ("desktop_app.core.engine", "desktop_app.core.models"),
        ("desktop_app.core.conversation", "desktop_app.core.engine"),
        ("desktop_app.ui", "desktop_app.core"),
        ("desktop_app.cli", "desktop_app.core"),
        ("desktop_app.cli", "desktop_app.ui"),
    ]:
        assert _below(upper, lower), f"no contract keeps {lower} from importing {upper}"


def test_lint_imports_keeps_every_contract():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is part of the test extra"
    # Wide columns: its report wraps module names at the 80 columns of a pipe otherwise.
    proc = subprocess.run(
        [lint, "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
