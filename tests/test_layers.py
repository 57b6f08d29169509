"""Issue 14's Done-when, measured from the source with `ast` (nothing imported): the layering holds.

A layer is a top-level module or subpackage of ``src/humortune``. ``cli``, ``service``, ``__init__`` and ``app``
are composition roots: they may import anything, so they stay out of the cycle check. Imports inside functions
count (they are real edges at run time); imports under ``if TYPE_CHECKING:`` do not. Each assertion names what
is left, so a failure reads as a to-do list. docs/concepts.md explains the floors.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "humortune"
ROOTS = {"cli", "service", "__init__", "app"}  # composition roots: outside the cycle check
STORE_LAYER = "workspace"  # the only layer that may hold SQL
MAX_FUNCTION_LINES = 120
SQL = re.compile(
    r"(?is)\b(select\b.+\bfrom\b|insert\s+(or\s+\w+\s+)?into\b|update\s+\w+\s+set\b|delete\s+from\b"
    r"|create\s+(temp\s+|temporary\s+)?(table|index|unique\s+index|view|trigger)\b|alter\s+table\b|drop\s+table\b)"
)


@dataclass
class Layering:
    """What the source says: layer edges (with the modules making them), and the modules breaking a rule."""

    edges: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    testing_users: set[str] = field(default_factory=set)
    sql: dict[str, int] = field(default_factory=dict)
    root_importers: dict[str, set[str]] = field(default_factory=dict)  # module → lowercase names it takes
    functions: list[tuple[int, str]] = field(default_factory=list)

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of the layer graph with more than one layer."""
        graph: dict[str, set[str]] = {}
        for a, b in self.edges:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())
        reach = {v: _reachable(graph, v) for v in graph}
        seen: set[str] = set()
        found = []
        for v in sorted(graph):
            comp = sorted(w for w in graph if w in reach[v] and v in reach[w]) if v not in seen else []
            seen.update(comp)
            if len(comp) > 1:
                found.append(comp)
        return found

    def cycle_edges(self, cycle: list[str]) -> dict[str, list[str]]:
        return {f"{a} -> {b}": sorted(m) for (a, b), m in sorted(self.edges.items()) if a in cycle and b in cycle}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    out, todo = {start}, [start]
    while todo:
        for w in graph[todo.pop()] - out:
            out.add(w)
            todo.append(w)
    return out


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                skip.update(id(n) for sub in node.body for n in ast.walk(sub))
    return skip


def _imports(module: str, is_package: bool, node: ast.AST) -> Iterator[tuple[str, str | None]]:
    """(imported module, imported name or None) for one import statement."""
    if isinstance(node, ast.Import):
        yield from ((alias.name, None) for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        base = module.split(".") if is_package else module.split(".")[:-1]
        if node.level:
            base = base[: len(base) - (node.level - 1)]
            target = ".".join([*base, *([node.module] if node.module else [])])
        else:
            target = node.module or ""
        yield from ((target, alias.name) for alias in node.names)


def measure(root: Path) -> Layering:
    """The layering of the package at ``root`` (a ``humortune``-like source folder)."""
    found = Layering()
    for path in sorted(root.rglob("*.py")):
        module = ".".join((root.name, *path.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
        tree = ast.parse(path.read_text("utf-8"))
        skip, here = _type_checking_nodes(tree), _layer(module)
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            for target, name in _imports(module, path.name == "__init__.py", node):
                _record_import(found, module, here, target, name, root.name)
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and here != STORE_LAYER and SQL.search(node.value):
                found.sql[module] = found.sql.get(module, 0) + 1
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.functions.append(((node.end_lineno or node.lineno) - node.lineno + 1, f"{module}:{node.name}"))
    return found


def _record_import(found: Layering, module: str, here: str, target: str, name: str | None, package: str) -> None:
    if target == package and name is not None:
        if here not in ROOTS - {"app"} and not name[:1].isupper():  # a value (a class is a re-export's business)
            found.root_importers.setdefault(module, set()).add(name)
        target = f"{package}.{name}"
    if not target.startswith(package + "."):
        return
    there = _layer(target)
    if there == "testing" and here != "testing" and here not in ROOTS - {"app"}:
        found.testing_users.add(module)
    if there != here and here not in ROOTS and there not in ROOTS:
        found.edges.setdefault((here, there), set()).add(module)


@pytest.fixture(scope="module")
def layering() -> Layering:
    return measure(SRC)


def test_no_import_cycle_between_layers(layering: Layering) -> None:
    left = {" ".join(c): layering.cycle_edges(c) for c in layering.cycles()}
    assert left == {}, f"layer cycles (edge -> modules making it): {left}"


def test_only_the_composition_root_imports_the_test_doubles(layering: Layering) -> None:
    users = sorted(layering.testing_users)
    assert set(users) <= {"humortune.app"}, f"production modules importing humortune.testing: {users}"


def test_no_sql_outside_the_store_layer(layering: Layering) -> None:
    left = dict(sorted(layering.sql.items()))
    assert left == {}, f"SQL strings outside {STORE_LAYER}/ (module: count): {left}"


def test_no_module_imports_the_root_package_for_a_value(layering: Layering) -> None:
    left = value_imports(layering, SRC)
    assert left == {}, f"modules importing values from the root package (use the defining module): {left}"


def value_imports(found: Layering, root: Path) -> dict[str, list[str]]:
    """Root-package imports of values: `from humortune import catalog` names a submodule, which is allowed."""
    submodules = {p.stem for p in root.glob("*.py")} | {p.parent.name for p in root.glob("*/__init__.py")}
    values = {m: sorted(names - submodules) for m, names in sorted(found.root_importers.items())}
    return {m: names for m, names in values.items() if names}


def test_no_function_is_longer_than_the_limit(layering: Layering) -> None:
    long = sorted((f for f in layering.functions if f[0] > MAX_FUNCTION_LINES), reverse=True)
    assert long == [], f"functions over {MAX_FUNCTION_LINES} lines (lines, module:function): {long}"


# -- the measure itself, on a small package that breaks every rule -------------------------------------------


def test_the_measure_sees_every_kind_of_breach(tmp_path: Path) -> None:
    pkg = tmp_path / "humortune"
    files = {
        "__init__.py": "from humortune.a import thing\n",
        "a.py": "def f():\n    from humortune.b import g  # inside a function: counts\n",
        "b.py": "from humortune import a\nfrom humortune.testing import Fake\n",
        "e.py": "from humortune import __version__\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from humortune.a import f\n",
        "d.py": 'Q = "SELECT id FROM models"\n' + "def long():\n" + "    x = 1\n" * 130,
        "testing/__init__.py": "from humortune.a import f\n",
        "workspace/__init__.py": 'Q = "DELETE FROM models"\n',
        "cli/__init__.py": "from humortune.testing import Fake\nfrom humortune.b import g\n",
        "app.py": "from humortune.testing import Fake\n",
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text, "utf-8")
    found = measure(pkg)
    assert found.cycles() == [["a", "b", "testing"]]
    assert ("c", "a") not in found.edges  # TYPE_CHECKING imports do not count
    assert found.testing_users == {"humortune.b", "humortune.app"}  # cli is a root; app is counted
    assert found.sql == {"humortune.d": 1}
    assert found.root_importers == {"humortune.b": {"a"}, "humortune.e": {"__version__"}}
    assert value_imports(found, pkg) == {"humortune.e": ["__version__"]}  # `a` is a submodule
    assert max(found.functions) == (131, "humortune.d:long")
