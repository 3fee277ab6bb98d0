"""The architecture, checked: layers, no import circles, no private imports, small modules.

* core imports nothing from the app or the CLI, and no Qt (PySide6, shiboken6, pyqtgraph ...);
* the app imports nothing from the CLI; the CLI imports the app only in ``cli/gui.py``, inside
  the function that launches it;
* ``distributed`` (the optional Dask engine) imports neither the app nor the CLI; the core and the
  app never import it, nor Dask; the CLI imports it only in ``cli/dask_select.py``, inside
  functions (so ``dami`` runs without the extra); nothing else imports Dask;
* no import circle anywhere in ``dami_gui``;
* no private name (``from x import _y``) imported from another module;
* no module over 500 lines, no folder with more than 15 modules.

The checks read the source with :mod:`ast` (nothing is imported), so they see every import:
module-level, inside functions, under ``if TYPE_CHECKING``. Each check is a function of a source
tree, so that the tests at the end can feed it a small bad tree and see it report.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import dami_gui

PACKAGE = Path(dami_gui.__file__).parent
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "superqt")
DASK = ("dask", "distributed", "pyarrow")
MAX_LINES = 500
MAX_MODULES_PER_FOLDER = 15


# ------------------------------------------------------------------------------- the checker


@dataclass(frozen=True)
class Import:
    """One imported name: ``source`` imports ``target`` (a module, or a name from ``module``)."""

    source: str  # the importing module, e.g. "dami_gui.cli.main"
    target: str  # the imported module: "dami_gui.cli.select" for `from dami_gui.cli import select`
    module: str  # the module named in the statement: "dami_gui.cli" in the example above
    name: str | None  # the name taken from it with `from ... import name`, else None
    line: int
    in_function: bool  # inside a def (imported when called), not when the module loads

    def where(self, tree: Tree) -> str:
        return f"{tree.files[self.source].relative_to(tree.root.parent)}:{self.line}"


class Tree:
    """The modules of the package at ``root`` (named after the folder) and their imports."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, Path] = {}
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            self.files[".".join(parts)] = path
        self.imports = [i for module in self.files for i in self._imports_of(module)]

    def is_package(self, module: str) -> bool:
        return self.files[module].name == "__init__.py"

    def _imports_of(self, module: str) -> Iterator[Import]:
        tree = ast.parse(self.files[module].read_text(encoding="utf-8"))
        package = module if self.is_package(module) else module.rpartition(".")[0]
        for node, in_function in _walk(tree, False):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = self._known(alias.name)
                    yield Import(module, target, alias.name, None, node.lineno, in_function)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, node.module] if node.module else parts)
                for alias in node.names:
                    # `from pkg import mod` imports the module pkg.mod when there is one
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in self.files else self._known(base)
                    yield Import(module, target, base, alias.name, node.lineno, in_function)

    def _known(self, name: str) -> str:
        """The module itself when it is in the tree (else its nearest parent that is)."""
        parts = name.split(".")
        while parts and ".".join(parts) not in self.files:
            parts.pop()
        return ".".join(parts) if parts else name


def _walk(node: ast.AST, in_function: bool) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, in_function or nested)


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_violations(tree: Tree) -> list[str]:
    """Imports across the layers that the contracts forbid."""
    top = tree.root.name
    core, app, cli = f"{top}.core", f"{top}.app", f"{top}.cli"
    dist = f"{top}.distributed"
    out = []
    for i in tree.imports:
        target = i.target
        if _under(i.source, (core,)) and _under(target, (app, cli, dist, *QT, *DASK)):
            out.append(f"{i.where(tree)}: core imports {target}")
        elif _under(i.source, (app,)) and _under(target, (cli, dist, *DASK)):
            out.append(f"{i.where(tree)}: the app imports {target}")
        elif _under(i.source, (dist,)) and _under(target, (app, cli, *QT)):
            out.append(f"{i.where(tree)}: distributed imports {target}")
        elif (
            _under(i.source, (cli,))
            and _under(target, (dist, *DASK))
            and (i.source != f"{cli}.dask_select" or not i.in_function)
        ):
            out.append(
                f"{i.where(tree)}: {i.source} imports {target} (only {cli}.dask_select may, "
                "inside a function)"
            )
        elif (
            _under(i.source, (cli,))
            and _under(target, (app,))
            and (i.source != f"{cli}.gui" or not i.in_function)
        ):
            out.append(
                f"{i.where(tree)}: {i.source} imports {target} (only {cli}.gui may, "
                "inside the function that launches the app)"
            )
    return sorted(out)


def import_cycles(tree: Tree) -> list[list[str]]:
    """One shortest circle through each group of modules that import each other."""
    graph: dict[str, set[str]] = {m: set() for m in tree.files}
    for i in tree.imports:
        if i.target in tree.files and i.target != i.source:
            graph[i.source].add(i.target)
    cycles = []
    for component in _strongly_connected(graph):
        if len(component) > 1:
            start = min(component)
            cycles.append(_shortest_cycle(graph, start, component))
    return sorted(cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on a long chain)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return components


def _shortest_cycle(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """start -> ... -> start, breadth first inside one strongly connected component."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & within):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"{start} is in no cycle")  # cannot happen in a component of 2+


def private_imports(tree: Tree) -> list[str]:
    """``from x import _y`` where x is another module (a private name is its module's own)."""
    out = []
    for i in tree.imports:
        name = i.name or ""
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        if private and i.module != i.source:
            out.append(f"{i.where(tree)}: {i.source} imports {name} from {i.module}")
    return sorted(out)


def long_modules(tree: Tree) -> list[str]:
    out = []
    for path in tree.files.values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out.append(f"{path.relative_to(tree.root.parent)}: {n} lines (at most {MAX_LINES})")
    return sorted(out)


def crowded_folders(tree: Tree) -> list[str]:
    """Folders with more than 15 modules (``__init__.py`` and ``__main__.py`` not counted)."""
    counts: dict[Path, int] = {}
    for path in tree.files.values():
        counts.setdefault(path.parent, 0)
        if path.name not in ("__init__.py", "__main__.py"):
            counts[path.parent] += 1
    return [
        f"{folder.relative_to(tree.root.parent)}/: {n} modules (at most {MAX_MODULES_PER_FOLDER})"
        for folder, n in sorted(counts.items())
        if n > MAX_MODULES_PER_FOLDER
    ]


# ------------------------------------------------------------------------- the real package


@pytest.fixture(scope="module")
def package() -> Tree:
    return Tree(PACKAGE)


def test_layers_core_app_cli(package):
    assert layer_violations(package) == []


def test_no_import_circles(package):
    assert [" -> ".join(cycle) for cycle in import_cycles(package)] == []


def test_no_private_name_is_imported_from_another_module(package):
    assert private_imports(package) == []


def test_no_module_is_over_500_lines(package):
    assert long_modules(package) == []


def test_no_folder_has_more_than_15_modules(package):
    assert crowded_folders(package) == []


def test_importing_core_and_cli_loads_no_qt():
    code = (
        "import importlib, pkgutil, sys, dami_gui.core, dami_gui.cli.main\n"
        "for m in pkgutil.walk_packages(dami_gui.core.__path__, 'dami_gui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "dami_gui.cli.main.build_parser()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'dami_gui.app'))]\n"
        "bad += [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------- each check can fail: small bad trees


def make_tree(root: Path, files: dict[str, str]) -> Tree:
    """A package ``pkg`` under ``root`` with ``files`` (path -> source); __init__s added."""
    for name, source in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in [path.parent, *path.parent.parents]:
            if folder == root:
                break
            (folder / "__init__.py").touch()
        path.write_text(source, encoding="utf-8")
    return Tree(root / "pkg")


def test_the_checker_resolves_relative_and_from_package_imports(tmp_path):
    tree = make_tree(
        tmp_path,
        {
            "core/a.py": "from . import b\nfrom .b import f\nfrom .. import core\n",
            "core/b.py": "def f():\n    from pkg.core.sub import c\n",
            "core/sub/c.py": "import pkg.core.a as a, numpy.linalg\n",
            "core/sub/__init__.py": "from .c import *\nfrom ...core import sub\n",
        },
    )
    found = {(i.source, i.target, i.in_function) for i in tree.imports}
    assert found == {
        ("pkg.core.a", "pkg.core.b", False),  # from . import b: the module
        ("pkg.core.a", "pkg.core", False),
        ("pkg.core.b", "pkg.core.sub.c", True),  # function-level, from-package of a module
        ("pkg.core.sub.c", "pkg.core.a", False),
        ("pkg.core.sub.c", "numpy.linalg", False),
        ("pkg.core.sub", "pkg.core.sub.c", False),
        ("pkg.core.sub", "pkg.core.sub", False),  # `from ...core import sub` in sub itself
    }


def test_the_layer_check_reports_each_forbidden_import(tmp_path):
    tree = make_tree(
        tmp_path,
        {
            "core/model.py": "import PySide6.QtCore\nfrom ..app import window\n",
            "core/fine.py": "import numpy\nfrom pkg.core import model\n",
            "core/late.py": "def f():\n    from pyqtgraph import PlotWidget\n    import pkg.cli\n",
            "app/window.py": "from pkg.cli.main import main\nfrom pkg.core import model\n",
            "cli/main.py": "from pkg.app import window\n",
            "cli/gui.py": "import pkg.app.window\ndef launch():\n    from pkg.app import window\n",
            "core/engine.py": "import dask\ndef f():\n    from pkg.distributed import engine\n",
            "app/big.py": "def f():\n    import distributed\n",
            "distributed/engine.py": "import dask\nfrom pkg.core import m\nimport pkg.cli.main\n",
            "cli/select.py": "import pkg.distributed.engine\n",
            "cli/dask_select.py": "import dask\ndef run():\n    from pkg.distributed import e\n",
        },
    )
    assert layer_violations(tree) == [
        "pkg/app/big.py:2: the app imports distributed",
        "pkg/app/window.py:1: the app imports pkg.cli.main",
        "pkg/cli/dask_select.py:1: pkg.cli.dask_select imports dask (only "
        "pkg.cli.dask_select may, inside a function)",
        "pkg/cli/gui.py:1: pkg.cli.gui imports pkg.app.window (only pkg.cli.gui may, inside "
        "the function that launches the app)",
        "pkg/cli/main.py:1: pkg.cli.main imports pkg.app.window (only pkg.cli.gui may, inside "
        "the function that launches the app)",
        "pkg/cli/select.py:1: pkg.cli.select imports pkg.distributed.engine (only "
        "pkg.cli.dask_select may, inside a function)",
        "pkg/core/engine.py:1: core imports dask",
        "pkg/core/engine.py:3: core imports pkg.distributed.engine",
        "pkg/core/late.py:2: core imports pyqtgraph",
        "pkg/core/late.py:3: core imports pkg.cli",
        "pkg/core/model.py:1: core imports PySide6.QtCore",
        "pkg/core/model.py:2: core imports pkg.app.window",
        "pkg/distributed/engine.py:3: distributed imports pkg.cli.main",
    ]


def test_the_cycle_check_reports_each_circle_with_its_path(tmp_path):
    tree = make_tree(
        tmp_path,
        {
            "a.py": "from pkg import b\n",
            "b.py": "def f():\n    from pkg.c import g\n",  # function-level closes the circle
            "c.py": "import pkg.a\nimport pkg.d\n",
            "d.py": "from . import e\n",
            "e.py": "from .d import x\n",
            "f.py": "import pkg.a\nimport pkg.f\n",  # importing itself is no circle
        },
    )
    assert import_cycles(tree) == [
        ["pkg.a", "pkg.b", "pkg.c", "pkg.a"],
        ["pkg.d", "pkg.e", "pkg.d"],
    ]
    assert import_cycles(make_tree(tmp_path / "ok", {"a.py": "import pkg.b\n", "b.py": ""})) == []


def test_the_private_check_reports_names_taken_from_another_module(tmp_path):
    tree = make_tree(
        tmp_path,
        {
            "a.py": "from pkg.b import _hidden, public\nfrom . import _c\n",
            "b.py": "from pkg.b import _self\nfrom os import __file__\n_hidden = public = 1\n",
            "_c.py": "def f():\n    from pkg.b import (\n        x,\n        _y,\n    )\n",
        },
    )
    assert private_imports(tree) == [
        "pkg/_c.py:2: pkg._c imports _y from pkg.b",
        "pkg/a.py:1: pkg.a imports _hidden from pkg.b",
        "pkg/a.py:2: pkg.a imports _c from pkg",
    ]


def test_the_size_checks_report_long_modules_and_crowded_folders(tmp_path):
    files = {f"big/m{i}.py": "" for i in range(16)}
    files["small/long.py"] = "x = 1\n" * 501
    files["small/ok.py"] = "x = 1\n" * 500
    files["big/__main__.py"] = ""
    tree = make_tree(tmp_path, files)
    assert long_modules(tree) == ["pkg/small/long.py: 501 lines (at most 500)"]
    assert crowded_folders(tree) == ["pkg/big/: 16 modules (at most 15)"]
