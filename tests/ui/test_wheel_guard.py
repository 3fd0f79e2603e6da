"""The mouse wheel over the Sampling dock scrolls the dock and leaves its controls alone (it changed Max
length from 40 to 36 on the way down), unless the control was chosen first."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow


def wheel(widget, steps: int = -1) -> None:
    """``steps`` notches of the wheel over the middle of ``widget`` (negative: down)."""
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, 120 * steps),
        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_sampling_dock_and_leaves_max_length_alone(qtbot):
    services = Services.open()
    try:
        window = MainWindow(services, current=None)
        qtbot.addWidget(window)
        window.resize(1440, 900)
        window.show()
        qtbot.waitExposed(window)
        window.resizeDocks([window.docks["sampling"]], [260], Qt.Vertical)  # short: the dock scrolls
        panel = window.sampling
        spin, slider = panel.max_tokens_spin, panel.temperature.slider
        area = next(a for a in panel.findChildren(QScrollArea) if a.isAncestorOf(spin))
        qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0, timeout=2000)
        bar = area.verticalScrollBar()
        bar.setValue(0)
        before, temperature = spin.value(), slider.value()
        window.chat.input.setFocus()
        wheel(spin)
        wheel(slider)
        assert spin.value() == before and slider.value() == temperature
        assert bar.value() > 0  # the dock scrolled instead
        assert spin.focusPolicy() == Qt.StrongFocus  # the wheel alone does not choose it

        spin.setFocus()  # chosen: now it takes the wheel
        qtbot.waitUntil(spin.hasFocus, timeout=1000)
        wheel(spin)
        assert spin.value() == before - 1
        window.close()
    finally:
        services.close()
