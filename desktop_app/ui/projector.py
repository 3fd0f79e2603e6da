"""Model → Show incoming requests: while the model is served, each request another program sends (a
student's notebook calling the teacher's server) is drawn in the window as it generates: a new chat holds
what it asked, marked as sent by its address, and its reply streams into the chat and the chart as the
window's own do. Stop stops it (its client gets what was made).

*Keep incoming requests as chats* decides what becomes of them: kept in the chats list (marked with their
address), or deleted once something else is shown (the next request, another chat, closing the window).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from desktop_app.core.conversation.reports import REFUSED_READ_ONLY
from desktop_app.core.engine.messages import IncomingEvent
from desktop_app.core.store.db_errors import DatabaseError
from desktop_app.core.store.reply_tokens import ReplyToken

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
        window.controller.finished.connect(self._finished)
        self._last: _Last | None = None  # the completion shown last, which the next may continue
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
        continues = self._continues(event)
        if continues is None:
            self._drop_transient()
        refused = controller.adopt(event, keep=self.keep_action.isChecked(), continues=continues)
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
        if not self.keep_action.isChecked() and continues is None:
            self._transient = controller.chat_id
        base = self._last.base if continues is not None and self._last is not None else event.prompt_ids
        self._last = (
            _Last(event.source, event.prompt_ids, event.request_id, base) if event.prompt_ids else None
        )
        window.show_status(
            translate("MainWindow", "Showing a request from {source}.").format(source=event.source), 5000
        )

    def _continues(self, event: IncomingEvent) -> tuple[int, tuple[ReplyToken, ...]] | None:
        """``(reply id, kept tokens)`` when ``event`` goes on with the completion shown last: the same
        program, and a prompt that is the last one with the tokens the program chose since (a client
        rolling its own die asks for one token at a time); None otherwise."""
        last, controller = self._last, self.window.controller
        if last is None or last.source != event.source or last.reply_id is None or not event.prompt_ids:
            return None
        before, now = last.prompt_ids, event.prompt_ids
        path = controller.core.path
        if now[: len(before)] != before or not path or path[-1].id != last.reply_id:
            return None
        chosen = now[len(last.base) :]  # every token the reply has, since the prompt it answers
        saved = self.window.services.chats.reply_tokens(last.reply_id)
        kept = []
        for i, token in enumerate(chosen):
            shown = saved[i] if i < len(saved) else None
            if shown is not None and shown.token_id == token:
                kept.append(shown)
            else:  # the program's die chose another token than the one shown (or one more)
                kept.append(_chosen(token, self.window.engine.piece(token), shown))
        return last.reply_id, tuple(kept)

    def _finished(self, event: object) -> None:
        """A reply was saved: the request shown last, continued by the next request of its program."""
        last = self._last
        if last is not None and getattr(event, "request_id", None) == last.request_id:
            path = self.window.controller.core.path
            self._last = replace(last, reply_id=path[-1].id if path else None)

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


@dataclass(frozen=True)
class _Last:
    source: str
    prompt_ids: tuple[int, ...]
    request_id: int
    base: tuple[int, ...]  # the prompt of the first request of the reply it makes or continues
    reply_id: int | None = None  # its reply as saved


def _chosen(token: int, piece: bytes, shown: ReplyToken | None) -> ReplyToken:
    """A token the program chose itself at a step shown with ``shown`` (its candidates kept): picked."""
    c = shown.candidates if shown is not None else None
    hit = np.flatnonzero(c.ids == token) if c is not None else np.empty(0, dtype=np.int64)
    if c is None or not hit.size:  # a token from beyond the candidates shown: its step is not known
        return ReplyToken(token, piece, None, None, None, inserted=True, picked=True)
    return ReplyToken(
        token, piece, float(c.p_raw[hit[0]]), None, None, inserted=True, candidates=c, picked=True
    )


def _flag(value: object, default: bool) -> bool:
    if value is None:
        return default
    return value in (True, "true")
