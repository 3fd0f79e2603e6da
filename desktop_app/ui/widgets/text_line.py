"""One line of text that changes many times a second (the chart's roll, a step's figures).

A QLabel asks its layout for a new geometry on every ``setText``: the layout of the whole dock is then
redone, about a millisecond each time, for a line whose height never changes. ``TextLine`` is one
line high whatever it says, elides what does not fit, and a new text only repaints it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

_PAD = 2  # pixels above and below the text
#: A die face (U+2684), in the common fonts (DejaVu Sans): the colour emoji die was an empty box on a
#: machine without an emoji font.
DIE = "\u2684"


class TextLine(QWidget):
    """A plain-text line: ``setText``/``text`` as on a QLabel, elided at the right when too long (the whole
    text is then its tooltip, unless a tooltip was set)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self._own_tooltip = ""
        self._tip = ""  # the tooltip an elided text gave itself
        self._shown_key: tuple | None = None
        self._shown = ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        # Opaque: a new text repaints this line alone, not the dock and the window behind it.
        self.setAutoFillBackground(True)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def setToolTip(self, text: str) -> None:
        self._own_tooltip = text
        super().setToolTip(text)

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance(self._text), metrics.height() + 2 * _PAD)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height() + 2 * _PAD)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            self.updateGeometry()  # the line's height follows its font

    def shown_text(self) -> str:
        """The text as it fits the line's width (elided at the right)."""
        key = (self._text, self.width(), self.font().key())
        if key != self._shown_key:
            self._shown_key = key
            self._shown = self.fontMetrics().elidedText(self._text, Qt.ElideRight, max(self.width(), 0))
        return self._shown

    def paintEvent(self, _event: QPaintEvent) -> None:
        shown = self.shown_text()
        if not self._own_tooltip:
            tip = self._text if shown != self._text else ""
            if tip != self._tip:
                self._tip = tip
                super().setToolTip(tip)
        painter = QPainter(self)
        try:
            painter.setPen(self.palette().color(QPalette.WindowText))
            painter.drawText(self.rect(), Qt.AlignLeft | Qt.AlignVCenter | Qt.TextSingleLine, shown)
        finally:
            painter.end()  # now, not when Python lets go of it
