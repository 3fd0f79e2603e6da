"""The main window as its parts see it: the workshop, presentation mode, the step view, the model session
and files, the chats list and the menus use the window through this surface only, so none of them imports
the window's module (which imports them).

``WindowHost`` is the QMainWindow the parts parent their widgets and actions on, with the window's
signals and its public surface; ``main_window.MainWindow`` builds the window and implements it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMainWindow

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

    from desktop_app.core.conversation.shown import ShownToken
    from desktop_app.core.models.library import ModelEntry
    from desktop_app.core.services import Services
    from desktop_app.ui.controllers import ChatController
    from desktop_app.ui.widgets.chat import ChatPane
    from desktop_app.ui.widgets.models import ModelsPanel
    from desktop_app.ui.widgets.prob_chart import ProbChart
    from desktop_app.ui.widgets.sampling_panel import SamplingPanel
    from desktop_app.ui.workers import EngineClient, LoadedModel


class WindowHost(QMainWindow):
    model_loaded = Signal(object)  # LoadedModel, once the window shows it
    model_failed = Signal(str)  # why a load failed
    distribution_shown = Signal(object, object)  # the Distribution the chart shows, its position (or None)

    services: Services
    language: str  # the interface's language ("en", "zh_TW"), which the lessons follow
    engine: EngineClient
    controller: ChatController
    chat: ChatPane
    chart: ProbChart
    sampling: SamplingPanel
    models: ModelsPanel
    file_menu: QMenu
    view_menu: QMenu
    # Every dock by its name: "chats", "sampling", "chart", "template", "models" and those added.
    docks: dict[str, QDockWidget]

    @property
    def loaded(self) -> LoadedModel | None:
        """The model the engine holds, None before one is loaded."""
        raise NotImplementedError

    @property
    def current(self) -> ModelEntry | None:
        """The library's entry of the model loaded, or being loaded."""
        raise NotImplementedError

    def add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """A dock of ``widget`` in ``area``, listed in ``docks`` as ``name``; to be added while the window
        is built, before its saved layout is restored (which places it). ``title`` is its English title,
        marked with ``QT_TRANSLATE_NOOP("Docks", …)`` and shown translated; the English one names the
        dock in the saved window state, in every language."""
        raise NotImplementedError

    def show_dock(self, name: str) -> None:
        """Open the dock ``name`` and bring it in front of the docks tabbed with it."""
        raise NotImplementedError

    def add_menu(self, title: str) -> QMenu:
        """A menu of the menu bar, before Help."""
        raise NotImplementedError

    def show_status(self, text: str, timeout_ms: int) -> None:
        """Say ``text`` in the status bar for ``timeout_ms`` milliseconds."""
        raise NotImplementedError

    def preferences(self) -> QSettings:
        """The window's own preferences file (its layout, the last chat, the die's animation)."""
        raise NotImplementedError

    def label_of(self, token: int) -> str:
        """A candidate's label in the step the chart shows ("<BA> → 臺" after an unfinished character)."""
        raise NotImplementedError

    @property
    def shown_token(self) -> ShownToken | None:
        """The token whose step the chart shows."""
        raise NotImplementedError

    @property
    def shown_pending(self) -> bytes:
        """The bytes of an unfinished character before the step the chart shows."""
        raise NotImplementedError

    def pick_token(self, token: int) -> None:
        """Take ``token`` in place of the one the chart shows (the reply goes on from it)."""
        raise NotImplementedError

    @property
    def stepping(self) -> bool:
        """Whether the last action was a step: a picked token then adds just itself."""
        raise NotImplementedError

    @stepping.setter
    def stepping(self, on: bool) -> None:
        raise NotImplementedError

    def new_chat(self) -> None:
        """A plain new chat: a lesson is left (the user's own settings come back)."""
        raise NotImplementedError

    def unload_model(self) -> None:
        """Unload the model (a reply running is stopped first)."""
        raise NotImplementedError

    def render_prompt(self) -> None:
        """Show the current conversation's prompt in the template pane (rendered on the engine thread)."""
        raise NotImplementedError

    def refresh_library(self) -> None:
        """Fill the Models page with the library as it is now."""
        raise NotImplementedError

    def tidy_tab_bars(self, *_args: object) -> None:
        """Hide the tab bars Qt leaves unused over the window (see ``dock_tabs``), once it is laid out."""
        raise NotImplementedError
