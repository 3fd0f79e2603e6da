"""The tokenizer view and the model's facts card.

Type a text and see the tokens the model reads: each with its id (hover), a piece that is only part of a
character shown as its bytes, how many tokens it makes and how big the vocabulary is. Below, what the
model is: its architecture (chosen by people) and its parameters (learned from data).
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QScrollArea, QTextBrowser, QVBoxLayout, QWidget

from desktop_app.core.engine.tokens import piece_label, split_chars
from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.library import ModelEntry
from desktop_app.ui.widgets.frames import behind_a_tab

SHADES = ("#dbeafe", "#fde68a", "#d1fae5", "#fbcfe8", "#e9d5ff")


def _bytes_hex(piece: bytes) -> str:
    return " ".join(f"{b:02X}" for b in piece)


class TokensView(QWidget):
    tokenize_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.input = QLineEdit(self)
        self.input.setPlaceholderText(self.tr("Type a text to see its tokens, e.g. 臺灣最高的山是玉山。"))
        self.input.textChanged.connect(lambda _t: self._timer.start())
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(lambda: self.tokenize_requested.emit(self.input.text()))
        self.count = QLabel(self)
        self.view = QTextBrowser(self)
        self.view.setMinimumHeight(80)
        self.facts = QLabel(self)
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(self.facts.textFormat().RichText)
        self.facts.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # The facts card scrolls in its own area: a model's card (a table) does not raise the dock's
        # minimum height, so loading a model does not push the docks above it around.
        self.facts_area = QScrollArea(self)
        self.facts_area.setWidgetResizable(True)
        self.facts_area.setFrameShape(QFrame.Shape.NoFrame)
        self.facts_area.setWidget(self.facts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.input)
        layout.addWidget(self.count)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.facts_area, 1)
        self.ids: list[int] = []
        self.pieces: list[bytes] = []
        self._n_vocab = 0
        self._facts_waiting: str | None = None  # a card not laid out yet: this view is behind a tab
        self.show_facts(None)

    def set_text(self, text: str) -> None:
        self.input.setText(text)
        self._timer.stop()
        self.tokenize_requested.emit(text)

    def set_vocab(self, n_vocab: int) -> None:
        self._n_vocab = n_vocab

    def show_tokens(self, text: str, ids: Sequence[int], pieces: Sequence[bytes]) -> None:
        if text != self.input.text():
            return  # an answer for an older text
        self.ids, self.pieces = list(ids), list(pieces)
        # A character whose bytes lie in several tokens: each of them says so, and after the last one
        # the character they make ("<E8><87> + <BA> = 臺": this model needs two tokens for 臺).
        groups = split_chars(self.pieces)
        part_of = {i: g for g in groups for i in range(g.first, g.last + 1)}
        made_at = {g.last: g for g in groups if g.char}
        chips = []
        for i, (t, p) in enumerate(zip(ids, pieces, strict=True)):
            label = html.escape(piece_label(p))
            tip = self.tr("token %1 · bytes %2").replace("%1", str(t)).replace("%2", _bytes_hex(p))
            if i in part_of:
                tip += "\n" + self.tr("part of a character: %1").replace("%1", part_of[i].label())
            tip = html.escape(tip, quote=True)
            shade = SHADES[i % len(SHADES)]
            chips.append(
                f'<span title="{tip}" style="background:{shade}; padding:2px">{label}</span>'
                f'<sub style="color:#5f6368">{t}</sub> '
            )
            if i in made_at:
                made = html.escape(made_at[i].char)
                chips.append(f'<span style="color:#174ea6"><b>= {made}</b></span> ')
        self.view.setHtml('<p style="line-height:160%">' + "".join(chips) + "</p>")
        if self._n_vocab:
            count = self.tr("%1 characters → %2 tokens, from a vocabulary of %3 tokens")
        else:  # a model on a server that did not give its vocabulary's size
            count = self.tr("%1 characters → %2 tokens; the vocabulary's size was not reported")
        self.count.setText(
            count.replace("%1", f"{len(text):,}")
            .replace("%2", f"{len(ids):,}")
            .replace("%3", f"{self._n_vocab:,}")
        )

    def show_facts(self, entry: ModelEntry | None) -> None:
        """The model's facts card. Behind another dock's tab it is laid out when the tab is chosen
        (:meth:`shown_again`): laying it out held the window ~20 ms just after a model loaded."""
        self._facts_waiting = self._facts_html(entry)
        self.shown_again()

    def shown_again(self, *_: object) -> None:
        """This view may have come into view (its dock's tab was chosen): lay out a card waiting."""
        if self._facts_waiting is None or behind_a_tab(self):
            return
        self.facts.setText(self._facts_waiting)
        self._facts_waiting = None

    def facts_text(self) -> str:
        """The facts card's text, laid out or waiting to be."""
        return self.facts.text() if self._facts_waiting is None else self._facts_waiting

    def _facts_html(self, entry: ModelEntry | None) -> str:
        if entry is None or entry.metadata is None:
            return self.tr("<i>No model loaded.</i>")
        m = entry.metadata
        rows = [
            (self.tr("Architecture"), m.architecture),
            (self.tr("Parameters"), f"{format_params(m.parameter_count)} ({m.parameter_count:,})"),
            (self.tr("Layers"), str(m.block_count)),
            (self.tr("Context length"), f"{m.context_length:,}" if m.context_length else "?"),
            (self.tr("Vocabulary"), f"{m.vocab_size:,}" if m.vocab_size else "?"),
            (self.tr("Quantization"), m.quantization),
            (self.tr("File size"), f"{m.file_size / 1e6:,.0f} MB"),
        ]
        table = "".join(
            f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
        )
        note = self.tr(
            "The architecture (the kind of network, its layers and sizes) is chosen by people; the "
            "%1 parameter values are learned from data."
        ).replace("%1", format_params(m.parameter_count))
        return (
            f"<b>{html.escape(entry.display_name)}</b><table cellspacing='6'>{table}</table>"
            f"<p style='color:#5f6368'>{html.escape(note)}</p>"
        )
