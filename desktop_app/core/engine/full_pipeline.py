"""The sampler's full pipeline: every stage over the whole vocabulary, per candidate, for display.

ban → penalties → top-k → top-p → min-p → temperature → the die, as llama.cpp orders them. The Sampler
(sampler.py) runs it when a Distribution's per-candidate part is first read, or at once when top-k is
off. It only reads its inputs, so any thread may run it. It stays cheap on a 262,144-token vocabulary:
one exp pass for the model's own distribution, and threshold selection instead of sorting the vocabulary
(a full sort only where a setting needs it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from desktop_app.core.engine.distribution import ORDER_CAP, Snapshot, Stage
from desktop_app.core.engine.topk import SMALL, Order, block_max, distinct, member, sort_desc

if TYPE_CHECKING:
    from desktop_app.core.sampler_settings import SamplerSettings

_LN2 = math.log(2.0)
_CANCEL = 1e-6  # a sparse normaliser update keeping less than this fraction is redone in full
_FIRST = 64  # first prefix length tried when a stage needs the sorted order of a whole vocabulary
_GROW = 8


def lazy_snapshot(x, win, counts, eog, s, roll, forced, top_n, chosen) -> Snapshot:
    """The per-candidate part of a step whose die already picked ``chosen`` (a lazy Distribution's)."""
    return pipeline(x, win, counts, eog, s, roll, forced, top_n, block_max(x), chosen)[0]


def pipeline(x, win, counts, eog, s, roll, forced, top_n, bm, chosen=None):
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
            work[win] = penalise(old, counts, s)
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
        elif roll is None:  # greedy: the temperature stage above kept the top token alone
            assert cur.ids is not None
            chosen = int(cur.ids[0])
        else:
            chosen = _roll(cur, order, roll)
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
        out.append(Stage(name, readonly(p), readonly(removed), rest, sv.count()))
        alive = now
    if final.ids is not None:
        oid, op = final.ids[:ORDER_CAP].copy(), final.p[:ORDER_CAP].copy()
    else:
        oid = order.top(ORDER_CAP).copy()
        op = final.probs(oid)[0]
    n_alive = final.count()
    snap = Snapshot(
        candidates=readonly(cand),
        logits=readonly(raw),
        p_raw=readonly(p_raw),
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
    return snap, chosen, readonly(oid), readonly(op), order_rest, n_alive


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
    p, z = softmax(v, t)
    return _Survivors(vals, float(v[0]), z, t, ids, p)


def softmax(v: np.ndarray, t: float = 1.0) -> tuple[np.ndarray, float]:
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
    top = float(vals[order.top(1)[0]])
    z = float(_exps(vals, top, t).sum(dtype=np.float64))
    return _Survivors(vals, top, z, t, count=cur.count())


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
        assert cur.p is not None  # listed survivors come with their probabilities
        return cur.ids[: reach(np.cumsum(cur.p), top_p)]
    k = _FIRST
    while True:
        ids = order.top(k)
        cum = np.cumsum(cur.probs(ids)[0])
        if cum[-1] >= top_p or ids.size < k:  # reached, or every token is in: a prefix of all of them
            return ids[: reach(cum, top_p)]
        k *= _GROW


def reach(cum: np.ndarray, target: float) -> int:
    """The length of the shortest prefix whose cumulative sum ``cum`` reaches ``target`` (at most all)."""
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
        assert final.p is not None  # listed survivors come with their probabilities
        ids, p = final.ids, final.p
    else:
        k = _FIRST
        while True:
            ids = order.top(k)
            p = final.probs(ids)[0]
            if p.sum() >= u or ids.size < k:  # reached, or every token is in
                break
            k *= _GROW
    return int(ids[pick(p, u)])


def pick(p: np.ndarray, u: float) -> int:
    """The index of the first probability whose cumulative sum reaches ``u``."""
    cum = np.cumsum(p)
    j = int(np.searchsorted(cum, u, side="left"))
    if j >= cum.size:  # u above the rounded total: the last token with any probability
        nz = np.flatnonzero(p > 0)
        j = int(nz[-1]) if nz.size else cum.size - 1
    return j


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


def penalise(old: np.ndarray, counts: np.ndarray, s: SamplerSettings) -> np.ndarray:
    """llama.cpp's penalties in float32: repeat divides positive logits and multiplies the others, then
    count·frequency + presence is subtracted."""
    rp = np.float32(s.repeat_penalty)
    new = np.where(old > 0, old / rp, old * rp)
    sub = counts.astype(np.float32) * np.float32(s.frequency_penalty) + np.float32(s.presence_penalty)
    return new - sub


def readonly(a: np.ndarray) -> np.ndarray:
    """``a`` itself, made read-only: a step's arrays are shared with whoever reads the Distribution."""
    a.flags.writeable = False
    return a
