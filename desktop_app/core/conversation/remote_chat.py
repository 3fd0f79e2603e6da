"""A conversation over a model on llama-server (the terminal chat's ``--server``): :class:`RemoteChat`
is :class:`~desktop_app.core.conversation.local.LocalChat` with the server's service in place of the
local engine's."""

from __future__ import annotations

from desktop_app.core.conversation.conversation import Listener
from desktop_app.core.conversation.local import DirectChat
from desktop_app.core.engine.tokens import TokenView
from desktop_app.core.remote.connection import RemoteError
from desktop_app.core.remote.service import RemoteService
from desktop_app.core.store.chats import ChatStore


class RemoteChat(DirectChat):
    """A conversation over a server's model (:meth:`load` with a :class:`ServerLoadRequest`)."""

    service: RemoteService

    def __init__(self, store: ChatStore, listener: Listener | None = None) -> None:
        super().__init__(store, listener, RemoteService)

    def token_view(self, token: int) -> TokenView:
        session = self.service.session
        if session is None:
            return TokenView(token, b"")
        try:
            piece = session.token_pieces([token])[0]
        except RemoteError:
            piece = b""
        return TokenView(token, piece, token in session.info.eog_ids)
