"""One generation step as data: the model's distribution, every sampler stage, the roll and the pick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from desktop_app.core.engine.sampler import SamplerSettings

STAGE_NAMES = ("ban", "penalties", "top_k", "top_p", "min_p", "temperature")
# The most final survivors a Distribution keeps for the cumulative strip.
ORDER_CAP = 4096


@dataclass(frozen=True, eq=False)
class Stage:
    """The candidates after one active sampler stage.

    ``p`` is each candidate's probability renormalised over the stage's survivors (0 when removed),
    ``removed`` marks the candidates this stage removed, ``rest_p`` is the mass of the survivors that
    are not candidates and ``n_alive`` counts all survivors.
    """

    name: str
    p: np.ndarray
    removed: np.ndarray
    rest_p: float
    n_alive: int


@dataclass(frozen=True, eq=False)
class Distribution:
    """Everything one step shows: raw distribution, each stage, final distribution, the roll.

    Arrays are per candidate: the ``top_n`` tokens by raw probability (ties by id, tokens at -inf left
    out), in that order, with the chosen token appended when it is not among them. Arrays are read-only.
    """

    n_vocab: int
    candidates: np.ndarray  # token ids (int64)
    logits: np.ndarray  # their raw logits (float32)
    p_raw: np.ndarray  # the model's own softmax at temperature 1, over the whole vocabulary
    rest_p_raw: float  # raw mass of every token that is not a candidate
    stages: tuple[Stage, ...]  # active stages in order: ban, penalties, top_k, top_p, min_p, temperature
    removed_by: tuple[str | None, ...]  # the stage that removed each candidate
    p_final: np.ndarray  # the die's probabilities (the temperature stage's p)
    rest_p_final: float
    n_alive: int  # tokens that survived every stage (far-tail ones may round to p = 0.0)
    u: float | None  # the roll in [0, 1); None when greedy
    chosen: int
    chosen_index: int  # of the chosen token in candidates
    forced: bool  # the caller picked the token, not the die
    greedy: bool
    entropy_bits: float  # of the raw distribution
    eos_p_raw: float  # raw mass of the end-of-generation tokens
    eos_p_final: float
    settings: SamplerSettings
    order_ids: np.ndarray  # see final_order()
    order_p: np.ndarray
    order_rest_p: float

    def final_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids and probabilities of the final survivors as the die sees them: p descending, equal logits
        by id. The die picks the first whose cumulative probability reaches ``u``.

        At most ``ORDER_CAP`` tokens are kept; ``order_rest_p`` is the mass of any left out.
        """
        return self.order_ids, self.order_p

    def stage(self, name: str) -> Stage | None:
        """The stage called ``name``, or None when it was not active."""
        return next((s for s in self.stages if s.name == name), None)

    @property
    def chosen_p_raw(self) -> float:
        return float(self.p_raw[self.chosen_index])

    @property
    def chosen_p_final(self) -> float:
        return float(self.p_final[self.chosen_index])

    def chosen_interval(self) -> tuple[float, float] | None:
        """The chosen token's slice ``[lo, hi]`` of the cumulative strip, or None if it has no slice."""
        hit = np.flatnonzero(self.order_ids == self.chosen)
        if hit.size == 0:
            return None
        cum = np.cumsum(self.order_p)
        i = int(hit[0])
        return (float(cum[i - 1]) if i else 0.0), float(cum[i])
