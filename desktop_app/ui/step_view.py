"""The step the chart shows, and step mode: the token whose distribution is on the chart (and on the
workshop's views, through the window's ``distribution_shown``), a picked bar that takes its place, the
sampler's changes redrawn for it, and the step buttons and arrow keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from desktop_app.core.conversation.shown import ShownToken
from desktop_app.core.engine.tokens import TextAssembler, continuation_label, piece_label
from desktop_app.core.sampler_settings import SamplerSettings

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class StepView(QObject):
    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self.shown: ShownToken | None = None
        self.pending = b""  # the bytes of an unfinished character before the step shown
        self._at: tuple[int, int] | None = None  # the step shown: (k, n), step k of n
        self.stepping = False  # the last action was a step: a picked bar then adds just that token
        self._arrows: list[QShortcut] = []

    # --- the step shown -----------------------------------------------------------------------------
    def label_of(self, token: int) -> str:
        """A candidate's label in the step shown: after bytes of an unfinished character, what it makes
        of them ("<BA> → 臺")."""
        engine = self.window.engine
        if engine.vocab is None:
            return str(token)
        return continuation_label(self.pending, engine.piece(token))

    def piece_label(self, token: int) -> str:
        engine = self.window.engine
        return piece_label(engine.piece(token)) if engine.vocab is not None else str(token)

    def _pending_before(self, shown: ShownToken, where: tuple[int, int] | None) -> bytes:
        """The bytes of a character that the reply left unfinished before ``shown`` (at ``where``)."""
        if shown.step is not None:
            return shown.step.pending
        if where is None:
            return b""
        assembler = TextAssembler()
        for t in self.window.controller.messages[where[0]].tokens[: where[1]]:
            if not t.end:
                assembler.feed(t.piece)
        return assembler.pending()

    def show_token(self, shown: ShownToken) -> None:
        w = self.window
        if w.loaded is None:
            return
        d = shown.distribution(w.loaded.n_vocab, w.loaded.eog_ids)
        if d is None:
            return
        self.shown = shown
        controller = w.controller
        where = controller.token_at(shown)
        self.pending = self._pending_before(shown, where)
        at = (where[1] + 1, len(controller.messages[where[0]].tokens)) if where is not None else None
        self._at = at
        w.chart.set_step(d, self.label_of, w.loaded.eog_ids, at)
        w.distribution_shown.emit(d, shown.step.position if shown.step is not None else None)

    def forget(self) -> None:
        """No step is shown any more (the chart is cleared by its caller)."""
        self.shown = None

    def on_settings(self, settings: SamplerSettings) -> None:
        w = self.window
        w.controller.set_settings(settings)
        shown = self.shown
        # A served request's step was made by the served requests' session: the window's own holds other
        # logits at that position, so the chart keeps the step as the request's own settings made it.
        ours = shown is not None and not w.controller.core.is_outside(shown)
        if shown is not None and shown.step is not None and not w.controller.busy and ours:
            w.engine.request_redistribute.emit(shown.step.position, settings, shown.step.generation or None)

    def on_redistributed(self, position: int, d) -> None:
        w = self.window
        shown = self.shown
        live = shown is not None and shown.step is not None and shown.step.position == position
        if w.loaded is not None and live:
            w.chart.set_step(d, self.label_of, w.loaded.eog_ids, self._at)
            w.distribution_shown.emit(d, position)

    def pick_token(self, token: int) -> None:
        controller = self.window.controller
        shown = self.shown
        if shown is None or controller.busy:
            return
        where = controller.token_at(shown)
        if where is not None:
            controller.pick_token(where[0], where[1], token, max_tokens=1 if self.stepping else None)

    # --- step mode --------------------------------------------------------------------------------
    def step_next(self) -> None:
        w = self.window
        controller, chat = w.controller, w.chat
        self.stepping = True
        text = chat.input.toPlainText()
        if controller.step_next(text):
            if text.strip():
                chat.input.clear()
        else:
            chat.step_bar.stop()
            if controller.at_length_limit():
                w.show_status(
                    translate("MainWindow", "The reply has reached its maximum length ({n} tokens).").format(
                        n=controller.max_tokens
                    ),
                    6000,
                )
            elif not controller.busy and w.loaded is not None and not text.strip():
                w.show_status(
                    translate("MainWindow", "Type a text to continue first, or the reply has ended."), 6000
                )

    def step_back(self) -> None:
        w = self.window
        controller = w.controller
        self.stepping = True
        w.chat.step_bar.stop()
        if controller.step_back():
            w.render_prompt()
            # The chart showed the token taken back as picked: it shows the step now last, or nothing.
            last = controller.messages[-1] if controller.messages else None
            if last is not None and last.role == "assistant" and last.tokens:
                self.show_token(last.tokens[-1])
            else:
                self.shown = None
                w.chart.clear()

    def on_reply_done(self, _event: object) -> None:
        w = self.window
        w.render_prompt()
        w.chat.step_bar.step_done(self.stepping and w.controller.can_step())

    def on_mode(self, plain: bool) -> None:
        self.window.chat.step_bar.set_plain(plain)
        self.window.render_prompt()

    def add_arrow_keys(self) -> None:
        """← and → step, unless the keyboard focus is in something that uses the arrow keys."""
        self._arrows = []
        for key, slot in ((Qt.Key.Key_Right, self.step_next), (Qt.Key.Key_Left, self.step_back)):
            shortcut = QShortcut(QKeySequence(key), self.window)
            shortcut.activated.connect(slot)
            self._arrows.append(shortcut)
        _app().focusChanged.connect(self._on_focus)
        self._on_focus(None, QApplication.focusWidget())

    def remove_arrow_keys(self) -> None:
        """Stop following the focus (the window closes; the application lives on)."""
        _app().focusChanged.disconnect(self._on_focus)

    def _on_focus(self, _old: object, focus: QWidget | None) -> None:
        typing = isinstance(
            focus, (QLineEdit, QPlainTextEdit, QAbstractSpinBox, QAbstractSlider, QComboBox)
        ) or (isinstance(focus, QTextEdit) and not focus.isReadOnly())
        for shortcut in self._arrows:
            shortcut.setEnabled(not typing)


def _app() -> QApplication:
    return cast(QApplication, QApplication.instance())
