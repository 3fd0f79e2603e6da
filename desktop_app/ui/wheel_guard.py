"""The mouse wheel scrolls what it is over, and changes a control only once the control is chosen.

Scrolling down the Sampling dock with the wheel changed every spin box, slider and drop-down that passed
under the pointer (Max length 40 → 36 on the way to the end-of-reply controls). Here a spin box, a
slider or a drop-down takes the wheel only when it has the keyboard focus (clicked or tabbed to first);
otherwise the wheel scrolls the dock or list around it, as in a web page's form.

The guard sits on the controls alone. The application's style (:class:`GuardStyle`, a proxy of the style
the application had) puts it on each control as the control is polished, once, before it is first shown.
An event filter on the whole application would see every event of every widget, each one converted for
Python: while a reply streams that was a fifth of the window's CPU, taken from llama.cpp's threads.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QProxyStyle,
    QScrollBar,
    QWidget,
)

_CONTROLS = (QAbstractSpinBox, QAbstractSlider, QComboBox)


def _control(obj: object) -> QWidget | None:
    """OBJ as a control that the guard holds back (a scroll bar is none: it scrolls its own area)."""
    if isinstance(obj, _CONTROLS) and not isinstance(obj, QScrollBar):
        return obj
    return None


class WheelGuard(QObject):
    """The event filter on each control (see the module's docstring); :meth:`install` sets it up."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel:
            return False
        control = _control(obj)
        if control is None or control.hasFocus():
            return False
        area = _scroll_area_around(control)
        if area is not None:
            QCoreApplication.sendEvent(area.verticalScrollBar(), event)
        return True  # the value stays as it is

    def guard(self, widget: QWidget) -> None:
        control = _control(widget)
        if control is None:
            return
        if control.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone does not choose a control
        control.installEventFilter(self)  # once, however often it is polished (Qt keeps one of each)

    @classmethod
    def install(cls, app: QApplication) -> WheelGuard:
        """The application's guard, set up once (controls already shown are polished again)."""
        style = app.style()
        if isinstance(style, GuardStyle):
            return style.wheel_guard
        guard = cls(app)
        guard.setObjectName("wheel-guard")
        app.setStyle(GuardStyle(style.name(), guard))
        return guard


class GuardStyle(QProxyStyle):
    """The application's style, unchanged, that guards each control it polishes."""

    def __init__(self, base: str, guard: WheelGuard) -> None:
        super().__init__(base)
        self.wheel_guard = guard

    def polish(self, target):  # QStyle has three: a widget, the application, a palette
        if isinstance(target, QWidget):
            self.wheel_guard.guard(target)
        return super().polish(target)


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and not isinstance(parent, _CONTROLS):
            return parent
        parent = parent.parentWidget()
    return None
