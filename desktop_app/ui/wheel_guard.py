"""The mouse wheel scrolls what it is over, and changes a control only once the control is chosen.

Scrolling down the Sampling dock with the wheel changed every spin box, slider and drop-down that passed
under the pointer (Max length 40 → 36 on the way to the end-of-reply controls). Here a spin box, a
slider or a drop-down takes the wheel only when it has the keyboard focus (clicked or tabbed to first);
otherwise the wheel scrolls the dock or list around it, as in a web page's form.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QScrollBar,
    QWidget,
)

_CONTROLS = (QAbstractSpinBox, QAbstractSlider, QComboBox)


def _control(obj: QObject) -> QWidget | None:
    """OBJ as a control that the guard holds back (a scroll bar is none: it scrolls its own area)."""
    if isinstance(obj, _CONTROLS) and not isinstance(obj, QScrollBar):
        return obj
    return None


class WheelGuard(QObject):
    """Install on the application (:meth:`install`): controls take the wheel only when focused."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        control = _control(obj)
        if control is None:
            return False
        kind = event.type()
        wheel_focus = kind == QEvent.Type.Polish and control.focusPolicy() == Qt.FocusPolicy.WheelFocus
        if wheel_focus:
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone does not choose a control
        elif kind == QEvent.Type.Wheel and not control.hasFocus():
            area = _scroll_area_around(control)
            if area is not None:
                QCoreApplication.sendEvent(area.verticalScrollBar(), event)
            return True  # the value stays as it is
        return False

    @classmethod
    def install(cls, app: QCoreApplication) -> WheelGuard:
        """The application's guard, installed once (before the controls it guards are shown)."""
        guard = app.findChild(cls, "wheel-guard")
        if guard is None:
            guard = cls(app)
            guard.setObjectName("wheel-guard")
            app.installEventFilter(guard)
        return guard


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and not isinstance(parent, _CONTROLS):
            return parent
        parent = parent.parentWidget()
    return None
