"""TokenDice's sampler stages and die over what a server reports of one step: its top candidates'
probabilities before any sampler, and the rest of the vocabulary as one mass it did not itemise.

The stages are llama.cpp's (ban → penalties → top-k → top-p → min-p → temperature), computed exactly on
the reported candidates. The rest is one honest bar, never spread over invented tokens; what a stage does
to it is exact where the reported candidates decide it and an estimate otherwise:

* top-k removes the rest when k is at most the number of candidates still alive, else keeps it whole;
* top-p removes it when the candidates alone reach p, else keeps it whole;
* min-p removes it when its threshold lies above the smallest reported probability (every token of the
  rest is at most that likely), else keeps it whole;
* temperature T reweighs it as if its tokens were each as likely as the smallest reported one: an upper
  bound of its share for T < 1, a lower bound for T > 1, exact at T = 1.

The repeat penalty needs a token's raw logit (it divides positive ones and multiplies the others), which
no server reports: it is refused with :data:`NO_REPEAT_PENALTY`. The frequency and presence penalties
subtract from a logit, so they apply exactly to the reported candidates (not to tokens of the rest).

When the die's roll falls in the rest, the caller asks the server to pick among the tokens it did not
report (see :mod:`remote_session`) and builds the step with :meth:`Judged.distribution`; that token's
probabilities are then unknown (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from desktop_app.core.engine.distribution import Distribution, Snapshot, Stage
from desktop_app.core.sampler_settings import SamplerSettings

#: The die's roll fell in the mass the server did not itemise.
REST = -1

NO_REPEAT_PENALTY = (
    "the repeat penalty needs the model's raw logits, which a server does not report: set it to 1 and use "
    "the frequency or presence penalty instead"
)


@dataclass(frozen=True)
class Reported:
    """One step as a server reported it: candidates best first (``ids``; negative ids stand for tokens
    a text-only server named but did not number), their log-probabilities before any sampler, and
    their bytes."""

    ids: np.ndarray
    logprobs: np.ndarray
    pieces: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if (
            not self.ids.ndim == self.logprobs.ndim == 1
            or self.ids.size != self.logprobs.size
            or not self.ids.size
        ):
            raise ValueError("a reported step needs one log-probability per candidate, and at least one.")
        if len(self.pieces) != self.ids.size:
            raise ValueError("a reported step needs one piece per candidate.")

    @property
    def p(self) -> np.ndarray:
        return np.exp(self.logprobs.astype(np.float64))

    @property
    def rest(self) -> float:
        """The probability of every token not reported."""
        return max(0.0, 1.0 - float(self.p.sum()))


@dataclass(frozen=True)
class Judged:
    """Every stage over a reported step, before the roll."""

    reported: Reported
    p_raw: np.ndarray
    rest_raw: float
    stages: tuple[Stage, ...]
    removed_by: tuple[str | None, ...]
    p_final: np.ndarray
    rest_final: float
    eog: np.ndarray  # which candidates end the reply

    def order(self) -> np.ndarray:
        """The surviving candidates' indices as the die sees them: p descending, ties by id. The rest
        comes after them."""
        alive = np.flatnonzero(self.p_final > 0)
        ids = self.reported.ids[alive]
        return alive[np.lexsort((ids, -self.p_final[alive]))]

    def roll(self, u: float | None) -> int:
        """The candidate index the die picks with roll ``u`` (None: greedy, the most likely survivor),
        or :data:`REST` when ``u`` falls past every surviving candidate."""
        order = self.order()
        if u is None:
            return int(order[0]) if order.size else REST
        cum = np.cumsum(self.p_final[order])
        hit = int(np.searchsorted(cum, u, side="right"))
        return int(order[hit]) if hit < order.size else REST

    def distribution(
        self,
        chosen: int,
        *,
        settings: SamplerSettings,
        u: float | None,
        forced: bool = False,
        n_vocab: int = 0,
        greedy: bool | None = None,
    ) -> Distribution:
        """The step as a Distribution with ``chosen`` (a token id) picked. A token that is not among the
        candidates (the die fell in the rest, or a forced token) is appended with unknown (NaN)
        probabilities. ``greedy``: whether the pick was the most likely token (default: no roll and not
        forced); a token the server sampled with its own die has no roll and is not greedy."""
        ids = self.reported.ids
        p_raw, p_final, removed_by = self.p_raw, self.p_final, self.removed_by
        stages = self.stages
        hit = np.flatnonzero(ids == chosen)
        if hit.size:
            index = int(hit[0])
        else:
            nan = np.array([math.nan])
            ids = np.append(ids, np.int64(chosen))
            p_raw, p_final = np.append(p_raw, nan), np.append(p_final, nan)
            removed_by = (*removed_by, None)
            stages = tuple(
                Stage(s.name, _ro(np.append(s.p, nan)), _ro(np.append(s.removed, False)), s.rest_p, s.n_alive)
                for s in stages
            )
            index = ids.size - 1
        logits = self.reported.logprobs.astype(np.float32)
        if ids.size > logits.size:
            logits = np.append(logits, np.float32(math.nan))
        order = self.order()
        eog = np.append(self.eog, False) if ids.size > self.eog.size else self.eog
        snap = Snapshot(
            candidates=_ro(ids.astype(np.int64)),
            logits=_ro(logits),  # log-probabilities: the logits up to one shift, which no stage minds
            p_raw=_ro(p_raw),
            rest_p_raw=self.rest_raw,
            stages=stages,
            removed_by=removed_by,
            p_final=_ro(p_final),
            rest_p_final=self.rest_final,
            chosen_index=index,
            entropy_bits=math.nan,  # the rest's own spread is not known
            eos_p_raw=float(np.nansum(p_raw[eog])),
            eos_p_final=float(np.nansum(p_final[eog])),
        )
        final_stage = stages[-1]
        return Distribution(
            n_vocab=n_vocab,
            settings=settings,
            u=u,
            chosen=int(chosen),
            forced=forced,
            greedy=(u is None and not forced) if greedy is None else greedy,
            n_alive=final_stage.n_alive,
            order_ids=_ro(self.reported.ids[order].astype(np.int64)),
            order_p=_ro(self.p_final[order].copy()),
            order_rest_p=self.rest_final,
            chosen_p_final=float(p_final[index]),
            snapshot=snap,
            reported=True,
        )


def judge(
    reported: Reported,
    settings: SamplerSettings,
    *,
    history: Sequence[int] = (),
    eog_ids: Iterable[int] = (),
    n_vocab: int = 0,
) -> Judged:
    """Run every active stage of ``settings`` over ``reported`` (see the module's note on the rest).
    ``history``: the tokens so far, for the penalties; ``n_vocab``: the vocabulary's size, for counting
    the survivors (0 when unknown: the rest then counts as one)."""
    if settings.penalties_on and settings.repeat_penalty != 1:
        raise ValueError(NO_REPEAT_PENALTY)
    ids = reported.ids
    p_raw = reported.p
    rest_raw = reported.rest
    eog_set = frozenset(int(t) for t in eog_ids)
    eog = np.fromiter((int(t) in eog_set for t in ids), dtype=bool, count=ids.size)
    rest_tokens = max(1, n_vocab - ids.size) if n_vocab else 1

    w = p_raw.copy()  # each candidate's weight (its raw probability, times what the penalties take)
    rest_w = rest_raw
    alive = np.ones(ids.size, dtype=bool)
    rest_alive = rest_w > 0
    stages: list[Stage] = []
    removed_by: list[str | None] = [None] * ids.size

    def stage(name: str, now: np.ndarray, now_rest: bool, weights: np.ndarray, rest_weight: float) -> None:
        nonlocal alive, rest_alive, w, rest_w
        removed = alive & ~now
        for i in np.flatnonzero(removed):
            removed_by[i] = name
        alive, rest_alive, w, rest_w = now, now_rest, weights, rest_weight if now_rest else 0.0
        total = float(w[alive].sum()) + rest_w
        p = np.where(alive, w / total, 0.0) if total > 0 else np.zeros(ids.size)
        n = int(alive.sum()) + (rest_tokens if rest_alive else 0)
        stages.append(Stage(name, _ro(p), _ro(removed), rest_w / total if total > 0 else 0.0, n))

    if settings.ban_eos and eog.any():
        now = alive & ~eog
        if now.any() or rest_alive:  # a ban that would remove every token is ignored, as in llama.cpp
            stage("ban", now, rest_alive, w, rest_w)
    if settings.penalties_on:
        window = _window(history, settings.repeat_last_n)
        counts = np.array([window.get(int(t), 0) for t in ids], dtype=np.float64)
        taken = counts * settings.frequency_penalty + (counts > 0) * settings.presence_penalty
        stage("penalties", alive.copy(), rest_alive, w * np.exp(-taken), rest_w)
    if settings.top_k > 0:
        order = _sorted(ids, w, alive)
        now = np.zeros(ids.size, dtype=bool)
        now[order[: settings.top_k]] = True
        stage("top_k", now, rest_alive and settings.top_k > order.size, w, rest_w)
    if settings.top_p < 1:
        order = _sorted(ids, w, alive)
        total = float(w[alive].sum()) + rest_w
        cum = np.cumsum(w[order]) / total
        reached = np.flatnonzero(cum >= settings.top_p)
        now = np.zeros(ids.size, dtype=bool)
        if reached.size:  # the candidates alone reach p: the rest is cut off
            now[order[: int(reached[0]) + 1]] = True
            stage("top_p", now, False, w, rest_w)
        else:
            now[order] = True
            stage("top_p", now, rest_alive, w, rest_w)
    if settings.min_p > 0:
        top = float(w[alive].max()) if alive.any() else 0.0
        threshold = settings.min_p * top
        now = alive & (w >= threshold)
        smallest = float(p_raw.min())  # every token of the rest is at most this likely
        stage("min_p", now, rest_alive and smallest >= threshold, w, rest_w)
    t = settings.temperature
    if t <= 0:
        order = _sorted(ids, w, alive)
        now = np.zeros(ids.size, dtype=bool)
        now[order[:1]] = True
        stage("temperature", now, False if order.size else rest_alive, w, rest_w)
    elif t != 1:
        smallest = float(p_raw.min())
        with np.errstate(divide="ignore"):
            tempered = np.where(alive, w ** (1.0 / t), 0.0)
        rest_t = rest_w * smallest ** (1.0 / t - 1.0) if rest_alive else 0.0
        stage("temperature", alive.copy(), rest_alive, tempered, rest_t)
    else:
        stage("temperature", alive.copy(), rest_alive, w, rest_w)

    final = stages[-1]
    return Judged(
        reported=reported,
        p_raw=_ro(p_raw),
        rest_raw=rest_raw,
        stages=tuple(stages),
        removed_by=tuple(removed_by),
        p_final=final.p,
        rest_final=final.rest_p,
        eog=_ro(eog),
    )


def _window(history: Sequence[int], last_n: int) -> dict[int, int]:
    tokens = list(history) if last_n < 0 else list(history)[-last_n:] if last_n else []
    counts: dict[int, int] = {}
    for t in tokens:
        counts[int(t)] = counts.get(int(t), 0) + 1
    return counts


def _sorted(ids: np.ndarray, w: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Indices of the living candidates, weight descending, ties by id."""
    living = np.flatnonzero(alive)
    return living[np.lexsort((ids[living], -w[living]))]


def _ro(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a
