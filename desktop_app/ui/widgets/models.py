"""The library view: every model TokenDice knows, with what its GGUF header says."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.library import ModelEntry

COLUMNS = (
    "Model",
    "Architecture",
    "Parameters",
    "Quantization",
    "Size",
    "Context",
    "Chat template",
    "Status",
)


class ModelList(QTreeWidget):
    model_activated = Signal(str)  # library id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.itemActivated.connect(lambda item, _col: self.model_activated.emit(item.data(0, Qt.UserRole)))

    def set_entries(self, entries: Sequence[ModelEntry], current_id: str | None = None) -> None:
        self.clear()
        for e in entries:
            m = e.metadata
            cells = [
                e.display_name + ("  ★" if e.id == current_id else ""),
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
            item.setToolTip(0, str(e.path))
            if not e.usable:
                item.setToolTip(len(cells) - 1, e.error or "")
            self.addTopLevelItem(item)
        for col in range(len(COLUMNS)):
            self.resizeColumnToContents(col)
