"""File → Export this chat… and Import a chat…: a chat as a file, lossless (TokenDice's JSON: the branch
tree, every token with its step's candidates, the settings) or for reading (Markdown), and a chat file
opened as a new chat (see :mod:`desktop_app.core.chat_files`). A file that cannot be read or imported is
one sentence in the status bar; nothing is imported from it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu

from desktop_app.core.chat_files.json_export import ChatFileError, write_json
from desktop_app.core.chat_files.json_import import import_file
from desktop_app.core.chat_files.markdown_export import write_markdown
from desktop_app.core.store.chat_tree import ChatNotFound
from desktop_app.core.store.db_errors import DatabaseError

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

log = logging.getLogger(__name__)
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ChatFiles(QObject):
    """The two File menu actions (put before ``before`` in ``menu``)."""

    def __init__(self, window: WindowHost, menu: QMenu, before: QAction) -> None:
        super().__init__(window)
        self.window = window
        self.export_action = QAction(translate("MainWindow", "&Export this chat…"), window)
        self.export_action.triggered.connect(self.ask_export)
        self.import_action = QAction(translate("MainWindow", "Import a &chat…"), window)
        self.import_action.triggered.connect(self.ask_import)
        menu.insertAction(before, self.export_action)
        menu.insertAction(before, self.import_action)

    # --- export --------------------------------------------------------------------------------------
    def ask_export(self) -> None:
        chat_id = self.window.controller.chat_id
        if chat_id is None:
            self._say(translate("MainWindow", "There is no chat to export yet: send a message first."))
            return
        json_kind = translate("MainWindow", "TokenDice chat, every token and step (*.json)")
        md_kind = translate("MainWindow", "Markdown, for reading and handouts (*.md)")
        path, chosen = QFileDialog.getSaveFileName(
            self.window, translate("MainWindow", "Export this chat"), "", f"{json_kind};;{md_kind}"
        )
        if path:
            markdown = chosen == md_kind or path.lower().endswith(".md")
            self.export_to(Path(path), markdown=markdown)

    def export_to(self, path: Path, *, markdown: bool = False) -> bool:
        """Write the chat shown to ``path`` (TokenDice's JSON, or Markdown); False with a sentence said."""
        chat_id = self.window.controller.chat_id
        if chat_id is None:
            return False
        suffix = ".md" if markdown else ".json"
        if not path.suffix:
            path = path.with_suffix(suffix)
        try:
            (write_markdown if markdown else write_json)(self.window.services.chats, chat_id, path)
        except (OSError, ChatNotFound, DatabaseError) as exc:
            self._say(translate("MainWindow", "The chat could not be exported: {error}").format(error=exc))
            return False
        self._say(translate("MainWindow", "The chat is saved as {path}.").format(path=path))
        return True

    # --- import --------------------------------------------------------------------------------------
    def ask_import(self) -> None:
        kind = translate("MainWindow", "TokenDice chat (*.json)")
        path, _ = QFileDialog.getOpenFileName(self.window, translate("MainWindow", "Import a chat"), "", kind)
        if path:
            self.import_from(Path(path))

    def import_from(self, path: Path) -> int | None:
        """Import the chat file at ``path`` as a new chat and show it; its id, or None with a sentence."""
        window = self.window
        if window.services.read_only:
            self._say(translate("MainWindow", "Nothing can be saved now, so no chat can be imported."))
            return None
        try:
            chat_id = import_file(window.services.chats, path)
        except (ChatFileError, OSError, DatabaseError) as exc:
            text = translate("MainWindow", "{file} was not imported: {error}")
            self._say(text.format(file=path.name, error=exc))
            return None
        window.controller.chats_changed.emit()
        if not window.controller.busy:
            window.controller.open_chat(chat_id)
        self._say(translate("MainWindow", "{file} is imported as a chat of its own.").format(file=path.name))
        return chat_id

    def _say(self, text: str) -> None:
        self.window.show_status(text, 12000)
