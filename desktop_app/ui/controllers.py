"""The chat pane's adapter to the conversation (:mod:`desktop_app.core.conversation`): the pane's actions
become the conversation's operations, and what the conversation reports becomes what the pane, the chart
and the status bar show, as Qt signals. The chat tree, saving and the replies' lifecycle are the core's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from desktop_app.core.conversation.conversation import Conversation
from desktop_app.core.conversation.outside import split_system
from desktop_app.core.conversation.reports import (
    REFUSED_BUSY,
    REFUSED_NO_CHAT,
    REFUSED_NO_MODEL,
    REFUSED_READ_ONLY,
    Listener,
    ReplyDone,
)
from desktop_app.core.conversation.shown import ChatMessage, ShownToken
from desktop_app.core.engine.messages import GenerateRequest, IncomingEvent, PromptEvent
from desktop_app.core.engine.session import Step
from desktop_app.core.engine.tokens import split_chars
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.chats import ChatStore, ReplyToken
from desktop_app.ui import core_text
from desktop_app.ui.widgets.chat import ChatPane
from desktop_app.ui.workers import EngineClient, LoadedModel


class _WindowBackend:
    """The engine client as the conversation's backend: a reply is asked for through the client's queued
    signal, so it starts after the pane has shown the reply's first state."""

    def __init__(self, engine: EngineClient) -> None:
        self.engine = engine

    def generate(self, request: GenerateRequest) -> None:
        self.engine.request_generate.emit(request)

    def cancel(self) -> None:
        self.engine.cancel()

    def cancel_incoming(self, request_id: int) -> None:
        self.engine.cancel_incoming(request_id)


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
        self.core = Conversation(store, _WindowBackend(engine), _Reports(self))
        pane.send_requested.connect(self.send)
        pane.stop_requested.connect(self.stop)
        pane.regenerate_requested.connect(self.regenerate)
        pane.edit_requested.connect(self.core.begin_edit)
        pane.edit_cancelled.connect(self.core.cancel_edit)
        pane.token_clicked.connect(self.select_token)
        pane.sibling_requested.connect(self.switch_sibling)
        pane.system_prompt_changed.connect(self.core.set_system_prompt)
        w = engine.worker
        w.steps.connect(self.core.on_steps)
        w.finished.connect(self.core.on_finished)
        w.failed.connect(self.core.on_failed)
        w.prompt_ready.connect(self.core.on_prompt)

    # --- state ----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.core.busy

    @property
    def read_only(self) -> bool:
        return self.core.read_only

    @property
    def messages(self) -> list[ChatMessage]:
        return self.core.messages

    @property
    def chat_id(self) -> int | None:
        return self.core.chat_id

    @property
    def model(self) -> LoadedModel | None:
        return self.core.model

    @property
    def settings(self) -> SamplerSettings:
        return self.core.settings

    @property
    def plain(self) -> bool:
        return self.core.plain

    @property
    def max_tokens(self) -> int:
        return self.core.max_tokens

    @max_tokens.setter
    def max_tokens(self, value: int) -> None:
        self.core.max_tokens = value

    def set_model(self, model: LoadedModel | None) -> None:
        self.core.model = model

    def set_settings(self, settings: SamplerSettings) -> None:
        self.core.settings = settings

    def conversation(self) -> tuple[dict, ...]:
        """The messages the model reads (system prompt first): the shown path, without a streaming reply."""
        self._system()
        return self.core.conversation()

    def _system(self) -> None:
        """The system prompt as the pane holds it now (it is saved when its field is left)."""
        if not self.busy:
            self.core.system_prompt = self.pane.system_prompt()

    # --- chats ----------------------------------------------------------------------------------
    def new_chat(self) -> None:
        """An empty conversation; it is saved when its first message is sent."""
        if self.core.new_chat() is None:
            self.pane.stop_editing()
            self.pane.set_system_prompt("")

    def set_plain(self, plain: bool) -> None:
        """Plain text continuation (no chat template) for this chat, or back to chatting."""
        self.core.set_plain(plain)

    def open_chat(self, chat_id: int, through: int | None = None) -> None:
        refused = self.core.open_chat(chat_id, through)
        if refused == REFUSED_BUSY:
            self.status.emit(self.tr("Stop the reply first."))
        elif refused == REFUSED_NO_CHAT:
            self.status.emit(self.tr("That chat no longer exists."))
        else:
            self.pane.stop_editing()
            self.pane.set_system_prompt(self.core.system_prompt)

    def adopt(
        self,
        event: IncomingEvent,
        *,
        keep: bool,
        continues: tuple[int, tuple[ReplyToken, ...]] | None = None,
    ) -> str | None:
        """Show a served request another program sent as it runs (see ``Conversation.adopt``); the
        conversation's refusal, or None."""
        if self.busy:
            return REFUSED_BUSY
        previous = self.pane.system_prompt()
        # The pane holds the request's system prompt before the chat is shown: what is shown from it
        # (the prompt rendered for the inspector) reads the pane's.
        if continues is None:
            self.pane.set_system_prompt(split_system(event.messages)[0])
        refused = self.core.adopt(event, keep=keep, continues=continues)
        if refused is None:
            self.pane.stop_editing()
        else:
            self.pane.set_system_prompt(previous)
        return refused

    def start_with_history(self, title: str, turns: list[tuple[str, str]]) -> None:
        """A new chat that already holds earlier turns ``(role, text)`` (a lesson's history)."""
        self._system()
        self.core.start_with_history(title, turns)

    def rename_chat(self, chat_id: int, title: str) -> None:
        self.core.rename_chat(chat_id, title)

    def delete_chat(self, chat_id: int) -> None:
        if self.core.delete_chat(chat_id) == REFUSED_BUSY:
            self.status.emit(self.tr("Stop the reply first."))

    def switch_sibling(self, index: int, delta: int) -> None:
        """Show the previous / next version of message ``index`` (and the conversation that followed it)."""
        self.core.switch_sibling(index, delta)

    # --- actions --------------------------------------------------------------------------------
    def send(self, text: str, *, max_tokens: int | None = None) -> None:
        self._system()
        editing = self.core.editing
        refused = self.core.send(text, max_tokens=max_tokens)
        if refused is None:
            if editing:
                self.pane.finish_editing()
            return
        if refused == REFUSED_BUSY:
            return
        if refused == REFUSED_NO_MODEL:
            self.status.emit(self.tr("Load a model first (Models)."))
        elif refused == REFUSED_READ_ONLY:
            self.status.emit(
                self.tr("Another TokenDice window holds the data folder: this one cannot save chats.")
            )
        self.pane.input.setPlainText(text)  # nothing was asked of the model: the question stays in the box

    def regenerate(self) -> None:
        """A new reply to the last user message; the old reply stays as a sibling."""
        self._system()
        self.core.regenerate()

    def pick_token(
        self, message_index: int, token_index: int, token: int, *, max_tokens: int | None = None
    ) -> None:
        """Continue reply ``message_index`` from token ``token_index`` with ``token`` instead of what the
        die chose there: a new version of the reply (a branch), the old one kept. ``max_tokens=1``
        (step mode) takes just that token."""
        self._system()
        self.core.pick_token(message_index, token_index, token, max_tokens=max_tokens)

    def stop(self) -> None:
        self.core.stop()

    # --- step mode ------------------------------------------------------------------------------
    def can_step(self) -> bool:
        """Whether Next token has something to continue (see :meth:`Conversation.can_step`)."""
        return self.core.can_step()

    def at_length_limit(self) -> bool:
        """The last reply has as many tokens as a reply may have."""
        return self.core.at_length_limit()

    def step_next(self, text: str = "") -> bool:
        """One token more: of the last reply, or the first of a reply to ``text`` (sent first). Returns
        whether a step started."""
        if text.strip():
            self.send(text.strip(), max_tokens=1)
            return self.busy
        self._system()
        return self.core.step_next() is None

    def step_back(self) -> bool:
        """Take the last token of the last reply back (a reply left empty is deleted)."""
        return self.core.step_back() is None

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
        return self.core.token_at(shown)

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

    # --- what the conversation reports (through _Reports) ----------------------------------------
    def _reply_started(self, kept: list[ShownToken]) -> None:
        self.pane.set_messages(self.messages)
        self.pane.set_busy(True)
        self.status.emit(self.tr("Generating… (Esc stops)"))
        self.reply_started.emit(kept)

    def _reply_done(self, done: ReplyDone) -> None:
        if done.unsaved is not None:
            self.messages[done.index].failed = self.tr("not saved: {why}").format(why=done.unsaved)
            self.pane.message_changed(done.index)
            self.finished.emit(done.event)
            return
        live = done.tokens
        if done.one_step and live:
            self.stats.emit(done.context_used, None)  # one token's speed says nothing
            self.status.emit(self._step_added(live))
        else:
            result = done.event.result
            self.stats.emit(done.context_used, result.decode_tokens_per_s)
            text = self.tr("Reply done: {n} tokens, {reason}.")
            reason = core_text.stop_reason(result.stop_reason)
            self.status.emit(text.format(n=len(result.steps), reason=reason))
        self.finished.emit(done.event)

    def _reply_failed(self, index: int, message: str) -> None:
        self.messages[index].failed = self.tr("No reply: {error}").format(error=message)
        self.pane.set_messages(self.messages)
        self.pane.set_busy(False)
        self.status.emit(self.tr("Could not generate: {error}").format(error=message))


class _Reports(Listener):
    """What the conversation reports, shown in the pane and handed on as the controller's signals."""

    def __init__(self, controller: ChatController) -> None:
        self.c = controller

    def shown(self, messages: list[ChatMessage]) -> None:
        # The conversation shown changed (a new reply, a branch, Back, another version or chat): no token
        # of it is selected until one is chosen.
        pane = self.c.pane
        pane.clear_selection()
        pane.set_messages(messages)
        pane.set_busy(self.c.busy)

    def reply_started(self, index: int, kept: list[ShownToken]) -> None:
        self.c._reply_started(kept)

    def prompt(self, event: PromptEvent) -> None:
        self.c.prompt_shown.emit(event)

    def streamed(self, index: int, steps: list[Step], latest: ShownToken | None) -> None:
        for step in steps:
            self.c.step_streamed.emit(step)
        self.c.pane.message_changed(index)
        if latest is not None:
            self.c.step_selected.emit(latest)

    def reply_done(self, done: ReplyDone) -> None:
        self.c._reply_done(done)

    def reply_failed(self, index: int, message: str) -> None:
        self.c._reply_failed(index, message)

    def store_failed(self, sentence: str) -> None:
        self.c.store_failed.emit(sentence)

    def chats_changed(self) -> None:
        self.c.chats_changed.emit()

    def chat_opened(self, chat_id: int | None) -> None:
        self.c.chat_opened.emit(chat_id)

    def mode_changed(self, plain: bool) -> None:
        self.c.mode_changed.emit(plain)
