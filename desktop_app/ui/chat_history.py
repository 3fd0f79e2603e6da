"""The chats list beside the chat: its rows (every chat, or those a search finds), a new chat or another
one opened from it (a lesson is left then), and the chat open at the last start opened again."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from desktop_app.core.store.chat_tree import Chat
from desktop_app.ui.widgets.chat_list import ChatList, ChatRow

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost


class ChatHistory(QObject):
    def __init__(self, window: WindowHost, chats: ChatList, leave_lesson: Callable[[], None]) -> None:
        """``leave_lesson``: the user's own settings come back (nothing happens outside a lesson)."""
        super().__init__(window)
        self.window = window
        self.chats = chats
        self._leave_lesson = leave_lesson
        controller = window.controller
        chats.chat_selected.connect(self.open_chat)
        chats.new_requested.connect(self.new_chat)
        chats.rename_requested.connect(controller.rename_chat)
        chats.delete_requested.connect(controller.delete_chat)
        chats.search_changed.connect(lambda _t: self.refresh())
        controller.chats_changed.connect(self.refresh)

    def new_chat(self) -> None:
        """A plain new chat: a lesson is left (the user's own settings come back)."""
        controller = self.window.controller
        if controller.busy:
            return
        self._leave_lesson()
        controller.new_chat()
        self.window.chat.input.setFocus()

    def open_chat(self, chat_id: int) -> None:
        """Another chat from the list: a lesson is left (the user's own settings come back)."""
        controller = self.window.controller
        if controller.busy:
            controller.open_chat(chat_id)  # it says to stop the reply first
            return
        if chat_id != controller.chat_id:
            self._leave_lesson()
        controller.open_chat(chat_id)

    def refresh(self) -> None:
        query = self.chats.search.text().strip()
        store = self.window.services.chats
        if query:
            found = store.search(query)
            rows = [
                ChatRow(m.chat.id, m.chat.title, _when(m.chat.updated_at), m.snippet, _source(m.chat))
                for m in found
            ]
        else:
            rows = [
                ChatRow(c.id, c.title, _when(c.updated_at), source=_source(c)) for c in store.list_chats()
            ]
        self.chats.set_rows(rows, self.window.controller.chat_id)

    def open_last(self, last: str | int | None) -> None:
        """The chat ``last`` (an id as the preferences kept it), else the latest chat, if any."""
        try:
            chat_id = int(last) if last is not None else None
        except (TypeError, ValueError):
            chat_id = None
        chats = self.window.services.chats.list_chats(limit=1)
        if chat_id is None and chats:
            chat_id = chats[0].id
        if chat_id is not None:
            self.window.controller.open_chat(chat_id)


def _when(stamp: str) -> str:
    """``2026-12-01T19:09:43Z`` → ``2026-12-01 19:09``."""
    return stamp.replace("T", " ")[:16] if stamp else ""


def _source(chat: Chat) -> str | None:
    """The address of the program whose request to the served model the chat holds (None: the user's)."""
    source = chat.settings.get("outside")
    return source if isinstance(source, str) else None
