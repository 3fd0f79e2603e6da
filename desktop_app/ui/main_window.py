"""The main window: the chat in the middle; docks for chats, sampling, the next-token chart, the template
and the models. Everything here is wiring: widgets show, the controller routes, the core computes.

The window's parts (the workshop, presentation mode, the step view, the model session and files, the
chats list, the menus) use it through its public surface, ``window_host.WindowHost``, which documents it."""

from __future__ import annotations

import gc
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QMenu, QVBoxLayout, QWidget

from desktop_app import APP_NAME
from desktop_app.core.conversation.shown import ShownToken
from desktop_app.core.engine.gpu import BackendInfo
from desktop_app.core.engine.thinking import earlier_thinking, split_thinking
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.remote.saved import SavedServers
from desktop_app.core.services import Services
from desktop_app.ui import window_state
from desktop_app.ui.chat_files import ChatFiles
from desktop_app.ui.chat_history import ChatHistory
from desktop_app.ui.controllers import ChatController
from desktop_app.ui.dock_tabs import hide_stray_tab_bars
from desktop_app.ui.i18n import active_language, room_for_cjk
from desktop_app.ui.kit_export import KitExport
from desktop_app.ui.kit_import import KitImport, is_kit
from desktop_app.ui.language_note import LanguageNote
from desktop_app.ui.lesson_menu import pack_paths
from desktop_app.ui.model_files import ModelFiles
from desktop_app.ui.model_session import ModelSession
from desktop_app.ui.preset_adapter import PresetAdapter
from desktop_app.ui.projector import Projector
from desktop_app.ui.server_limits import ServerLimits
from desktop_app.ui.serving import ServingControl
from desktop_app.ui.status_line import StatusLine
from desktop_app.ui.step_view import StepView
from desktop_app.ui.wheel_guard import WheelGuard
from desktop_app.ui.widgets.chat import ChatPane
from desktop_app.ui.widgets.chat_list import ChatList
from desktop_app.ui.widgets.engine_banner import EngineBanner
from desktop_app.ui.widgets.models import ModelsPanel
from desktop_app.ui.widgets.prob_chart import ProbChart
from desktop_app.ui.widgets.sampling_panel import SamplingPanel
from desktop_app.ui.widgets.template_inspector import TemplateInspector
from desktop_app.ui.window_host import WindowHost
from desktop_app.ui.window_menus import WindowMenus
from desktop_app.ui.workers import EngineClient, LoadedModel, PromptEvent
from desktop_app.ui.workshop import Workshop

_start_frozen = False  # freeze_startup_objects has set the start aside in this process


def freeze_startup_objects() -> int:
    """Leave what the start made (modules, classes, the window's widgets: ~85,000 objects that live as long
    as the app) out of Python's cycle collector: a full collection walked all of them and held the
    window for ~110 ms, now and then, mid-reply or mid-download. Later objects are collected as usual.
    (No collection first: it would be such a pause itself, at the start; the start's own garbage is
    small and freed when its last reference goes, as ever.) Once per process: a second window finds the
    start already set aside; the freeze count cannot tell, as CPython 3.12 starts with objects of its own
    frozen. Returns how many objects are."""
    global _start_frozen
    if not _start_frozen:
        _start_frozen = True
        gc.freeze()
    return gc.get_freeze_count()


class MainWindow(WindowHost):
    def __init__(
        self,
        services: Services,
        current: ModelEntry | None,
        parent: QWidget | None = None,
        *,
        language: str | None = None,
    ):
        """``language``: the interface language the installed translators speak ("en", "zh_TW"; None:
        ask them), which the lessons follow."""
        super().__init__(parent)
        self.services = services
        self.language = language or active_language()
        self.setWindowTitle(APP_NAME)
        self.resize(1440, 900)
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)
        WheelGuard.install(
            cast(QApplication, QApplication.instance())
        )  # the wheel scrolls the docks, not their controls

        self.engine = EngineClient(self, log_path=services.paths.log_dir / "engine.log")
        self.chat = ChatPane(self)
        self.setCentralWidget(self.chat)
        self.engine_banner = EngineBanner(self.chat)
        chat_layout = cast(QVBoxLayout, self.chat.layout())
        chat_layout.insertWidget(0, self.engine_banner)
        self.language_note = LanguageNote(self.chat, self.language, lambda: self.loaded)
        chat_layout.insertWidget(1, self.language_note)
        self.controller = ChatController(self.chat, self.engine, services.chats, self)
        self.steps = StepView(self)

        self.chats = ChatList(self)
        self.chart = ProbChart(self, top_n=services.settings.settings.top_n)
        self.sampling = SamplingPanel(self, presets=PresetAdapter(services))
        self.inspector = TemplateInspector(self)
        self._gc_frozen = False
        self.models = ModelsPanel(
            None, self, models_dir=services.paths.models_dir, servers=SavedServers.for_paths(services.paths)
        )
        self.status_line = StatusLine(self)
        self.model_label, self.backend_label = self.status_line.model_label, self.status_line.backend_label
        self.context_label, self.speed_label = self.status_line.context_label, self.status_line.speed_label
        self.session = ModelSession(self, current, self.status_line, self.engine_banner)
        self.files = ModelFiles(self)
        self.engine.worker.probed.connect(self.session.on_probed)
        if self.models.servers is not None:
            self.models.servers.use_requested.connect(self.session.use_server)
        self.engine.request_probe.emit()
        self.docks: dict[str, QDockWidget] = {}
        area = Qt.DockWidgetArea
        left, right, bottom = area.LeftDockWidgetArea, area.RightDockWidgetArea, area.BottomDockWidgetArea
        self.add_dock("chats", str(QT_TRANSLATE_NOOP("Docks", "Chats")), self.chats, left)
        self.add_dock("sampling", str(QT_TRANSLATE_NOOP("Docks", "Sampling")), self.sampling, left)
        self.add_dock("chart", str(QT_TRANSLATE_NOOP("Docks", "Next token")), self.chart, right)
        self.add_dock("template", str(QT_TRANSLATE_NOOP("Docks", "Template")), self.inspector, bottom)
        self.add_dock("models", str(QT_TRANSLATE_NOOP("Docks", "Models")), self.models, bottom)
        self.tabifyDockWidget(self.docks["template"], self.docks["models"])
        self.docks["template"].raise_()
        self.workshop = Workshop(self)  # its docks exist before the layout is restored
        steps_need = (self.chat.step_bar, self.workshop.compare)
        self.limits = ServerLimits({"step": steps_need, "tokens": (self.workshop.tokens,)}, self.sampling)
        self.resizeDocks([self.docks["chats"], self.docks["chart"]], [440, 500], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["chats"], self.docks["sampling"]], [170, 600], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["template"]], [250], Qt.Orientation.Vertical)
        for dock in self.docks.values():
            dock.dockLocationChanged.connect(self.tidy_tab_bars)
            dock.topLevelChanged.connect(self.tidy_tab_bars)

        self.menus = WindowMenus(self)
        self.serving = ServingControl(self, self.menus.model_menu)
        self.projector = Projector(self, self.menus.model_menu)
        self.chat_files = ChatFiles(self, self.menus.file_menu, self.menus.chat_files_at)
        self.serving.projector = self.projector
        self.file_menu, self.view_menu = self.menus.file_menu, self.menus.view_menu
        self.language_actions = self.menus.language_actions
        self.workshop.add_menu()
        lessons = self.workshop.lesson_menu
        self.kit = KitImport(self, lessons.packs, self.menus.file_menu, self.menus.chat_files_at)
        self.kit.installed.connect(lambda _entries: lessons.rebuild())
        self.kit_export = KitExport(self, lessons.packs, self.menus.file_menu, self.menus.chat_files_at)
        self.history = ChatHistory(self, self.chats, self.workshop.close_lesson)
        self._wire()
        window_state.restore(self, self.preferences())
        self.refresh_library()
        self.history.refresh()
        if services.settings.warning:
            self.show_status(services.settings.warning, 15000)
            from desktop_app.ui.settings_notice import show_settings_warning

            show_settings_warning(self, services.settings.warning)  # not modal: nothing waits for it
        if services.locked_by is not None:
            self.show_status(str(services.locked_by), 30000)
        services.set_notice_handler(lambda text: self.show_status(text, 30000))  # the database's
        if self.language == "zh_TW":
            room_for_cjk(self)
        self.history.open_last(self.preferences().value("last_chat"))
        if current is not None:
            self.load_model(current)
        else:
            self.session.no_model()

    def _wire(self) -> None:
        w, session, steps = self.engine.worker, self.session, self.steps
        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(self._on_load_failed)
        w.unloaded.connect(self._on_unloaded)
        w.redistributed.connect(steps.on_redistributed)
        w.rendered.connect(self._on_prompt)
        w.template_failed.connect(self.inspector.show_error)
        w.died.connect(session.on_died)
        w.restarting.connect(session.on_restarting)
        self.engine_banner.restart_requested.connect(self.restart_engine)
        c = self.controller
        c.step_selected.connect(steps.show_token)
        c.prompt_shown.connect(self._on_prompt)
        c.status.connect(lambda text: self.show_status(text, 8000))
        c.stats.connect(self._on_stats)
        c.chat_opened.connect(self._on_chat_opened)
        c.finished.connect(steps.on_reply_done)
        c.mode_changed.connect(steps.on_mode)
        bar = self.chat.step_bar
        bar.next_requested.connect(self.step_next)
        bar.back_requested.connect(self.step_back)
        bar.plain_changed.connect(c.set_plain)
        self.chat.send_requested.connect(lambda _t: setattr(steps, "stepping", False))
        self.chat.send_requested.connect(self.language_note.check)
        self.chat.regenerate_requested.connect(lambda: setattr(steps, "stepping", False))
        steps.add_arrow_keys()
        self.sampling.settings_changed.connect(steps.on_settings)
        c.store_failed.connect(lambda text: self.show_status(text, 60000))
        self.sampling.max_tokens_changed.connect(lambda n: setattr(c, "max_tokens", n))
        self.sampling.model_default_changed.connect(session.set_preset)
        self.chart.token_clicked.connect(self.pick_token)
        self.chart.top_n_changed.connect(self._on_top_n)
        self.inspector.template_override_changed.connect(session.set_template_override)
        self.models.load_requested.connect(self._on_load_requested)
        self.models.unload_requested.connect(self.unload_model)
        self.models.import_requested.connect(self.import_model)
        self.models.remove_requested.connect(self.files.remove_model)
        self.models.refresh_requested.connect(self.refresh_library)
        self.models.discover.toggled.connect(self.files.on_discover)
        self.models.download_finished.connect(self.files.on_downloaded)

    # --- the surface the window's parts use (documented in window_host.WindowHost) ---------------
    @property
    def loaded(self) -> LoadedModel | None:
        return self.session.loaded

    @property
    def current(self) -> ModelEntry | None:
        return self.session.current

    @property
    def backends(self) -> BackendInfo | None:
        """The engine's backends and devices, once probed (after the window shows)."""
        return self.session.backends

    def add_dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(QCoreApplication.translate("Docks", title), self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def show_dock(self, name: str) -> None:
        self.docks[name].show()
        self.docks[name].raise_()

    def add_menu(self, title: str) -> QMenu:
        return self.menus.add_menu(title)

    def show_status(self, text: str, timeout_ms: int) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def preferences(self) -> QSettings:
        return window_state.preferences(self.services.paths.config_dir)

    def label_of(self, token: int) -> str:
        return self.steps.label_of(token)

    @property
    def shown_token(self) -> ShownToken | None:
        return self.steps.shown

    @property
    def shown_pending(self) -> bytes:
        return self.steps.pending

    def pick_token(self, token: int) -> None:
        self.steps.pick_token(token)

    @property
    def stepping(self) -> bool:
        return self.steps.stepping

    @stepping.setter
    def stepping(self, on: bool) -> None:
        self.steps.stepping = on

    def render_prompt(self) -> None:
        if self.loaded is not None and not self.controller.busy:
            self.engine.request_render.emit(self.controller.conversation(), self.controller.plain)

    def refresh_library(self) -> None:
        self.files.refresh()

    def tidy_tab_bars(self, *_args) -> None:
        QTimer.singleShot(0, self, lambda: hide_stray_tab_bars(self))

    # --- chats and steps -------------------------------------------------------------------------
    def new_chat(self) -> None:
        """A plain new chat: a lesson is left (the user's own settings come back)."""
        self.history.new_chat()

    def open_chat(self, chat_id: int) -> None:
        """Another chat from the list: a lesson is left (the user's own settings come back)."""
        self.history.open_chat(chat_id)

    def _on_chat_opened(self, chat_id: object) -> None:
        self.chart.clear()
        self.steps.forget()
        self.history.refresh()
        self.render_prompt()

    def _on_prompt(self, event: PromptEvent) -> None:
        if self.engine.vocab is None or self.loaded is None:
            return
        self.inspector.show_prompt(
            event.prompt,
            label_of=self.steps.piece_label,
            piece_of=self.engine.piece,
            n_ctx=self.loaded.n_ctx,
            previous_tokens=event.previous_tokens,
        )
        # The earlier replies' thinking (the reply being made not among them): fed again, or dropped.
        earlier = [m for m in self.controller.messages if m.role == "assistant" and not m.streaming]
        thoughts = [split_thinking(m.content, m.thinking_opened).thinking or "" for m in earlier]
        self.inspector.set_thinking_note(*earlier_thinking(thoughts, event.prompt.rendered.text))

    def _on_stats(self, used: int, tokens_per_s: float | None) -> None:
        self.status_line.stats(used, self.loaded.n_ctx if self.loaded else 0, tokens_per_s)

    def _on_top_n(self, n: int) -> None:
        if not self.services.read_only:
            window_state.save_settings(self.services, top_n=n)

    def step_next(self) -> None:
        self.steps.step_next()

    def step_back(self) -> None:
        self.steps.step_back()

    # --- models -----------------------------------------------------------------------------------
    def show_models(self) -> None:
        self.show_dock("models")

    def load_model(self, entry: ModelEntry, n_ctx: int | None = None, gpu: int | str | None = None) -> None:
        self.session.load_model(entry, n_ctx, gpu)

    def _on_load_requested(self, model_id: str, n_ctx: int, gpu: int | str | None) -> None:
        self.session.request_load(model_id, n_ctx, gpu)

    def unload_model(self) -> None:
        """Unload the model (a reply running is stopped first)."""
        self.session.unload()

    def restart_engine(self) -> None:
        """Start the engine again with the model it held, after a crash."""
        self.session.restart_engine()

    def import_model(self, path: str, copy: bool) -> None:
        """Copy (or use in place) and check the file off the GUI thread (``model_files``)."""
        self.files.import_model(path, copy)

    def _on_loaded(self, model: LoadedModel) -> None:
        self.session.on_loaded(model)
        self.limits.apply(model)
        self.controller.set_model(model)
        self.chart.clear()
        self.steps.forget()
        self.setWindowTitle(f"{APP_NAME} — {model.display_name}")
        self.inspector.show_template_source(model.template_source, model.template_origin)
        ms = self.services.presets.model_settings(model.model_id, self.services.settings.settings)
        self.sampling.set_model_default(ms.sampler_preset)
        self.refresh_library()
        self.render_prompt()
        self.language_note.check()
        self.model_loaded.emit(model)

    def _on_load_failed(self, message: str) -> None:
        self.session.on_load_failed(message)
        self.model_failed.emit(message)

    def _on_unloaded(self) -> None:
        self.session.on_unloaded()
        self.limits.apply(None)
        self.controller.set_model(None)
        self.setWindowTitle(APP_NAME)

    # --- events -----------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if any(p.lower().endswith(".gguf") for p in paths) or pack_paths(paths):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        self.open_dropped([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def open_dropped(self, paths: list[str]) -> None:
        """What was dropped on the window: model files imported, a classroom kit's folder imported, lesson
        packs (lesson files, .zip files, folders of lesson files) opened."""
        self.files.import_dropped(paths)
        for path in pack_paths(paths):
            if is_kit(path):
                self.kit.import_from(path)
            else:
                self.workshop.lesson_menu.open_pack(path)

    def save_state(self) -> None:
        settings, max_tokens = self.workshop.own_settings()  # a lesson's are never kept as the user's
        window_state.save(self, self.preferences(), settings, max_tokens)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.tidy_tab_bars()
        if not self._gc_frozen:
            self._gc_frozen = True
            QTimer.singleShot(0, self, freeze_startup_objects)

    def closeEvent(self, event) -> None:
        # Stop a running reply; stopping the engine thread delivers its last "finished", which saves it.
        self.steps.remove_arrow_keys()
        self.workshop.presentation.set_on(False)  # the saved layout is the normal one
        self.chat.step_bar.stop()
        self.controller.stop()
        self.kit.shutdown()  # a kit's copy in progress stops; its partial file is removed
        self.kit_export.shutdown()  # (an export cut short has no manifest: an import says it is unfinished)
        self.models.shutdown()  # downloads cancelled, their .part files kept for a resume
        self.engine.stop()
        self.projector.close()  # after the last reply was saved: a request shown and not kept goes
        self.save_state()
        super().closeEvent(event)
