"""The template inspector: the one long text a chat really is, as characters, as tokens, and its template.

The widget only displays. Rendering the template and tokenizing happen in the core (``chat_prompt``); the
caller hands over the finished :class:`ChatPrompt` plus two lookups (``label_of``, ``piece_of``) and gets
back ``template_override_changed`` when the user applies or resets an edited template.

Offsets: spans are Python string indices (code points). A QTextDocument counts UTF-16 units, and turns
"\\r\\n" into one paragraph separator; :func:`qt_position` converts.
"""

from __future__ import annotations

import bisect
import html
import itertools
from collections.abc import Callable, Sequence
from typing import ClassVar

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontInfo,
    QPainter,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextOption,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.chat import ChatPrompt
from desktop_app.core.engine.chat_template import ChatTemplate, TemplateError

__all__ = ["TOKEN_INDEX", "TemplateInspector", "common_prefix", "qt_position", "token_char_ranges"]

TOKEN_INDEX = QTextFormat.UserProperty + 1  # char-format property: the token's index in the prompt

# English keys, translated when shown (context "TemplateInspector").
ORIGIN_LABELS = {
    "gguf": QT_TRANSLATE_NOOP("TemplateInspector", "the model's own (GGUF)"),
    "override": QT_TRANSLATE_NOOP("TemplateInspector", "your override"),
    "fallback": QT_TRANSLATE_NOOP("TemplateInspector", "fallback (this model has no chat template)"),
    "plain": QT_TRANSLATE_NOOP("TemplateInspector", "none (plain text continuation)"),
}
ORIGIN_SENTENCES = {
    "gguf": QT_TRANSLATE_NOOP(
        "TemplateInspector", "The model's own template, read from its GGUF file (tokenizer.chat_template)."
    ),
    "override": QT_TRANSLATE_NOOP(
        "TemplateInspector", "Your override of this model's template. Reset to go back to the model's own."
    ),
    "fallback": QT_TRANSLATE_NOOP(
        "TemplateInspector",
        "This model has no chat template, so TokenDice writes a plain System:/User:/Assistant: "
        "transcript. Edit it and press Apply to give the model a template of your own.",
    ),
    "plain": QT_TRANSLATE_NOOP(
        "TemplateInspector",
        "Plain text continuation: no chat template at all. The texts are joined as they are and the "
        "model simply continues them.",
    ),
}
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def _origin(table: dict[str, str], origin: str) -> str:
    return translate("TemplateInspector", table[origin]) if origin in table else origin


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


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two prompts share (the part a KV cache can reuse)."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def token_char_ranges(text: str, pieces: Sequence[bytes]) -> list[tuple[int, int]]:
    """The character range of ``text`` each token covers, by walking the pieces' bytes along its UTF-8.

    A token whose piece is not the next text (a BOS the tokenizer adds) covers nothing; a piece that brings
    its own leading space (SentencePiece's space prefix) covers the text after the space; a token holding
    part of a character (a byte token) covers that whole character.
    """
    data = text.encode("utf-8")
    char_of_byte = [0] * (len(data) + 1)  # byte offset -> index of the character it belongs to
    b = 0
    for i, ch in enumerate(text):
        n = len(ch.encode("utf-8"))
        char_of_byte[b : b + n] = [i] * n
        b += n
    char_of_byte[len(data)] = len(text)
    ranges: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        if piece and data.startswith(piece, pos):
            end = pos + len(piece)
        elif piece[:1] == b" " and len(piece) > 1 and data.startswith(piece[1:], pos):
            end = pos + len(piece) - 1
        else:
            end = pos
        start_char = char_of_byte[pos]
        end_char = char_of_byte[end - 1] + 1 if end > pos else start_char
        ranges.append((start_char, end_char))
        pos = end
    return ranges


def qt_position(text: str, index: int) -> int:
    """The QTextDocument position of ``text[index]`` in a document of ``text``: UTF-16, "\\r\\n" as one."""
    prefix = text[:index]
    units = len(prefix.encode("utf-16-le")) // 2
    merged = prefix.count("\r\n") + (1 if prefix.endswith("\r") and text[index : index + 1] == "\n" else 0)
    return units - merged


def _blend(color: str, amount: float) -> QColor:
    c = QColor(color)
    return QColor(*(round(v + (255 - v) * amount) for v in (c.red(), c.green(), c.blue())))


def _tip(*lines: str) -> str:
    return "<qt>" + "<br>".join(lines) + "</qt>"


class _TextView(QTextEdit):
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
        if event.type() == QEvent.Type.ToolTip:
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


class _JinjaHighlighter(QSyntaxHighlighter):
    """Colours Jinja's {% statements %}, {{ expressions }} and {# comments #}; literal text stays plain."""

    CLOSERS: ClassVar[dict[int, str]] = {1: "%}", 2: "}}", 3: "#}"}
    STYLES: ClassVar[dict[int, tuple[str, bool]]] = {
        1: ("#0550ae", True),  # {% statement %}
        2: ("#116329", False),  # {{ expression }}
        3: ("#8c959f", False),  # {# comment #}
    }

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._formats = {}
        for state, (color, bold) in self.STYLES.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
            fmt.setFontItalic(state == 3)
            self._formats[state] = fmt

    def highlightBlock(self, text: str) -> None:
        state, pos = max(self.previousBlockState(), 0), 0  # state: inside which kind of tag a line starts
        while pos < len(text):
            start = pos
            if state == 0:
                found = (text.find(opener, pos) for opener in ("{%", "{{", "{#"))
                start = min((i for i in found if i >= 0), default=-1)
                if start < 0:
                    break
                state, pos = {"%": 1, "{": 2, "#": 3}[text[start + 1]], start + 2
            end = text.find(self.CLOSERS[state], pos)
            stop = len(text) if end < 0 else end + 2
            # QSyntaxHighlighter counts UTF-16 units; Python indexes code points.
            a, b = qt_position(text, start), qt_position(text, stop)
            self.setFormat(a, b - a, self._formats[state])
            if end < 0:
                break
            state, pos = 0, stop
        self.setCurrentBlockState(state)


class _Gutter(QWidget):
    def __init__(self, editor: _SourceEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event) -> None:
        self._editor.paint_gutter(self, event.rect())


class _SourceEditor(QPlainTextEdit):
    """A monospace template editor with line numbers (errors name lines) and the error line marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error_line: int | None = None
        self._gutter = _Gutter(self)
        self.blockCountChanged.connect(lambda _n: self.setViewportMargins(self.gutter_width(), 0, 0, 0))
        self.updateRequest.connect(self._repaint_gutter)
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def gutter_width(self) -> int:
        return 14 + self.fontMetrics().horizontalAdvance("9") * max(2, len(str(self.blockCount())))

    def _repaint_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        r = self.contentsRect()
        self._gutter.setGeometry(QRect(r.left(), r.top(), self.gutter_width(), r.height()))

    def paint_gutter(self, gutter: QWidget, rect: QRect) -> None:
        painter = QPainter(gutter)
        painter.fillRect(rect, QColor("#f3f4f6"))
        painter.setFont(self.font())
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        while block.isValid() and top <= rect.bottom():
            number = block.blockNumber() + 1
            painter.setPen(QColor("#b42318" if number == self.error_line else "#8c959f"))
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
            painter.drawText(0, top, gutter.width() - 6, height, align, str(number))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()


class TemplateInspector(QWidget):
    """Shows the prompt a chat turns into (text, tokens, what is new this turn) and its editable template."""

    template_override_changed = Signal(object)  # str (apply this override) or None (back to the model's)

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
        self.text_button = QToolButton(text=self.tr("Text"), checkable=True, checked=True)
        self.tokens_button = QToolButton(text=self.tr("Tokens"), checkable=True)
        group = QButtonGroup(page)
        group.setExclusive(True)
        for button in (self.text_button, self.tokens_button):
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setMinimumWidth(70)
            group.addButton(button)
        self.text_button.setToolTip(
            self.tr("The exact string the model reads, coloured by where each part came from")
        )
        self.tokens_button.setToolTip(self.tr("The same string cut into tokens: one shaded block per token"))
        self.new_check = QCheckBox(self.tr("Highlight what's new this turn"), checked=True)
        self.new_check.toggled.connect(lambda _on: self._render())
        self.new_label = QLabel()
        self.new_label.setWordWrap(True)
        self.legend_label = QLabel()
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)

        self.prompt_view = _TextView()
        self.token_view = _TextView()
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
        box.addWidget(self.legend_label)
        box.addWidget(self.stack, 1)
        self._update_legend()
        return page

    def _build_source_tab(self) -> QWidget:
        page = QWidget()
        self.origin_label = QLabel(self.tr("No model loaded."))
        self.origin_label.setWordWrap(True)
        self.source_editor = _SourceEditor()
        self.source_editor.setFont(self._mono)
        self.source_editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = _JinjaHighlighter(self.source_editor.document())
        self.source_editor.setPlaceholderText(self.tr("The model's Jinja chat template appears here."))
        self.source_editor.modificationChanged.connect(lambda _m: self._update_buttons())
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(
            "QLabel { color: #b42318; background: #fef3f2; border: 1px solid #fda29b; padding: 6px; }"
        )
        self.error_label.hide()
        self.apply_button = QPushButton(self.tr("Apply"))
        self.apply_button.setToolTip(self.tr("Check the template and use it for this model from now on"))
        self.apply_button.clicked.connect(self.apply)
        self.reset_button = QPushButton(self.tr("Reset to the model's template"))
        self.reset_button.clicked.connect(self.reset)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.apply_button)
        box = QVBoxLayout(page)
        box.addWidget(self.origin_label)
        box.addWidget(self.source_editor, 1)
        box.addWidget(self.error_label)
        box.addLayout(buttons)
        self._update_buttons()
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
        if self._new_from is not None and self.new_check.isChecked():
            underline = " text-decoration:underline; font-weight:bold;"
            parts.append(chip(self.tr("new this turn"), "white", NEW_MARK, underline))
            faded = _blend(TEXT, FADE_TEXT).name()
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
        origin = html.escape(_origin(ORIGIN_LABELS, prompt.template.origin), quote=False)
        self.header_label.setText(
            self.tr("template: <b>{origin}</b>").format(origin=origin)
            + " &nbsp;·&nbsp; "
            + (f'<span style="color:#b42318">{count}</span>' if full else count)
        )
        highlight = self._new_from is not None and self.new_check.isChecked()
        self.new_check.setVisible(self._new_from is not None)
        self._update_new_label()
        self._update_legend()
        new_char = self.new_char_start if highlight else None
        self._fill_prompt_view(prompt, new_char)
        # The token view (one fragment per token) is built when it is shown: a long chat costs tens of
        # milliseconds to lay out again after every reply.
        self._tokens_stale = True
        if self.stack.currentIndex() == 1:
            self._fill_tokens()
        if new_char is not None:
            self._reveal(self.prompt_view, qt_position(prompt.rendered.text, new_char))

    def _update_new_label(self) -> None:
        new = self.new_token_count
        if new is None:
            self.new_label.setText(
                self.tr(
                    "First turn: the model reads all of this. Next turn it will read all of it again, plus "
                    "more."
                )
            )
            return
        total = len(self._prompt.tokens)
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

    def _format(self, kind: str, role: str | None, shade: int, is_new: bool | None) -> QTextCharFormat:
        fmt = QTextCharFormat()
        if kind == "content":
            bg, fg = SHADES.get(role or "", SHADES["other"])[shade], TEXT
        else:
            bg, fg = SHADES[kind][shade], TEMPLATE_FG if kind == "template" else SPECIAL_FG
        if kind == "special":
            fmt.setFontWeight(QFont.Weight.DemiBold)
        if is_new is False:
            fmt.setForeground(_blend(fg, FADE_TEXT))
            fmt.setBackground(_blend(bg, FADE_BACKGROUND))
        else:
            fmt.setForeground(QColor(fg))
            fmt.setBackground(QColor(bg))
        if is_new:
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
            fmt.setUnderlineColor(QColor(NEW_MARK))
        return fmt

    def _new_document(self, view: _TextView) -> tuple[QTextDocument, QTextCursor]:
        document = QTextDocument(view)  # a child of the view: replacing it deletes the old one
        document.setUndoRedoEnabled(False)
        document.setDefaultFont(view.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        document.setDefaultTextOption(option)
        return document, QTextCursor(document)

    def _fill_prompt_view(self, prompt: ChatPrompt, new_char: int | None) -> None:
        document, cursor = self._new_document(self.prompt_view)
        text = prompt.rendered.text
        new_mark = html.escape(self.tr("new this turn"))
        for span in prompt.rendered.spans:
            if span.kind == "content":
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
                fmt = self._format(span.kind, span.role, 1 if is_new else 0, is_new)
                fmt.setToolTip(_tip(tip + (f" · <b>{new_mark}</b>" if is_new else "")))
                cursor.insertText(text[a:b], fmt)
        self.prompt_view.setDocument(document)

    def _fill_token_view(self, prompt: ChatPrompt, new_from: int | None) -> None:
        document, cursor = self._new_document(self.token_view)
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
            fmt = self._format(kind, role, i % 2, is_new)
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
            fmt.setToolTip(_tip(*lines))
            fmt.setProperty(TOKEN_INDEX, i)
            cursor.insertText(self._labels[i], fmt)
            newlines = piece.count(b"\n")
            cursor.insertText("\n" * newlines if newlines else " ", gap)
        self.token_view.setDocument(document)

    @staticmethod
    def _reveal(view: _TextView, position: int) -> None:
        """Show the text from ``position`` (what is new this turn), with the prompt's beginning (the system
        line) above it when both fit the view."""
        cursor = QTextCursor(view.document())
        cursor.setPosition(min(position, view.document().characterCount() - 1))
        view.setTextCursor(cursor)
        bar = view.verticalScrollBar()
        bar.setValue(0)
        if view.cursorRect().bottom() >= view.viewport().height():
            view.ensureCursorVisible()

    # ------------------------------------------------------------------------------------------ source

    def show_template_source(self, source: str, origin: str) -> None:
        """Put a template in the editor: the model's own (``gguf``), the ``override`` or the ``fallback``."""
        self._origin = origin
        if origin != "override":
            self._model_source = (source, origin)
        if source != self.source_editor.toPlainText():
            self.source_editor.setPlainText(source)
        self.source_editor.document().setModified(False)
        self.origin_label.setText(_origin(ORIGIN_SENTENCES, origin))
        self._clear_error()
        self._update_buttons()

    def show_error(self, message: str, lineno: int | None) -> None:
        """Show a template problem under the editor and mark its line; the editor's text is kept."""
        self.error_label.setText(message)
        self.error_label.show()
        self.prompt_error_label.setText(
            self.tr("{error} (see the Template source tab)").format(error=message)
        )
        self.prompt_error_label.show()
        self.tabs.setTabText(1, self.tr("Template source") + " ⚠")
        selections = []
        block = self.source_editor.document().findBlockByNumber(lineno - 1) if lineno else None
        if block is not None and block.isValid():
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(QColor("#fde2e1"))
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(block)
            selections.append(selection)
            self.source_editor.setTextCursor(QTextCursor(block))
            self.source_editor.centerCursor()
        self.source_editor.setExtraSelections(selections)
        self.source_editor.error_line = lineno if selections else None
        self.source_editor.viewport().update()

    @property
    def error_line(self) -> int | None:
        """The 1-based template line marked as wrong, None when no line is marked."""
        return self.source_editor.error_line

    def _clear_error(self) -> None:
        self.error_label.hide()
        self.error_label.clear()
        self.prompt_error_label.hide()
        self.tabs.setTabText(1, self.tr("Template source"))
        self.source_editor.setExtraSelections([])
        self.source_editor.error_line = None

    def _update_buttons(self) -> None:
        modified = self.source_editor.document().isModified()
        self.reset_button.setEnabled(self._origin == "override" or modified)

    def apply(self) -> None:
        """Check the edited template compiles, then ask for it to be this model's override."""
        source = self.source_editor.toPlainText()
        try:
            ChatTemplate(source, origin="override")
        except TemplateError as exc:
            self.show_error(str(exc), exc.lineno)
            return
        self._clear_error()
        self.template_override_changed.emit(source)

    def reset(self) -> None:
        """Drop the override: the model's own template (or the fallback) applies again."""
        self._clear_error()
        if self._model_source is not None:
            self.show_template_source(*self._model_source)
        self.template_override_changed.emit(None)
