"""Laying the chat's conversation out in its view, at the next frame and only as much as changed.

While a reply streams, only its new tokens go into the document, at display rate; a finished reply is
completed where it is; new messages are added after the ones laid out. The whole conversation is laid out
again only when what it reads as before the last message changed, so a long conversation (or a pasted
megabyte) is laid out once, not once per token. Each message's HTML is kept with what it was made from.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QTextCharFormat, QTextCursor, QTextDocument

from desktop_app.core.conversation.shown import ChatMessage, ShownToken
from desktop_app.core.engine.thinking import split_thinking
from desktop_app.ui.widgets.chat_html import (
    HEADS,
    KEEP_SPACES,
    ROLE_COLOURS,
    STOPS,
    STREAM_MARK,
    THINKING_COLOUR,
    WRITTEN_COLOUR,
    WRITTEN_NOTE,
    markdown_html,
    plain_html,
    token_format,
    token_html,
    token_look,
    translate,
)
from desktop_app.ui.widgets.frames import FrameClock

if TYPE_CHECKING:
    from PySide6.QtWidgets import QCheckBox, QTextBrowser


class ChatLayout:
    """The chat pane's layout of its messages (a part of :class:`~desktop_app.ui.widgets.chat.ChatPane`,
    whose state it reads and keeps)."""

    if TYPE_CHECKING:  # what the pane has (its __init__ says what each is)
        messages: list[ChatMessage]
        view: QTextBrowser
        show_tokens: QCheckBox
        _full: bool
        _tail: bool
        _tail_pos: int | None
        _drawn: tuple[int, list[tuple], tuple[bool, bool, bool]] | None
        _editing: int | None
        _head_html: list[str] | None
        _tail_html: str | None
        _html_of: dict[int, tuple[tuple, str, tuple]]
        _selected: tuple[int, int, ShownToken] | None
        _marked: bool
        _unfolded: set[int]
        renders: int
        tail_renders: int
        finished_in_place: int
        appends: int

        def welcome_html(self) -> str: ...
        def _update_regen(self) -> None: ...
        def _show_selection(self) -> None: ...

    # What changed is laid out at the next frame of the app's frame clock, with the other views: many
    # tokens, one re-render.
    @property
    def _full_dirty(self) -> bool:
        """The whole conversation is to be laid out again."""
        return self._full

    @_full_dirty.setter
    def _full_dirty(self, value: bool) -> None:
        self._full = value
        if value:
            FrameClock.shared().request(self._render_if_dirty, second=True)

    @property
    def _tail_dirty(self) -> bool:
        """The streaming reply got tokens."""
        return self._tail

    @_tail_dirty.setter
    def _tail_dirty(self, value: bool) -> None:
        self._tail = value
        if value:
            FrameClock.shared().request(self._render_if_dirty, second=True)

    def _render_if_dirty(self) -> None:
        if self._full_dirty:
            self.render_now()
        elif self._tail_dirty:
            self._render_tail()

    def render_all(self) -> None:
        """Lay out the whole conversation again, now, whatever changed."""
        self._head_html = None
        self.render_now()

    def render_now(self) -> None:
        """Lay out the conversation now: all of it, or only what changed when the messages before would
        read the same: the last message alone (a reply that finished, a stop note), or the messages added
        after the last one laid out (a new question and its reply). Laying out a long conversation again
        held the window 60 ms after two replies, and more with every reply."""
        self._full_dirty = self._tail_dirty = False
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        if not self.messages:
            self.renders += 1
            self.view.setHtml(self.welcome_html())
            self._tail_pos = self._head_html = self._tail_html = self._drawn = None
        else:
            mi = len(self.messages) - 1
            old, drawn = self._head_html, len(self._head_html or ())
            if self._drawn is not None and self._tail_pos is not None and self._drawn[0] == drawn < mi:
                # The reply drawn streaming has finished, and messages came after it before a frame drew
                # its end (a question sent at once): finish it where it is, then add the new ones.
                self._finish_in_place(drawn)
            heads = [self.message_html(i) for i in range(mi)]
            if self._tail_pos is not None and heads == old:
                self._replace_tail(mi)
            elif (
                self._tail_pos is not None
                and old is not None
                and mi > drawn
                and heads[:drawn] == old
                and heads[drawn] == self._tail_html
            ):
                self._append(heads, mi)
            else:
                self.renders += 1
                self.view.setHtml("".join(heads))
                self._head_html = heads
                cursor = QTextCursor(self.view.document())
                cursor.movePosition(QTextCursor.MoveOperation.End)
                self._tail_pos = cursor.position()
                self._insert_tail(cursor, mi)
        if self._selected is not None or self._marked:
            self._show_selection()
        if at_bottom:
            bar.setValue(bar.maximum())
        self._update_regen()

    def _insert_tail(self, cursor: QTextCursor, mi: int) -> None:
        """Insert message ``mi``, the last, at ``cursor`` from its HTML."""
        html_text = self.message_html(mi)
        cursor.insertHtml(html_text)
        self._drawn = self._drawing_of(mi)
        self._tail_html = None if self._drawn is not None else html_text

    def _append(self, heads: list[str], mi: int) -> None:
        """The messages laid out are all still there and read the same (the last of them included):
        add those after them (``heads`` from the first new one on), then the new last message."""
        self.appends += 1
        assert self._head_html is not None  # (render_now appends only after messages it laid out)
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        for text in heads[len(self._head_html) + 1 :]:
            cursor.insertHtml(text)
        self._head_html = heads
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self._tail_pos = cursor.position()
        self._insert_tail(cursor, mi)

    def _render_tail(self) -> None:
        """The streaming reply got tokens: insert just the new ones before its cursor mark (re-laying out
        the whole reply each frame grew to 30 ms a frame on a few hundred tokens). Anything else about
        the last message changed: render it again."""
        self._tail_dirty = False
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        mi = len(self.messages) - 1
        m = self.messages[mi]
        drawn = self._drawn
        mark = self._stream_mark()
        if (
            m.streaming
            and drawn is not None
            and drawn[0] == mi
            and len(drawn[1]) <= len(m.tokens)
            and drawn[2] == self._phase(mi)  # (its thinking began or ended: laid out again, folded)
            and mark is not None
        ):
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(mark.selectionStart())

            def insert() -> None:
                # One edit: the reply's paragraph is laid out once for the frame's tokens, not once per
                # token (each insertion alone shapes the whole paragraph again).
                cursor.beginEditBlock()
                self._insert_tokens(cursor, mi, drawn[1])
                cursor.endEditBlock()

            changed_from = self._edit_at_end(cursor.position(), insert)
            self._tail_html = None
        else:
            changed_from = None
            self._replace_tail(mi)
        if self._selected is not None and self._selected[0] == mi:  # (its mark would take in new tokens)
            self._show_selection()
        if at_bottom:
            bar.setValue(bar.maximum())
        if changed_from is not None:  # after the scroll: the lines it moved are where it put them
            viewport = self.view.viewport()
            y = max(0, math.floor(changed_from) - bar.value() - 2)
            viewport.update(0, y, viewport.width(), viewport.height() - y)

    def _edit_at_end(self, pos: int, edit: Callable[[], None]) -> float | None:
        """Make ``edit``, which adds text at ``pos`` in the last message (only its end comes after), without
        the whole view repainted; returns the document's y from which the view is to be repainted (the top
        of the line before the one of ``pos``: the lines above it stay as they were), or None when Qt
        repaints what it needs itself. Qt repaints the whole view after any change inside a table, and
        each message is one: 4-6 ms a frame for a full view of text in its tinted tokens, against 0.5 ms
        for the lines that changed. The caller repaints once it has scrolled (a scroll moves what is on
        screen, not a repaint already asked for)."""
        doc = self.view.document()
        layout = doc.documentLayout()
        block = doc.findBlock(pos)
        lines = block.layout()
        line = lines.lineForTextPosition(pos - block.position()) if lines is not None else None
        if line is None or not line.isValid():  # (not laid out yet)
            edit()
            return None
        # From the line before: text added at the start of a line (after a soft wrap, or in its first
        # word) may end the line before it, or take that line's last word down.
        n = line.lineNumber()
        top = layout.blockBoundingRect(block).top() + (lines.lineAt(n - 1).y() if n > 0 else 0.0)
        layout.blockSignals(True)  # its update(): the whole view; its new size: told below
        try:
            edit()
        finally:
            layout.blockSignals(False)
        layout.documentSizeChanged.emit(layout.documentSize())  # the scroll bar's range follows
        return top

    def _drawing_of(self, mi: int) -> tuple[int, list[tuple], tuple[bool, bool, bool]] | None:
        """What :attr:`_drawn` is once message ``mi`` (the last) has just been laid out."""
        m = self.messages[mi]
        return (mi, [token_look(t) for t in m.tokens], self._phase(mi)) if m.streaming else None

    def _stream_mark(self) -> QTextCursor | None:
        """The streaming reply's mark in the document, selected (None when it has none)."""
        doc = self.view.document()
        mark = doc.find(STREAM_MARK, doc.characterCount() - 1, QTextDocument.FindFlag.FindBackward)
        assert self._tail_pos is not None  # (only a laid-out conversation has a streaming reply)
        return None if mark.isNull() or mark.selectionStart() < self._tail_pos else mark

    def _insert_tokens(self, cursor: QTextCursor, mi: int, looks: list[tuple]) -> None:
        """Insert at ``cursor`` the tokens of the streaming reply ``mi`` that the document lacks; ``looks``
        is how those it has look (:attr:`_drawn`'s), and gets the new ones'."""
        tokens = self.messages[mi].tokens
        for k in range(len(looks), len(tokens)):
            text, fmt = token_format(mi, k, tokens[k])
            if text:
                cursor.insertText(text, fmt)
            looks.append(token_look(tokens[k]))

    def _replace_tail(self, mi: int) -> None:
        """Lay out the last message (``mi``) again in place; the ones before it stay as they are."""
        self.tail_renders += 1
        if self._finish_in_place(mi):
            return
        assert self._tail_pos is not None  # (only a laid-out conversation has its last message replaced)
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(self._tail_pos)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._insert_tail(cursor, mi)

    def _finish_in_place(self, mi: int) -> bool:
        """A streamed reply that finished showing the tokens it streamed (and maybe a few more not drawn
        yet): add those, take its mark away and add its note, instead of laying all its tokens out again
        (30 ms for 256 tokens)."""
        m, drawn = self.messages[mi], self._drawn
        shown_as_tokens = m.role == "assistant" and bool(m.tokens) and self.show_tokens.isChecked()
        if m.streaming or not shown_as_tokens or drawn is None or drawn[0] != mi:
            return False
        if m.sibling_count > 1:  # a new version (regenerated, branched): its ‹ k/n › switcher goes in too
            return False
        looks = drawn[1]
        if [token_look(t) for t in m.tokens[: len(looks)]] != looks or drawn[2] != self._phase(mi):
            return False
        mark = self._stream_mark()
        if mark is None:
            return False
        # One edit, as in _render_tail: each insertion alone lays the whole reply's paragraph out again
        # (2 ms each for 256 tokens: the frame that finished a reply held the window 25-30 ms).
        mark.beginEditBlock()
        mark.removeSelectedText()
        self._insert_tokens(mark, mi, looks)
        note = self._note_html(m)
        if note:  # its own paragraph, in its own colours, as in a full layout
            mark.insertBlock(mark.blockFormat(), QTextCharFormat())
            mark.insertHtml(note)
        mark.endEditBlock()
        self._drawn = None
        self._tail_html = self.message_html(mi)  # what it now reads as, as if laid out from it
        self.finished_in_place += 1
        return True

    def conversation_html(self) -> str:
        return "".join(self.message_html(i) for i in range(len(self.messages)))

    def _note_html(self, m: ChatMessage) -> str:
        """What follows a reply: why it failed, or why it stopped ("" when it needs no word)."""
        if m.failed:
            return f'<div style="color:#c5221f">{html.escape(m.failed)}</div>'
        if m.stop_reason in STOPS:
            stop = html.escape(translate("ChatPane", STOPS[m.stop_reason]))
            return f'<div style="color:#5f6368">{stop}</div>'
        return ""

    def message_html(self, mi: int) -> str:
        """The HTML of message ``mi`` as the conversation shows it (made again only when it changed)."""
        m = self.messages[mi]
        # Its tokens are frozen: the same objects in the same order are the same tokens (the entry holds
        # them, so no other object takes one of their ids).
        tokens = tuple(m.tokens)
        made_of = (
            id(m), m.role, m.content, tuple(map(id, tokens)), m.streaming, m.stop_reason, m.failed,
            m.sibling_index, m.sibling_count, mi == self._editing, self.show_tokens.isChecked(), m.written,
            m.outside, m.thinking_opened, self.unfolded(mi),
        )  # fmt: skip
        known = self._html_of.get(mi)
        if known is not None and known[0] == made_of:
            return known[1]
        text = self._make_html(mi, m)
        self._html_of[mi] = (made_of, text, (m, tokens))
        return text

    def unfolded(self, mi: int) -> bool:
        """Whether message ``mi``'s thinking is shown whole (a click on its heading unfolds it)."""
        return _fold_key(self.messages[mi], mi) in self._unfolded

    def _phase(self, mi: int) -> tuple[bool, bool, bool]:
        """Whether reply ``mi`` thinks, whether its thinking has ended, and whether it is unfolded: a
        change lays it out again (its tokens are not just added where they go)."""
        span = self.messages[mi].thinking()
        return (span is not None, span is not None and span[2], self.unfolded(mi))

    def toggle_thinking(self, mi: int) -> None:
        if 0 <= mi < len(self.messages):
            self._unfolded ^= {_fold_key(self.messages[mi], mi)}
            self._full_dirty = True

    def _thinking_html(self, mi: int, inside: str, count: int | None, closed: bool) -> str:
        """The thinking's box: a heading that folds and unfolds it, and ``inside`` (its tokens or text)
        unless it is folded (once the answer has begun, until a click)."""
        folded = closed and not self.unfolded(mi)
        if not closed:
            title = translate("ChatPane", "Thinking…")
        elif count is None:
            title = translate("ChatPane", "Thought")
        else:
            title = translate("ChatPane", "Thought for {n} tokens").format(n=count)
        arrow = "▸" if folded else "▾"
        head = (
            f'<a href="f:{mi}" style="color:#5f6368; text-decoration:none">{arrow} {html.escape(title)}</a>'
        )
        content = "" if folded else f"<br>{inside}"
        return (
            f'<table width="100%" cellpadding="4" style="background:{THINKING_COLOUR}; margin:2px 0px">'
            f'<tr><td style="color:#5f6368">{head}{content}</td></tr></table>'
        )

    def _make_html(self, mi: int, m: ChatMessage) -> str:
        head = html.escape(translate("ChatPane", HEADS[m.role]) if m.role in HEADS else m.role)
        links = []
        if m.sibling_count > 1:
            where = f"{m.sibling_index + 1}/{m.sibling_count}"
            links.append(
                f'<a href="s:{mi}:-1" style="text-decoration:none">‹</a> {where} '
                f'<a href="s:{mi}:1" style="text-decoration:none">›</a>'
            )
        if m.role == "user" and not m.streaming:
            edit = html.escape(translate("ChatPane", "edit"))
            links.append(f'<a href="e:{mi}" style="color:#1a73e8">{edit}</a>')
        if links:
            head += '&nbsp;&nbsp;<span style="font-weight:normal">' + " · ".join(links) + "</span>"
        note = _origin_note(m)
        if note:
            head += f'&nbsp;&nbsp;<span style="{WRITTEN_NOTE}">{html.escape(note)}</span>'
        span = m.thinking()
        mark = f'<span style="color:#1a73e8">{STREAM_MARK}</span>' if m.streaming else ""
        if m.role == "assistant" and m.tokens and (self.show_tokens.isChecked() or m.streaming):

            def tokens_html(a: int, b: int) -> str:
                spans = "".join(token_html(mi, k, m.tokens[k]) for k in range(a, b))
                return f"<span {KEEP_SPACES}>{spans}</span>"  # every space, as the streamed tokens have them

            if span is None:
                body = tokens_html(0, len(m.tokens)) + mark
            else:  # the thinking in a box of its own, folded once the answer has begun; streamed into
                start, end, closed = span
                inside = tokens_html(start, end) + ("" if closed else mark)
                body = tokens_html(0, start) + self._thinking_html(mi, inside, end - start, closed)
                body += tokens_html(end, len(m.tokens)) + (mark if closed else "")
        elif m.role == "assistant":
            t = split_thinking(m.content, m.thinking_opened)
            body = markdown_html(t.answer) if t.answer else ""
            if t.thinking is not None:  # (a reply that streams is marked where its next token goes)
                inside = f"<span {KEEP_SPACES}>{plain_html(t.thinking)}</span>" + ("" if t.closed else mark)
                body = self._thinking_html(mi, inside, None, t.closed) + body + (mark if t.closed else "")
            else:
                body += mark
        else:
            body = f"<span {KEEP_SPACES}>{plain_html(m.content)}</span>"  # an indented paste stays indented
            body += mark
        note = self._note_html(m)
        colour = WRITTEN_COLOUR if m.written else ROLE_COLOURS.get(m.role, "#fff")
        colour = "#fff4e5" if mi == self._editing else colour
        return (
            f'<table width="100%" cellpadding="8" style="background:{colour}; margin-bottom:6px">'
            f"<tr><td><b>{head}</b><br>{body}{note}</td></tr></table>"
        )


def _origin_note(m: ChatMessage) -> str:
    """Where a message came from when not from this window's user or its model's reply to them: a lesson's
    answer in the history, or a request another program sent to the served model ("" otherwise)."""
    if m.written and m.outside is None:  # no step made it, so it has no tokens to tint
        return translate("ChatPane", "written by the lesson, not generated by the model")
    if m.written:
        return translate("ChatPane", "sent by {source} with its request, not generated here").format(
            source=m.outside
        )
    if m.outside is not None and m.role == "assistant":
        return translate("ChatPane", "the served model's answer to {source}").format(source=m.outside)
    if m.outside is not None:
        return translate("ChatPane", "sent by {source} to the served model").format(source=m.outside)
    return ""


def _fold_key(m: ChatMessage, mi: int) -> int:
    """What remembers a message's unfolded thinking: its id once saved, its place while it streams."""
    return m.message_id if m.message_id is not None else -1 - mi
