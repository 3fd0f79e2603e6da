"""What a model on a server cannot give, greyed out in the window with the reason (never faked): on an
OpenAI-compatible server, which samples every token itself and names tokens by their text, step mode,
banning or replacing the end token, comparing answers and the tokens view; the template inspector says
why it has no template (see ``RemoteService.render``). A local model or one on llama-server has them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

from desktop_app.core.engine.messages import LoadedModel
from desktop_app.ui import core_text
from desktop_app.ui.widgets.sampling_panel import SamplingPanel

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def _reason(why: str) -> str:
    return translate("MainWindow", "Not on this server: {why}.").format(why=core_text.server_limit(why))


class ServerLimits:
    """Greys out, and brings back, what the loaded model's server cannot give: ``areas`` maps each thing a
    server may lack (``"step"``, ``"tokens"``; see ``ServerInfo.missing``) to the widgets that need it."""

    def __init__(self, areas: Mapping[str, Sequence[QWidget]], sampling: SamplingPanel) -> None:
        self._areas = areas
        self._sampling = sampling
        self._tips: dict[int, str] = {}  # each greyed widget's own tooltip, to put back

    def apply(self, model: LoadedModel | None) -> None:
        """Grey out what ``model`` (None: no model) cannot give; bring the rest back."""
        missing = dict(model.unavailable) if model is not None else {}
        for what, widgets in self._areas.items():
            why = missing.get(what)
            for widget in widgets:
                self._set(widget, why)
        step = missing.get("step")
        self._sampling.set_end_unavailable(_reason(step) if step else None)
        on_server = model is not None and model.server is not None
        self._sampling.set_thinking_unavailable(
            translate(
                "MainWindow",
                "On a server, the end of the thinking is the server's: these work on a model loaded here.",
            )
            if on_server
            else None
        )

    def _set(self, widget: QWidget, why: str | None) -> None:
        key = id(widget)
        if why is not None:
            self._tips.setdefault(key, widget.toolTip())
            widget.setEnabled(False)
            widget.setToolTip(_reason(why))
        elif key in self._tips:
            widget.setEnabled(True)
            widget.setToolTip(self._tips.pop(key))
