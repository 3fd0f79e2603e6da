"""The library's models as a table (the Models page's “On this computer”): what each file is, and whether
it can be loaded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

from desktop_app.core.models.gguf_meta import format_params
from desktop_app.core.models.library import ModelEntry
from desktop_app.ui import core_text

# English, translated when shown (context "ModelsPanel").
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
COLUMNS = cast(
    tuple[str, ...],
    (
        QT_TRANSLATE_NOOP("ModelsPanel", "Model"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Architecture"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Parameters"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Quantization"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Size"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Context"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Chat template"),
        QT_TRANSLATE_NOOP("ModelsPanel", "Status"),
    ),
)
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ModelList(QTreeWidget):
    model_activated = Signal(str)  # library id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels([translate("ModelsPanel", c) for c in COLUMNS])
        self.setRootIsDecorated(False)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.itemActivated.connect(
            lambda item, _col: self.model_activated.emit(item.data(0, Qt.ItemDataRole.UserRole))
        )
        self.entries: dict[str, ModelEntry] = {}

    def selected_id(self) -> str | None:
        item = self.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def select(self, model_id: str) -> bool:
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == model_id:
                self.setCurrentItem(item)
                self.scrollToItem(item)
                return True
        return False

    def set_entries(self, entries: Sequence[ModelEntry], current_id: str | None = None) -> None:
        selected = self.selected_id()
        self.clear()
        self.entries = {e.id: e for e in entries}
        for e in entries:
            m = e.metadata
            loaded = "  " + translate("ModelsPanel", "★ loaded") if e.id == current_id else ""
            if m is None:
                template = ""
            elif m.has_chat_template:
                template = translate("ModelsPanel", "yes")
            else:
                template = translate("ModelsPanel", "no (fallback)")
            status = core_text.model_status(e.status)
            cells = [
                e.display_name + loaded,
                m.architecture if m else "",
                format_params(m.parameter_count) if m else "",
                m.quantization if m else "",
                f"{m.file_size / 1e6:,.0f} MB" if m else "",
                f"{m.context_length:,}" if m and m.context_length else "",
                template,
                status if e.usable else f"{status}: {e.error}",
            ]
            item = QTreeWidgetItem(cells)
            item.setData(0, Qt.ItemDataRole.UserRole, e.id)
            item.setToolTip(0, f"{e.path}\n({core_text.model_source(e.source)})")
            if not e.usable:
                item.setToolTip(len(cells) - 1, e.error or "")
                item.setForeground(len(cells) - 1, Qt.GlobalColor.darkRed)
            self.addTopLevelItem(item)
            if e.id == (selected or current_id):
                self.setCurrentItem(item)
        for col in range(len(COLUMNS)):
            self.resizeColumnToContents(col)
