"""The main window's parts (the workshop, presentation mode and the rest of desktop_app/ui) use the window
through its public surface (``window_host.WindowHost``) and never import its module, not even inside a
function or for type checking: the window imports them, so the other way round would be a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "desktop_app" / "ui"


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(path, node.module, node.level)
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def _absolute(path: Path, module: str | None, level: int) -> str:
    """The module of ``from <level dots><module> import …`` in ``path``."""
    if level == 0:
        return module or ""
    package = ["desktop_app", "ui", *path.relative_to(UI).parent.parts]
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, module] if module else base)


def test_no_part_of_the_ui_imports_the_main_window():
    offenders = [
        path.relative_to(UI).as_posix()
        for path in sorted(UI.rglob("*.py"))
        if path.name != "main_window.py" and "desktop_app.ui.main_window" in _imported(path)
    ]
    assert offenders == []


def test_presentation_mode_does_not_import_the_workshop():
    assert "desktop_app.ui.workshop" not in _imported(UI / "presentation.py")


def test_the_window_s_surface_imports_none_of_its_users():
    users = {"desktop_app.ui.main_window", "desktop_app.ui.workshop", "desktop_app.ui.presentation"}
    assert not _imported(UI / "window_host.py") & users
