"""The library view and the load controls: every model TokenDice knows, and how to load one."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
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
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.gpu import BackendInfo
from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.library import ModelEntry

COLUMNS = (
    "Model", "Architecture", "Parameters", "Quantization", "Size", "Context", "Chat template", "Status",
)  # fmt: skip
GPU_CHOICES = ("CPU only", "auto (as many layers as fit)", "all layers", "this many layers:")


class ModelList(QTreeWidget):
    model_activated = Signal(str)  # library id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.itemActivated.connect(lambda item, _col: self.model_activated.emit(item.data(0, Qt.UserRole)))
        self.entries: dict[str, ModelEntry] = {}

    def selected_id(self) -> str | None:
        item = self.currentItem()
        return item.data(0, Qt.UserRole) if item is not None else None

    def set_entries(self, entries: Sequence[ModelEntry], current_id: str | None = None) -> None:
        selected = self.selected_id()
        self.clear()
        self.entries = {e.id: e for e in entries}
        for e in entries:
            m = e.metadata
            cells = [
                e.display_name + ("  ★ loaded" if e.id == current_id else ""),
                m.architecture if m else "",
                format_params(m.parameter_count) if m else "",
                m.quantization if m else "",
                f"{m.file_size / 1e6:,.0f} MB" if m else "",
                f"{m.context_length:,}" if m and m.context_length else "",
                ("yes" if m.has_chat_template else "no (fallback)") if m else "",
                "ok" if e.usable else f"{e.status}: {e.error}",
            ]
            item = QTreeWidgetItem(cells)
            item.setData(0, Qt.UserRole, e.id)
            item.setToolTip(0, f"{e.path}\n({e.source})")
            if not e.usable:
                item.setToolTip(len(cells) - 1, e.error or "")
                item.setForeground(len(cells) - 1, Qt.darkRed)
            self.addTopLevelItem(item)
            if e.id == (selected or current_id):
                self.setCurrentItem(item)
        for col in range(len(COLUMNS)):
            self.resizeColumnToContents(col)


class ModelsPanel(QWidget):
    """The library plus Load (context size and GPU layers), Unload, Import and Remove."""

    load_requested = Signal(str, int, object)  # model id, n_ctx, n_gpu_layers (int, "auto" or "all")
    unload_requested = Signal()
    import_requested = Signal(str, bool)  # path, copy into the models folder
    remove_requested = Signal(str, bool)  # model id, delete the file too
    refresh_requested = Signal()

    def __init__(self, backends: BackendInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backends = backends
        self.list = ModelList(self)
        self.list.model_activated.connect(lambda _id: self._load())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self._loaded: str | None = None
        self._loading: str | None = None

        self.ctx = QSpinBox(self)
        self.ctx.setRange(256, 1_048_576)
        self.ctx.setSingleStep(1024)
        self.ctx.setValue(4096)
        self.ctx.setSuffix(" tokens")
        self.ctx.setToolTip("How many tokens the model can see at once (prompt + reply + history).")
        self.gpu = QComboBox(self)
        self.gpu.addItems(GPU_CHOICES)
        self.gpu_layers = QSlider(Qt.Horizontal, self)
        self.gpu_layers.setRange(0, 200)
        self.gpu_layers.setMinimumWidth(120)
        self.gpu_count = QLabel("0", self)
        self.gpu_layers.valueChanged.connect(lambda v: self.gpu_count.setText(str(v)))
        self.gpu.currentIndexChanged.connect(lambda _i: self._update_gpu())
        self.gpu_note = QLabel(backends.summary(), self)
        self.gpu_note.setWordWrap(True)
        if not backends.has_gpu:
            self.gpu.setEnabled(False)
            self.gpu_note.setText(
                f"{backends.summary()}: everything runs on the CPU. To use a GPU, reinstall "
                "llama-cpp-python with a GPU backend (see the README's GPU section)."
            )
        self.load_button = QPushButton("Load", self)
        self.load_button.setToolTip("Load the selected model (a reply that is running stops first)")
        self.load_button.clicked.connect(self._load)
        self.unload_button = QPushButton("Unload", self)
        self.unload_button.clicked.connect(self.unload_requested)
        self.import_button = QPushButton("Import a file…", self)
        self.import_button.setToolTip("Add a .gguf file from this computer (or drop one on the window)")
        self.import_button.clicked.connect(self.ask_import)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.clicked.connect(self._remove)
        self.discover = QCheckBox("Also look in the Hugging Face cache and LM Studio's folders", self)
        self.discover.setToolTip("Found models are used in place; TokenDice never moves or deletes them")
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color:#c5221f")
        self.message.hide()

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Context:", self))
        controls.addWidget(self.ctx)
        controls.addWidget(QLabel("GPU:", self))
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.message)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.discover)
        layout.addLayout(controls)
        layout.addWidget(self.gpu_note)
        layout.addLayout(buttons)
        self._update_gpu()
        self._update_buttons()

    # --- state from the window --------------------------------------------------------------------
    def set_entries(self, entries: Sequence[ModelEntry], current_id: str | None) -> None:
        self.list.set_entries(entries, current_id)
        self._update_buttons()

    def set_loading(self, model_id: str | None) -> None:
        self._loading = model_id
        self.message.hide()
        self._update_buttons()

    def set_loaded(self, model_id: str | None) -> None:
        self._loaded, self._loading = model_id, None
        self._update_buttons()

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def gpu_choice(self) -> int | str:
        i = self.gpu.currentIndex()
        if i == 1:
            return "auto"
        if i == 2:
            return "all"
        return self.gpu_layers.value() if i == 3 else 0

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
        self.load_button.setText("Loading…" if self._loading else "Load")
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
            self.show_error(f"{entry.display_name} cannot be loaded: {entry.error}")
            return
        self.load_requested.emit(entry.id, self.ctx.value(), self.gpu_choice())

    def ask_import(self) -> None:
        kinds = "GGUF models (*.gguf);;All files (*)"
        path, _ = QFileDialog.getOpenFileName(self, "Import a model", "", kinds)
        if path:
            copy = self.ask_copy(path)
            if copy is not None:
                self.import_requested.emit(path, copy)

    def ask_copy(self, path: str) -> bool | None:
        """Copy the file into TokenDice's models folder (True), use it where it is (False), or cancel."""
        box = QMessageBox(self)
        box.setWindowTitle("Import a model")
        box.setText(f"Add {path} to the library.")
        box.setInformativeText(
            "Copy it into TokenDice's models folder, or use it where it is (TokenDice will never move or "
            "delete it)?"
        )
        copy = box.addButton("Copy", QMessageBox.AcceptRole)
        box.addButton("Use where it is", QMessageBox.ActionRole)
        cancel = box.addButton(QMessageBox.Cancel)
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
        box.setWindowTitle("Remove a model")
        box.setText(f"Remove {entry.display_name} from the library?")
        delete = None
        if owned:
            box.setInformativeText(f"TokenDice put the file {entry.path} there; it can be deleted too.")
            delete = box.addButton("Remove and delete the file", QMessageBox.DestructiveRole)
        else:
            box.setInformativeText(f"The file {entry.path} is not TokenDice's: it stays where it is.")
        keep = box.addButton("Remove from the list", QMessageBox.AcceptRole)
        box.addButton(QMessageBox.Cancel)
        box.exec()
        clicked = box.clickedButton()
        if clicked is delete and delete is not None:
            self.remove_requested.emit(entry.id, True)
        elif clicked is keep:
            self.remove_requested.emit(entry.id, False)
