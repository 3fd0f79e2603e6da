"""The conversation: a chat tree in the database, one path through it shown, and every operation on it
(send, edit, regenerate, branch at a token, switch versions, step forward and back), over a model's
backend.

A chat is a tree of messages (``ChatStore``); the conversation shows one path through it. Every message
is saved as soon as it exists: the user's when it is sent, a reply when it ends (finished, stopped, cut
by a model switch or a closed window, or by the engine's death). The conversation asks the backend for
a reply with a :class:`GenerateRequest` and is handed the backend's events back (:meth:`on_prompt`,
:meth:`on_steps`, :meth:`on_finished`, :meth:`on_failed`): synchronously from a backend in this process,
later from one in another process or on a server. It reports what changed through the callbacks of a
:class:`Listener` and says why it did nothing through return values (the ``REFUSED_*`` reasons), so the
window, the terminal chat and the tests drive it the same way.
"""

from __future__ import annotations

from dataclasses import replace

from desktop_app.core.conversation.outside import ServedRequests
from desktop_app.core.conversation.reply import PendingReply
from desktop_app.core.conversation.reports import (
    REFUSED_BUSY,
    REFUSED_NO_CHAT,
    REFUSED_NO_MODEL,
    REFUSED_NOTHING,
    REFUSED_READ_ONLY,
    REFUSED_STORE,
    STOP_STEP,
    Listener,
    ReplyBackend,
    title_from,
)
from desktop_app.core.conversation.shown import ChatMessage, ShownToken, tokens_from_saved
from desktop_app.core.engine.messages import (
    FinishedEvent,
    GenerateRequest,
    LoadedModel,
    PromptEvent,
    StepEvent,
)
from desktop_app.core.engine.session import STOP_EOG
from desktop_app.core.engine.thinking import prompt_opens_thinking
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.chats import ChatNotFound, ChatStore, ChatTree, Message, ReplyToken
from desktop_app.core.store.db_errors import DatabaseError


class Conversation(ServedRequests):
    """One chat at a time, over ``store`` and ``backend`` (set :attr:`model` before asking for replies)."""

    def __init__(self, store: ChatStore, backend: ReplyBackend, listener: Listener | None = None) -> None:
        self.store = store
        self.backend = backend
        self.listener = listener or Listener()
        self.model: LoadedModel | None = None
        self.settings = SamplerSettings()
        self.max_tokens = 512
        self.chat_id: int | None = None
        self.system_prompt = ""
        self.plain = False  # this chat continues plain text instead of using the chat template
        self.messages: list[ChatMessage] = []  # the shown path, with a streaming reply at its end
        self.path: list[Message] = []  # the saved messages shown, root first
        self._live: dict[int, list[ShownToken]] = {}  # reply id → its tokens with their live steps
        self._pending: PendingReply | None = None
        self._edit_target: int | None = None  # the message id being edited

    # --- state ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._pending is not None

    @property
    def read_only(self) -> bool:
        return self.store.db.read_only

    @property
    def editing(self) -> bool:
        return self._edit_target is not None

    def conversation(self) -> tuple[dict, ...]:
        """The messages the model reads (system prompt first): the shown path, without a streaming reply."""
        head = ({"role": "system", "content": self.system_prompt},) if self.system_prompt else ()
        return head + tuple({"role": m.role, "content": m.content} for m in self.path)

    def _refusal(self, *, model: bool = True, writes: bool = True) -> str | None:
        if self.busy:
            return REFUSED_BUSY
        if model and self.model is None:
            return REFUSED_NO_MODEL
        if writes and self.read_only:
            return REFUSED_READ_ONLY
        return None

    # --- chats ----------------------------------------------------------------------------------
    def new_chat(self) -> str | None:
        """An empty conversation; it is saved when its first message is sent."""
        if self.busy:
            return REFUSED_BUSY
        self.chat_id = None
        self.path = []
        self._edit_target = None
        self.system_prompt = ""
        self._show()
        self.listener.chat_opened(None)
        return None

    def open_chat(self, chat_id: int, through: int | None = None) -> str | None:
        """Show a saved chat, along the path through message ``through`` (default: its latest leaf)."""
        if self.busy:
            return REFUSED_BUSY
        try:
            chat = self.store.get_chat(chat_id)
            tree = self.store.tree(chat_id)
        except ChatNotFound:
            self.listener.chats_changed()
            return REFUSED_NO_CHAT
        self.chat_id = chat.id
        self._edit_target = None
        self.system_prompt = chat.system_prompt
        plain = bool(chat.settings.get("plain", False))
        if plain != self.plain:
            self.plain = plain
            self.listener.mode_changed(plain)
        self.path = tree.path(through)
        self._show(tree)
        self.listener.chat_opened(chat.id)
        return None

    def set_plain(self, plain: bool) -> None:
        """Plain text continuation (no chat template) for this chat, or back to chatting."""
        if plain == self.plain:
            return
        self.plain = plain
        if self.chat_id is not None and not self.read_only:
            chat = self.store.get_chat(self.chat_id)
            self.store.update_chat(self.chat_id, settings={**chat.settings, "plain": plain})
        self.listener.mode_changed(plain)

    def set_system_prompt(self, text: str) -> None:
        """The system prompt of this chat (saved with it)."""
        self.system_prompt = text
        if self.chat_id is not None and not self.read_only:
            self.store.update_chat(self.chat_id, system_prompt=text)

    def start_with_history(self, title: str, turns: list[tuple[str, str]]) -> str | None:
        """A new chat that already holds earlier turns ``(role, text)`` (a lesson's history)."""
        refused = self._refusal(model=False)
        if refused:
            return refused
        chat = self.store.create_chat(
            title_from(title),
            model_id=self.model.model_id if self.model else None,
            system_prompt=self.system_prompt,
            settings={"plain": self.plain},
        )
        parent = None
        for role, text in turns:
            # An answer written here was not generated: the chat marks it (ChatMessage.written).
            written = {"written_by": "lesson"} if role == "assistant" else None
            parent = self.store.add_message(chat.id, role, text, parent_id=parent, metadata=written).id
        self.chat_id = chat.id
        tree = self.store.tree(chat.id)
        self.path = tree.path(parent)
        self._show(tree)
        self.listener.chats_changed()
        self.listener.chat_opened(chat.id)
        return None

    def rename_chat(self, chat_id: int, title: str) -> None:
        self.store.rename_chat(chat_id, title)
        self.listener.chats_changed()

    def delete_chat(self, chat_id: int) -> str | None:
        if self.busy and chat_id == self.chat_id:
            return REFUSED_BUSY
        self.store.delete_chat(chat_id)
        if chat_id == self.chat_id:
            self.new_chat()
        self.listener.chats_changed()
        return None

    def _ensure_chat(self, first_text: str) -> int:
        if self.chat_id is None:
            chat = self.store.create_chat(
                title_from(first_text),
                model_id=self.model.model_id if self.model else None,
                system_prompt=self.system_prompt,
                settings={"plain": self.plain},
            )
            self.chat_id = chat.id
            self.listener.chat_opened(chat.id)
        return self.chat_id

    # --- what is shown --------------------------------------------------------------------------
    def tokens_of(self, m: Message) -> list[ShownToken]:
        """A message's tokens as shown: live (with their whole steps) when generated in this run."""
        if m.role != "assistant":
            return []
        live = self._live.get(m.id)
        if live is not None:
            return live
        return tokens_from_saved(
            self.store.reply_tokens(m.id),
            ends_with_eog=m.stop_reason == STOP_EOG,
            eog_ids=self.model.eog_ids if self.model is not None else frozenset(),
        )

    def _show(self, tree: ChatTree | None = None) -> None:
        if tree is None and self.chat_id is not None:
            tree = self.store.tree(self.chat_id)
        shown = []
        for m in self.path:
            siblings = tree.siblings(m.id) if tree is not None else [m]
            index = next((i for i, s in enumerate(siblings) if s.id == m.id), 0)
            shown.append(ChatMessage.from_message(m, self.tokens_of(m), index, len(siblings)))
        self.messages = shown
        self.listener.shown(self.messages)

    def switch_sibling(self, index: int, delta: int) -> str | None:
        """Show the previous / next version of message ``index`` (and the conversation that followed it)."""
        if self.busy:
            return REFUSED_BUSY
        if self.chat_id is None or not 0 <= index < len(self.path):
            return REFUSED_NOTHING
        tree = self.store.tree(self.chat_id)
        siblings = tree.siblings(self.path[index].id)
        at = next(i for i, s in enumerate(siblings) if s.id == self.path[index].id)
        target = siblings[(at + delta) % len(siblings)]
        self.path = tree.path(target.id)
        self._show(tree)
        return None

    def token_at(self, shown: ShownToken) -> tuple[int, int] | None:
        """Where a shown token is: (message index, token index)."""
        for mi in range(len(self.messages) - 1, -1, -1):  # the latest first: a streaming reply's step
            tokens = self.messages[mi].tokens
            for k in range(len(tokens) - 1, -1, -1):
                if tokens[k] is shown:
                    return mi, k
        if shown.step is not None:  # shown while it streamed: the finished reply holds the same step
            for mi, m in enumerate(self.messages):
                for k, t in enumerate(m.tokens):
                    if t.step is shown.step:
                        return mi, k
        return None

    # --- actions --------------------------------------------------------------------------------
    def begin_edit(self, index: int) -> None:
        """The next :meth:`send` replaces message ``index`` (a new version of it; the old one kept)."""
        if 0 <= index < len(self.path):
            self._edit_target = self.path[index].id

    def cancel_edit(self) -> None:
        self._edit_target = None

    def send(self, text: str, *, max_tokens: int | None = None) -> str | None:
        """Send ``text`` as the user (or as the new version of the message being edited) and ask for a
        reply. A refusal leaves everything as it was."""
        refused = self._refusal()
        if refused:
            return refused
        try:
            chat_id = self._ensure_chat(text)
            if self._edit_target is not None:
                user = self.store.edit_message(self._edit_target, text)
                self._edit_target = None
            else:
                parent = self.path[-1].id if self.path else None
                user = self.store.add_message(chat_id, "user", text, parent_id=parent)
            self.path = self.store.tree(chat_id).path(user.id)
        except DatabaseError as exc:  # nothing is asked of the model
            self.listener.store_failed(str(exc))
            return REFUSED_STORE
        self.listener.chats_changed()
        self._start(user.id, max_tokens=max_tokens)
        return None

    def regenerate(self) -> str | None:
        """A new reply to the last user message; the old reply stays as a sibling."""
        refused = self._refusal()
        if refused:
            return refused
        path = list(self.path)
        while path and path[-1].role == "assistant":
            path.pop()
        if not path or path[-1].role != "user":
            return REFUSED_NOTHING
        self.path = path
        self._start(path[-1].id)
        return None

    def pick_token(
        self, message_index: int, token_index: int, token: int | None, *, max_tokens: int | None = None
    ) -> str | None:
        """Continue reply ``message_index`` from token ``token_index`` with ``token`` instead of what the
        die chose there (``None``: the die rolls again there): a new version of the reply (a branch), the
        old one kept. ``max_tokens=1`` (step mode) takes just that token."""
        refused = self._refusal()
        if refused:
            return refused
        if self.chat_id is None or not 0 <= message_index < len(self.path):
            return REFUSED_NOTHING
        reply = self.path[message_index]
        if reply.role != "assistant" or token_index < 0:
            return REFUSED_NOTHING
        kept = tuple(self.store.reply_tokens(reply.id)[:token_index])
        if len(kept) < token_index:
            return REFUSED_NOTHING
        self.path = self.path[:message_index]
        self._start(
            reply.parent_id,
            prefix=kept,
            forced=() if token is None else (token,),
            branch_from=(reply.id, token_index),
            max_tokens=max_tokens,
        )
        return None

    def stop(self) -> None:
        """Stop the reply being generated (it ends, and is saved, within one token): the conversation's
        own, or a served request shown (:meth:`adopt`), whose client then gets what was made."""
        pending = self._pending
        if pending is not None and pending.outside is not None:
            self.backend.cancel_incoming(pending.request.request_id)
        elif pending is not None:
            self.backend.cancel()

    # --- step mode ------------------------------------------------------------------------------
    def can_step(self) -> bool:
        """Whether Next token has something to continue: a question, or a reply that has not ended and
        is shorter than the reply length (a lesson's, or the user's Max length)."""
        if self.busy or self.model is None or not self.path:
            return False
        last = self.path[-1]
        return last.role == "user" or (last.stop_reason != STOP_EOG and not self.at_length_limit())

    def at_length_limit(self) -> bool:
        """The last reply has as many tokens as a reply may have."""
        if not self.path or self.path[-1].role != "assistant":
            return False
        return len(self.store.reply_tokens(self.path[-1].id)) >= self.max_tokens

    def step_next(self, text: str = "") -> str | None:
        """One token more: of the last reply, or the first of a reply to ``text`` (sent first)."""
        refused = self._refusal()
        if refused:
            return refused
        if text.strip():
            return self.send(text.strip(), max_tokens=1)
        if not self.can_step():
            return REFUSED_NOTHING
        last = self.path[-1]
        if last.role == "user":
            self._start(last.id, max_tokens=1)
            return None
        kept = tuple(self.store.reply_tokens(last.id))
        self.path = self.path[:-1]
        self._start(last.parent_id, prefix=kept, max_tokens=1, extend=last.id)
        return None

    def step_back(self) -> str | None:
        """Take the last token of the last reply back (a reply left empty is deleted)."""
        refused = self._refusal(model=False)
        if refused:
            return refused
        if not self.path or self.path[-1].role != "assistant":
            return REFUSED_NOTHING
        reply = self.path[-1]
        tokens = self.store.reply_tokens(reply.id)
        if len(tokens) <= 1:
            self.store.delete_message(reply.id)
            self._live.pop(reply.id, None)
            self.path = self.path[:-1]
        else:
            kept = tokens[:-1]
            shown = tokens_from_saved(kept, ends_with_eog=False)
            live = self._live.get(reply.id)
            if live is not None and len(live) == len(tokens):
                shown = live[:-1]
            text = "".join(t.text for t in shown)
            updated = self.store.rewrite_reply(reply.id, text, kept, stop_reason=STOP_STEP)
            self._live[reply.id] = shown
            self.path[-1] = updated
        self._show()
        return None

    # --- the reply ------------------------------------------------------------------------------
    def _start(
        self,
        parent_id: int | None,
        *,
        prefix: tuple[ReplyToken, ...] = (),
        forced: tuple[int, ...] = (),
        branch_from: tuple[int, int] | None = None,
        max_tokens: int | None = None,
        extend: int | None = None,
    ) -> None:
        request = GenerateRequest(
            messages=self.conversation(),
            settings=self.settings,
            max_tokens=max_tokens or self.max_tokens,
            forced=forced,
            prefix=tuple(t.token_id for t in prefix),
            plain=self.plain,
        )
        self._show()
        pending = PendingReply(request, parent_id, len(self.messages), prefix, branch_from, extend)
        kept = pending.kept_tokens(self._live.get(extend) if extend is not None else None)
        reply = ChatMessage("assistant", "".join(t.text for t in kept), tokens=kept, streaming=True)
        self.messages.append(reply)
        self._pending = pending
        self.listener.reply_started(pending.index, kept)
        # A backend in this process answers before this call returns: nothing may follow it here.
        self.backend.generate(request)

    def _mine(self, request_id: int) -> PendingReply | None:
        """The reply being generated, when ``request_id`` is its request's; else None."""
        pending = self._pending
        return pending if pending is not None and request_id == pending.request.request_id else None

    def on_prompt(self, event: PromptEvent) -> None:
        pending = self._mine(event.request_id)
        if pending is None:
            return
        if prompt_opens_thinking(event.prompt.rendered.text):  # the reply begins inside a thinking
            pending.thinking_opened = self.messages[pending.index].thinking_opened = True
        self.listener.prompt(event)

    def on_steps(self, events: list[StepEvent]) -> None:
        """Steps of the reply (one, or several that came together): each is streamed, and the latest
        rolled one is shown."""
        pending = self._pending
        mine = [event for event in events if self._mine(event.request_id) is not None]
        if pending is None or not mine:
            return
        index = pending.index
        reply = self.messages[index]
        latest = None
        for event in mine:
            shown = ShownToken.from_step(event.step)
            reply.tokens.append(shown)
            reply.content += shown.text
            if event.step.distribution is not None:
                latest = shown
        self.listener.streamed(index, [event.step for event in mine], latest)

    def on_finished(self, event: FinishedEvent) -> None:
        pending = self._mine(event.request_id)
        if pending is None:
            return
        self._pending = None
        # A reply is only asked for in a saved chat, and no other chat is opened while it is generated.
        chat_id = self.chat_id
        assert chat_id is not None, "a reply was generated outside a saved chat"
        model_id = self.model.model_id if self.model else None
        done = pending.done(event, self.messages[pending.index].tokens)
        try:
            saved = pending.save(self.store, chat_id, done, model_id)
            self.path = self.store.tree(chat_id).path(saved.id)
        except DatabaseError as exc:  # a full disk, a damaged page: the reply stays on screen, unsaved
            reply = self.messages[pending.index]
            reply.streaming = False
            reply.failed = f"not saved: {exc}"
            self.listener.store_failed(str(exc))
            self.listener.reply_done(replace(done, unsaved=str(exc)))
            return
        live = done.tokens
        self._live[saved.id] = live
        self._show()
        self.listener.chats_changed()
        self.listener.reply_done(replace(done, message=saved))

    def on_failed(self, request_id: int, message: str) -> None:
        pending = self._mine(request_id)
        if pending is None:
            return
        self._pending = None
        reply = self.messages[pending.index]
        reply.streaming = False
        reply.failed = f"No reply: {message}"
        self.listener.reply_failed(pending.index, message)

    def handle(self, kind: str, *args: object) -> None:
        """A backend's event, as a backend in this process emits it (``emit(kind, *args)``): the reply's
        events are taken, the others left to whoever else listens."""
        if kind == "prompt_ready":
            self.on_prompt(*args)  # type: ignore[arg-type]
        elif kind == "step":
            self.on_steps([args[0]])  # type: ignore[list-item]
        elif kind == "finished":
            self.on_finished(*args)  # type: ignore[arg-type]
        elif kind == "failed":
            self.on_failed(*args)  # type: ignore[arg-type]
