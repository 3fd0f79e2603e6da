"""The template inspector's prompt views: read-only text views with tooltips, and the looks of the prompt's
pieces (the template, a special token, a message of each role; what is new this turn underlined, what the
cache holds faded).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QHelpEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextOption,
)
from PySide6.QtWidgets import QTextEdit, QToolTip, QWidget

TOKEN_INDEX = QTextFormat.Property.UserProperty + 1  # char-format property: the token's index in the prompt

TEXT = "#1f2328"
TEMPLATE_FG = "#656d76"
SPECIAL_FG = "#7c2bd6"
NEW_MARK = "#e8590c"
# Backgrounds: (shade A, shade B); the prompt view uses A, the token view alternates A and B per token.
SHADES = {
    "template": ("#eef1f4", "#dde2e8"),
    "special": ("#f1e7fe", "#e0cafc"),
    "system": ("#fff1c7", "#fde28e"),
    "user": ("#dcecff", "#bcd8fd"),
    "assistant": ("#d7f5e0", "#b3e8c3"),
    "other": ("#f6e3ee", "#ecc6dc"),
}
# How far text the cache already holds is blended toward white while "what's new" is on: enough to see the
# boundary, little enough that the history stays readable (the model does read all of it).
FADE_TEXT, FADE_BACKGROUND = 0.35, 0.45


def blend(color: str, amount: float) -> QColor:
    c = QColor(color)
    return QColor(*(round(v + (255 - v) * amount) for v in (c.red(), c.green(), c.blue())))


def tip_html(*lines: str) -> str:
    return "<qt>" + "<br>".join(lines) + "</qt>"


def span_format(kind: str, role: str | None, shade: int, is_new: bool | None) -> QTextCharFormat:
    """The look of a piece of the prompt: its kind (and its message's role), shade A or B, and whether it
    is new this turn (None: no previous turn to compare with)."""
    fmt = QTextCharFormat()
    if kind == "content":
        bg, fg = SHADES.get(role or "", SHADES["other"])[shade], TEXT
    else:
        bg, fg = SHADES[kind][shade], TEMPLATE_FG if kind == "template" else SPECIAL_FG
    if kind == "special":
        fmt.setFontWeight(QFont.Weight.DemiBold)
    if is_new is False:
        fmt.setForeground(blend(fg, FADE_TEXT))
        fmt.setBackground(blend(bg, FADE_BACKGROUND))
    else:
        fmt.setForeground(QColor(fg))
        fmt.setBackground(QColor(bg))
    if is_new:
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
        fmt.setUnderlineColor(QColor(NEW_MARK))
    return fmt


class TextView(QTextEdit):
    """A read-only text view that shows each fragment's tooltip (QTextEdit does not by itself)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setStyleSheet(f"QTextEdit {{ background: white; color: {TEXT}; }}")

    def format_at(self, position: int) -> QTextCharFormat:
        """The char format of the character at a document position."""
        block = self.document().findBlock(position)
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.contains(position):
                return fragment.charFormat()
            it += 1
        return block.charFormat()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            point = QPointF(event.pos()) + QPointF(
                self.horizontalScrollBar().value(), self.verticalScrollBar().value()
            )
            position = self.document().documentLayout().hitTest(point, Qt.HitTestAccuracy.ExactHit)
            tip = self.format_at(position).toolTip() if position >= 0 else ""
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)


def new_document(view: TextView) -> tuple[QTextDocument, QTextCursor]:
    """An empty document for ``view``, in its font, wrapping anywhere, and a cursor to write it."""
    document = QTextDocument(view)  # a child of the view: replacing it deletes the old one
    document.setUndoRedoEnabled(False)
    document.setDefaultFont(view.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    document.setDefaultTextOption(option)
    return document, QTextCursor(document)


def reveal(view: TextView, position: int) -> None:
    """Show the text from ``position`` (what is new this turn), with the prompt's beginning (the system
    line) above it when both fit the view."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(min(position, view.document().characterCount() - 1))
    view.setTextCursor(cursor)
    bar = view.verticalScrollBar()
    bar.setValue(0)
    if view.cursorRect().bottom() >= view.viewport().height():
        view.ensureCursorVisible()
