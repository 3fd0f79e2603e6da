"""The conversation controller: chat-pane actions become engine requests and saved messages; engine events
become what the pane and the chart show.

A chat is a tree of messages in the database (``ChatStore``); the pane shows one path through it. Every
message is saved as soon as it exists: the user's when it is sent, a reply when it ends (finished,
stopped, or cut by a model switch or by closing the window). Sampling maths, templates and generation
stay in the core; this only routes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop_app.core.conversation.shown import ChatMessage, ShownToken, tokens_from_saved, unfinished_label
from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.core.engine.session import STOP_EOG, STOP_MAX_TOKENS
from desktop_app.core.engine.tokens import TextAssembler, split_chars
from desktop_app.core.store.chats import ChatNotFound, ChatStore, ChatTree, Message, ReplyToken
from desktop_app.core.store.db_errors import DatabaseError
from desktop_app.ui import core_text
from desktop_app.ui.widgets.chat import ChatPane
from desktop_app.ui.workers import (
    EngineClient,
    FinishedEvent,
    GenerateRequest,
    LoadedModel,
    PromptEvent,
    StepEvent,
)

TITLE_CHARS = 60


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


STOP_STEP = "step"  # how a reply of step mode ends each step (saved as its stop reason)


@dataclass
class _Pending:
    """The reply being generated."""

    request: GenerateRequest
    parent_id: int  # the user message it answers
    index: int  # its place in the pane's messages
    prefix: tuple[ReplyToken, ...] = ()  # tokens kept from the reply it branches from or extends
    branch_from: tuple[int, int] | None = None  # (reply id, position) when it branches
    extend: int | None = None  # the reply that grows by these tokens (step mode), instead of a new one


class ChatController(QObject):
    step_selected = Signal(object)  # a ShownToken whose distribution the chart should show
    prompt_shown = Signal(object)  # PromptEvent, for the template inspector
    status = Signal(str)  # a sentence for the status bar
    stats = Signal(int, object)  # context tokens used, decode tokens per second (None: a single step)
    finished = Signal(object)  # FinishedEvent, after the reply is saved (or failed to be: store_failed)
    store_failed = Signal(str)  # the store's sentence: a reply could not be saved (a full disk, …)
    chats_changed = Signal()  # the list of chats (titles, order) changed
    chat_opened = Signal(object)  # the chat id now shown (None: a new, unsaved chat)
    mode_changed = Signal(bool)  # plain text continuation on / off
    reply_started = Signal(object)  # the tokens the reply already has (kept when branching or stepping)
    step_streamed = Signal(object)  # a Step of the reply being generated, as it arrives

    def __init__(self, pane: ChatPane, engine: EngineClient, store: ChatStore, parent: QObject | None = None):
        super().__init__(parent)
        self.pane = pane
        self.engine = engine
        self.store = store
        self.model: LoadedModel | None = None
        self.settings = SamplerSettings()
        self.max_tokens = 512
        self.chat_id: int | None = None
        self.messages: list[ChatMessage] = []
        self._path: list[Message] = []
        self._live: dict[int, list[ShownToken]] = {}  # reply id → its tokens with their live steps
        self._pending: _Pending | None = None
        self._edit_target: int | None = None  # the message id being edited
        self.plain = False  # this chat continues plain text instead of using the chat template
        pane.send_requested.connect(self.send)
        pane.stop_requested.connect(self.stop)
        pane.regenerate_requested.connect(self.regenerate)
        pane.edit_requested.connect(self._on_edit_requested)
        pane.edit_cancelled.connect(lambda: setattr(self, "_edit_target", None))
        pane.token_clicked.connect(self.select_token)
        pane.sibling_requested.connect(self.switch_sibling)
        pane.system_prompt_changed.connect(self._on_system_prompt)
        w = engine.worker
        w.steps.connect(self._on_steps)
        w.finished.connect(self._on_finished)
        w.failed.connect(self._on_failed)
        w.prompt_ready.connect(self._on_prompt)

    # --- state ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._pending is not None

    @property
    def read_only(self) -> bool:
        return self.store.db.read_only

    def set_model(self, model: LoadedModel | None) -> None:
        self.model = model

    def set_settings(self, settings: SamplerSettings) -> None:
        self.settings = settings

    def conversation(self) -> tuple[dict, ...]:
        """The messages the model reads (system prompt first): the shown path, without a streaming reply."""
        system = self.pane.system_prompt()
        head = ({"role": "system", "content": system},) if system else ()
        return head + tuple({"role": m.role, "content": m.content} for m in self._path)

    # --- chats ----------------------------------------------------------------------------------
    def new_chat(self) -> None:
        """An empty conversation; it is saved when its first message is sent."""
        if self.busy:
            return
        self.chat_id = None
        self._path = []
        self._edit_target = None
        self.pane.stop_editing()
        self.pane.set_system_prompt("")
        self._show()
        self.chat_opened.emit(None)

    def set_plain(self, plain: bool) -> None:
        """Plain text continuation (no chat template) for this chat, or back to chatting."""
        if plain == self.plain:
            return
        self.plain = plain
        if self.chat_id is not None and not self.read_only:
            chat = self.store.get_chat(self.chat_id)
            self.store.update_chat(self.chat_id, settings={**chat.settings, "plain": plain})
        self.mode_changed.emit(plain)

    def open_chat(self, chat_id: int, through: int | None = None) -> None:
        if self.busy:
            self.status.emit(self.tr("Stop the reply first."))
            return
        try:
            chat = self.store.get_chat(chat_id)
            tree = self.store.tree(chat_id)
        except ChatNotFound:
            self.status.emit(self.tr("That chat no longer exists."))
            self.chats_changed.emit()
            return
        self.chat_id = chat.id
        self._edit_target = None
        self.pane.stop_editing()
        self.pane.set_system_prompt(chat.system_prompt)
        plain = bool(chat.settings.get("plain", False))
        if plain != self.plain:
            self.plain = plain
            self.mode_changed.emit(plain)
        self._path = tree.path(through)
        self._show(tree)
        self.chat_opened.emit(chat.id)

    def start_with_history(self, title: str, turns: list[tuple[str, str]]) -> None:
        """A new chat that already holds earlier turns ``(role, text)`` (a lesson's history)."""
        if self.busy or self.read_only:
            return
        chat = self.store.create_chat(
            title_from(title),
            model_id=self.model.model_id if self.model else None,
            system_prompt=self.pane.system_prompt(),
            settings={"plain": self.plain},
        )
        parent = None
        for role, text in turns:
            # An answer written here was not generated: the chat marks it (ChatMessage.written).
            written = {"written_by": "lesson"} if role == "assistant" else None
            parent = self.store.add_message(chat.id, role, text, parent_id=parent, metadata=written).id
        self.chat_id = chat.id
        tree = self.store.tree(chat.id)
        self._path = tree.path(parent)
        self._show(tree)
        self.chats_changed.emit()
        self.chat_opened.emit(chat.id)

    def rename_chat(self, chat_id: int, title: str) -> None:
        self.store.rename_chat(chat_id, title)
        self.chats_changed.emit()

    def delete_chat(self, chat_id: int) -> None:
        if self.busy and chat_id == self.chat_id:
            self.status.emit(self.tr("Stop the reply first."))
            return
        self.store.delete_chat(chat_id)
        if chat_id == self.chat_id:
            self.new_chat()
        self.chats_changed.emit()

    def _ensure_chat(self, first_text: str) -> int:
        if self.chat_id is None:
            chat = self.store.create_chat(
                title_from(first_text),
                model_id=self.model.model_id if self.model else None,
                system_prompt=self.pane.system_prompt(),
                settings={"plain": self.plain},
            )
            self.chat_id = chat.id
            self.chat_opened.emit(chat.id)
        return self.chat_id

    def _on_system_prompt(self, text: str) -> None:
        if self.chat_id is not None and not self.read_only:
            self.store.update_chat(self.chat_id, system_prompt=text)

    # --- what the pane shows --------------------------------------------------------------------
    def _tokens_of(self, m: Message) -> list[ShownToken]:
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
        for m in self._path:
            siblings = tree.siblings(m.id) if tree is not None else [m]
            index = next((i for i, s in enumerate(siblings) if s.id == m.id), 0)
            shown.append(ChatMessage.from_message(m, self._tokens_of(m), index, len(siblings)))
        self.messages = shown
        # The conversation shown changed (a new reply, a branch, Back, another version or chat): no token
        # of it is selected until one is chosen.
        self.pane.clear_selection()
        self.pane.set_messages(self.messages)
        self.pane.set_busy(self.busy)

    def switch_sibling(self, index: int, delta: int) -> None:
        """Show the previous / next version of message ``index`` (and the conversation that followed it)."""
        if self.busy or self.chat_id is None or not 0 <= index < len(self._path):
            return
        tree = self.store.tree(self.chat_id)
        siblings = tree.siblings(self._path[index].id)
        at = next(i for i, s in enumerate(siblings) if s.id == self._path[index].id)
        target = siblings[(at + delta) % len(siblings)]
        self._path = tree.path(target.id)
        self._show(tree)

    # --- actions --------------------------------------------------------------------------------
    def send(self, text: str, *, max_tokens: int | None = None) -> None:
        if self.busy:
            return
        if self.model is None:
            self.status.emit(self.tr("Load a model first (Models)."))
            self.pane.input.setPlainText(text)
            return
        if self.read_only:
            self.status.emit(
                self.tr("Another TokenDice window holds the data folder: this one cannot save chats.")
            )
            self.pane.input.setPlainText(text)
            return
        try:
            chat_id = self._ensure_chat(text)
            if self._edit_target is not None:
                user = self.store.edit_message(self._edit_target, text)
                self._edit_target = None
                self.pane.finish_editing()
            else:
                parent = self._path[-1].id if self._path else None
                user = self.store.add_message(chat_id, "user", text, parent_id=parent)
            self._path = self.store.tree(chat_id).path(user.id)
        except DatabaseError as exc:  # nothing is asked of the model; the question stays in the box
            self.pane.input.setPlainText(text)
            self.store_failed.emit(str(exc))
            return
        self.chats_changed.emit()
        self._start(user.id, max_tokens=max_tokens)

    def regenerate(self) -> None:
        """A new reply to the last user message; the old reply stays as a sibling."""
        if self.busy or self.model is None or self.read_only:
            return
        while self._path and self._path[-1].role == "assistant":
            self._path.pop()
        if self._path and self._path[-1].role == "user":
            self._start(self._path[-1].id)

    def _on_edit_requested(self, index: int) -> None:
        if 0 <= index < len(self._path):
            self._edit_target = self._path[index].id

    def pick_token(
        self, message_index: int, token_index: int, token: int, *, max_tokens: int | None = None
    ) -> None:
        """Continue reply ``message_index`` from token ``token_index`` with ``token`` instead of what the
        die chose there: a new version of the reply (a branch), the old one kept. ``max_tokens=1``
        (step mode) takes just that token."""
        if self.busy or self.model is None or self.read_only or self.chat_id is None:
            return
        if not 0 <= message_index < len(self._path) or self._path[message_index].role != "assistant":
            return
        reply = self._path[message_index]
        kept = tuple(self.store.reply_tokens(reply.id)[:token_index])
        if len(kept) < token_index:
            return
        self._path = self._path[:message_index]
        self._start(
            reply.parent_id,
            prefix=kept,
            forced=(token,),
            branch_from=(reply.id, token_index),
            max_tokens=max_tokens,
        )

    def stop(self) -> None:
        if self.busy:
            self.engine.cancel()

    # --- step mode ------------------------------------------------------------------------------
    def can_step(self) -> bool:
        """Whether Next token has something to continue: a question, or a reply that has not ended and
        is shorter than the reply length (a lesson's, or the user's Max length)."""
        if self.busy or self.model is None or not self._path:
            return False
        last = self._path[-1]
        return last.role == "user" or (last.stop_reason != STOP_EOG and not self.at_length_limit())

    def at_length_limit(self) -> bool:
        """The last reply has as many tokens as a reply may have."""
        if not self._path or self._path[-1].role != "assistant":
            return False
        return len(self.store.reply_tokens(self._path[-1].id)) >= self.max_tokens

    def step_next(self, text: str = "") -> bool:
        """One token more: of the last reply, or the first of a reply to ``text`` (sent first). Returns
        whether a step started."""
        if self.busy or self.model is None or self.read_only:
            return False
        if text.strip():
            self.send(text.strip(), max_tokens=1)
            return self.busy
        if not self.can_step():
            return False
        last = self._path[-1]
        if last.role == "user":
            self._start(last.id, max_tokens=1)
            return True
        kept = tuple(self.store.reply_tokens(last.id))
        self._path = self._path[:-1]
        self._start(last.parent_id, prefix=kept, max_tokens=1, extend=last.id)
        return True

    def step_back(self) -> bool:
        """Take the last token of the last reply back (a reply left empty is deleted)."""
        if self.busy or self.read_only or not self._path or self._path[-1].role != "assistant":
            return False
        reply = self._path[-1]
        tokens = self.store.reply_tokens(reply.id)
        if len(tokens) <= 1:
            self.store.delete_message(reply.id)
            self._live.pop(reply.id, None)
            self._path = self._path[:-1]
        else:
            kept = tokens[:-1]
            shown = tokens_from_saved(kept, ends_with_eog=False)
            live = self._live.get(reply.id)
            if live is not None and len(live) == len(tokens):
                shown = live[:-1]
            text = "".join(t.text for t in shown)
            updated = self.store.rewrite_reply(reply.id, text, kept, stop_reason=STOP_STEP)
            self._live[reply.id] = shown
            self._path[-1] = updated
        self._show()
        return True

    def select_token(self, message_index: int, token_index: int) -> None:
        """Show this token's step (a click on it, or on its point in the end lane), and mark the token in
        the reply. While a reply streams the chart follows its newest step: nothing is marked."""
        if 0 <= message_index < len(self.messages):
            tokens = self.messages[message_index].tokens
            if 0 <= token_index < len(tokens):
                t = tokens[token_index]
                has_step = (t.step is not None and t.step.distribution is not None) or (
                    t.candidates is not None and len(t.candidates) > 0
                )  # what the chart can show (ShownToken.distribution)
                if self.busy or self.model is None:
                    self.pane.clear_selection()
                elif has_step:  # (else the chart keeps the step it shows, and the reply its mark)
                    self.pane.select_token(message_index, token_index)
                self.step_selected.emit(t)

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

    # --- engine events --------------------------------------------------------------------------
    def _start(
        self,
        parent_id: int,
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
        assembler = TextAssembler()
        kept = [
            ShownToken(t.token_id, t.piece, assembler.feed(t.piece), t.p_raw, t.p_final, t.u,
                       inserted=t.inserted and not t.picked, forced=t.picked, candidates=t.candidates)
            for t in prefix
        ]  # fmt: skip
        if extend is not None and self._live.get(extend) is not None:
            kept = list(self._live[extend])  # the live steps, so the chart still shows their stages
        reply = ChatMessage("assistant", "".join(t.text for t in kept), tokens=kept, streaming=True)
        self.messages.append(reply)
        self._pending = _Pending(request, parent_id, len(self.messages) - 1, prefix, branch_from, extend)
        self.pane.set_messages(self.messages)
        self.pane.set_busy(True)
        self.status.emit(self.tr("Generating… (Esc stops)"))
        self.reply_started.emit(kept)
        self.engine.request_generate.emit(request)

    def _mine(self, request_id: int) -> bool:
        return self._pending is not None and request_id == self._pending.request.request_id

    def _on_prompt(self, event: PromptEvent) -> None:
        if self._mine(event.request_id):
            self.prompt_shown.emit(event)

    def _on_steps(self, events: list[StepEvent]) -> None:
        """Steps that came together (a fast model's, within one frame): each one is streamed, and the
        latest rolled one is shown."""
        mine = [event for event in events if self._mine(event.request_id)]
        if not mine:
            return
        index = self._pending.index
        reply = self.messages[index]
        latest = None
        for event in mine:
            shown = ShownToken.from_step(event.step)
            reply.tokens.append(shown)
            reply.content += shown.text
            self.step_streamed.emit(event.step)
            if event.step.distribution is not None:
                latest = shown
        self.pane.message_changed(index)
        if latest is not None:
            self.step_selected.emit(latest)

    def _on_finished(self, event: FinishedEvent) -> None:
        if not self._mine(event.request_id):
            return
        pending, self._pending = self._pending, None
        result = event.result
        tokens = list(pending.prefix) + list(event.tokens)
        shown = self.messages[pending.index].tokens
        # the live tokens again, now that every step has been read in full
        live = shown[: len(pending.prefix)] + [ShownToken.from_step(s) for s in result.steps]
        content = "".join(t.text for t in live) + unfinished_label(live)
        # A step of step mode ends after its one token: not "the length limit", but one step.
        step = pending.request.max_tokens == 1 and result.stop_reason == STOP_MAX_TOKENS
        stop_reason = STOP_STEP if step else result.stop_reason
        metadata = {
            "settings": self.settings.to_dict(),
            "model_id": self.model.model_id if self.model else None,
        }
        try:
            if pending.extend is not None:
                saved = self.store.rewrite_reply(pending.extend, content, tokens, stop_reason=stop_reason)
            else:
                saved = self.store.save_reply(
                    self.chat_id,
                    content,
                    tokens,
                    parent_id=pending.parent_id,
                    stop_reason=stop_reason,
                    template_source=event.template_origin,
                    metadata=metadata,
                    branch_from=pending.branch_from,
                )
            self._path = self.store.tree(self.chat_id).path(saved.id)
        except DatabaseError as exc:  # a full disk, a damaged page: the reply stays on screen, unsaved
            reply = self.messages[pending.index]
            reply.streaming = False
            reply.failed = self.tr("not saved: {why}").format(why=exc)
            self.pane.message_changed(pending.index)
            self.store_failed.emit(str(exc))
            self.finished.emit(event)
            return
        self._live[saved.id] = live
        self._show()
        self.chats_changed.emit()
        used = event.prompt_tokens + len(pending.prefix) + len(result.steps)  # the prompt, then the reply
        if step and live:
            self.stats.emit(used, None)  # one token's speed says nothing
            self.status.emit(self._step_added(live))
        else:
            self.stats.emit(used, result.decode_tokens_per_s)
            done = self.tr("Reply done: {n} tokens, {reason}.")
            reason = core_text.stop_reason(result.stop_reason)
            self.status.emit(done.format(n=len(result.steps), reason=reason))
        self.finished.emit(event)

    def _step_added(self, tokens: list[ShownToken]) -> str:
        """The status bar's word on a step of step mode: the token added, and when it holds bytes of a
        character spread over tokens, the bytes grouped with the character they make (never "�"):
        “<BA>” added (<E8><87> + <BA> = 臺), short enough for the status bar beside its figures."""
        k, last = len(tokens) - 1, tokens[-1]
        groups = [g for g in split_chars([t.piece for t in tokens if not t.end]) if g.first <= k <= g.last]
        if last.end or not groups:
            text = self.tr("One step: “{token}” added; the reply has {n} tokens.")
            return text.format(token=last.text or last.label, n=len(tokens))
        text = self.tr("One step: “{token}” added ({chars}); the reply has {n} tokens.")
        return text.format(token=last.label, chars="; ".join(g.label() for g in groups), n=len(tokens))

    def _on_failed(self, request_id: int, message: str) -> None:
        if not self._mine(request_id):
            return
        pending, self._pending = self._pending, None
        reply = self.messages[pending.index]
        reply.streaming = False
        reply.failed = self.tr("No reply: {error}").format(error=message)
        self.pane.set_messages(self.messages)
        self.pane.set_busy(False)
        self.status.emit(self.tr("Could not generate: {error}").format(error=message))
