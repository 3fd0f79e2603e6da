"""The end lane's points: per step of a reply, the model's chance to end the reply there and, while the
reply thinks, its chance to close the thinking there, with the steps that matter marked.

The chance to close the thinking at a step is the raw probability of the close's first token
(``think_close_ids[0]``): the close itself where the vocabulary has ``</think>`` as one token, or ``</``
where it writes the close in several tokens (``</``, ``think``, ``>``). For a close of several tokens it is
an upper bound of the chance to begin closing there: ``</`` may begin something else. A token outside the
step's candidates has a probability below the smallest of them: kept as that bound, marked ``below``.

Where a reply thinks is read from its tokens' texts as :func:`~desktop_app.core.engine.thinking.
thinking_range` reads it, one token at a time. A "Wait" stands in for the token the die picked, an end
token or a close's; one read back from a saved chat does not say which (the chat keeps no record of it):
inside a thinking it is taken for the close's, elsewhere for the end's. No Qt here: the lane draws these
points.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from desktop_app.core.engine.session import Step
from desktop_app.core.engine.thinking import CLOSE, OPEN

# The end: a plain step, the end banned, the end replaced by "Wait", the reply ended.
PLAIN, BANNED, WAIT, END = "", "banned", "wait", "end"
MARKERS = (PLAIN, BANNED, WAIT, END)
# The close of the thinking: a thinking step, the close taken back ("Wait" written instead), the model
# closed its thinking here, the budget was spent after this step (the close written for the model).
THINKING, TAKEN_BACK, CLOSED, BUDGET = "thinking", "taken back", "closed", "budget"
CLOSE_MARKERS = (THINKING, TAKEN_BACK, CLOSED, BUDGET)
BELOW = "below"  # how a thinking step whose close token was not a candidate is drawn: at the bound
CLOSE_KINDS = (THINKING, BELOW, TAKEN_BACK, CLOSED, BUDGET)  # how the close points are drawn


class StepNumbers(Protocol):
    """What the lane reads of a step's distribution (a :class:`Distribution`)."""

    @property
    def candidates(self) -> np.ndarray: ...
    @property
    def p_raw(self) -> np.ndarray: ...
    @property
    def rest_p_raw(self) -> float: ...
    @property
    def eos_p_raw(self) -> float: ...
    @property
    def chosen_index(self) -> int: ...
    @property
    def is_saved(self) -> bool: ...

    chosen: int
    reported: bool

    def stage(self, name: str) -> object | None: ...


@dataclass(frozen=True, slots=True)
class ClosePoint:
    """The chance to close the thinking at one step: ``p`` (NaN: a server did not report it), ``below``
    (``p`` is the smallest candidate's: the chance is below it), ``marker`` (one of CLOSE_MARKERS), and
    for a close taken back, ``last_token``: ``p`` is the chance of the close's token the model wrote at
    this step, not of its first (the close began in tokens taken back with it, whose chances are gone)."""

    p: float
    marker: str = THINKING
    below: bool = False
    last_token: bool = False


def close_kind(c: ClosePoint | None) -> str | None:
    """How a close point is drawn (CLOSE_KINDS): a marked step by its marker, else by whether its chance
    is known or only bounded."""
    if c is None:
        return None
    return BELOW if c.marker == THINKING and c.below else c.marker


def end_chance(d: StepNumbers) -> float:
    """The end tokens' raw mass at a step; NaN when a server reported the step without any end token."""
    if d.reported and d.eos_p_raw <= 0 and d.rest_p_raw > 0:
        return math.nan
    return float(d.eos_p_raw)


def token_chance(d: StepNumbers, token: int) -> tuple[float, bool]:
    """``(p, below)``: the raw probability of ``token`` at a step, or, when it is not among the step's
    candidates, the smallest candidate's (``below``: its chance is under that); NaN for a server's step
    that did not report it."""
    ids, p = d.candidates, d.p_raw
    hit = np.flatnonzero(ids == token)
    if hit.size:
        return float(p[hit[0]]), False
    if d.reported or p.size == 0:
        return math.nan, False
    # The candidates are the top ones by raw probability, the chosen token after them when it is not one
    # of them: the last of the top ones bounds every token left out.
    last = p.size - 1
    bound = float(p[last - 1] if last > 0 and d.chosen_index == last else p[last])
    return min(bound, float(d.rest_p_raw)), True


def point_of_step(step: Step, eog_ids: Collection[int] | None = None) -> tuple[float, str] | None:
    """``(eos_p, marker)`` for a session :class:`Step`, or None for a token with no roll (the rest of
    an inserted "Wait" after its first token). ``eos_p`` is NaN when a server reported the step and no
    end token was among what it reported. ``eog_ids``: the model's end tokens, to tell a "Wait" that
    replaced the end from one that replaced the close of a thinking (without them, any is the end's)."""
    d = step.distribution
    if d is None:
        return None
    replaced_end = step.replaced is not None and (eog_ids is None or step.replaced in eog_ids)
    return end_chance(d), _end_marker(d, step.end, step.inserted and replaced_end)


def _end_marker(d: StepNumbers, end: bool, wait: bool) -> str:
    if end:
        return END
    if wait:
        return WAIT
    if not d.is_saved and d.stage("ban") is not None:
        return BANNED
    return PLAIN


@dataclass(frozen=True, slots=True)
class LaneToken:
    """One token of a reply as the lane reads it: its text, its step's numbers (None: no roll of its
    own), and how it came. ``replaced``: the token a "Wait" stands in for; UNKNOWN for a reply read back
    from a saved chat, which keeps no such record."""

    text: str
    d: StepNumbers | None
    token: int = -1
    inserted: bool = False
    replaced: int | None = None
    end: bool = False

    @classmethod
    def of_step(cls, step: Step) -> LaneToken:
        return cls(step.text, step.distribution, step.token.id, step.inserted, step.replaced, step.end)


UNKNOWN = -2  # ``LaneToken.replaced`` of a saved "Wait": which token it stood in for is not saved


@dataclass(frozen=True, slots=True)
class Ready:
    """A point given as it is (``ReplyPoints.add``)."""

    p: float
    marker: str
    close: ClosePoint | None


class ReplyPoints:
    """A reply's lane points, fed token by token. It follows the reply's thinking (opened by the prompt,
    ``opened``, or by the model's own ``<think>``) to its close, and keeps the tokens it was fed, so that
    learning later that the prompt opened the thinking (:meth:`set_opened`) reads them again.

    Tokens are read on :meth:`resolve` (reading a step's numbers computes its whole distribution)."""

    def __init__(
        self,
        close_ids: Sequence[int] = (),
        eog_ids: Collection[int] | None = None,
        opened: bool = False,
    ) -> None:
        self.close_ids = tuple(int(t) for t in close_ids)
        self.eog_ids = None if eog_ids is None else frozenset(eog_ids)
        self.opened = opened
        self._fed: list[LaneToken | Ready] = []
        self._read = 0  # of _fed
        self.p: list[float] = []
        self.markers: list[str] = []
        self.close: list[ClosePoint | None] = []
        self.point_token: list[int] = []  # each point's index among the tokens fed
        self.thought = False  # some point has a chance to close the thinking
        self._state = "inside" if opened else "before"  # before, inside, after (or never)
        self._text = ""  # the reply's text before its thinking is known; then the thinking's text
        self._starts: list[tuple[int, int]] = []  # (token, where its text begins in _text) in the thinking

    def add(self, p: float, marker: str = PLAIN, close: ClosePoint | None = None) -> None:
        """A point as it is, with no token to read."""
        if marker not in MARKERS:
            raise ValueError(f"marker must be one of {MARKERS}, not {marker!r}")
        if close is not None and close.marker not in CLOSE_MARKERS:
            raise ValueError(f"close marker must be one of {CLOSE_MARKERS}, not {close.marker!r}")
        self._fed.append(Ready(p, marker, close))

    def feed(self, token: LaneToken) -> None:
        self._fed.append(token)

    def set_opened(self, opened: bool) -> None:
        """Whether the prompt opened the thinking (known once the prompt is): the tokens are read again."""
        if opened != self.opened:
            self.opened = opened
            self._read_again()

    def set_vocabulary(self, close_ids: Sequence[int], eog_ids: Collection[int] | None) -> None:
        """The model's close and end tokens (another model was loaded): the tokens are read again."""
        self.close_ids = tuple(int(t) for t in close_ids)
        self.eog_ids = None if eog_ids is None else frozenset(eog_ids)
        self._read_again()

    def _read_again(self) -> None:
        self.p, self.markers, self.close, self.point_token, self.thought = [], [], [], [], False
        self._state, self._text, self._starts, self._read = "inside" if self.opened else "before", "", [], 0

    def resolve(self) -> None:
        """Read the tokens fed since the last call."""
        fed = self._fed
        while self._read < len(fed):
            k, item = self._read, fed[self._read]
            self._read += 1
            if isinstance(item, Ready):
                self._point(k, item.p, item.marker, item.close)
                self.thought = self.thought or item.close is not None
            else:
                self._read_token(k, item)

    # --- reading ----------------------------------------------------------------------------------
    def _point(self, k: int, p: float, marker: str, close: ClosePoint | None) -> None:
        self.p.append(min(max(float(p), 0.0), 1.0) if not math.isnan(p) else math.nan)
        self.markers.append(marker)
        self.close.append(close)
        self.point_token.append(k)

    def _read_token(self, k: int, t: LaneToken) -> None:
        d, inside = t.d, self._state == "inside" and bool(self.close_ids)
        if d is not None:
            if t.replaced == UNKNOWN:  # a saved "Wait": inside a thinking, the close's (see the module)
                to_end = not inside
            else:
                eog, replaced = self.eog_ids, t.replaced
                to_end = replaced is not None and (
                    replaced in eog if eog is not None else replaced not in self.close_ids
                )
            wait = t.inserted and t.replaced is not None
            close = self._close_point(d, taken_back=wait and not to_end) if inside else None
            self.thought = self.thought or close is not None
            self._point(k, end_chance(d), _end_marker(d, t.end, wait and to_end), close)
        self._follow(k, t)

    def _close_point(self, d: StepNumbers, taken_back: bool) -> ClosePoint:
        first = self.close_ids[0]
        if taken_back:  # the die picked a token of the close here: its chance, and whether it began it
            p, below = token_chance(d, d.chosen)
            return ClosePoint(p, TAKEN_BACK, below, last_token=d.chosen != first)
        p, below = token_chance(d, first)
        return ClosePoint(p, THINKING, below)

    def _follow(self, k: int, t: LaneToken) -> None:
        """Where the reply is in its thinking after token ``k``."""
        if self._state == "before":
            self._text += t.text
            stripped = self._text.lstrip()
            if stripped.startswith(OPEN):  # the model opened it: what follows <think> is the thinking
                self._state, self._text = "inside", ""
                rest = stripped[len(OPEN) :]
                if rest:
                    self._starts.append((k, 0))
                    self._text = rest
            elif len(stripped) >= len(OPEN) or not OPEN.startswith(stripped):
                self._state = "after"
            return
        if self._state != "inside":
            return
        start = len(self._text)
        self._starts.append((k, start))
        self._text += t.text
        single = len(self.close_ids) == 1 and t.token == self.close_ids[0]
        at = self._text.find(CLOSE, max(0, start - len(CLOSE) + 1))  # (a close ends in this token's text)
        if at < 0 and not single:
            return
        self._state = "after"
        began = k if at < 0 else max(tok for tok, start in self._starts if start <= at)
        self._mark_close(began, k)

    def _mark_close(self, began: int, k: int) -> None:
        """The close began at token ``began`` and ended at ``k``: mark where the thinking ended. The
        tokens after its first are the close itself, not chances to close: their close points go."""
        n = first = len(self.point_token)
        while first > 0 and self.point_token[first - 1] >= began:  # (the close's few points, from the end)
            first -= 1
        at_began = first < n and self.point_token[first] == began
        for i in range(first + 1 if at_began else first, n):
            self.close[i] = None
        point = self.close[first] if at_began else None
        token = self._fed[began]
        if isinstance(token, LaneToken) and token.inserted and token.d is None:
            # The budget wrote it (no roll of its own): marked on the last thinking step before it.
            last = next((i for i in range(first - 1, -1, -1) if self.close[i] is not None), None)
            if last is not None:
                self.close[last] = _marked(self.close[last], BUDGET)
        elif point is not None:
            self.close[first] = _marked(point, CLOSED)


def _marked(point: ClosePoint | None, marker: str) -> ClosePoint | None:
    """``point`` with ``marker``, unless it already marks a close taken back (that stays in view)."""
    if point is None or point.marker == TAKEN_BACK:
        return point
    return replace(point, marker=marker)
