"""One line of text that changes many times a second (the chart's roll, a step's figures).

A QLabel asks its layout for a new geometry on every ``setText``: the layout of the whole dock is then
redone, about a millisecond each time, for a line whose height never changes. ``TextLine`` is one
line high whatever it says (or a set number of lines, :meth:`TextLine.set_max_lines`: large print
wraps instead of being cut), elides what does not fit, and a new text only repaints it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPaintEvent, QPalette
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
        self._lines = 1
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
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

    def max_lines(self) -> int:
        return self._lines

    def set_max_lines(self, lines: int) -> None:
        """Be ``lines`` lines high: a text too long for one wraps at word boundaries (the last line
        elided), at the cost of that height even for a short text."""
        lines = max(1, int(lines))
        if lines != self._lines:
            self._lines = lines
            self._shown_key = None
            self.updateGeometry()
            self.update()

    def _height(self) -> int:
        metrics = self.fontMetrics()
        return metrics.height() + (self._lines - 1) * metrics.lineSpacing() + 2 * _PAD

    def sizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance(self._text), self._height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()  # the line's height follows its font

    def shown_text(self) -> str:
        """The text as it fits the width (elided at the right), its lines joined by newlines."""
        key = (self._text, self.width(), self.font().key(), self._lines)
        if key != self._shown_key:
            self._shown_key = key
            self._shown = "\n".join(
                _wrapped(self.fontMetrics(), self._text, max(self.width(), 0), self._lines)
            )
        return self._shown

    def paintEvent(self, _event: QPaintEvent) -> None:
        shown = self.shown_text()
        if not self._own_tooltip:
            tip = self._text if shown.replace("\n", " ") != self._text.replace("\n", " ") else ""
            if tip != self._tip:
                self._tip = tip
                super().setToolTip(tip)
        painter = QPainter(self)
        try:
            painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)
        finally:
            painter.end()  # now, not when Python lets go of it


def _wrapped(metrics: QFontMetrics, text: str, width: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width`` pixels, broken after spaces, the last one elided."""
    text = text.replace("\n", " ")
    out: list[str] = []
    rest = text
    while len(out) < lines - 1 and metrics.horizontalAdvance(rest) > width:
        cut = len(rest)
        while cut > 0 and metrics.horizontalAdvance(rest[:cut]) > width:
            cut = rest.rfind(" ", 0, cut)
        if cut <= 0:  # one word wider than the line: elided where it stands
            break
        out.append(rest[:cut])
        rest = rest[cut + 1 :]
    out.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return out
