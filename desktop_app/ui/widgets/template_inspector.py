"""The template inspector: the one long text a chat really is, as characters, as tokens, and its template.

The widget only displays. Rendering the template and tokenizing happen in the core (``chat_prompt``); the
caller hands over the finished :class:`ChatPrompt` plus two lookups (``label_of``, ``piece_of``) and gets
back ``template_override_changed`` when the user applies or resets an edited template.

Where each token is in the text is :mod:`~desktop_app.ui.widgets.prompt_offsets`; the looks of the prompt's
pieces :mod:`~desktop_app.ui.widgets.prompt_views`; the Template source tab (the editor, Apply and Reset)
:class:`~desktop_app.ui.widgets.template_editor.TemplateSource`.
"""

from __future__ import annotations

import bisect
import html
import itertools
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QFontInfo, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.chat import ChatPrompt
from desktop_app.core.engine.thinking import thinking_spans
from desktop_app.ui.widgets.prompt_offsets import common_prefix, qt_position, token_char_ranges
from desktop_app.ui.widgets.prompt_views import (
    FADE_TEXT,
    NEW_MARK,
    SHADES,
    SPECIAL_FG,
    TEMPLATE_FG,
    TEXT,
    TOKEN_INDEX,
    TextView,
    blend,
    new_document,
    reveal,
    span_format,
    tip_html,
)
from desktop_app.ui.widgets.template_editor import ORIGIN_LABELS, TemplateSource, origin_text

__all__ = ["TOKEN_INDEX", "TemplateInspector", "common_prefix", "qt_position", "token_char_ranges"]


class TemplateInspector(TemplateSource, QWidget):
    """Shows the prompt a chat turns into (text, tokens, what is new this turn) and its editable template."""

    # str (apply this override) or None (back to the model's)
    template_override_changed: Signal = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._prompt: ChatPrompt | None = None
        self._tokens_stale = False  # the token view shows an older prompt (it is filled when shown)
        self._labels: list[str] = []
        self._pieces: list[bytes] = []
        self._ranges: list[tuple[int, int]] = []
        self._n_ctx = 0
        self._previous_len = 0
        self._new_from: int | None = None  # first new token, None when there is no previous turn
        self._origin = "gguf"
        self._model_source: tuple[str, str] | None = None  # (source, origin) of the model's own template

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(mono.pointSizeF(), 11.0))
        fallbacks = self.font().families()[1:]  # the UI's own CJK fallback (i18n.language_font), if any
        if fallbacks:
            mono.setFamilies(list(dict.fromkeys([QFontInfo(mono).family(), *fallbacks])))
        self._mono = mono

        self.tabs = QTabWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.tabs.addTab(self._build_prompt_tab(), self.tr("Prompt"))
        self.tabs.addTab(self._build_source_tab(), self.tr("Template source"))

    # ------------------------------------------------------------------------------------------ layout

    def _build_prompt_tab(self) -> QWidget:
        page = QWidget()
        self.header_label = QLabel(self.tr("No conversation yet."))
        self.header_label.setTextFormat(Qt.TextFormat.RichText)
        self.prompt_error_label = QLabel()
        self.prompt_error_label.setWordWrap(True)
        self.prompt_error_label.setStyleSheet("color: #b42318;")
        self.prompt_error_label.hide()
        self.text_button = QToolButton()
        self.text_button.setText(self.tr("Text"))
        self.tokens_button = QToolButton()
        self.tokens_button.setText(self.tr("Tokens"))
        group = QButtonGroup(page)
        group.setExclusive(True)
        for button in (self.text_button, self.tokens_button):
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumWidth(70)
            group.addButton(button)
        self.text_button.setChecked(True)
        self.text_button.setToolTip(
            self.tr("The exact string the model reads, coloured by where each part came from")
        )
        self.tokens_button.setToolTip(self.tr("The same string cut into tokens: one shaded block per token"))
        self.new_check = QCheckBox(self.tr("Highlight what's new this turn"))
        self.new_check.setChecked(True)
        self.new_check.toggled.connect(lambda _on: self._render())
        self.new_label = QLabel()
        self.new_label.setWordWrap(True)
        self.legend_label = QLabel()
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        self.thinking_label = QLabel()  # what became of the earlier replies' thinking (set_thinking_note)
        self.thinking_label.setWordWrap(True)
        self.thinking_label.hide()

        self.prompt_view = TextView()
        self.token_view = TextView()
        for view in (self.prompt_view, self.token_view):
            view.setFont(self._mono)  # Ctrl+wheel zooms; re-renders keep the zoom
        self.stack = QStackedWidget()
        self.stack.addWidget(self.prompt_view)
        self.stack.addWidget(self.token_view)
        self.text_button.toggled.connect(lambda on: self.set_view("text" if on else "tokens"))

        top = QHBoxLayout()
        top.addWidget(self.header_label, 1)
        top.addWidget(self.new_check)
        top.addSpacing(12)
        top.addWidget(self.text_button)
        top.addWidget(self.tokens_button)
        box = QVBoxLayout(page)
        box.addLayout(top)
        box.addWidget(self.prompt_error_label)
        box.addWidget(self.new_label)
        box.addWidget(self.thinking_label)
        box.addWidget(self.legend_label)
        box.addWidget(self.stack, 1)
        self._update_legend()
        return page

    def _update_legend(self) -> None:
        def chip(text: str, bg: str, fg: str = TEXT, extra: str = "") -> str:
            text = html.escape(text)
            return f'<span style="background:{bg}; color:{fg};{extra}">&nbsp;{text}&nbsp;</span>'

        parts = [
            chip(self.tr("template text"), SHADES["template"][0], TEMPLATE_FG),
            chip(self.tr("special token"), SHADES["special"][0], SPECIAL_FG, " font-weight:600;"),
            chip(self.tr("system message"), SHADES["system"][0]),
            chip(self.tr("user message"), SHADES["user"][0]),
            chip(self.tr("assistant message"), SHADES["assistant"][0]),
        ]
        if self._prompt is not None and thinking_spans(self._prompt.rendered.text):
            parts.append(chip(self.tr("thinking (italic)"), "white", TEXT, " font-style:italic;"))
        if self._new_from is not None and self.new_check.isChecked():
            underline = " text-decoration:underline; font-weight:bold;"
            parts.append(chip(self.tr("new this turn"), "white", NEW_MARK, underline))
            faded = blend(TEXT, FADE_TEXT).name()
            parts.append(chip(self.tr("already in the cache (faded)"), "white", faded))
        if self.stack.currentIndex() == 1:
            hint = self.tr("one shaded block = one token; hover for its id and bytes")
            parts.append("&nbsp;&nbsp;" + html.escape(hint))
        self.legend_label.setText("&nbsp;&nbsp;".join(parts))

    # ------------------------------------------------------------------------------------------- prompt

    def show_prompt(
        self,
        prompt: ChatPrompt,
        *,
        label_of: Callable[[int], str],
        piece_of: Callable[[int], bytes],
        n_ctx: int,
        previous_tokens: Sequence[int] | None = None,
    ) -> None:
        """Show a rendered, tokenized conversation; ``previous_tokens`` is last turn's prompt (or cache)."""
        self._prompt = prompt
        self._labels = [label_of(t) for t in prompt.tokens]
        self._pieces = [piece_of(t) for t in prompt.tokens]
        self._ranges = token_char_ranges(prompt.rendered.text, self._pieces)
        self._n_ctx = n_ctx
        has_previous = previous_tokens is not None
        self._new_from = common_prefix(prompt.tokens, previous_tokens) if has_previous else None
        self._previous_len = len(previous_tokens) if has_previous else 0
        self.prompt_error_label.hide()
        if not self.source_editor.toPlainText() and not self.source_editor.document().isModified():
            self.show_template_source(prompt.template.source_text, prompt.template.origin)
        self._render()

    @property
    def new_token_count(self) -> int | None:
        """Tokens added since the previous turn's prompt, None when no previous prompt was given."""
        if self._prompt is None or self._new_from is None:
            return None
        return len(self._prompt.tokens) - self._new_from

    @property
    def new_char_start(self) -> int | None:
        """The first character of the prompt that is new this turn (code points), None without a previous."""
        if self._prompt is None or self._new_from is None:
            return None
        if self._new_from >= len(self._ranges):
            return len(self._prompt.rendered.text)
        return self._ranges[self._new_from][0]

    def _fill_tokens(self) -> None:
        self._tokens_stale = False
        if self._prompt is not None:
            highlight = self._new_from is not None and self.new_check.isChecked()
            self._fill_token_view(self._prompt, self._new_from if highlight else None)

    def set_view(self, view: str) -> None:
        """Show the prompt as ``"text"`` or as ``"tokens"``."""
        tokens = view == "tokens"
        self.stack.setCurrentIndex(1 if tokens else 0)
        (self.tokens_button if tokens else self.text_button).setChecked(True)
        if tokens and self._tokens_stale:
            self._fill_tokens()
        self._update_legend()

    def _render(self) -> None:
        prompt = self._prompt
        if prompt is None:
            return
        n = len(prompt.tokens)
        share = f" ({n / self._n_ctx:.0%})" if self._n_ctx else ""
        full = self._n_ctx and n >= 0.9 * self._n_ctx
        count = self.tr("<b>{n} tokens</b> of {n_ctx}{share}").format(
            n=f"{n:,}", n_ctx=f"{self._n_ctx:,}", share=share
        )
        origin = html.escape(origin_text(ORIGIN_LABELS, prompt.template.origin), quote=False)
        self.header_label.setText(
            self.tr("template: <b>{origin}</b>").format(origin=origin)
            + " &nbsp;·&nbsp; "
            + (f'<span style="color:#b42318">{count}</span>' if full else count)
        )
        highlight = self._new_from is not None and self.new_check.isChecked()
        self.new_check.setVisible(self._new_from is not None)
        self._update_new_label(prompt)
        self._update_legend()
        new_char = self.new_char_start if highlight else None
        self._fill_prompt_view(prompt, new_char)
        # The token view (one fragment per token) is built when it is shown: a long chat costs tens of
        # milliseconds to lay out again after every reply.
        self._tokens_stale = True
        if self.stack.currentIndex() == 1:
            self._fill_tokens()
        if new_char is not None:
            reveal(self.prompt_view, qt_position(prompt.rendered.text, new_char))

    def _update_new_label(self, prompt: ChatPrompt) -> None:
        new = self.new_token_count
        if new is None:
            self.new_label.setText(
                self.tr(
                    "First turn: the model reads all of this. Next turn it will read all of it again, plus "
                    "more."
                )
            )
            return
        total = len(prompt.tokens)
        old = total - new
        text = self.tr(
            "This turn the model is fed the whole conversation again, {total} tokens: "
            "{old} tokens re-read from the cache, {new} new."
        ).format(total=f"{total:,}", old=f"{old:,}", new=f"{new:,}")
        if old < self._previous_len:
            text += " " + self.tr(
                "The previous prompt's last {n} tokens differ from this one, so the cache has to compute "
                "them again."
            ).format(n=f"{self._previous_len - old:,}")
        self.new_label.setText(text)

    def _fill_prompt_view(self, prompt: ChatPrompt, new_char: int | None) -> None:
        document, cursor = new_document(self.prompt_view)
        text = prompt.rendered.text
        new_mark = html.escape(self.tr("new this turn"))
        for span in prompt.rendered.spans:
            if span.kind == "content":
                assert span.message_index is not None  # a content span's is always set
                tip = html.escape(
                    self.tr("content of message {n} ({role})").format(
                        n=span.message_index + 1, role=span.role or "?"
                    )
                )
            elif span.kind == "special":
                tip = html.escape(self.tr("special token: one control token the model was trained on"))
            else:
                tip = html.escape(
                    self.tr("template text: written by the chat template, not by anyone in the chat")
                )
            cuts = [span.start, span.end]
            if new_char is not None and span.start < new_char < span.end:
                cuts.insert(1, new_char)
            for a, b in itertools.pairwise(cuts):
                is_new = None if new_char is None else a >= new_char
                fmt = span_format(span.kind, span.role, 1 if is_new else 0, is_new)
                fmt.setToolTip(tip_html(tip + (f" · <b>{new_mark}</b>" if is_new else "")))
                cursor.insertText(text[a:b], fmt)
        thinking = html.escape(self.tr("thinking: what the model wrote before its answer"))
        for a, b in thinking_spans(text):  # italic over the span's own colours, with its own tooltip
            mark = QTextCursor(document)
            mark.setPosition(qt_position(text, a))
            mark.setPosition(qt_position(text, b), QTextCursor.MoveMode.KeepAnchor)
            look = QTextCharFormat()
            look.setFontItalic(True)
            look.setToolTip(tip_html(thinking))
            mark.mergeCharFormat(look)
        self.prompt_view.setDocument(document)

    def set_thinking_note(self, re_fed: int, dropped: int) -> None:
        """Say what the template did with the earlier replies' thinking: fed to the model again, or
        dropped (the model then reads only their answers); nothing when no earlier reply thought."""
        if not re_fed and not dropped:
            self.thinking_label.hide()
            return
        parts = []
        if dropped:
            parts.append(
                self.tr(
                    "The thinking of {n} earlier replies is dropped by this template: the model reads only "
                    "their answers."
                ).format(n=dropped)
            )
        if re_fed:
            parts.append(
                self.tr("The thinking of {n} earlier replies is fed to the model again.").format(n=re_fed)
            )
        self.thinking_label.setText(" ".join(parts))
        self.thinking_label.show()

    def _fill_token_view(self, prompt: ChatPrompt, new_from: int | None) -> None:
        document, cursor = new_document(self.token_view)
        spans = prompt.rendered.spans
        starts = [s.start for s in spans]
        text = prompt.rendered.text
        gap = QTextCharFormat()  # a narrow space between tokens: a visible seam and a place to wrap
        gap.setFontPointSize(max(self.token_view.font().pointSizeF() / 3, 3.0))
        kinds = {  # a token's kind and a message's role, as the tooltips name them
            "template": self.tr("template"),
            "special": self.tr("special"),
            "content": self.tr("content"),
        }
        roles = {"system": self.tr("system"), "user": self.tr("user"), "assistant": self.tr("assistant")}
        new_mark = html.escape(self.tr("new this turn"))
        for i, (token, kind) in enumerate(zip(prompt.tokens, prompt.kinds, strict=True)):
            start, end = self._ranges[i]
            span = spans[bisect.bisect_right(starts, start) - 1] if spans and start < len(text) else None
            role = span.role if span is not None and kind == "content" else None
            is_new = None if new_from is None else i >= new_from
            fmt = span_format(kind, role, i % 2, is_new)
            piece = self._pieces[i]
            try:
                piece.decode("utf-8")
                partial = False
            except UnicodeDecodeError:
                partial = True
                fmt.setFontItalic(True)
            where = self.tr("token {i} of {n} · <b>id {id}</b> · {kind}").format(
                i=f"{i + 1:,}", n=f"{len(prompt.tokens):,}", id=token, kind=html.escape(kinds.get(kind, kind))
            )
            lines = [
                where + (f" ({html.escape(roles.get(role, role))})" if role else ""),
                self.tr("bytes: {bytes}").format(bytes=piece.hex(" ").upper() or self.tr("(none)")),
            ]
            if partial and end > start:
                whole = text[start:end]
                codes = " ".join(f"U+{ord(c):04X}" for c in whole)
                lines.append(
                    self.tr("part of the character {char} ({codes}): not whole UTF-8").format(
                        char=html.escape(whole), codes=codes
                    )
                )
            elif end == start:
                lines.append(html.escape(self.tr("added by the tokenizer; not in the text")))
            if is_new:
                lines.append(f"<b>{new_mark}</b>")
            fmt.setToolTip(tip_html(*lines))
            fmt.setProperty(TOKEN_INDEX, i)
            cursor.insertText(self._labels[i], fmt)
            newlines = piece.count(b"\n")
            cursor.insertText("\n" * newlines if newlines else " ", gap)
        self.token_view.setDocument(document)
