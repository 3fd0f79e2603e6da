"""Model → Show incoming requests: while the model is served, each request another program sends (a
student's notebook calling the teacher's server) is drawn in the window as it generates: a new chat holds
what it asked, marked as sent by its address, and its reply streams into the chat and the chart as the
window's own do. Stop stops it (its client gets what was made).

*Keep incoming requests as chats* decides what becomes of them: kept in the chats list (marked with their
address), or deleted once something else is shown (the next request, another chat, closing the window).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from desktop_app.core.conversation.reports import REFUSED_READ_ONLY
from desktop_app.core.engine.messages import IncomingEvent
from desktop_app.core.store.db_errors import DatabaseError

if TYPE_CHECKING:
    from desktop_app.ui.window_host import WindowHost

log = logging.getLogger(__name__)
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls

SHOW_KEY, KEEP_KEY = "show_incoming", "keep_incoming"  # in the window's preferences


class Projector(QObject):
    """The two menu actions, and the chats of the requests shown (see the module's docstring)."""

    def __init__(self, window: WindowHost, menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        prefs = window.preferences()
        self.show_action = QAction(translate("MainWindow", "Show &incoming requests"), window)
        self.show_action.setCheckable(True)
        self.show_action.setChecked(_flag(prefs.value(SHOW_KEY), False))
        self.show_action.setToolTip(
            translate("MainWindow", "Draw each request other programs send to the served model as it runs")
        )
        self.keep_action = QAction(translate("MainWindow", "&Keep incoming requests as chats"), window)
        self.keep_action.setCheckable(True)
        self.keep_action.setChecked(_flag(prefs.value(KEEP_KEY), True))
        menu.addAction(self.show_action)
        menu.addAction(self.keep_action)
        self.show_action.toggled.connect(self._show_toggled)
        self.keep_action.toggled.connect(self._keep_toggled)
        self._transient: int | None = None  # the chat of a request shown, not kept: deleted once left
        window.engine.worker.incoming.connect(self.on_incoming)
        window.controller.chat_opened.connect(self._opened)
        window.engine.project(self.show_action.isChecked())
        self._drop_leftovers()

    @property
    def showing(self) -> bool:
        return self.show_action.isChecked()

    def set_showing(self, on: bool) -> None:
        self.show_action.setChecked(on)

    def _show_toggled(self, on: bool) -> None:
        self.window.engine.project(on)
        self.window.preferences().setValue(SHOW_KEY, on)

    def _keep_toggled(self, on: bool) -> None:
        self.window.preferences().setValue(KEEP_KEY, on)
        if on and self._transient is not None:  # the request shown now is kept after all
            chat_id, self._transient = self._transient, None
            store = self.window.services.chats
            try:
                settings = dict(store.get_chat(chat_id).settings)
                settings.pop("transient", None)
                store.update_chat(chat_id, settings=settings)
            except (DatabaseError, LookupError) as exc:
                log.warning("the shown request's chat could not be kept: %s", exc)

    # --- the requests ------------------------------------------------------------------------------
    def on_incoming(self, event: object) -> None:
        """A served request starts: shown in a chat of its own, unless the window's own reply waits."""
        if not isinstance(event, IncomingEvent) or not self.showing:
            return
        window, controller = self.window, self.window.controller
        if controller.busy:  # the window's own reply waits behind it: the chat stays as it is
            window.show_status(
                translate(
                    "MainWindow",
                    "{source} sent a request to the served model; it is answered, not shown, while your "
                    "reply waits for its turn.",
                ).format(source=event.source),
                8000,
            )
            return
        self._drop_transient()
        refused = controller.adopt(event, keep=self.keep_action.isChecked())
        if refused is not None:
            if refused == REFUSED_READ_ONLY:
                window.show_status(
                    translate(
                        "MainWindow",
                        "A request from {source} is answered but not shown: nothing can be saved.",
                    ).format(source=event.source),
                    8000,
                )
            return
        if not self.keep_action.isChecked():
            self._transient = controller.chat_id
        window.show_status(
            translate("MainWindow", "Showing a request from {source}.").format(source=event.source), 5000
        )

    def _opened(self, chat_id: object) -> None:
        """Another chat is shown: the chat of a request not kept goes."""
        if self._transient is not None and chat_id != self._transient:
            self._drop_transient()

    def _drop_transient(self) -> None:
        chat_id, self._transient = self._transient, None
        if chat_id is None:
            return
        controller = self.window.controller
        if controller.busy and controller.chat_id == chat_id:
            self._transient = chat_id  # still answering: it goes once it has been left
            return
        try:
            controller.delete_chat(chat_id)
        except DatabaseError as exc:
            log.warning("the shown request's chat could not be deleted: %s", exc)

    def _drop_leftovers(self) -> None:
        """The chats of requests shown but not kept that a crash left behind."""
        store = self.window.services.chats
        if store.db.read_only:
            return
        try:
            for chat in store.list_chats():
                if chat.settings.get("transient") and chat.id != self.window.controller.chat_id:
                    store.delete_chat(chat.id)
        except DatabaseError as exc:
            log.warning("the chats of shown requests could not be tidied: %s", exc)

    def close(self) -> None:
        """The window closes: the chat of a request shown and not kept goes with it."""
        self._drop_transient()


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    return value in (True, "true")
