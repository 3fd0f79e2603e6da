"""The sampler in numpy, in llama.cpp's order: one step's logits in, a Distribution and the die's pick out.

ban → penalties → top-k → top-p → min-p → temperature → the die. A step has two parts:

* the roll (:func:`_decide`, when top-k is on): only the best top_k + |window| + |banned| raw tokens and
  the penalty window can survive top-k, so the pick and the final distribution are found on that small
  set with a few dozen numpy calls. It runs in the generation loop right after llama.cpp's decode has
  evicted every cache, where each call and object is a cache miss, so calls count more than passes;
* the rest (:func:`~desktop_app.core.engine.full_pipeline.pipeline`): every stage over the whole
  vocabulary, per candidate, for display, computed when the Distribution is first read (top-k off: at
  once, roll included).

Both are exact and agree to the bit: same survivors, same probabilities, same token for the same u.
The settings are in sampler_settings.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np

from desktop_app.core.engine.distribution import ORDER_CAP, Distribution
from desktop_app.core.engine.full_pipeline import (
    lazy_snapshot,
    penalise,
    pick,
    pipeline,
    reach,
    readonly,
    softmax,
)
from desktop_app.core.engine.topk import NO_IDS, SMALL, block_max, block_rows, distinct, member, top
from desktop_app.core.sampler_settings import SamplerSettings

_ONE = np.ones(1)
_ONE.flags.writeable = False


class Sampler:
    """Turns one step's logits into a Distribution; owns the generator that rolls the die."""

    def __init__(self, settings: SamplerSettings | None = None, eog_ids: Iterable[int] = ()) -> None:
        self.settings = settings if settings is not None else SamplerSettings()
        eog = np.unique(np.fromiter((int(i) for i in eog_ids), dtype=np.int64))
        _require(eog.size == 0 or eog[0] >= 0, "end-of-generation token ids must be 0 or more.")
        self.eog_ids = eog
        self.rng = _generator(self.settings.seed)
        self._sized: tuple[Any, Any] = (None, None)

    def reseed(self, seed: int | None) -> None:
        """Restart the die's random sequence (None: from fresh entropy)."""
        self.rng = _generator(seed)

    def distribution(
        self,
        logits: np.ndarray,
        history: Sequence[int] = (),
        *,
        top_n: int = 50,
        u: float | None = None,
        forced: int | None = None,
        settings: SamplerSettings | None = None,
    ) -> Distribution:
        """Run the pipeline on one step's logits (float32, one per token) and roll the die.

        ``u`` replays a stored roll; when None and not greedy it is drawn from ``rng``. ``forced`` picks
        that token instead of the die. ``history`` is the tokens so far (for the penalties).

        With top-k on, only the roll and the final distribution are computed now; the rest of the
        Distribution is computed from ``logits`` when first read. It keeps a reference to the array (no
        copy) until :meth:`Distribution.release`: do not write to it after this call.
        """
        return self._run(logits, history, top_n, u, forced, settings, lazy=True)

    def full_distribution(
        self,
        logits: np.ndarray,
        history: Sequence[int] = (),
        *,
        top_n: int = 50,
        u: float | None = None,
        forced: int | None = None,
        settings: SamplerSettings | None = None,
    ) -> Distribution:
        """Like :meth:`distribution`, every stage computed at once by the full pipeline (no fast path)."""
        return self._run(logits, history, top_n, u, forced, settings, lazy=False)

    def _run(self, logits, history, top_n, u, forced, settings, lazy: bool) -> Distribution:
        s = self.settings if settings is None else settings
        x = _as_logits(logits)
        n = x.size
        if top_n < 0:
            raise ValueError(f"top_n must be 0 or more, not {top_n}.")
        if forced is not None:
            _require(0 <= forced < n, f"forced token {forced} is not in the vocabulary of {n}.")
            forced = int(forced)
        if u is not None and not 0 <= u <= 1:
            raise ValueError(f"the roll u must be between 0 and 1, not {u}.")
        eog, eog_set, rows = self._for_size(n)
        win, counts = _window(history, s.repeat_last_n, n) if s.penalties_on else (NO_IDS, NO_IDS)
        bm = block_max(x)
        ban = s.ban_eos and eog.size > 0
        pool = None
        if lazy and s.top_k > 0:  # the best top_k + |banned| + |window| raw tokens, and the maximum
            pool = top(x, s.top_k + (eog.size if ban else 0) + win.size, bm, rows)
            mx = pool[2]
        else:
            mx = bm.max()
        if not math.isfinite(mx):
            raise ValueError("the logits contain NaN or +inf, or every logit is -inf.")
        roll = None if s.temperature <= 0 else float(self.rng.random()) if u is None else float(u)
        if pool is None:
            snap, chosen, oid, op, rest, n_alive = pipeline(x, win, counts, eog, s, roll, forced, top_n, bm)
            return Distribution(
                n_vocab=n,
                settings=s,
                u=roll,
                chosen=chosen,
                forced=forced is not None,
                greedy=s.temperature <= 0,
                n_alive=n_alive,
                order_ids=oid,
                order_p=op,
                order_rest_p=rest,
                chosen_p_final=float(snap.p_final[snap.chosen_index]),
                snapshot=snap,
            )
        ids, p, j = _decide(x, pool[0], pool[1], win, counts, eog, eog_set if ban else None, s, roll)
        if forced is None:
            chosen, p_chosen = int(ids[j]), float(p[j])
        else:
            hit = np.flatnonzero(ids == forced)
            chosen, p_chosen = forced, float(p[hit[0]]) if hit.size else 0.0
        n_alive = ids.size
        rest = 0.0
        if n_alive > ORDER_CAP:
            ids, p = ids[:ORDER_CAP], p[:ORDER_CAP].copy()
            rest = max(0.0, 1.0 - float(p.sum()))
        return Distribution(
            n_vocab=n,
            settings=s,
            u=roll,
            chosen=chosen,
            forced=forced is not None,
            greedy=s.temperature <= 0,
            n_alive=n_alive,
            order_ids=readonly(ids.copy()),  # a copy: a stored step must not keep the pool alive
            order_p=readonly(p),
            order_rest_p=rest,
            chosen_p_final=p_chosen,
            compute=partial(lazy_snapshot, x, win, counts, eog, s, roll, forced, top_n, chosen),
        )

    def _for_size(self, n: int) -> tuple[np.ndarray, frozenset[int], np.ndarray | None]:
        """The end-token ids inside a vocabulary of ``n`` (array and set) and the rows of its block
        maxima, kept for the last ``n``."""
        key = (n, self.eog_ids)
        if self._sized[0] != key:
            ids = self.eog_ids
            cut = readonly(ids[ids < n])
            self._sized = (key, (cut, frozenset(cut.tolist()), block_rows(n) if n >= SMALL else None))
        return self._sized[1]


def _decide(x, ids, v, win, counts, eog, banned, s, roll) -> tuple[np.ndarray, np.ndarray, int]:
    """The fast path for top_k > 0: the final survivors in die order, their probabilities, and the
    index among them of the die's pick (0 when greedy) — exactly as :func:`pipeline` finds them.

    ``ids``, ``v``: the best top_k + |banned| + |window| raw tokens in die order. The ban and the
    penalties change only the end tokens and the window, so the top_k after them are among these and
    the window's own ids. ``banned``: the end-token ids as a set when ban_eos is on.
    """
    k = s.top_k
    if banned is not None:
        at = [i for i, t in enumerate(ids.tolist()) if t in banned]  # usually none
        first = next((i for i, j in enumerate(at) if i != j), len(at))  # the best other token
        # a ban that would remove every token is ignored
        if first >= ids.size or v[first] == -np.inf:
            banned = None
        elif at:
            kept = np.ones(ids.size, dtype=bool)
            kept[at] = False
            ids, v = ids[kept], v[kept]
    if win.size:
        old = x[win]
        if banned is not None:
            old[member(win, eog)] = -np.inf
        drop = member(ids, win)
        ids = np.concatenate((ids[~drop], win))
        v = np.concatenate((v[~drop], penalise(old, counts, s)))
        o = np.lexsort((ids, -v))
        ids, v = ids[o], v[o]
    ids, v = ids[:k], v[:k]
    if v[-1] == -np.inf:
        c = int(np.count_nonzero(v > -np.inf))
        ids, v = ids[:c], v[:c]
    t = s.temperature
    if t <= 0:
        return ids[:1], _ONE, 0
    v64 = v.astype(np.float64)
    cut = ids.size
    if s.min_p > 0:  # v >= float32 threshold ⇔ v >= the exact bound (v is a float32)
        cut = max(1, int(np.count_nonzero(v64 >= float(v64[0]) + math.log(s.min_p))))
    p = None
    if s.top_p < 1 and cut > 1:  # top-p before min-p: both keep a prefix, min-p's bound is v[0]'s
        p = softmax(v64)[0]
        cut = min(cut, reach(np.cumsum(p), s.top_p))
    if cut == 1:
        return ids[:1], _ONE, 0
    if p is None or t != 1 or cut < p.size:
        p = softmax(v64[:cut], t)[0]
    return ids[:cut], p, pick(p, roll)


def _as_logits(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits)
    _require(x.ndim == 1 and x.size > 0, "logits must be a non-empty 1-D array, one value per token.")
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    return x


def _window(history: Sequence[int], last_n: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct in-vocabulary ids of the penalty window and their counts."""
    if last_n == 0 or len(history) == 0:
        return NO_IDS, NO_IDS
    h = np.asarray(history[-last_n:] if last_n > 0 else history, dtype=np.int64).ravel()
    return distinct(h[(h >= 0) & (h < n)])


def _generator(seed: int | None) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def step_roll(seed: int, k: int) -> float:
    """The die's roll u in [0, 1) for step ``k`` (0 = the reply's first token) of a reply under ``seed``:
    a function of the two alone, so a reply stepped token by token rolls exactly what the same reply
    generated at once rolls, a branch from step k rolls what the reply rolled after it, and every step
    rolls anew."""
    return float(np.random.Generator(np.random.PCG64([seed, k])).random())


def reply_seed(settings: SamplerSettings, rng: np.random.Generator) -> int:
    """The seed of a reply's rolls: the settings' own, or a fresh one drawn from ``rng`` (random seed)."""
    return settings.seed if settings.seed is not None else int(rng.integers(0, 2**63))


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)
