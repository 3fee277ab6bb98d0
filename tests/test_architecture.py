"""Core never depends on Qt or the app; the CLI imports the app only to launch it."""

import ast
import subprocess
import sys
from pathlib import Path

import dami_gui

PACKAGE = Path(dami_gui.__file__).parent
FORBIDDEN_IN_CORE = (
    "PySide6",
    "PyQt5",
    "PyQt6",
    "shiboken6",
    "pyqtgraph",
    "superqt",
    "dami_gui.app",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    package = "dami_gui." + ".".join(path.relative_to(PACKAGE).parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rstrip(".").split(".")
                base = base[: len(base) - node.level + 1]
                names.add(".".join([*base, node.module] if node.module else base))
            else:
                names.add(node.module or "")
    return names


def test_no_core_module_imports_qt_or_the_app():
    offenders = {}
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        bad = [m for m in imported_modules(path) if m.startswith(FORBIDDEN_IN_CORE)]
        if bad:
            offenders[str(path.relative_to(PACKAGE))] = bad
    assert offenders == {}


def test_the_check_sees_relative_imports_of_the_app(tmp_path):
    fake = PACKAGE / "core" / "strategies" / "base.py"
    assert "dami_gui.core.strategies" not in imported_modules(fake)
    assert "dami_gui.core.interpret" in imported_modules(fake)


def test_importing_core_and_cli_loads_no_qt():
    code = (
        "import importlib, pkgutil, sys, dami_gui.core, dami_gui.cli.main\n"
        "for m in pkgutil.walk_packages(dami_gui.core.__path__, 'dami_gui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "dami_gui.cli.main.build_parser()\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'dami_gui.app'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
