"""The note over the chat when the loaded model and the language do not suit: a model that writes Chinese
poorly, in a Chinese window or for a Chinese text. It names the model to use instead and how to get it
onto a machine without internet; the teacher may hide it for that model."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QWidget

from desktop_app.core.engine.coverage import POOR_SHARE
from desktop_app.core.engine.fit import format_bytes
from desktop_app.core.models.hub import FOR_CHINESE
from desktop_app.ui.workers import LoadedModel

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class LanguageNote(QLabel):
    def __init__(self, parent: QWidget, language: str, loaded: Callable[[], LoadedModel | None]) -> None:
        """``loaded``: the model loaded now (None: none)."""
        super().__init__(parent)
        self.language = language  # the interface's
        self._loaded = loaded
        self.setWordWrap(True)
        self.setStyleSheet("background:#fef7e0; padding:6px; border-radius:4px")
        self.hide()
        self.linkActivated.connect(self._hide_for_model)
        self._hidden_for: set[str] = set()  # models whose note the user hid
        # A note for the teacher: its ordinary size on the projector too (presentation.KEEP_SIZE).
        self.setProperty("presentation_keep_size", True)

    def check(self, text: str = "") -> None:
        """Say in one line when the loaded model writes Chinese poorly (most common characters spelled in
        byte tokens) and the window speaks Chinese or ``text`` is Chinese: which model to use, and how to
        get it onto a machine without internet."""
        model = self._loaded()
        chinese = self.language == "zh_TW" or any("\u4e00" <= ch <= "\u9fff" for ch in text)
        share = model.zh_share if model is not None else None
        poor = share is not None and share < POOR_SHARE
        if model is None or share is None or not (poor and chinese) or model.model_id in self._hidden_for:
            self.hide()
            return
        pick = FOR_CHINESE
        note = translate(
            "MainWindow",
            "{model} writes Chinese poorly: it spells {share} of common characters in bytes. For "
            "Chinese use {pick} ({size}, Models page); without internet, import its GGUF from a USB "
            "stick (File → Import a model file…).",
        ).format(
            model=model.display_name,
            share=f"{1 - share:.0%}",
            pick=pick.filename,
            size=format_bytes(pick.size_bytes),
        )
        # A teacher who knows: the room's screen keeps its lines for the chat.
        hide = translate("MainWindow", "Hide")
        # The link first: on a short screen the note's last line may be cut.
        self.setText(f'<a href="hide">{html.escape(hide)}</a> · {html.escape(note)}')
        self.show()

    def _hide_for_model(self, _link: str = "") -> None:
        """Hidden for this model until the app restarts."""
        model = self._loaded()
        if model is not None:
            self._hidden_for.add(model.model_id)
        self.hide()
