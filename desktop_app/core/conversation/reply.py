"""The reply being generated: what it keeps from the reply it continues, and how it is saved when it ends."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.core.conversation.reports import STOP_STEP, ReplyDone
from desktop_app.core.conversation.shown import ShownToken, unfinished_label
from desktop_app.core.engine.messages import FinishedEvent, GenerateRequest
from desktop_app.core.engine.session import STOP_MAX_TOKENS
from desktop_app.core.engine.tokens import TextAssembler
from desktop_app.core.store.chats import ChatStore, Message, ReplyToken


@dataclass
class PendingReply:
    """The reply being generated."""

    request: GenerateRequest
    parent_id: int | None  # the message it answers (None: a reply that begins the chat)
    index: int  # its place in the shown messages
    prefix: tuple[ReplyToken, ...] = ()  # tokens kept from the reply it branches from or extends
    branch_from: tuple[int, int] | None = None  # (reply id, position) when it branches
    extend: int | None = None  # the reply that grows by these tokens (step mode), instead of a new one
    outside: str | None = None  # a served request another program sent: its address (Conversation.adopt)
    thinking_opened: bool = False  # its prompt opened a thinking (the template wrote <think>)

    def kept_tokens(self, live: list[ShownToken] | None) -> list[ShownToken]:
        """The tokens the reply starts with: ``live``, the extended reply's tokens with their whole steps
        (so the chart still shows their stages), or else the kept prefix as saved."""
        if self.extend is not None and live is not None:
            return list(live)
        assembler = TextAssembler()
        return [
            ShownToken(t.token_id, t.piece, assembler.feed(t.piece), t.p_raw, t.p_final, t.u,
                       inserted=t.inserted and not t.picked, forced=t.picked, candidates=t.candidates)
            for t in self.prefix
        ]  # fmt: skip

    def done(self, event: FinishedEvent, shown: list[ShownToken]) -> ReplyDone:
        """The ended reply, from its ``shown`` tokens and the backend's ``event``."""
        result = event.result
        # the live tokens again, now that every step has been read in full
        live = shown[: len(self.prefix)] + [ShownToken.from_step(s) for s in result.steps]
        # A step of step mode ends after its one token: not "the length limit", but one step.
        one_step = self.request.max_tokens == 1 and result.stop_reason == STOP_MAX_TOKENS
        stop_reason = STOP_STEP if one_step else result.stop_reason
        used = event.prompt_tokens + len(self.prefix) + len(result.steps)  # the prompt, then the reply
        return ReplyDone(event, self.index, live, stop_reason, one_step, used)

    def save(self, store: ChatStore, chat_id: int, done: ReplyDone, model_id: str | None) -> Message:
        """Save the ended reply (a new message, or the extended one rewritten); raises DatabaseError."""
        tokens = list(self.prefix) + list(done.event.tokens)
        content = "".join(t.text for t in done.tokens) + unfinished_label(done.tokens)
        if self.extend is not None:
            return store.rewrite_reply(self.extend, content, tokens, stop_reason=done.stop_reason)
        return store.save_reply(
            chat_id,
            content,
            tokens,
            parent_id=self.parent_id,
            stop_reason=done.stop_reason,
            template_source=done.event.template_origin,
            metadata={
                "settings": self.request.settings.to_dict(),
                "model_id": model_id,
                **({"outside": self.outside} if self.outside is not None else {}),
                **({"thinking_opened": True} if self.thinking_opened else {}),
            },
            branch_from=self.branch_from,
        )
