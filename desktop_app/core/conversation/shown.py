"""What the chat pane shows: messages and their tokens, from a live generation or from the database.

A token of a reply generated in this session keeps its :class:`Step` (so the chart can show every stage
of that step); a token of a reply read back from the database keeps its saved candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from desktop_app.core.engine.distribution import Distribution
from desktop_app.core.engine.session import Step
from desktop_app.core.engine.thinking import thinking_range
from desktop_app.core.engine.tokens import TextAssembler, bytes_label, piece_label
from desktop_app.core.store.chats import Candidates, Message, ReplyToken

#: A message longer than this is shown cut (the model still reads all of it).
SHOWN_CHARS = 20_000


@dataclass(frozen=True)
class ShownToken:
    token_id: int
    piece: bytes
    text: str  # the text this token completed ("" mid-character and for an end token)
    p_raw: float | None
    p_final: float | None
    u: float | None
    inserted: bool = False  # put in by the app ("Wait") rather than rolled
    forced: bool = False  # picked by hand
    end: bool = False  # an end-of-generation token
    step: Step | None = None  # live: the whole distribution of this step
    candidates: Candidates | None = None  # saved: the top candidates of this step
    # An end token's step: the chance to end the reply there, the end tokens' mass (the model's own, and
    # after sampling), the numbers the chart and the end lane show for the step; None for other tokens.
    end_p_raw: float | None = None
    end_p_final: float | None = None

    @property
    def label(self) -> str:
        return piece_label(self.piece)

    @classmethod
    def from_step(cls, step: Step) -> ShownToken:
        d = step.distribution
        if d is None:  # an inserted token after the first of its text
            return cls(step.token.id, step.token.piece, step.text, None, None, None, inserted=True, step=step)
        if step.inserted:  # d is the step whose end token this one replaced
            return cls(step.token.id, step.token.piece, step.text, None, None, d.u, inserted=True, step=step)
        return cls(
            step.token.id,
            step.token.piece,
            step.text,
            d.chosen_p_raw if d.is_materialized else None,
            d.chosen_p_final,
            d.u,
            forced=d.forced,
            end=step.end,
            step=step,
            # (an end step's whole distribution is read for it: one step per reply)
            end_p_raw=float(d.eos_p_raw) if step.end else None,
            end_p_final=float(d.eos_p_final) if step.end else None,
        )

    def distribution(self, n_vocab: int, eog_ids: frozenset[int]) -> Distribution | None:
        """The step to show in the chart: live, or rebuilt from the saved candidates."""
        if self.step is not None and self.step.distribution is not None:
            return self.step.distribution
        if self.candidates is None or len(self.candidates) == 0:
            return None
        if not np.any(self.candidates.ids == self.token_id):
            # A saved " Wait" keeps the step of the token it replaced, which is not saved with it: the
            # step cannot be shown with its chosen token, so it is not shown at all.
            return None
        return Distribution.from_saved(
            self.candidates.ids,
            self.candidates.p_raw,
            self.candidates.p_final,
            chosen=self.token_id,
            u=self.u,
            forced=self.forced,
            n_vocab=n_vocab,
            eog_ids=eog_ids,
        )


def saved_end_p(t: ReplyToken, eog_ids: frozenset[int]) -> tuple[float | None, float | None]:
    """The end tokens' mass (model, after sampling) among a saved step's candidates, as the chart shows
    the step rebuilt from them (:meth:`Distribution.from_saved`); the token itself is one of them."""
    c = t.candidates
    if c is None or len(c) == 0:
        return None, None
    ends = frozenset(eog_ids) | {t.token_id}
    eog = np.fromiter((int(i) in ends for i in c.ids), dtype=bool, count=len(c.ids))
    raw, final = (np.asarray(p, dtype=np.float64) for p in (c.p_raw, c.p_final))  # summed as from_saved does
    return float(raw[eog].sum()), float(final[eog].sum())


def tokens_from_saved(
    saved: Sequence[ReplyToken], *, ends_with_eog: bool, eog_ids: frozenset[int] = frozenset()
) -> list[ShownToken]:
    """Saved reply tokens as shown tokens: their texts assembled again from the pieces (``eog_ids``: the
    model's end tokens, for the chance to end at an end token)."""
    assembler = TextAssembler()
    out = []
    for i, t in enumerate(saved):
        end = ends_with_eog and i == len(saved) - 1
        text = "" if end else assembler.feed(t.piece)
        end_p = saved_end_p(t, eog_ids) if end else (None, None)
        # a token the user picked is stored as inserted with a roll of None; "Wait" ones have no p_final
        forced = t.inserted and t.u is None and t.p_final is not None and t.candidates is not None
        out.append(
            ShownToken(
                t.token_id,
                t.piece,
                text,
                t.p_raw,
                t.p_final,
                t.u,
                inserted=t.inserted and not forced,
                forced=forced,
                end=end,
                candidates=t.candidates,
                end_p_raw=end_p[0],
                end_p_final=end_p[1],
            )
        )
    return out


def text_of(tokens: Iterable[ShownToken]) -> str:
    return "".join(t.text for t in tokens)


@dataclass
class ChatMessage:
    role: str
    content: str
    message_id: int | None = None
    tokens: list[ShownToken] = field(default_factory=list)
    stop_reason: str | None = None
    streaming: bool = False
    sibling_index: int = 0  # this message among the alternatives at its place (edits, regenerations)
    sibling_count: int = 1
    failed: str | None = None  # why no reply came
    written: bool = False  # an answer a lesson (or a client) wrote into the history: not generated here
    outside: str | None = None  # the address of the program whose request to the served model this is
    thinking_opened: bool = False  # a reply whose prompt opened its thinking (the template wrote <think>)

    def thinking(self) -> tuple[int, int, bool] | None:
        """Where the reply's thinking is among its tokens (see ``thinking_range``), or None."""
        if self.role != "assistant":
            return None
        return thinking_range([t.text for t in self.tokens], self.thinking_opened)

    @classmethod
    def from_message(cls, m: Message, tokens: list[ShownToken], index: int, count: int) -> ChatMessage:
        # An answer a lesson wrote into the history says so (start_with_history), as does one a program
        # sent with its request (Conversation.adopt). Not guessed from what a message lacks: an answer
        # the user edited has no tokens either.
        metadata = m.metadata or {}
        written = metadata.get("written_by") in ("lesson", "client")
        outside = metadata.get("outside")
        return cls(
            m.role, m.content, m.id, tokens, m.stop_reason, False, index, count, written=written,
            outside=outside if isinstance(outside, str) else None,
            thinking_opened=metadata.get("thinking_opened") is True,
        )  # fmt: skip


def unfinished_label(tokens: list[ShownToken]) -> str:
    """``<E8><87>`` when the tokens stop in the middle of a character (the die stopped there, or a step
    did), so a reply is never empty or "�" for it; else ""."""
    assembler = TextAssembler()
    for t in tokens:
        if not t.end:
            assembler.feed(t.piece)
    rest = assembler.pending()
    return bytes_label(rest) if rest else ""
