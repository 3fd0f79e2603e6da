"""The Models page: the library with its load controls (“On this computer”), and the hub browser
(“Download from Hugging Face”: search, curated models, files with a fit estimate, downloads)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.gpu import BackendInfo, LoadReport
from desktop_app.core.models.acquire import FetchedModel
from desktop_app.core.models.download import Downloader
from desktop_app.core.models.hub import Hub
from desktop_app.core.models.library import Library, ModelEntry
from desktop_app.core.remote.saved import SavedServers
from desktop_app.ui import core_text
from desktop_app.ui.imports import ModelImports
from desktop_app.ui.library_lookups import LibraryLookups
from desktop_app.ui.widgets.hub_browser import HubBrowser
from desktop_app.ui.widgets.model_list import ModelList
from desktop_app.ui.widgets.servers_panel import ServersPanel

# English, translated when shown (context "ModelsPanel").
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
GPU_CHOICES = cast(
    tuple[str, ...],
    (
        QT_TRANSLATE_NOOP("ModelsPanel", "CPU only"),
        QT_TRANSLATE_NOOP("ModelsPanel", "auto (as many layers as fit)"),
        QT_TRANSLATE_NOOP("ModelsPanel", "all layers"),
        QT_TRANSLATE_NOOP("ModelsPanel", "this many layers:"),
    ),
)
LOCAL_TAB, HUB_TAB, SERVERS_TAB = 0, 1, 2
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ModelsPanel(QWidget):
    """The library plus Load (context size and GPU layers), Unload, Import and Remove; with a
    ``models_dir`` (or a ``downloader``), a second tab to find and download models from the hub.

    Call :meth:`shutdown` before the panel goes away: it cancels the downloads (keeping their ``.part``
    files) and ends their threads.
    """

    load_requested = Signal(str, int, object)  # model id, n_ctx, n_gpu_layers (int, "auto" or "all")
    unload_requested = Signal()
    import_requested = Signal(str, bool)  # path, copy into the models folder
    remove_requested = Signal(str, bool)  # model id, delete the file too
    refresh_requested = Signal()
    download_finished = Signal(object)  # FetchedModel: register it in the library (GUI thread)
    refreshed = Signal()  # the list shows what refresh() read

    def __init__(
        self,
        backends: BackendInfo | None,
        parent: QWidget | None = None,
        *,
        models_dir: Path | None = None,
        downloader: Downloader | None = None,
        hub: Hub | None = None,
        servers: SavedServers | None = None,
    ) -> None:
        super().__init__(parent)
        self.backends = backends
        self.tabs = QTabWidget(self)
        local = QWidget(self.tabs)
        self.list = ModelList(local)
        self.list.model_activated.connect(lambda _id: self._load())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self._loaded: str | None = None
        self._loading: str | None = None

        self.ctx = QSpinBox(self)
        self.ctx.setRange(256, 1_048_576)
        self.ctx.setSingleStep(1024)
        self.ctx.setValue(4096)
        self.ctx.setSuffix(self.tr(" tokens"))
        self.ctx.setToolTip(self.tr("How many tokens the model can see at once (prompt + reply + history)."))
        self.gpu = QComboBox(self)
        self.gpu.addItems([translate("ModelsPanel", c) for c in GPU_CHOICES])
        self.gpu_layers = QSlider(Qt.Orientation.Horizontal, self)
        self.gpu_layers.setRange(0, 200)
        self.gpu_layers.setMinimumWidth(120)
        self.gpu_count = QLabel("0", self)
        self.gpu_layers.valueChanged.connect(lambda v: self.gpu_count.setText(str(v)))
        self.gpu.currentIndexChanged.connect(lambda _i: self._update_gpu())
        self.gpu_note = QLabel(self)
        self.gpu_note.setWordWrap(True)
        self.load_note = QLabel(self)  # how the loaded model was loaded (llama.cpp's extra buffer types)
        self.load_note.setWordWrap(True)
        self.load_note.setToolTip(
            self.tr(
                "llama.cpp can repack a model's weights for this CPU (its “extra buffer types”). On Intel "
                "AMX CPUs that crashes it, so TokenDice turns them off there. To force a choice, set the "
                "environment variable TOKENDICE_EXTRA_BUFFERS to auto, on or off."
            )
        )
        self.load_note.hide()
        self.load_button = QPushButton(self.tr("Load"), self)
        self.load_button.setToolTip(self.tr("Load the selected model (a reply that is running stops first)"))
        self.load_button.clicked.connect(self._load)
        self.unload_button = QPushButton(self.tr("Unload"), self)
        self.unload_button.clicked.connect(self.unload_requested)
        self.import_button = QPushButton(self.tr("Import a file…"), self)
        self.import_button.setToolTip(
            self.tr("Add a .gguf file from this computer (or drop one on the window)")
        )
        self.import_button.clicked.connect(self.ask_import)
        self.remove_button = QPushButton(self.tr("Remove…"), self)
        self.remove_button.clicked.connect(self._remove)
        self.discover = QCheckBox(
            self.tr("Also look in the Hugging Face cache and LM Studio's folders"), self
        )
        self.discover.setToolTip(
            self.tr("Found models are used in place; TokenDice never moves or deletes them")
        )
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        # Local files are copied and checked off the GUI thread; the message says so meanwhile.
        self.imports = ModelImports(self)
        self._importing_text: str | None = None
        self.imports.started.connect(self._show_importing)
        self.imports.busy_changed.connect(lambda busy: busy or self._hide_importing())
        # The library's files are read off the GUI thread too (see refresh).
        self.lookups = LibraryLookups(self)

        controls = QHBoxLayout()
        controls.addWidget(QLabel(self.tr("Context:"), self))
        controls.addWidget(self.ctx)
        controls.addWidget(QLabel(self.tr("GPU:"), self))
        controls.addWidget(self.gpu)
        controls.addWidget(self.gpu_layers)
        controls.addWidget(self.gpu_count)
        controls.addStretch(1)
        buttons = QHBoxLayout()
        for b in (self.import_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.unload_button, self.load_button):
            buttons.addWidget(b)
        column = QVBoxLayout(local)
        column.setContentsMargins(4, 4, 4, 4)
        column.addWidget(self.list, 1)
        column.addWidget(self.discover)
        column.addLayout(controls)
        column.addWidget(self.gpu_note)
        column.addWidget(self.load_note)
        column.addLayout(buttons)
        self.tabs.addTab(local, self.tr("On this computer"))

        self.browser: HubBrowser | None = None
        if downloader is None and models_dir is not None:
            downloader = Downloader(models_dir)
        if downloader is not None:
            self.browser = HubBrowser(downloader, hub=hub, backends=backends, parent=self.tabs)
            self.tabs.addTab(self.browser, self.tr("Download from Hugging Face"))
            self.browser.download_finished.connect(self.download_finished)
            self.browser.show_requested.connect(self._show_fetched)
            # One context size: the one Load uses is the one the fit estimates are for. (The load
            # control is capped at the selected model's context length; the estimate is not.)
            self.browser.ctx.setValue(self.ctx.value())
            self.ctx.valueChanged.connect(self.browser.ctx.setValue)
            self.browser.ctx.valueChanged.connect(self._ctx_from_browser)

        self.servers: ServersPanel | None = None
        if servers is not None:
            self.servers = ServersPanel(servers, self.tabs)
            self.tabs.addTab(self.servers, self.tr("On a server"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        self.set_backends(backends)
        self._update_buttons()

    # --- state from the window --------------------------------------------------------------------
    def set_entries(self, entries: Sequence[ModelEntry], current_id: str | None) -> None:
        self.list.set_entries(entries, current_id)
        if self.browser is not None:
            self.browser.set_library(entries)
        self._update_buttons()

    def refresh(
        self, library: Library, current_id: str | None, then: Callable[[], None] | None = None
    ) -> None:
        """Show ``library``'s models, read off the GUI thread (files that changed are read again); then
        ``then()``. A newer refresh supersedes one still reading."""

        def show(entries: list[ModelEntry]) -> None:
            self.set_entries(entries, current_id)
            if then is not None:
                then()
            self.refreshed.emit()

        self.lookups.entries(library, show, self.show_error)

    def set_loading(self, model_id: str | None) -> None:
        self._loading = model_id
        self.message.hide()
        self._update_buttons()

    def set_loaded(self, model_id: str | None) -> None:
        self._loaded, self._loading = model_id, None
        self._update_buttons()

    def set_load_report(self, report: LoadReport | None) -> None:
        """How the loaded model was loaded: whether llama.cpp repacked its weights, and why (None: no
        model, or a report that does not say)."""
        decision = report.extra_buffers if report is not None else None
        if decision is None:
            self.load_note.hide()
            return
        text = self.tr("Loaded with {reason}.").format(reason=core_text.extra_buffers_reason(decision))
        self.load_note.setText(text)
        self.load_note.show()

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet("color:#c5221f")
        self.message.setText(text)
        self.message.show()

    def show_info(self, text: str) -> None:
        self.message.setStyleSheet("color:#188038")
        self.message.setText(text)
        self.message.show()

    def _show_importing(self, name: str) -> None:
        text = self.tr("Adding {name} to the library… (copying a large file takes a while)")
        self.show_info(text.format(name=name))
        self._importing_text = self.message.text()

    def _hide_importing(self) -> None:
        if self.message.text() == self._importing_text:  # no newer message replaced it
            self.message.hide()

    def show_downloaded(self, entry: ModelEntry) -> None:
        """A finished download is in the library: select it and say it can be loaded. The page turns to
        “On this computer” unless more downloads are still queued or running."""
        self.list.select(entry.id)
        if not entry.usable:
            text = self.tr("{name} was downloaded but cannot be used: {error}")
            self.show_error(text.format(name=entry.display_name, error=entry.error))
        else:
            text = self.tr(
                "{name} is downloaded and in the library. It is selected on “On this computer”: press Load "
                "to use it."
            )
            self.show_info(text.format(name=entry.display_name))
        if self.browser is None or not self.browser.downloads.active():
            self.tabs.setCurrentIndex(LOCAL_TAB)
        self._update_buttons()

    def _show_fetched(self, fetched: FetchedModel) -> None:
        entry = next((e for e in self.list.entries.values() if e.path == fetched.path), None)
        if entry is not None:
            self.list.select(entry.id)
        self.tabs.setCurrentIndex(LOCAL_TAB)

    def _ctx_from_browser(self, value: int) -> None:
        with QSignalBlocker(self.ctx):  # a value capped by the load control must not come back
            self.ctx.setValue(value)

    def show_hub(self) -> None:
        if self.browser is not None:
            self.tabs.setCurrentIndex(HUB_TAB)

    def shutdown(self, timeout: float = 1.5) -> bool:
        """Cancel the downloads, keeping what they downloaded, and end their threads (within
        ``timeout`` seconds); True when no thread is left. An import in progress is cancelled too, and a
        library lookup's answer is dropped."""
        # The downloads first: their last reports may ask for the list once more, which is then dropped.
        browser_ended = self.browser.shutdown(timeout) if self.browser is not None else True
        imports_ended = self.imports.shutdown(timeout)
        lookups_ended = self.lookups.shutdown(timeout)
        if self.servers is not None:
            self.servers.shutdown()
        return browser_ended and imports_ended and lookups_ended

    def gpu_choice(self) -> int | str:
        i = self.gpu.currentIndex()
        if i == 1:
            return "auto"
        if i == 2:
            return "all"
        return self.gpu_layers.value() if i == 3 else 0

    def set_backends(self, backends: BackendInfo | None) -> None:
        """What llama.cpp can run on (None: not known yet, the window is still asking the engine)."""
        self.backends = backends
        if self.browser is not None:
            self.browser.backends = backends
            if backends is not None and self.browser.memory is not None:
                self.browser.measure_memory()  # the fit estimates, with the GPU's free memory now
        if backends is None:
            self.gpu.setEnabled(False)
            self.gpu_note.setText(self.tr("Looking for GPU backends…"))
            return
        summary = core_text.backends_summary(backends)
        self.gpu.setEnabled(backends.has_gpu)
        if backends.has_gpu:
            self.gpu_note.setText(summary)
        else:
            self.gpu_note.setText(
                self.tr(
                    "{summary}: everything runs on the CPU. To use a GPU, reinstall llama-cpp-python with a "
                    "GPU backend (see the README's GPU section)."
                ).format(summary=summary)
            )
        self._update_gpu()

    def _update_gpu(self) -> None:
        custom = self.gpu.currentIndex() == 3
        self.gpu_layers.setVisible(custom)
        self.gpu_count.setVisible(custom)
        entry = self.list.entries.get(self.list.selected_id() or "")
        if entry is not None and entry.metadata is not None and entry.metadata.block_count:
            self.gpu_layers.setMaximum(entry.metadata.block_count + 1)

    def _update_buttons(self) -> None:
        selected = self.list.selected_id()
        entry = self.list.entries.get(selected or "")
        self.load_button.setEnabled(entry is not None and entry.usable and self._loading is None)
        self.load_button.setText(self.tr("Loading…") if self._loading else self.tr("Load"))
        self.unload_button.setEnabled(self._loaded is not None and self._loading is None)
        self.remove_button.setEnabled(entry is not None and entry.source != "bundled")
        if entry is not None and entry.metadata is not None and entry.metadata.context_length:
            self.ctx.setMaximum(max(256, entry.metadata.context_length))
        self._update_gpu()

    # --- actions ----------------------------------------------------------------------------------
    def _load(self) -> None:
        model_id = self.list.selected_id()
        entry = self.list.entries.get(model_id or "")
        if entry is None:
            return
        if not entry.usable:
            self.show_error(
                self.tr("{name} cannot be loaded: {error}").format(name=entry.display_name, error=entry.error)
            )
            return
        self.load_requested.emit(entry.id, self.ctx.value(), self.gpu_choice())

    def ask_import(self) -> None:
        kinds = self.tr("GGUF models (*.gguf);;All files (*)")
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Import a model"), "", kinds)
        if path:
            copy = self.ask_copy(path)
            if copy is not None:
                self.import_requested.emit(path, copy)

    def ask_copy(self, path: str) -> bool | None:
        """Copy the file into TokenDice's models folder (True), use it where it is (False), or cancel."""
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Import a model"))
        box.setText(self.tr("Add {path} to the library.").format(path=path))
        box.setInformativeText(
            self.tr(
                "Copy it into TokenDice's models folder, or use it where it is (TokenDice will never move or "
                "delete it)?"
            )
        )
        copy = box.addButton(self.tr("Copy"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Use where it is"), QMessageBox.ButtonRole.ActionRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is cancel:
            return None
        return clicked is copy

    def _remove(self) -> None:
        entry = self.list.entries.get(self.list.selected_id() or "")
        if entry is None:
            return
        owned = entry.source in ("downloaded", "imported")
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Remove a model"))
        box.setText(self.tr("Remove {name} from the library?").format(name=entry.display_name))
        delete = None
        if owned:
            text = self.tr("TokenDice put the file {path} there; it can be deleted too.")
            box.setInformativeText(text.format(path=entry.path))
            delete = box.addButton(
                self.tr("Remove and delete the file"), QMessageBox.ButtonRole.DestructiveRole
            )
        else:
            text = self.tr("The file {path} is not TokenDice's: it stays where it is.")
            box.setInformativeText(text.format(path=entry.path))
        keep = box.addButton(self.tr("Remove from the list"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is delete and delete is not None:
            self.remove_requested.emit(entry.id, True)
        elif clicked is keep:
            self.remove_requested.emit(entry.id, False)
