"""What a conversation reports and how it refuses: the :class:`Listener` its user implements, a finished
reply (:class:`ReplyDone`), the reasons an operation did nothing, and what it asks of a backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from desktop_app.core.conversation.shown import ChatMessage, ShownToken
from desktop_app.core.engine.messages import FinishedEvent, GenerateRequest, PromptEvent
from desktop_app.core.engine.session import Step
from desktop_app.core.store.chats import Message

TITLE_CHARS = 60
STOP_STEP = "step"  # how a reply of step mode ends each step (saved as its stop reason)

# Why an operation did nothing (its return value; None: it was done).
REFUSED_BUSY = "busy"  # a reply is being generated
REFUSED_NO_MODEL = "no_model"
REFUSED_READ_ONLY = "read_only"  # another window holds the data folder: nothing can be saved
REFUSED_STORE = "store"  # the database failed (the listener was told its sentence)
REFUSED_NOTHING = "nothing"  # nothing to act on (no such message, token or chat; a reply that ended)
REFUSED_NO_CHAT = "no_chat"  # the chat no longer exists


def title_from(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class ReplyBackend(Protocol):
    """What a conversation asks of a model's backend (see :class:`~desktop_app.core.engine.backend.Backend`):
    a reply, and stopping it (or a served request shown in the conversation, see ``Conversation.adopt``)."""

    def generate(self, request: GenerateRequest) -> object: ...
    def cancel(self) -> object: ...
    def cancel_incoming(self, request_id: int) -> object: ...


@dataclass(frozen=True)
class ReplyDone:
    """A reply that ended (finished, stopped, one step of step mode) and was saved, or not (``unsaved``:
    the store's sentence; the reply stays on screen)."""

    event: FinishedEvent
    index: int  # its place among the shown messages
    tokens: list[ShownToken]  # every token of the reply, with its live step where it has one
    stop_reason: str
    one_step: bool  # a step of step mode: one token more
    context_used: int  # the prompt's tokens and the reply's
    message: Message | None = None  # as saved
    unsaved: str | None = None


class Listener:
    """What a conversation reports; every method does nothing unless overridden."""

    def shown(self, messages: list[ChatMessage]) -> None:
        """The shown conversation changed as a whole (a chat opened, a reply saved, a branch, Back)."""

    def reply_started(self, index: int, kept: list[ShownToken]) -> None:
        """A reply at ``index`` starts, with the tokens it already has (kept when branching or stepping)."""

    def prompt(self, event: PromptEvent) -> None:
        """The prompt the model reads for the reply being generated."""

    def streamed(self, index: int, steps: list[Step], latest: ShownToken | None) -> None:
        """Steps of the reply at ``index`` arrived; ``latest``: the newest rolled one, to show."""

    def reply_done(self, done: ReplyDone) -> None:
        """The reply ended (and was saved unless ``done.unsaved``)."""

    def reply_failed(self, index: int, message: str) -> None:
        """No reply came: the backend's sentence."""

    def store_failed(self, sentence: str) -> None:
        """The database could not save (a full disk, a damaged page): nothing was lost from the screen."""

    def chats_changed(self) -> None:
        """The list of chats (titles, order) changed."""

    def chat_opened(self, chat_id: int | None) -> None:
        """The chat now shown (None: a new one, saved when its first message is sent)."""

    def mode_changed(self, plain: bool) -> None:
        """Plain text continuation on or off."""
