"""The template inspector's source tab: the model's Jinja chat template in an editor (line numbers, Jinja
syntax coloured, a wrong line marked), applied as this model's override or reset to the model's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRect, QSize, Qt, SignalInstance
from PySide6.QtGui import (
    QColor,
    QFont,
    QPainter,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.chat_template import ChatTemplate, TemplateError
from desktop_app.ui.widgets.prompt_offsets import qt_position

# English keys, translated when shown (context "TemplateInspector"). QT_TRANSLATE_NOOP returns its message;
# the cast says so where PySide6's stub says ``object``.
ORIGIN_LABELS = cast(
    dict[str, str],
    {
        "gguf": QT_TRANSLATE_NOOP("TemplateInspector", "the model's own (GGUF)"),
        "override": QT_TRANSLATE_NOOP("TemplateInspector", "your override"),
        "fallback": QT_TRANSLATE_NOOP("TemplateInspector", "fallback (this model has no chat template)"),
        "plain": QT_TRANSLATE_NOOP("TemplateInspector", "none (plain text continuation)"),
        "server": QT_TRANSLATE_NOOP("TemplateInspector", "the server's own (not shown)"),
    },
)
ORIGIN_SENTENCES = cast(
    dict[str, str],
    {
        "gguf": QT_TRANSLATE_NOOP(
            "TemplateInspector",
            "The model's own template, read from its GGUF file (tokenizer.chat_template).",
        ),
        "override": QT_TRANSLATE_NOOP(
            "TemplateInspector",
            "Your override of this model's template. Reset to go back to the model's own.",
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
        "server": QT_TRANSLATE_NOOP(
            "TemplateInspector",
            "This model runs on an OpenAI-compatible server, which formats the chat with its own template "
            "and does not show it: TokenDice can neither show nor change it. On llama-server it can.",
        ),
    },
)
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def origin_text(table: dict[str, str], origin: str) -> str:
    return translate("TemplateInspector", table[origin]) if origin in table else origin


class JinjaHighlighter(QSyntaxHighlighter):
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
    def __init__(self, editor: SourceEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event) -> None:
        self._editor.paint_gutter(self, event.rect())


class SourceEditor(QPlainTextEdit):
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


class TemplateSource:
    """The source tab of :class:`~desktop_app.ui.widgets.template_inspector.TemplateInspector` (a part of
    it, whose state it reads and keeps)."""

    if TYPE_CHECKING:  # what the inspector has
        template_override_changed: SignalInstance
        tabs: QTabWidget
        prompt_error_label: QLabel
        _mono: QFont
        _origin: str
        _model_source: tuple[str, str] | None

    def _build_source_tab(self) -> QWidget:
        page = QWidget()
        self.origin_label = QLabel(translate("TemplateInspector", "No model loaded."))
        self.origin_label.setWordWrap(True)
        self.source_editor = SourceEditor()
        self.source_editor.setFont(self._mono)
        self.source_editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = JinjaHighlighter(self.source_editor.document())
        self.source_editor.setPlaceholderText(
            translate("TemplateInspector", "The model's Jinja chat template appears here.")
        )
        self.source_editor.modificationChanged.connect(lambda _m: self._update_buttons())
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(
            "QLabel { color: #b42318; background: #fef3f2; border: 1px solid #fda29b; padding: 6px; }"
        )
        self.error_label.hide()
        self.apply_button = QPushButton(translate("TemplateInspector", "Apply"))
        self.apply_button.setToolTip(
            translate("TemplateInspector", "Check the template and use it for this model from now on")
        )
        self.apply_button.clicked.connect(self.apply)
        self.reset_button = QPushButton(translate("TemplateInspector", "Reset to the model's template"))
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

    def show_template_source(self, source: str, origin: str) -> None:
        """Put a template in the editor: the model's own (``gguf``), the ``override`` or the ``fallback``."""
        self._origin = origin
        if origin != "override":
            self._model_source = (source, origin)
        if source != self.source_editor.toPlainText():
            self.source_editor.setPlainText(source)
        self.source_editor.document().setModified(False)
        self.origin_label.setText(origin_text(ORIGIN_SENTENCES, origin))
        self._clear_error()
        self._update_buttons()

    def show_error(self, message: str, lineno: int | None) -> None:
        """Show a template problem under the editor and mark its line; the editor's text is kept."""
        self.error_label.setText(message)
        self.error_label.show()
        self.prompt_error_label.setText(
            translate("TemplateInspector", "{error} (see the Template source tab)").format(error=message)
        )
        self.prompt_error_label.show()
        self.tabs.setTabText(1, translate("TemplateInspector", "Template source") + " ⚠")
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
        self.tabs.setTabText(1, translate("TemplateInspector", "Template source"))
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
