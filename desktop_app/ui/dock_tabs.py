"""Hide the stray tab bars Qt leaves in a main window with tabbed docks.

When a second group of tabbed docks is made (``tabifyDockWidget``), QMainWindow (Qt 6.11) creates two tab
bars for it and lays out only one; the other stays visible where the group first was, drawn over the
chat with a tab title cut off at its edge (a known Qt quirk: "a QTabBar lost on its way"). A tab bar that
serves a group sits against the edge of that group's current dock; any other visible tab bar of the
window is a stray and is hidden. Qt shows a tab bar again itself when it reuses it for a group.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

_SLACK = 2  # pixels


def _against(bar: QRect, dock: QRect, shape: QTabBar.Shape) -> bool:
    """Whether the tab bar ``bar`` sits on the side of ``dock`` its shape puts it."""
    S = QTabBar.Shape
    if shape in (S.RoundedSouth, S.TriangularSouth):
        return abs(bar.top() - (dock.bottom() + 1)) <= _SLACK and abs(bar.left() - dock.left()) <= _SLACK
    if shape in (S.RoundedNorth, S.TriangularNorth):
        return abs(dock.top() - (bar.bottom() + 1)) <= _SLACK and abs(bar.left() - dock.left()) <= _SLACK
    if shape in (S.RoundedWest, S.TriangularWest):
        return abs(dock.left() - (bar.right() + 1)) <= _SLACK and abs(bar.top() - dock.top()) <= _SLACK
    return abs(bar.left() - (dock.right() + 1)) <= _SLACK and abs(bar.top() - dock.top()) <= _SLACK


def stray_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """The window's visible dock tab bars that no docked group uses."""
    docks = [
        d
        for d in window.findChildren(QDockWidget)
        if not d.isFloating() and d.isVisibleTo(window) and d.parentWidget() is window
    ]
    stray = []
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if not bar.isVisibleTo(window):
            continue
        titles = {bar.tabText(i) for i in range(bar.count())}
        serves = any(
            d.windowTitle() in titles and _against(bar.geometry(), d.geometry(), bar.shape()) for d in docks
        )
        if not serves:
            stray.append(bar)
    return stray


def hide_stray_tab_bars(window: QMainWindow) -> int:
    """Hide :func:`stray_tab_bars` (call it once the window's layout is done); returns how many."""
    stray = stray_tab_bars(window)
    for bar in stray:
        bar.hide()
    return len(stray)
