"""No stray tab bar over the window: Qt leaves an unused one for the second group of tabbed docks."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QTabBar

from desktop_app.core.services import Services
from desktop_app.ui.dock_tabs import hide_stray_tab_bars, stray_tab_bars
from desktop_app.ui.main_window import MainWindow


def visible_bars(window: QMainWindow) -> list[QTabBar]:
    bars = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    return [
        b
        for b in bars
        if b.isVisibleTo(window) and QRect(0, 0, window.width(), window.height()).intersects(b.geometry())
    ]


def test_qt_leaves_a_stray_tab_bar_and_it_is_found(qtbot):
    window = QMainWindow()
    window.setCentralWidget(QLabel("centre"))
    qtbot.addWidget(window)
    docks = {}
    for name, area in (("A", Qt.BottomDockWidgetArea), ("B", Qt.BottomDockWidgetArea),
                       ("C", Qt.RightDockWidgetArea), ("D", Qt.RightDockWidgetArea)):  # fmt: skip
        docks[name] = QDockWidget(name, window)
        docks[name].setWidget(QLabel(name))
        window.addDockWidget(area, docks[name])
    window.tabifyDockWidget(docks["A"], docks["B"])
    window.tabifyDockWidget(docks["C"], docks["D"])
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    assert len(visible_bars(window)) == 3  # two groups, three bars: the Qt quirk this module is for
    assert len(stray_tab_bars(window)) == 1
    assert hide_stray_tab_bars(window) == 1
    assert len(visible_bars(window)) == 2 and stray_tab_bars(window) == []


def test_the_window_shows_one_tab_bar_per_group_also_after_presentation_mode(qtbot):
    services = Services.open()
    window = MainWindow(services, current=None)
    qtbot.addWidget(window)
    try:
        window.resize(1600, 1000)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: not stray_tab_bars(window), timeout=2000)
        groups = [{b.tabText(i) for i in range(b.count())} for b in visible_bars(window)]
        assert sorted(map(sorted, groups)) == sorted(
            [
                sorted(window.docks[n].windowTitle() for n in ("template", "models", "end", "tokens")),
                sorted(window.docks[n].windowTitle() for n in ("chart", "die", "waterfall", "compare")),
            ]
        )
        central = window.centralWidget().geometry()
        assert not any(b.geometry().intersects(central) for b in visible_bars(window))
        window.workshop.presentation.set_on(True)
        window.workshop.presentation.set_on(False)
        qtbot.waitUntil(lambda: not stray_tab_bars(window), timeout=2000)
        assert len(visible_bars(window)) == 2
    finally:
        window.close()
        services.close()
