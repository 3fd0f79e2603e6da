"""“Why is every answer different?”: several answers to the same prompt side by side, where each one
went its own way marked."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.compare import MAX_ANSWERS, Comparison
from desktop_app.core.engine.session import Step
from desktop_app.ui.widgets.chat import probability_colour

SPLIT_STYLE = "border-bottom:3px solid #e8590c; background:#ffe8cc; font-weight:bold"
#: The narrowest an answer's column gets: a narrower dock puts the answers on more rows instead (it never
#: scrolls sideways), in large print too.
COLUMN_EM = 16
ROW_EM = 9  # an answer's height when the answers take several rows


class CompareView(QWidget):
    compare_requested = Signal(int)  # how many answers
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.count = QSpinBox(self)
        self.count.setRange(2, MAX_ANSWERS)
        self.count.setValue(3)
        self.count.setSuffix(self.tr(" answers"))
        self.run_button = QPushButton(self.tr("Generate side by side"), self)
        self.run_button.setToolTip(
            self.tr("The same prompt, the same model and settings; only the rolls of the die differ")
        )
        self.run_button.clicked.connect(lambda: self.compare_requested.emit(self.count.value()))
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.clicked.connect(self.stop_requested)
        self.stop_button.setEnabled(False)
        self.summary = QLabel(self.tr("Ask something in the chat, then generate several answers to it."))
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.count)
        top.addWidget(self.run_button)
        top.addWidget(self.stop_button)
        top.addStretch(1)
        self._grid_host = QWidget(self)
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        scroll = self._scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._grid_host)
        scroll.viewport().installEventFilter(self)  # its width decides how many answers share a row
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)
        self.columns: list[QTextBrowser] = []
        self.headers: list[QLabel] = []
        self._per_row = 0
        self._steps: list[list[Step]] = []
        self._split: tuple[int, ...] = ()
        self._dirty: set[int] = set()
        self._timer = QTimer(self, interval=50)
        self._timer.timeout.connect(self._render_dirty)

    # --- from the window --------------------------------------------------------------------------
    def start(self, k: int, seeds: list[int | None], headers: list[tuple[str, str]] | None = None) -> None:
        """Columns for ``k`` answers; ``headers``: each answer's title and a line about it (a lesson's
        answers to different prompts), else "Answer i" and its seed."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.columns, self.headers, self._steps, self._split = [], [], [[] for _ in range(k)], ()
        for i in range(k):
            if headers is not None:
                title, detail = headers[i]
            else:
                title = self.tr("Answer %1").replace("%1", str(i + 1))
                if seeds[i] is None:
                    detail = self.tr("random seed")
                else:
                    detail = self.tr("seed %1").replace("%1", str(seeds[i]))
            shown = f"<b>{html.escape(title, quote=False)}</b> · {html.escape(detail, quote=False)}"
            header = QLabel(shown, self._grid_host)
            header.setWordWrap(True)
            view = QTextBrowser(self._grid_host)
            self.headers.append(header)
            self.columns.append(view)
        self._per_row = 0
        self._arrange()
        self.summary.setText(self.tr("Generating %1 answers…").replace("%1", str(k)))
        self.set_busy(True)
        self._timer.start()

    def per_row(self) -> int:
        """How many answers stand side by side: as many as fit the width at ``COLUMN_EM`` each."""
        em = self.fontMetrics().horizontalAdvance("M")
        width = self._scroll.viewport().width()
        return max(1, min(len(self.columns), width // max(1, COLUMN_EM * em)))

    def _arrange(self) -> None:
        """Lay the answers out in rows of :meth:`per_row` (again only when that changes)."""
        n = self.per_row() if self.columns else 0
        if n == self._per_row:
            return
        self._per_row = n
        for w in (*self.headers, *self.columns):
            self._grid.removeWidget(w)
        for i, (header, view) in enumerate(zip(self.headers, self.columns, strict=True)):
            row, col = divmod(i, n)
            self._grid.addWidget(header, 2 * row, col)
            self._grid.addWidget(view, 2 * row + 1, col)
            view.setMinimumHeight(ROW_EM * self.fontMetrics().height() if len(self.columns) > n else 0)
        for c in range(MAX_ANSWERS):
            self._grid.setColumnStretch(c, 1 if c < n else 0)

    def eventFilter(self, watched, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self._scroll.viewport():
            self._arrange()
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_per_row"):
            self._per_row = 0
            self._arrange()

    def add_step(self, answer: int, step: Step) -> None:
        if 0 <= answer < len(self._steps):
            self._steps[answer].append(step)
            self._dirty.add(answer)

    def done(self, result: Comparison, summary: str | None = None) -> None:
        """The answers are in: each one's parting token marked; ``summary`` in place of the usual one."""
        self._split = result.split_at
        self._dirty.update(range(len(self._steps)))
        self._render_dirty()
        self._timer.stop()
        self.set_busy(False)
        texts = [a.text for a in result.answers]
        distinct = len(set(texts))
        first = min(result.split_at) if result.split_at else 0
        if summary is not None:
            self.summary.setText(summary)
            return
        self.summary.setText(
            self.tr(
                "%1 answers, %2 different. They share their first %3 tokens; the marked token is where "
                "each one went its own way. The prompt was read once (%4 tokens)."
            )
            .replace("%1", str(len(texts)))
            .replace("%2", str(distinct))
            .replace("%3", str(first))
            .replace("%4", str(result.prompt_tokens))
        )

    def failed(self, message: str) -> None:
        self._timer.stop()
        self.set_busy(False)
        self.summary.setText(message)

    def set_busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)

    # --- rendering --------------------------------------------------------------------------------
    def answer_html(self, i: int) -> str:
        split = self._split[i] if i < len(self._split) else None
        parts = []
        end = self.tr("[END]")
        for k, step in enumerate(self._steps[i]):
            if step.end:
                parts.append(f'<span style="color:#7b3fb5">&nbsp;{html.escape(end)}</span>')
                continue
            text = html.escape(step.text).replace("\n", "<br>")
            if not text:
                continue
            if k == split:
                style = SPLIT_STYLE
            else:
                p = step.distribution.chosen_p_final if step.distribution is not None else None
                style = f"background:{probability_colour(p)}"
            parts.append(f'<span style="{style}">{text}</span>')
        return "".join(parts)

    def split_token(self, i: int) -> Step | None:
        """The step where answer ``i`` parts from the others (None while generating or if it has none)."""
        if i >= len(self._split) or self._split[i] >= len(self._steps[i]):
            return None
        return self._steps[i][self._split[i]]

    def _render_dirty(self) -> None:
        for i in sorted(self._dirty):
            if i < len(self.columns):
                self.columns[i].setHtml(self.answer_html(i))
        self._dirty.clear()

    def texts(self) -> list[str]:
        return [view.toPlainText() for view in self.columns]
