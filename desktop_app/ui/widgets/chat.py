"""The chat pane: the conversation, streamed token by token, each token a link to its step.

Replies can be shown as tokens (each one tinted by how likely the model thought it was, hover for the
numbers, click to see that step's distribution in the chart) or rendered as Markdown. The pane only
displays and collects input; the controller owns the conversation and the engine.

Rendering is incremental: while a reply streams, only the last message is rebuilt, at display rate, so a
long conversation (or a pasted megabyte) is laid out once, not once per token.

The token whose step the chart shows, once one is chosen (clicked, or a point of the end lane), is marked
in its reply, white on dark navy. The mark is one of the view's extra selections, drawn over the laid-out
text: moving it changes no message's HTML and lays nothing out again.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QTextEdit,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.conversation.shown import SHOWN_CHARS, ChatMessage, ShownToken
from desktop_app.core.engine.tokens import split_chars
from desktop_app.core.models.hub import FOR_CHINESE
from desktop_app.ui.widgets.frames import FrameClock
from desktop_app.ui.widgets.prob_chart import format_percent
from desktop_app.ui.widgets.step_bar import StepBar

_ROLE_COLOURS = {"user": "#e8f0fe", "assistant": "#ffffff", "system": "#f1f3f4"}
# English keys, translated when shown (context "ChatPane").
_HEADS = {
    "user": QT_TRANSLATE_NOOP("ChatPane", "You"),
    "assistant": QT_TRANSLATE_NOOP("ChatPane", "Model"),
    "system": QT_TRANSLATE_NOOP("ChatPane", "System"),
}
_STOPS = {
    "max_tokens": QT_TRANSLATE_NOOP("ChatPane", "stopped at the length limit"),
    "cancelled": QT_TRANSLATE_NOOP("ChatPane", "stopped by you"),
    "stop_string": QT_TRANSLATE_NOOP("ChatPane", "stopped at a stop text"),
    "context_full": QT_TRANSLATE_NOOP("ChatPane", "stopped: the context is full"),
    "step": QT_TRANSLATE_NOOP("ChatPane", "step by step: Next token (→) adds one more"),
}
WRITTEN_COLOUR = "#eef6ee"  # an answer a lesson wrote: the lesson box's green, not the model's white
WRITTEN_NOTE = "font-weight:normal; font-style:italic; color:#1e6b32"
STREAM_MARK = "▍"  # ends a reply that is still streaming; new tokens go in just before it
# The selected token's look: white on dark navy, unlike any tint, text colour or text selection's blue, in
# the ordinary and the presentation palettes alike (the chat's colours are its own).
SELECTED_COLOUR = "#14213d"
SELECTED_TEXT = "#ffffff"
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def probability_colour(p: float | None) -> str:
    """A background for a token chosen with probability ``p``: pale green when likely, warm when not."""
    if p is None:
        return "#eeeeee"
    p = max(0.0, min(1.0, p))
    if p >= 0.5:
        return "#e6f4ea"
    if p >= 0.2:
        return "#fef7e0"
    if p >= 0.05:
        return "#fde7c8"
    return "#fad2cf"


def markdown_html(text: str) -> str:
    """Markdown → the body of Qt's rich-text HTML (Qt's own CommonMark parser)."""
    doc = QTextDocument()
    doc.setMarkdown(text)
    full = doc.toHtml()
    start = full.find("<body")
    start = full.find(">", start) + 1
    end = full.rfind("</body>")
    return full[start:end] if start > 0 and end > start else html.escape(text)


# HTML collapses a run of spaces into one and drops a line's leading ones; a message keeps them (its lines
# still wrap).
KEEP_SPACES = 'style="white-space:pre-wrap"'


def _plain_html(text: str) -> str:
    shown = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS]
    body = html.escape(shown).replace("\n", "<br>")
    if len(text) > SHOWN_CHARS:
        more = translate(
            "ChatPane", "… {n} more characters not shown here (the model reads all of them)."
        ).format(n=f"{len(text) - SHOWN_CHARS:,}")
        body += f'<br><i style="color:#5f6368">{html.escape(more)}</i>'

    return body


def end_marker(t: ShownToken) -> str:
    """How an end token reads in a reply: ``[END (model) 39.2 %]``, the model's own chance to end the
    reply at that step (all its end tokens), the number and the words the chart's "Model (raw)" figures
    and the end lane show for the step."""
    if t.end_p_raw is None:
        return translate("ChatPane", "[END]")
    marker = translate("ChatPane", "[END (model) {p}]").format(p=format_percent(t.end_p_raw))
    return marker.replace(" ", "\u00a0")  # one piece where the reply wraps


def _token_look(t: ShownToken) -> tuple[str, str | None, str, bool]:
    """How a token is shown: its text, background, text colour and whether it is underlined."""
    if t.end:
        return "\u00a0" + end_marker(t), None, "#7b3fb5", False
    if t.inserted:
        return t.text, "#e8dff5", "#4a148c", True
    if t.forced:
        return t.text or t.label, "#d2e3fc", "#174ea6", True
    if not t.text and t.piece:  # part of a character, its bytes: shown, not an invisible token
        return t.label, probability_colour(t.p_final), "#80868b", False
    return t.text, probability_colour(t.p_final), "#202124", False


def _token_html(mi: int, k: int, t: ShownToken) -> str:
    text, background, colour, underline = _token_look(t)
    if not text:
        return ""
    body = html.escape(text).replace("\n", "<br>").replace("\u00a0", "&nbsp;")
    style = f"color:{colour}; text-decoration:{'underline' if underline else 'none'}"
    if background:
        style = f"background:{background}; {style}"
    return f'<a href="t:{mi}:{k}" style="{style}">{body}</a>'


def _token_format(mi: int, k: int, t: ShownToken) -> tuple[str, QTextCharFormat]:
    """The token as text and a character format: what _token_html makes, for QTextCursor.insertText
    (insertHtml drops a fragment's leading spaces)."""
    text, background, colour, underline = _token_look(t)
    fmt = QTextCharFormat()
    fmt.setAnchor(True)
    fmt.setAnchorHref(f"t:{mi}:{k}")
    fmt.setForeground(QColor(colour))
    fmt.setFontUnderline(underline)
    if background:
        fmt.setBackground(QColor(background))
    return text.replace("\n", "\u2028"), fmt  # a line break inside the paragraph, as <br> makes


def _same_range(a: QTextCursor, b: QTextCursor) -> bool:
    return (a.selectionStart(), a.selectionEnd()) == (b.selectionStart(), b.selectionEnd())


class ChatPane(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()
    regenerate_requested = Signal()
    edit_requested = Signal(int)  # index of a user message to edit (the conversation continues from it)
    edit_cancelled = Signal()
    token_clicked = Signal(int, int)  # message index, token index
    sibling_requested = Signal(int, int)  # message index, -1 / +1: show another version of it
    system_prompt_changed = Signal(str)
    lesson_requested = Signal()  # the welcome's "Start with a lesson"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.messages: list[ChatMessage] = []
        self._full = False  # see _full_dirty and _tail_dirty
        self._tail = False
        self._tail_pos: int | None = None
        # The streaming reply as the document shows it: (its message index, how each of its tokens there
        # looks); None when no reply is streaming.
        self._drawn: tuple[int, list[tuple]] | None = None
        self._busy = False
        self._editing: int | None = None
        self.renders = 0  # full layouts of the conversation (tests count them)
        self.tail_renders = 0  # the last message laid out again alone
        self.finished_in_place = 0  # finished replies whose streamed tokens stayed as they were
        # What the messages before the last one were laid out from, one HTML text each; and what the last
        # one reads as now (None while it streams: its tokens went in one by one).
        self._head_html: list[str] | None = None
        self._tail_html: str | None = None
        self.appends = 0  # new messages added after the ones laid out, without laying those out again
        # Each message's HTML with what it was made from: a conversation is not written out again, token
        # by token, every time a message is added to it.
        self._html_of: dict[int, tuple[tuple, str, tuple]] = {}
        # The selected token: (message index, token index, the token), and where the document has it
        # (None while it is not laid out, or not shown as a token).
        self._selected: tuple[int, int, ShownToken] | None = None
        self._mark: QTextCursor | None = None
        self._marked = False  # the view draws the mark
        self.marks = 0  # the mark drawn, moved or taken away (tests count them against layouts)

        self.system_edit = QLineEdit(self)
        self.system_edit.setPlaceholderText(
            self.tr("System prompt (optional): how the assistant should behave")
        )
        self.system_edit.setClearButtonEnabled(True)
        self.system_edit.editingFinished.connect(self._system_done)
        self._system_sent = ""

        self.view = QTextBrowser(self)
        self.view.setOpenLinks(False)
        self.view.setOpenExternalLinks(False)
        self.view.anchorClicked.connect(self._on_anchor)
        self.view.highlighted.connect(self._on_hover)
        self.view.viewport().installEventFilter(self)

        self.show_tokens = QCheckBox(self.tr("Show tokens"), self)
        self.show_tokens.setChecked(True)
        self.show_tokens.setToolTip(
            self.tr(
                "On: every token of a reply is tinted by how likely the model found it; hover for the "
                "numbers, click to see that step's distribution. Off: replies rendered as Markdown."
            )
        )
        self.show_tokens.toggled.connect(self.refresh)
        likely, unlikely = html.escape(self.tr("likely")), html.escape(self.tr("unlikely"))
        picked, inserted = html.escape(self.tr("picked")), html.escape(self.tr("inserted"))
        selected = html.escape(self.tr("selected"))  # the token whose step the chart shows
        self.legend = QLabel(
            f"{likely} "
            '<span style="background:#e6f4ea">&nbsp;≥50%&nbsp;</span> '
            '<span style="background:#fef7e0">&nbsp;≥20%&nbsp;</span> '
            '<span style="background:#fde7c8">&nbsp;≥5%&nbsp;</span> '
            f'<span style="background:#fad2cf">&nbsp;&lt;5%&nbsp;</span> {unlikely} · '
            f'<span style="background:#d2e3fc">&nbsp;{picked}&nbsp;</span> '
            f'<span style="background:#e8dff5">&nbsp;{inserted}&nbsp;</span> '
            f'<span style="background:{SELECTED_COLOUR}; color:{SELECTED_TEXT}">'
            f"&nbsp;{selected}&nbsp;</span>",
            self,
        )

        self.edit_banner = QLabel(self)
        self.edit_banner.setStyleSheet("background:#fff4e5; padding:4px; border-radius:3px")
        self.edit_banner.setWordWrap(True)
        self.cancel_edit = QPushButton(self.tr("Cancel edit"), self)
        self.cancel_edit.clicked.connect(self.stop_editing)

        self.input = QPlainTextEdit(self)
        self.input.setPlaceholderText(self.tr("Type a message. Ctrl+Enter sends, Esc stops."))
        self.input.setMaximumHeight(110)
        self.send_button = QPushButton(self.tr("Send"), self)
        self.send_button.setToolTip(self.tr("Send the message (Ctrl+Enter)"))
        self.send_button.clicked.connect(self._send)
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setToolTip(self.tr("Stop the reply (Esc); what was generated is kept"))
        self.stop_button.clicked.connect(self.stop_requested)
        self.regen_button = QPushButton(self.tr("Regenerate"), self)
        self.regen_button.setToolTip(
            self.tr("Roll a new reply to the last message (the old one is kept: ‹ ›)")
        )
        self.regen_button.clicked.connect(self.regenerate_requested)

        self.legend.setMinimumWidth(0)  # wraps on a narrow window (or in large print) rather than widen it
        self.legend.setWordWrap(True)
        self.legend.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.legend.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.step_bar = StepBar(self)
        top = QHBoxLayout()
        top.addWidget(self.show_tokens)
        top.addWidget(self.step_bar.plain)
        top.addWidget(self.legend, 1)
        editing = QHBoxLayout()
        editing.addWidget(self.edit_banner, 1)
        editing.addWidget(self.cancel_edit)
        buttons = QVBoxLayout()
        for b in (self.send_button, self.stop_button, self.regen_button):
            buttons.addWidget(b)
        bottom = QHBoxLayout()
        bottom.addWidget(self.input, 1)
        bottom.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.system_edit)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.step_bar)
        layout.addLayout(editing)
        layout.addLayout(bottom)

        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._send)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self._send)
        QShortcut(QKeySequence(Qt.Key_Escape), self, activated=self._escape)

        self._show_editing()
        self.set_busy(False)

    # --- state from the controller ----------------------------------------------------------------
    def system_prompt(self) -> str:
        return self.system_edit.text().strip()

    def set_system_prompt(self, text: str) -> None:
        self.system_edit.setText(text)
        self._system_sent = text.strip()

    def set_messages(self, messages: list[ChatMessage]) -> None:
        """Show a new list of messages (laid out at the next frame)."""
        self.messages = messages
        sel = self._selected
        if sel is not None and not (
            sel[0] < len(messages) and sel[1] < len(messages[sel[0]].tokens)
            and messages[sel[0]].tokens[sel[1]] is sel[2]
        ):  # fmt: skip
            self._selected = None  # its reply is gone or changed: the mark goes at the next layout
        # (What another conversation was made of is let go: a live reply's tokens hold its steps.)
        self._html_of = {
            i: known for i, known in self._html_of.items() if i < len(messages) and known[2][0] is messages[i]
        }
        self._full_dirty = True

    def refresh(self, *_: object) -> None:
        self._full_dirty = True

    def message_changed(self, index: int) -> None:
        """The message at ``index`` changed (a token arrived): re-render it alone if it is the last."""
        if index == len(self.messages) - 1 and self._tail_pos is not None and not self._full_dirty:
            self._tail_dirty = True
        else:
            self._full_dirty = True

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.step_bar.set_enabled_for(busy, True, True)
        self._update_regen()

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def editing(self) -> int | None:
        """The index of the user message being edited, or None."""
        return self._editing

    def stop_editing(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.input.clear()
            self._show_editing()
            self.edit_cancelled.emit()

    def _show_editing(self) -> None:
        on = self._editing is not None
        self.edit_banner.setVisible(on)
        self.cancel_edit.setVisible(on)
        if on:
            self.edit_banner.setText(
                self.tr(
                    "Editing your message: Send makes a new version and the conversation continues from it. "
                    "The old version and its replies are kept (switch with ‹ ›)."
                )
            )
        self.send_button.setText(self.tr("Send edit") if on else self.tr("Send"))

    def _update_regen(self) -> None:
        self.regen_button.setEnabled(not self._busy and any(m.role == "assistant" for m in self.messages))

    # --- rendering ------------------------------------------------------------------------------
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
                cursor.movePosition(QTextCursor.End)
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
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.End)
        for text in heads[len(self._head_html) + 1 :]:
            cursor.insertHtml(text)
        self._head_html = heads
        cursor.movePosition(QTextCursor.End)
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
            and mark is not None
        ):
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(mark.selectionStart())
            # One edit: the reply's paragraph is laid out once for the frame's tokens, not once per
            # token (each insertion alone shapes the whole paragraph again).
            cursor.beginEditBlock()
            self._insert_tokens(cursor, mi)
            cursor.endEditBlock()
            self._tail_html = None
        else:
            self._replace_tail(mi)
        if self._selected is not None and self._selected[0] == mi:  # (its mark would take in new tokens)
            self._show_selection()
        if at_bottom:
            bar.setValue(bar.maximum())

    def _drawing_of(self, mi: int) -> tuple[int, list[tuple]] | None:
        """What :attr:`_drawn` is once message ``mi`` (the last) has just been laid out."""
        m = self.messages[mi]
        return (mi, [_token_look(t) for t in m.tokens]) if m.streaming else None

    def _stream_mark(self) -> QTextCursor | None:
        """The streaming reply's mark in the document, selected (None when it has none)."""
        doc = self.view.document()
        mark = doc.find(STREAM_MARK, doc.characterCount() - 1, QTextDocument.FindBackward)
        return None if mark.isNull() or mark.selectionStart() < self._tail_pos else mark

    def _insert_tokens(self, cursor: QTextCursor, mi: int) -> None:
        """Insert at ``cursor`` the tokens of the streaming reply ``mi`` that the document lacks."""
        looks = self._drawn[1]
        tokens = self.messages[mi].tokens
        for k in range(len(looks), len(tokens)):
            text, fmt = _token_format(mi, k, tokens[k])
            if text:
                cursor.insertText(text, fmt)
            looks.append(_token_look(tokens[k]))

    def _replace_tail(self, mi: int) -> None:
        """Lay out the last message (``mi``) again in place; the ones before it stay as they are."""
        self.tail_renders += 1
        if self._finish_in_place(mi):
            return
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(self._tail_pos)
        cursor.movePosition(QTextCursor.End, QTextCursor.KeepAnchor)
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
        if [_token_look(t) for t in m.tokens[: len(looks)]] != looks:
            return False
        mark = self._stream_mark()
        if mark is None:
            return False
        mark.removeSelectedText()
        self._insert_tokens(mark, mi)
        note = self._note_html(m)
        if note:  # its own paragraph, in its own colours, as in a full layout
            mark.insertBlock(mark.blockFormat(), QTextCharFormat())
            mark.insertHtml(note)
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
        if m.stop_reason in _STOPS:
            stop = html.escape(translate("ChatPane", _STOPS[m.stop_reason]))
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
        )  # fmt: skip
        known = self._html_of.get(mi)
        if known is not None and known[0] == made_of:
            return known[1]
        text = self._make_html(mi, m)
        self._html_of[mi] = (made_of, text, (m, tokens))
        return text

    def _make_html(self, mi: int, m: ChatMessage) -> str:
        head = html.escape(translate("ChatPane", _HEADS[m.role]) if m.role in _HEADS else m.role)
        links = []
        if m.sibling_count > 1:
            where = f"{m.sibling_index + 1}/{m.sibling_count}"
            links.append(
                f'<a href="s:{mi}:-1" style="text-decoration:none">‹</a> {where} '
                f'<a href="s:{mi}:1" style="text-decoration:none">›</a>'
            )
        if m.role == "user" and not m.streaming:
            edit = html.escape(self.tr("edit"))
            links.append(f'<a href="e:{mi}" style="color:#1a73e8">{edit}</a>')
        if links:
            head += '&nbsp;&nbsp;<span style="font-weight:normal">' + " · ".join(links) + "</span>"
        if m.written:  # a lesson's answer in the history: no step made it, so it has no tokens to tint
            note = html.escape(self.tr("written by the lesson, not generated by the model"))
            head += f'&nbsp;&nbsp;<span style="{WRITTEN_NOTE}">{note}</span>'
        if m.role == "assistant" and m.tokens and (self.show_tokens.isChecked() or m.streaming):
            tokens = "".join(_token_html(mi, k, t) for k, t in enumerate(m.tokens))
            body = f"<span {KEEP_SPACES}>{tokens}</span>"  # every space, as the streamed tokens have them
        elif m.role == "assistant":
            body = markdown_html(m.content) if m.content else ""
        else:
            body = f"<span {KEEP_SPACES}>{_plain_html(m.content)}</span>"  # an indented paste stays indented
        if m.streaming:
            body += f'<span style="color:#1a73e8">{STREAM_MARK}</span>'
        note = self._note_html(m)
        colour = WRITTEN_COLOUR if m.written else _ROLE_COLOURS.get(m.role, "#fff")
        colour = "#fff4e5" if mi == self._editing else colour
        return (
            f'<table width="100%" cellpadding="8" style="background:{colour}; margin-bottom:6px">'
            f"<tr><td><b>{head}</b><br>{body}{note}</td></tr></table>"
        )

    # --- the selected token ---------------------------------------------------------------------
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
        if self._marked and self._mark is not None and old is not None and _same_range(old, self._mark):
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
        if lo is None:
            return None
        if hi - lo > 1 and doc.characterAt(lo) == "\u00a0":  # the space before [END …] stays outside
            lo += 1
        cursor = QTextCursor(doc)
        cursor.setPosition(lo)
        cursor.setPosition(hi, QTextCursor.KeepAnchor)
        return cursor

    # --- interaction ----------------------------------------------------------------------------
    def _send(self) -> None:
        text = self.input.toPlainText()
        if text.strip() and not self._busy:
            self.input.clear()
            self.send_requested.emit(text.strip())

    def _escape(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self.stop_editing()

    def _system_done(self) -> None:
        text = self.system_prompt()
        if text != self._system_sent:
            self._system_sent = text
            self.system_prompt_changed.emit(text)

    def start_editing(self, index: int) -> None:
        """Put user message ``index`` in the input for editing."""
        if self._busy or not 0 <= index < len(self.messages) or self.messages[index].role != "user":
            return
        self._editing = index
        self.input.setPlainText(self.messages[index].content)
        self.input.setFocus()
        self._show_editing()
        self._full_dirty = True
        self.edit_requested.emit(index)

    def finish_editing(self) -> None:
        """The edit was sent."""
        self._editing = None
        self._show_editing()

    @staticmethod
    def _parse(url: QUrl) -> tuple[str, list[int]] | None:
        parts = url.toString().split(":")
        try:
            return parts[0], [int(x) for x in parts[1:]]
        except ValueError:
            return None

    def welcome_html(self) -> str:
        """What an empty chat shows: where to start (a lesson, or a question), and which model speaks
        which language."""
        title = html.escape(self.tr("Welcome to TokenDice: see how a language model writes, token by token."))
        lesson = html.escape(self.tr("Start with a lesson"))
        lessons = html.escape(self.tr("ten short demonstrations, one click each (also in the Lessons menu)."))
        ask = html.escape(
            self.tr(
                "Or ask something: type below and press Ctrl+Enter. The reply appears token by token, "
                "each tinted by how likely the model found it; click a token to see the die it came from."
            )
        )
        models = html.escape(
            self.tr(
                "The bundled SmolLM2 speaks English. For Chinese, load a multilingual model such as "
                "{model} on the Models page."
            ).format(model=FOR_CHINESE.repo_id.split("/")[-1].removesuffix("-GGUF"))
        )
        return (
            f"<p><b>{title}</b></p>"
            f'<p><a href="w:lesson">{lesson}</a>: {lessons}</p>'
            f"<p>{ask}</p>"
            f'<p style="color:#5f6368">{models}</p>'
        )

    def _on_anchor(self, url: QUrl) -> None:
        if url.toString() == "w:lesson":
            self.lesson_requested.emit()
            return
        parsed = self._parse(url)
        if parsed is None:
            return
        kind, nums = parsed
        if kind == "t" and len(nums) == 2:
            self.token_clicked.emit(nums[0], nums[1])
        elif kind == "e" and len(nums) == 1:
            self.start_editing(nums[0])
        elif kind == "s" and len(nums) == 2 and not self._busy:
            self.sibling_requested.emit(nums[0], nums[1])

    def token_tooltip(self, message_index: int, token_index: int) -> str:
        t = self.messages[message_index].tokens[token_index]
        label = t.label
        if t.end:
            text = self.tr("the end token {label} (token {id}): the model chose to stop here")
        elif t.inserted:
            text = self.tr("“{label}” (token {id}) was put in by the app in place of the end token")
        else:
            text = self.tr("“{label}”  (token {id})")
        lines = [text.format(label=label, id=t.token_id)]
        if t.end and t.end_p_raw is not None:  # the chart's end figures (all the end tokens), not this one's
            raw = format_percent(t.end_p_raw)
            final = format_percent(t.end_p_final) if t.end_p_final is not None else "?"
            lines.append(
                self.tr("chance to end the reply here: model {raw}   after sampling {final}").format(
                    raw=raw, final=final
                )
            )
        elif t.p_raw is not None or t.p_final is not None:
            raw = f"{t.p_raw:.1%}" if t.p_raw is not None else "?"
            final = f"{t.p_final:.1%}" if t.p_final is not None else "?"
            lines.append(self.tr("model: {raw}   after sampling: {final}").format(raw=raw, final=final))
        tokens = self.messages[message_index].tokens
        for group in split_chars([u.piece for u in tokens if not u.end]):
            if group.first <= token_index <= group.last:
                lines.append(self.tr("part of a character: {label}").format(label=group.label()))
        if t.forced:
            lines.append(self.tr("picked by hand"))
        elif t.u is not None:
            lines.append(self.tr("the die rolled u = {u}").format(u=f"{t.u:.4f}"))
        elif not t.inserted:
            lines.append(self.tr("greedy: the most likely token"))
        if t.step is not None or t.candidates is not None:
            lines.append(self.tr("click to see this step's distribution"))
        return "\n".join(lines)

    def _on_hover(self, url: QUrl) -> None:
        parsed = self._parse(url) if url.toString() else None
        if parsed is None or parsed[0] != "t" or len(parsed[1]) != 2:
            QToolTip.hideText()
            return
        mi, k = parsed[1]
        if mi < len(self.messages) and k < len(self.messages[mi].tokens):
            QToolTip.showText(QCursor.pos(), self.token_tooltip(mi, k), self.view)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport() and event.type() == QEvent.Leave:
            QToolTip.hideText()
        return super().eventFilter(watched, event)
