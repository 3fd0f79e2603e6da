"""The chat pane: the conversation, streamed token by token, each token a link to its step.

Replies can be shown as tokens (each one tinted by how likely the model thought it was, hover for the
numbers, click to see that step's distribution in the chart) or rendered as Markdown. The pane only
displays and collects input; the controller owns the conversation and the engine.

How messages are written is :mod:`~desktop_app.ui.widgets.chat_html`; laying them out incrementally (only
the last message rebuilt while a reply streams, at display rate) is
:class:`~desktop_app.ui.widgets.chat_layout.ChatLayout`; the mark on the token whose step the chart shows
is :class:`~desktop_app.ui.widgets.chat_selection.ChatSelection`.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QCursor, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.conversation.shown import ChatMessage, ShownToken
from desktop_app.core.engine.thinking import CLOSE_WRITTEN
from desktop_app.core.engine.tokens import split_chars
from desktop_app.core.models.hub import FOR_CHINESE
from desktop_app.ui.widgets.chat_html import SELECTED_COLOUR, SELECTED_TEXT
from desktop_app.ui.widgets.chat_html import probability_colour as probability_colour  # compare.py's tints
from desktop_app.ui.widgets.chat_layout import ChatLayout
from desktop_app.ui.widgets.chat_selection import ChatSelection
from desktop_app.ui.widgets.prob_chart_looks import format_percent
from desktop_app.ui.widgets.step_bar import StepBar


class ChatPane(ChatLayout, ChatSelection, QWidget):
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
        self._drawn: tuple[int, list[tuple], tuple[bool, bool, bool]] | None = None
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
        self._unfolded: set[int] = set()  # the replies whose thinking is shown whole (see ChatLayout)
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
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
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

        QShortcut(QKeySequence("Ctrl+Return"), self, self._send)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self._send)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self._escape)

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
        elif kind == "f" and len(nums) == 1:
            self.toggle_thinking(nums[0])
        elif kind == "s" and len(nums) == 2 and not self._busy:
            self.sibling_requested.emit(nums[0], nums[1])

    def _in_thinking(self, message_index: int, token_index: int) -> bool:
        span = self.messages[message_index].thinking()
        return span is not None and span[0] <= token_index < span[1]

    def token_tooltip(self, message_index: int, token_index: int) -> str:
        t = self.messages[message_index].tokens[token_index]
        label = t.label
        if t.end:
            text = self.tr("the end token {label} (token {id}): the model chose to stop here")
        elif t.inserted and self._in_thinking(message_index, token_index):
            if t.text and t.text in CLOSE_WRITTEN:  # the close a spent budget wrote
                text = self.tr("“{label}” (token {id}) was written by the app: the thinking budget was spent")
            else:
                text = self.tr(
                    "“{label}” (token {id}) was put in by the app in place of the close of the thinking"
                )
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
        if watched is self.view.viewport() and event.type() == QEvent.Type.Leave:
            QToolTip.hideText()
        return super().eventFilter(watched, event)
