"""Thinking models: a reply that begins with ``<think>`` (written by the model, or by its template at the
end of the prompt) thinks until ``</think>``, then answers.

Test-time scaling as the s1 paper's *budget forcing* does it: when the model is about to close its
thinking, the close is taken back and " Wait" written instead, N times (``think_wait``), so it thinks
longer; after a budget of N thinking tokens (``think_budget``), the close is written for it and the answer
begins. :class:`ThinkingState` is the part of a generation that knows where the thinking is; the
generation (see ``session.Generation``) asks it what to do with each token.

The close may be one token (a vocabulary that has ``</think>``) or several (``</``, ``think``, ``>``):
then the tokens that could be its start are held back (decoded, not yet shown) until the next one says
whether they close the thinking, so that a close taken back was never shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OPEN = "<think>"
CLOSE = "</think>"
#: A reply opens its thinking within its first characters (the white space before ``<think>``).
OPENING_CHARS = 64
#: What a spent budget writes: the close, on a line of its own, and the blank line the answer follows.
CLOSE_WRITTEN = "\n</think>\n\n"


@dataclass(frozen=True)
class Thinking:
    """A reply's text cut at its thinking: ``thinking`` (None when it did not think), ``answer`` (what
    follows the close; all of the text when it did not think), ``closed`` (the thinking ended)."""

    thinking: str | None
    answer: str
    closed: bool


def split_thinking(text: str, opened: bool = False) -> Thinking:
    """``text`` cut at its thinking. ``opened``: the prompt opened the thinking (the template wrote
    ``<think>``), so the text begins inside it."""
    body = text
    if not opened:
        stripped = text.lstrip()
        if not stripped.startswith(OPEN):
            return Thinking(None, text, False)
        body = stripped[len(OPEN) :]
    head, close, tail = body.partition(CLOSE)
    if not close:
        return Thinking(head.strip("\n"), "", False)
    return Thinking(head.strip("\n"), tail.lstrip("\n"), True)


def prompt_opens_thinking(prompt_text: str) -> bool:
    """Whether a prompt ends inside an open thinking (its template wrote ``<think>`` for the model)."""
    tail = prompt_text.rstrip()
    return tail.endswith(OPEN)


def _could_close(text: str) -> bool:
    """Whether ``text`` ends with the start of the close (the next tokens may finish it)."""
    return any(text.endswith(CLOSE[:k]) for k in range(1, len(CLOSE)))


@dataclass
class ThinkingState:
    """Where a generation is in the thinking, and the budget forcing it applies (see the module)."""

    inside: bool  # thinking now
    waits_left: int  # closes still to take back
    budget: int  # thinking tokens before the close is written (0: no budget)
    close_id: int | None = None  # the close as one token, when the vocabulary has it
    thought: int = 0  # thinking tokens so far (a " Wait" written included)
    ended_at: int | None = None  # the reply's token count where the thinking closed
    held: list[Any] = field(default_factory=list)  # the Steps that may be the start of the close
    held_text: str = ""
    held_state: object = None  # the text assembler's state before the first held token

    @property
    def over_budget(self) -> bool:
        return self.inside and self.budget > 0 and self.thought >= self.budget

    def closes(self, token: int, text: str) -> bool:
        """Whether ``token`` (its ``text``) closes the thinking, the tokens held before it included."""
        if self.close_id is not None and token == self.close_id:
            return True
        return CLOSE in self.held_text + text

    def may_close(self, text: str) -> bool:
        """Whether ``text`` after the held text may be the start of the close (so it is held too)."""
        return _could_close(self.held_text + text)

    def hold(self, step: Any, text: str, state: object) -> None:
        if not self.held:
            self.held_state = state
        self.held.append(step)
        self.held_text += text

    def release(self) -> list[Any]:
        """The held tokens, to show now: they did not close the thinking."""
        if not self.held:
            return self.held  # (empty: the common case costs nothing)
        held, self.held, self.held_text, self.held_state = self.held, [], "", None
        return held

    def opened_by(self, reply_text: str) -> bool:
        """Whether the reply so far (before any thinking) has just opened it (the model wrote ``<think>``)."""
        stripped = reply_text.lstrip()
        return self.ended_at is None and stripped.startswith(OPEN) and CLOSE not in stripped


def thinking_range(texts: list[str], opened: bool) -> tuple[int, int, bool] | None:
    """Where a reply's thinking is among its tokens, from their ``texts``: ``(start, end, closed)``, the
    tokens ``start:end`` (the ``<think>`` the model wrote and the close included), or None when the reply
    does not think. ``opened``: the prompt opened the thinking, so it starts at the first token."""
    start = 0 if opened else None
    text = ""
    for k, piece in enumerate(texts):
        text += piece
        if start is None:
            stripped = text.lstrip()
            if not stripped.startswith(OPEN):
                if len(stripped) >= len(OPEN) or not OPEN.startswith(stripped):
                    return None
                continue
            start, text = 0, stripped[len(OPEN) :]
        if CLOSE in text[-(len(piece) + len(CLOSE)) :]:  # (only where this token may have finished it)
            return start, k + 1, True
    return (start, len(texts), False) if start is not None else None


def thinking_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` character ranges of every thinking in a rendered prompt, from ``<think>``
    through ``</think>`` (a thinking the prompt leaves open runs to its end)."""
    spans = []
    at = text.find(OPEN)
    while at >= 0:
        close = text.find(CLOSE, at + len(OPEN))
        end = len(text) if close < 0 else close + len(CLOSE)
        spans.append((at, end))
        at = text.find(OPEN, end)
    return spans


def earlier_thinking(thoughts: list[str], rendered: str) -> tuple[int, int]:
    """Of the earlier replies' ``thoughts`` (their thinking texts), how many the rendered prompt feeds
    the model again and how many its template dropped: ``(re_fed, dropped)``."""
    re_fed = sum(1 for t in thoughts if t.strip() and t.strip() in rendered)
    return re_fed, sum(1 for t in thoughts if t.strip()) - re_fed
