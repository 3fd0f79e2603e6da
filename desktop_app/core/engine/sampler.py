"""The sampler pipeline in numpy, in llama.cpp's order, every stage kept for display.

ban → penalties → top-k → top-p → min-p → temperature → the die. A step has two parts:

* the roll (:func:`_decide`, when top-k is on): only the best top_k + |window| + |banned| raw tokens and
  the penalty window can survive top-k, so the pick and the final distribution are found on that small
  set with a few dozen numpy calls. It runs in the generation loop right after llama.cpp's decode has
  evicted every cache, where each call and object is a cache miss, so calls count more than passes;
* the rest (:func:`_pipeline`): every stage over the whole vocabulary, per candidate, for display,
  computed when the Distribution is first read (top-k off: at once, roll included).

Both are exact and agree to the bit: same survivors, same probabilities, same token for the same u. The
full pipeline stays cheap on a 262,144-token vocabulary: one exp pass for the model's own distribution,
and threshold selection instead of sorting the vocabulary (a full sort only where a setting needs it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from dataclasses import replace as _dc_replace
from functools import partial
from typing import Any

import numpy as np

from desktop_app.core.engine.distribution import ORDER_CAP, Distribution, Snapshot, Stage
from desktop_app.core.engine.topk import (
    NO_IDS,
    SMALL,
    Order,
    block_max,
    block_rows,
    distinct,
    member,
    sort_desc,
    top,
)

_LN2 = math.log(2.0)
_FLOATS = ("temperature", "top_p", "min_p", "repeat_penalty", "frequency_penalty", "presence_penalty")
_INTS = ("top_k", "repeat_last_n", "wait_count")
_CANCEL = 1e-6  # a sparse normaliser update keeping less than this fraction is redone in full
_FIRST = 64  # first prefix length tried when a stage needs the sorted order of a whole vocabulary
_GROW = 8
_ONE = np.ones(1)
_ONE.flags.writeable = False


@dataclass(frozen=True)
class SamplerSettings:
    """Sampler settings with llama.cpp's meanings; invalid values raise ValueError at construction."""

    temperature: float = 0.8  # <= 0: greedy
    top_k: int = 40  # <= 0: off
    top_p: float = 0.95  # 1: off
    min_p: float = 0.05  # 0: off
    repeat_penalty: float = 1.0  # 1.0 = off
    repeat_last_n: int = 64  # window; 0 = off, -1 = whole history
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    seed: int | None = None  # None = random
    ban_eos: bool = False
    wait_count: int = 0  # used by the session: replace the end token with wait_text N times
    wait_text: str = " Wait"

    def __post_init__(self) -> None:
        for name in _FLOATS:
            object.__setattr__(self, name, _number(name, getattr(self, name)))
        for name in _INTS:
            object.__setattr__(self, name, _integer(name, getattr(self, name)))
        t, rp, last_n = self.temperature, self.repeat_penalty, self.repeat_last_n
        _require(t >= 0, f"temperature must be 0 or more (0 is greedy), not {t}.")
        _require(0 <= self.top_p <= 1, f"top_p must be between 0 and 1 (1 is off), not {self.top_p}.")
        _require(0 <= self.min_p <= 1, f"min_p must be between 0 and 1 (0 is off), not {self.min_p}.")
        _require(rp > 0, f"repeat_penalty must be above 0 (1 is off), not {rp}.")
        _require(last_n >= -1, f"repeat_last_n must be -1 (all), 0 (off) or a window length, not {last_n}.")
        _require(self.wait_count >= 0, f"wait_count must be 0 or more, not {self.wait_count}.")
        if self.seed is not None:
            object.__setattr__(self, "seed", _integer("seed", self.seed))
            _require(self.seed >= 0, f"seed must be 0 or more, or empty for a random seed, not {self.seed}.")
        _require(isinstance(self.ban_eos, bool), f"ban_eos must be true or false, not {self.ban_eos!r}.")
        _require(isinstance(self.wait_text, str), f"wait_text must be text, not {self.wait_text!r}.")

    def replace(self, **changes: Any) -> SamplerSettings:
        """A copy with ``changes`` applied (validated)."""
        return _dc_replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SamplerSettings:
        """Settings from a mapping; unknown keys are ignored, missing ones take their defaults."""
        if not isinstance(d, Mapping):
            raise ValueError(f"sampler settings must be a mapping of names to values, not {d!r}.")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0

    @property
    def penalties_on(self) -> bool:
        neutral = self.repeat_penalty == 1 and self.frequency_penalty == 0 and self.presence_penalty == 0
        return self.repeat_last_n != 0 and not neutral


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, not {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}.")
    return float(value)


def _integer(name: str, value: Any) -> int:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, not {value!r}.")
    return int(value)


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
        fast = lazy and s.top_k > 0
        if fast:  # the best top_k + |banned| + |window| raw tokens, and the maximum
            ban = s.ban_eos and eog.size > 0
            pool = top(x, s.top_k + (eog.size if ban else 0) + win.size, bm, rows)
            mx = pool[2]
        else:
            mx = bm.max()
        if not math.isfinite(mx):
            raise ValueError("the logits contain NaN or +inf, or every logit is -inf.")
        roll = None if s.temperature <= 0 else float(self.rng.random()) if u is None else float(u)
        if not fast:
            snap, chosen, oid, op, rest, n_alive = _pipeline(x, win, counts, eog, s, roll, forced, top_n, bm)
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
            order_ids=_ro(ids.copy()),  # a copy: a stored step must not keep the pool alive
            order_p=_ro(p),
            order_rest_p=rest,
            chosen_p_final=p_chosen,
            compute=partial(_lazy_snapshot, x, win, counts, eog, s, roll, forced, top_n, chosen),
        )

    def _for_size(self, n: int) -> tuple[np.ndarray, frozenset[int], np.ndarray | None]:
        """The end-token ids inside a vocabulary of ``n`` (array and set) and the rows of its block
        maxima, kept for the last ``n``."""
        key = (n, self.eog_ids)
        if self._sized[0] != key:
            ids = self.eog_ids
            cut = _ro(ids[ids < n])
            self._sized = (key, (cut, frozenset(cut.tolist()), block_rows(n) if n >= SMALL else None))
        return self._sized[1]


def _decide(x, ids, v, win, counts, eog, banned, s, roll) -> tuple[np.ndarray, np.ndarray, int]:
    """The fast path for top_k > 0: the final survivors in die order, their probabilities, and the
    index among them of the die's pick (0 when greedy) — exactly as :func:`_pipeline` finds them.

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
        v = np.concatenate((v[~drop], _penalise(old, counts, s)))
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
        p = _softmax(v64)[0]
        cut = min(cut, _reach(np.cumsum(p), s.top_p))
    if cut == 1:
        return ids[:1], _ONE, 0
    if p is None or t != 1 or cut < p.size:
        p = _softmax(v64[:cut], t)[0]
    return ids[:cut], p, _pick(p, roll)


def _lazy_snapshot(x, win, counts, eog, s, roll, forced, top_n, chosen) -> Snapshot:
    return _pipeline(x, win, counts, eog, s, roll, forced, top_n, block_max(x), chosen)[0]


def _pipeline(x, win, counts, eog, s, roll, forced, top_n, bm, chosen=None):
    """Every stage over the whole vocabulary, for display: (snapshot, chosen, final order ids, their
    p, order_rest_p, n_alive). Only reads its inputs. ``chosen`` skips the die (already rolled)."""
    m = float(bm.max())
    e, z, entropy, n_finite = _raw_stats(x, m)

    stages: list[tuple[str, _Survivors]] = []
    cur, work = _Survivors(x, m, z, count=n_finite), x
    # a ban that would remove every token is ignored
    ban = bool(s.ban_eos and eog.size) and n_finite > np.count_nonzero(x[eog] > -np.inf)
    if ban or win.size:
        work = x.copy()  # one copy: the ban stage reads its window logits from a patch
    if ban:
        work[eog] = -np.inf
        cur = _reweigh(cur, e, work, eog, x[eog])
        stages.append(("ban", cur))
    if s.penalties_on:
        if win.size:
            old = work[win]
            work[win] = _penalise(old, counts, s)
            if ban:
                cur.patch = (win, old)
            cur = _reweigh(cur, e, work, win, old)
        stages.append(("penalties", cur))
    raw_order = Order(x, bm)
    if work is x:
        order = raw_order
        order.top(max(top_n, s.top_k))  # one selection serves the candidates and top-k
    else:
        changed = distinct(np.concatenate((eog, win)))[0] if ban else win
        order = Order(work, base=raw_order, changed=changed)
        raw_order.top(max(top_n, s.top_k + changed.size))

    if s.top_k > 0:
        cur = _explicit(work, order.top(s.top_k))
        stages.append(("top_k", cur))
    if s.top_p < 1:
        cur = _explicit(work, _top_p(cur, order, s.top_p))
        stages.append(("top_p", cur))
    if s.min_p > 0:
        cur = _explicit(work, _min_p(cur, order, s.min_p))
        stages.append(("min_p", cur))
    t = s.temperature
    if t <= 0:
        cur = _explicit(work, cur.ids[:1] if cur.ids is not None else order.top(1))
    elif t != 1:
        cur = _explicit(work, cur.ids, t) if cur.ids is not None else _implicit(cur, order, t)
    stages.append(("temperature", cur))

    if chosen is None:
        if forced is not None:
            chosen = forced
        else:
            chosen = int(cur.ids[0]) if roll is None else _roll(cur, order, roll)
    cand = raw_order.top(top_n).copy()  # copies: a stored step must not keep big arrays alive
    return _snapshot(x, m, z, entropy, eog, stages, cur, order, cand, chosen)


def _snapshot(x, m, z, entropy, eog, stages, final, order, cand, chosen):
    """Per-candidate views of every stage, and the final order."""
    hit = np.flatnonzero(cand == chosen)
    if hit.size == 0:
        cand = np.append(cand, np.int64(chosen))
    chosen_index = int(hit[0]) if hit.size else cand.size - 1
    raw = x[cand]
    p_raw = np.exp(raw.astype(np.float64) - m) / z
    alive = raw > -np.inf
    removed_by: list[str | None] = [None] * cand.size
    out: list[Stage] = []
    by_id = np.sort(cand)
    for name, sv in stages:
        p, now = sv.probs(cand)
        now &= alive
        p[~now] = 0.0
        removed = alive & ~now
        for i in np.flatnonzero(removed):
            removed_by[i] = name
        if sv.ids is not None:  # summed directly: exactly 0 when every survivor is a candidate
            rest = float(sv.p[~member(sv.ids, by_id)].sum())
        else:
            rest = max(0.0, 1.0 - float(p.sum()))
        out.append(Stage(name, _ro(p), _ro(removed), rest, sv.count()))
        alive = now
    if final.ids is not None:
        oid, op = final.ids[:ORDER_CAP].copy(), final.p[:ORDER_CAP].copy()
    else:
        oid = order.top(ORDER_CAP).copy()
        op = final.probs(oid)[0]
    n_alive = final.count()
    snap = Snapshot(
        candidates=_ro(cand),
        logits=_ro(raw),
        p_raw=_ro(p_raw),
        rest_p_raw=max(0.0, 1.0 - float(p_raw.sum())),
        stages=tuple(out),
        removed_by=tuple(removed_by),
        p_final=out[-1].p,
        rest_p_final=out[-1].rest_p,
        chosen_index=chosen_index,
        entropy_bits=entropy,
        eos_p_raw=float((np.exp(x[eog].astype(np.float64) - m) / z).sum()),
        eos_p_final=float(final.probs(eog)[0].sum()),
    )
    order_rest = max(0.0, 1.0 - float(op.sum())) if n_alive > oid.size else 0.0
    return snap, chosen, _ro(oid), _ro(op), order_rest, n_alive


class _Survivors:
    """Tokens alive after a stage: finite ``vals``, cut after ``key`` when ``ids`` lists them in order.

    A survivor's probability is ``exp((v - ref) / t) / z``; ``p`` holds those of ``ids``. ``patch``
    (sorted ids, values) overrides ``vals`` where a later stage changed the shared array.
    """

    __slots__ = ("_count", "ids", "key", "p", "patch", "ref", "t", "vals", "z")

    def __init__(
        self,
        vals: np.ndarray,
        ref: float,
        z: float,
        t: float = 1.0,
        ids: np.ndarray | None = None,
        p: np.ndarray | None = None,
        count: int | None = None,
    ) -> None:
        self.vals, self.ref, self.z, self.t, self.ids, self.p = vals, ref, z, t, ids, p
        self.key = None if ids is None else (float(vals[ids[-1]]), int(ids[-1]))
        self._count = ids.size if ids is not None else count
        self.patch: tuple[np.ndarray, np.ndarray] | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = int(np.count_nonzero(self.vals > -np.inf))
        return self._count

    def probs(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probability, alive) of arbitrary token ids."""
        v = self.vals[ids].astype(np.float64)
        if self.patch is not None:
            pid, pv = self.patch
            hit = member(ids, pid)
            v[hit] = pv[np.searchsorted(pid, ids[hit])]
        alive = v > -np.inf
        if self.key is not None:
            kv, kid = self.key
            alive &= (v > kv) | ((v == kv) & (ids <= kid))
        p = np.zeros(ids.size)
        p[alive] = np.exp((v[alive] - self.ref) / self.t) / self.z
        return p, alive


def _explicit(vals: np.ndarray, ids: np.ndarray, t: float = 1.0) -> _Survivors:
    """Survivors listed in order (value descending), softmax at temperature ``t`` over them."""
    v = vals[ids].astype(np.float64)
    p, z = _softmax(v, t)
    return _Survivors(vals, float(v[0]), z, t, ids, p)


def _softmax(v: np.ndarray, t: float = 1.0) -> tuple[np.ndarray, float]:
    """Probabilities exp((v - v[0]) / t) / z and z, of float64 ``v`` whose first value is the largest."""
    d = v - v[0]
    if t != 1:
        d /= t
    w = np.exp(d, out=d)
    z = float(w.sum())
    return w / z, z


def _implicit(cur: _Survivors, order: Order, t: float) -> _Survivors:
    """Every finite value survives; the normaliser at temperature ``t`` takes one pass."""
    vals = cur.vals
    top = vals[order.top(1)[0]]
    z = float(_exps(vals, top, t).sum(dtype=np.float64))
    return _Survivors(vals, float(top), z, t, count=cur.count())


def _reweigh(
    prev: _Survivors, e: np.ndarray, vals: np.ndarray, ids: np.ndarray, old: np.ndarray
) -> _Survivors:
    """Survivors of ``vals``, which was ``old`` at ``ids``; ``e`` holds the terms of ``prev.z`` and is
    updated. The normaliser is updated sparsely, or recomputed where that would cancel."""
    new = vals[ids].astype(np.float64)
    count = prev.count() - int(np.count_nonzero(old > -np.inf)) + int(np.count_nonzero(new > -np.inf))
    w = np.exp(new - prev.ref)
    z = prev.z - float(e[ids].sum(dtype=np.float64)) + float(w.sum())
    if z > prev.z * _CANCEL and (new.max() - prev.ref) < (600 if e.dtype == np.float64 else 80):
        e[ids] = w
        return _Survivors(vals, prev.ref, z, count=count)
    ref = float(vals.max())
    e[:] = _exps(vals, ref)
    return _Survivors(vals, ref, float(e.sum(dtype=np.float64)), count=count)


def _top_p(cur: _Survivors, order: Order, top_p: float) -> np.ndarray:
    """The shortest prefix whose probability reaches ``top_p`` (at least one token)."""
    if cur.ids is not None:
        return cur.ids[: _reach(np.cumsum(cur.p), top_p)]
    k = _FIRST
    while True:
        ids = order.top(k)
        cum = np.cumsum(cur.probs(ids)[0])
        if cum[-1] >= top_p or order.complete:
            return ids[: _reach(cum, top_p)]
        k *= _GROW


def _reach(cum: np.ndarray, target: float) -> int:
    return min(int(np.searchsorted(cum, target, side="left")) + 1, cum.size)


def _min_p(cur: _Survivors, order: Order, min_p: float) -> np.ndarray:
    """Survivors with p >= min_p * p_max, i.e. logit >= max logit + ln(min_p), in order."""
    vals = cur.vals
    ids = cur.ids if cur.ids is not None else order.top(1)
    thr = _min_p_threshold(float(vals[ids[0]]), min_p)
    if cur.ids is not None:
        return ids[: max(1, int(np.count_nonzero(vals[ids] >= thr)))]
    idx = np.flatnonzero(vals >= thr)
    return sort_desc(vals[idx], idx)


def _min_p_threshold(top: float, min_p: float) -> np.float32:
    """The smallest float32 >= top + ln(min_p), so the float32 comparison ``logit >= thr`` is exact."""
    top += math.log(min_p)
    thr = np.float32(top)
    if float(thr) < top:
        thr = np.nextafter(thr, np.float32(np.inf))
    return thr


def _roll(final: _Survivors, order: Order, u: float) -> int:
    """The first token in die order whose cumulative probability reaches ``u``."""
    if final.ids is not None:
        ids, p = final.ids, final.p
    else:
        k = _FIRST
        while True:
            ids = order.top(k)
            p = final.probs(ids)[0]
            if p.sum() >= u or order.complete:
                break
            k *= _GROW
    return int(ids[_pick(p, u)])


def _pick(p: np.ndarray, u: float) -> int:
    """The index of the first probability whose cumulative sum reaches ``u``."""
    cum = np.cumsum(p)
    j = int(np.searchsorted(cum, u, side="left"))
    if j >= cum.size:  # u above the rounded total: the last token with any probability
        nz = np.flatnonzero(p > 0)
        j = int(nz[-1]) if nz.size else cum.size - 1
    return j


def _as_logits(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits)
    _require(x.ndim == 1 and x.size > 0, "logits must be a non-empty 1-D array, one value per token.")
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    return x


def _exps(vals: np.ndarray, ref: float, t: float = 1.0) -> np.ndarray:
    """exp((vals - ref) / t): float32 on big vocabularies (fast), float64 on small ones."""
    dt = np.float64 if vals.size < SMALL else np.float32
    d = np.subtract(vals, ref, dtype=dt)
    if t != 1:
        np.divide(d, t, out=d)
    return np.exp(d, out=d)


def _raw_stats(x: np.ndarray, m: float) -> tuple[np.ndarray, float, float, int]:
    """exp(x - m), its float64 sum Z, the entropy in bits, (ln Z - Σ e·(x - m) / Z) / ln 2, and the
    number of finite logits."""
    d = np.subtract(x, m, dtype=np.float64 if x.size < SMALL else np.float32)
    e = np.exp(d)
    z = float(np.einsum("i->", e, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        s = _dot(e, d)
    n_finite = x.size  # a finite sum means no -inf (0 · -inf is NaN)
    if not math.isfinite(s):
        n_finite = int(np.count_nonzero(x > -np.inf))
        np.maximum(d, np.float32(-1e4), out=d)
        s = _dot(e, d)
    return e, z, max(0.0, (math.log(z) - s / z) / _LN2), n_finite


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b of float32 vectors, in rows of 256: float32 dots of long vectors lose ~1e-5."""
    rows = a.size // 256
    cut = rows * 256
    head = np.einsum("ij,ij->i", a[:cut].reshape(rows, 256), b[:cut].reshape(rows, 256))
    tail = np.dot(a[cut:].astype(np.float64), b[cut:].astype(np.float64))
    return float(head.sum(dtype=np.float64)) + float(tail)


def _window(history: Sequence[int], last_n: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct in-vocabulary ids of the penalty window and their counts."""
    if last_n == 0 or len(history) == 0:
        return NO_IDS, NO_IDS
    h = np.asarray(history[-last_n:] if last_n > 0 else history, dtype=np.int64).ravel()
    return distinct(h[(h >= 0) & (h < n)])


def _penalise(old: np.ndarray, counts: np.ndarray, s: SamplerSettings) -> np.ndarray:
    """llama.cpp's penalties in float32: repeat divides positive logits and multiplies the others, then
    count·frequency + presence is subtracted."""
    rp = np.float32(s.repeat_penalty)
    new = np.where(old > 0, old / rp, old * rp)
    sub = counts.astype(np.float32) * np.float32(s.frequency_penalty) + np.float32(s.presence_penalty)
    return new - sub


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


def _ro(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
