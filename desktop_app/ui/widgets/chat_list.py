"""The saved chats: newest first, searchable, with new / rename / delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class ChatRow:
    chat_id: int
    title: str
    when: str  # the last change, as shown
    snippet: str = ""  # where a search matched
    source: str | None = None  # a request another program sent to the served model: its address


class ChatList(QWidget):
    chat_selected = Signal(int)
    new_requested = Signal()
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Search chats"))
        self.search.setClearButtonEnabled(True)
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(lambda: self.search_changed.emit(self.search.text().strip()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.list = QListWidget(self)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(self._clicked)
        self.new_button = QPushButton(self.tr("New chat"), self)
        self.new_button.setToolTip(self.tr("Start an empty conversation (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_requested)
        self.rename_button = QPushButton(self.tr("Rename"), self)
        self.rename_button.clicked.connect(lambda: self.ask_rename(self.selected_id()))
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.delete_button.clicked.connect(lambda: self.ask_delete(self.selected_id()))
        buttons = QHBoxLayout()
        for b in (self.new_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._current: int | None = None
        self._update_buttons()

    def set_rows(self, rows: Sequence[ChatRow], current: int | None) -> None:
        self._current = current
        self.list.blockSignals(True)
        self.list.clear()
        for r in rows:
            text = r.title or self.tr("Untitled chat")
            when = r.when
            if r.source is not None:
                when = self.tr("from {source}").format(source=r.source) + " · " + when
            item = QListWidgetItem(f"{text}\n{r.snippet or when}")
            item.setData(Qt.ItemDataRole.UserRole, r.chat_id)
            item.setToolTip(f"{text}\n{when}")
            self.list.addItem(item)
            if r.chat_id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        self._update_buttons()

    def selected_id(self) -> int | None:
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def titles(self) -> list[str]:
        return [self.list.item(i).text().split("\n", 1)[0] for i in range(self.list.count())]

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        self.rename_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _clicked(self, item: QListWidgetItem) -> None:
        self._update_buttons()
        chat_id = int(item.data(Qt.ItemDataRole.UserRole))
        if chat_id != self._current:
            self.chat_selected.emit(chat_id)

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        chat_id = int(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        menu.addAction(self.tr("Rename…"), lambda: self.ask_rename(chat_id))
        menu.addAction(self.tr("Delete…"), lambda: self.ask_delete(chat_id))
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _title_of(self, chat_id: int) -> str:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if int(item.data(Qt.ItemDataRole.UserRole)) == chat_id:
                return item.text().split("\n", 1)[0]
        return ""

    def ask_rename(self, chat_id: int | None) -> None:
        if chat_id is None:
            return
        title, ok = QInputDialog.getText(
            self, self.tr("Rename chat"), self.tr("New name:"), text=self._title_of(chat_id)
        )
        if ok and title.strip():
            self.rename_requested.emit(chat_id, title.strip())

    def ask_delete(self, chat_id: int | None) -> None:
        if chat_id is None:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Delete chat"),
            self.tr("Delete “{title}” and all its messages? This cannot be undone.").format(
                title=self._title_of(chat_id)
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(chat_id)
