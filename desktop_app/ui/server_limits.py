"""What a model on a server cannot give, greyed out in the window with the reason (never faked): on an
OpenAI-compatible server, which samples every token itself and names tokens by their text, step mode,
banning or replacing the end token, comparing answers and the tokens view; the template inspector says
why it has no template (see ``RemoteService.render``). A local model or one on llama-server has them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from desktop_app.core.engine.messages import LoadedModel

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def _reason(why: str) -> str:
    return translate("MainWindow", "Not on this server: {why}.").format(why=why)


class ServerLimits:
    """Greys out, and brings back, what the loaded model's server cannot give."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._tips: dict[int, str] = {}  # each greyed widget's own tooltip, to put back

    def _areas(self) -> dict[str, tuple[QWidget, ...]]:
        w = self.window
        return {
            "step": (w.chat.step_bar, w.workshop.compare),
            "tokens": (w.workshop.tokens,),
        }

    def apply(self, model: LoadedModel | None) -> None:
        """Grey out what ``model`` (None: no model) cannot give; bring the rest back."""
        missing = dict(model.unavailable) if model is not None else {}
        for what, widgets in self._areas().items():
            why = missing.get(what)
            for widget in widgets:
                self._set(widget, why)
        step = missing.get("step")
        self.window.sampling.set_end_unavailable(_reason(step) if step else None)

    def _set(self, widget: QWidget, why: str | None) -> None:
        key = id(widget)
        if why is not None:
            self._tips.setdefault(key, widget.toolTip())
            widget.setEnabled(False)
            widget.setToolTip(_reason(why))
        elif key in self._tips:
            widget.setEnabled(True)
            widget.setToolTip(self._tips.pop(key))
