"""The mouse wheel over the Sampling dock scrolls the dock and leaves its controls alone (it changed Max
length from 40 to 36 on the way down), unless the control was chosen first."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
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


@pytest.fixture
def window(qtbot):
    """The main window, shown at 1440×900."""
    services = Services.open()
    try:
        window = MainWindow(services, current=None)
        qtbot.addWidget(window)
        window.resize(1440, 900)
        window.show()
        qtbot.waitExposed(window)
        yield window
        window.close()
    finally:
        services.close()


def test_the_wheel_scrolls_the_sampling_dock_and_leaves_max_length_alone(qtbot, window):
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


TEARDOWN = (QEvent.Type.Destroy, QEvent.Type.DynamicPropertyChange)


def test_the_guard_sees_the_controls_events_alone(qtbot, window):
    """The guard filters the controls' events, not every event of the application: a filter on the
    application had every paint, timer and signal of a streaming reply converted for Python (a fifth of
    the window's CPU, taken from llama.cpp)."""
    from desktop_app.ui.wheel_guard import WheelGuard, _control

    seen: list[object] = []
    code = WheelGuard.eventFilter.__code__

    def calls(frame, event, _arg):  # every call of the guard's filter, from Qt or Python
        if event == "call" and frame.f_code is code:
            obj, kind = frame.f_locals["obj"], frame.f_locals["event"].type()
            if kind not in TEARDOWN:  # a control's last events come after its control part is gone
                seen.append(obj if _control(obj) is not None else (type(obj).__name__, kind))

    sys.setprofile(calls)
    try:
        window.repaint()  # every widget of the window paints
        window.chat.input.setPlainText("a question")  # a text, its signals, a cursor's timer
        qtbot.wait(100)
        assert all(_control(obj) is not None for obj in seen), [o for o in seen if isinstance(o, tuple)]
        wheel(window.sampling.max_tokens_spin)
    finally:
        sys.setprofile(None)
    assert window.sampling.max_tokens_spin in seen  # the guard still sees what it guards
