"""The chat's selected token: the token whose step the chart shows, marked in its reply, white on dark navy.

The mark is one of the view's extra selections, drawn over the laid-out text: moving it changes no
message's HTML and lays nothing out again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QTextEdit

from desktop_app.ui.widgets.chat_html import SELECTED_COLOUR, SELECTED_TEXT

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTextBrowser

    from desktop_app.core.conversation.shown import ChatMessage, ShownToken


def same_range(a: QTextCursor, b: QTextCursor) -> bool:
    return (a.selectionStart(), a.selectionEnd()) == (b.selectionStart(), b.selectionEnd())


class ChatSelection:
    """The chat pane's token mark (a part of :class:`~desktop_app.ui.widgets.chat.ChatPane`, whose state
    it reads and keeps)."""

    if TYPE_CHECKING:  # what the pane has (its __init__ says what each is)
        messages: list[ChatMessage]
        view: QTextBrowser
        _tail_pos: int | None
        _selected: tuple[int, int, ShownToken] | None
        _mark: QTextCursor | None
        _marked: bool
        marks: int

        @property
        def _full_dirty(self) -> bool: ...

    def select_token(self, message_index: int, token_index: int) -> None:
        """Mark this token as the one whose step is shown; a token marked before loses its mark."""
        m = self.messages[message_index] if 0 <= message_index < len(self.messages) else None
        if m is None or not 0 <= token_index < len(m.tokens):
            self.clear_selection()
            return
        self._selected = (message_index, token_index, m.tokens[token_index])
        if not self._full_dirty:  # else the coming layout draws it
            self._show_selection()

    def clear_selection(self) -> None:
        """No token is selected (its reply changed, or no step is shown): the mark goes."""
        if self._selected is not None:
            self._selected = None
            if not self._full_dirty:
                self._show_selection()

    def selected(self) -> tuple[int, int] | None:
        """(message index, token index) of the selected token, or None."""
        return None if self._selected is None else self._selected[:2]

    def marked_text(self) -> str:
        """The text the mark is drawn on ("" when none is drawn)."""
        return self._mark.selectedText() if self._marked and self._mark is not None else ""

    def _show_selection(self) -> None:
        """Draw the mark where the selected token is in the document now (after a layout, or a move);
        only the message it is in is searched, and nothing is laid out."""
        sel = self._selected
        old, self._mark = self._mark, self._token_cursor(sel[0], sel[1]) if sel is not None else None
        if self._mark is None and not self._marked:
            return
        if self._marked and self._mark is not None and old is not None and same_range(old, self._mark):
            return  # (the mark drawn is there already: messages were added after it)
        marks = []
        if self._mark is not None:
            # (A background and a text colour: a text selection's look, drawn over the token's tint. An
            # outline pen is drawn under the tints of the tokens around, and lost.)
            mark = QTextEdit.ExtraSelection()
            mark.cursor = self._mark
            mark.format.setBackground(QColor(SELECTED_COLOUR))
            mark.format.setForeground(QColor(SELECTED_TEXT))
            marks.append(mark)
        self.view.setExtraSelections(marks)
        self._marked = bool(marks)
        self.marks += 1

    def _token_cursor(self, mi: int, k: int) -> QTextCursor | None:
        """Token ``k`` of message ``mi`` in the document, selected (None when it is not shown as one)."""
        if self._tail_pos is None or not self.messages:
            return None
        doc = self.view.document()
        frames = doc.rootFrame().childFrames()  # a table each message
        if len(frames) == len(self.messages):
            start, end = frames[mi].firstPosition(), frames[mi].lastPosition()
        else:
            start, end = 0, doc.characterCount()
        href = f"t:{mi}:{k}"
        lo = hi = None
        block = doc.findBlock(start)
        while block.isValid() and block.position() <= end:
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().anchorHref() == href:
                    lo = fragment.position() if lo is None else lo
                    hi = fragment.position() + fragment.length()
                elif lo is not None:
                    break
                it += 1
            if lo is not None and not it.atEnd():
                break
            block = block.next()
        if lo is None or hi is None:  # (hi is set with lo)
            return None
        if hi - lo > 1 and doc.characterAt(lo) == "\u00a0":  # the space before [END …] stays outside
            lo += 1
        cursor = QTextCursor(doc)
        cursor.setPosition(lo)
        cursor.setPosition(hi, QTextCursor.MoveMode.KeepAnchor)
        return cursor
