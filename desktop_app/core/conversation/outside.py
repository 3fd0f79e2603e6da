"""A conversation's requests of other programs (the projector): a served request shown as a chat of its
own while it is answered (:meth:`ServedRequests.adopt`), a mixin of
:class:`~desktop_app.core.conversation.conversation.Conversation`, whose state it uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from desktop_app.core.conversation.reply import PendingReply
from desktop_app.core.conversation.reports import REFUSED_NOTHING, REFUSED_STORE, title_from
from desktop_app.core.conversation.shown import ChatMessage, ShownToken
from desktop_app.core.engine.messages import GenerateRequest, IncomingEvent
from desktop_app.core.store.chats import ReplyToken
from desktop_app.core.store.db_errors import DatabaseError

if TYPE_CHECKING:
    from desktop_app.core.conversation.reports import Listener
    from desktop_app.core.engine.messages import LoadedModel
    from desktop_app.core.store.chats import ChatStore, Message


class ServedRequests:
    if TYPE_CHECKING:  # the Conversation's (see its __init__)
        store: ChatStore
        listener: Listener
        model: LoadedModel | None
        chat_id: int | None
        system_prompt: str
        plain: bool
        messages: list[ChatMessage]
        path: list[Message]
        _live: dict[int, list[ShownToken]]
        _pending: PendingReply | None
        _edit_target: int | None

        def _refusal(self, *, model: bool = True, writes: bool = True) -> str | None: ...
        def _show(self, tree=None) -> None: ...
        def conversation(self) -> tuple[dict, ...]: ...
        def token_at(self, shown: ShownToken) -> tuple[int, int] | None: ...

    # --- requests of other programs (the projector) ---------------------------------------------------
    def adopt(
        self,
        event: IncomingEvent,
        *,
        keep: bool = True,
        continues: tuple[int, tuple[ReplyToken, ...]] | None = None,
    ) -> str | None:
        """Show a request another program sent to the served model as it is answered: a new chat holds its
        messages, marked as sent by ``event.source``, and its reply streams as this conversation's own do
        (from the events with ``event.request_id``) and is saved when it ends. ``keep=False``: the chat
        is marked ``transient``, for its shower to delete once it is not shown any more.

        ``continues``: ``(reply id, kept)`` when the request goes on with the reply shown last (a client
        that rolls its own die asks for one token at a time, its prompt the last one and the tokens it
        chose since, ``kept``): that reply grows instead, as step mode grows one."""
        refused = self._refusal()
        if refused:
            return refused
        if continues is not None:
            return self._adopt_continued(event, *continues)
        system, turns = split_system(event.messages)
        asked = next((m["content"] for m in reversed(turns) if m["role"] == "user"), "")
        settings = {"plain": event.plain, "outside": event.source, **({} if keep else {"transient": True})}
        try:
            chat = self.store.create_chat(
                title_from(asked or system or event.source),
                model_id=self.model.model_id if self.model else None,
                system_prompt=system,
                settings=settings,
            )
            parent = None
            for m in turns:
                metadata = {"outside": event.source}
                if m["role"] == "assistant":  # the program's own history: not generated here
                    metadata["written_by"] = "client"
                parent = self.store.add_message(
                    chat.id, m["role"], m["content"], parent_id=parent, metadata=metadata
                ).id
            tree = self.store.tree(chat.id)
        except DatabaseError as exc:
            self.listener.store_failed(str(exc))
            return REFUSED_STORE
        self.chat_id = chat.id
        self._edit_target = None
        self.system_prompt = system
        if event.plain != self.plain:
            self.plain = event.plain
            self.listener.mode_changed(event.plain)
        self.path = tree.path(parent)
        self._show(tree)
        self.listener.chats_changed()
        self.listener.chat_opened(chat.id)
        request = GenerateRequest(
            self.conversation(), event.settings, event.max_tokens, plain=event.plain,
            request_id=event.request_id,
        )  # fmt: skip
        pending = PendingReply(request, parent, len(self.messages), outside=event.source)
        self.messages.append(ChatMessage("assistant", "", streaming=True, outside=event.source))
        self._pending = pending
        self.listener.reply_started(pending.index, [])
        return None

    def _adopt_continued(
        self, event: IncomingEvent, reply_id: int, kept: tuple[ReplyToken, ...]
    ) -> str | None:
        if not self.path or self.path[-1].id != reply_id:
            return REFUSED_NOTHING
        reply = self.path[-1]
        self.path = self.path[:-1]
        request = GenerateRequest(
            self.conversation(), event.settings, event.max_tokens, plain=event.plain,
            request_id=event.request_id,
        )  # fmt: skip
        self._show()
        pending = PendingReply(
            request, reply.parent_id, len(self.messages), kept, extend=reply_id, outside=event.source
        )
        # The tokens the reply keeps, with their live steps where the client kept what was shown.
        live, saved = self._live.get(reply_id) or [], pending.kept_tokens(None)
        shown = [
            live[i] if i < len(live) and live[i].token_id == t.token_id and not t.picked else saved[i]
            for i, t in enumerate(kept)
        ]
        message = ChatMessage("assistant", "".join(t.text for t in shown), tokens=shown, streaming=True)
        message.outside = event.source
        self.messages.append(message)
        self._pending = pending
        self.listener.reply_started(pending.index, shown)
        return None

    def is_outside(self, shown: ShownToken) -> bool:
        """Whether ``shown`` is a token of a served request's reply (its step was made by the served
        requests' session, so the window's own cannot re-run the sampler on it)."""
        where = self.token_at(shown)
        return where is not None and self.messages[where[0]].outside is not None


def split_system(messages: tuple[dict, ...]) -> tuple[str, list[dict]]:
    """A request's messages as a chat: the system (or developer) messages at its start as the system
    prompt, the rest as turns, every role but the user's and the assistant's named in its text."""
    system: list[str] = []
    turns: list[dict] = []
    for m in messages:
        role, content = str(m.get("role", "user")), str(m.get("content", ""))
        if role in ("system", "developer") and not turns:
            system.append(content)
        elif role in ("user", "assistant"):
            turns.append({"role": role, "content": content})
        else:  # a tool's result, a system message later on: shown as the user's turn, its role said
            turns.append({"role": "user", "content": f"[{role}] {content}"})
    return "\n\n".join(system), turns
