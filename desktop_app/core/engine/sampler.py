"""The sampler pipeline in numpy, in llama.cpp's order, every stage kept for display.

ban → penalties → top-k → top-p → min-p → temperature → the die. The results are exact, and a step
stays cheap on a 262,144-token vocabulary: one exp pass for the model's own distribution, and
threshold selection instead of sorting the vocabulary (a full sort only where a setting needs it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from dataclasses import replace as _dc_replace
from typing import Any

import numpy as np

from desktop_app.core.engine.distribution import ORDER_CAP, Distribution, Stage

_LN2 = math.log(2.0)
_FLOATS = ("temperature", "top_p", "min_p", "repeat_penalty", "frequency_penalty", "presence_penalty")
_INTS = ("top_k", "repeat_last_n", "wait_count")
_CANCEL = 1e-6  # a sparse normaliser update keeping less than this fraction is redone in full
_FIRST = 64  # first prefix length tried when a stage needs the sorted order of a whole vocabulary
_GROW = 8
_NO_IDS = np.empty(0, dtype=np.int64)
_NO_IDS.flags.writeable = False
_SMALL = 4096  # below this many tokens: float64 passes, no block maxima


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
        """
        s = self.settings if settings is None else settings
        x = _as_logits(logits)
        n = x.size
        _require(top_n >= 0, f"top_n must be 0 or more, not {top_n}.")
        _require(forced is None or 0 <= forced < n, f"forced token {forced} is not in the vocabulary of {n}.")
        _require(u is None or 0 <= u <= 1, f"the roll u must be between 0 and 1, not {u}.")
        bm = _block_max(x)
        m = float(bm.max())
        _require(math.isfinite(m), "the logits contain NaN or +inf, or every logit is -inf.")
        e, z, entropy, n_finite = _raw_stats(x, m)
        eog = self.eog_ids[self.eog_ids < n]

        stages: list[tuple[str, _Survivors]] = []
        cur, work = _Survivors(x, m, z, count=n_finite), x
        # a ban that would remove every token is ignored
        ban = bool(s.ban_eos and eog.size) and n_finite > np.count_nonzero(x[eog] > -np.inf)
        win, counts = _window(history, s.repeat_last_n, n) if s.penalties_on else (_NO_IDS, _NO_IDS)
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
        raw_order = _Order(x, bm)
        if work is x:
            order = raw_order
            order.top(max(top_n, s.top_k))  # one selection serves the candidates and top-k
        else:
            changed = _distinct(np.concatenate((eog, win)))[0] if ban else win
            order = _Order(work, base=raw_order, changed=changed)
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

        roll = None if t <= 0 else float(self.rng.random()) if u is None else float(u)
        if forced is not None:
            chosen = int(forced)
        else:
            chosen = int(cur.ids[0]) if roll is None else _roll(cur, order, roll)
        cand = raw_order.top(top_n).copy()  # copies: a stored step must not keep big arrays alive
        return _snapshot(x, m, z, entropy, eog, stages, cur, order, s, cand, roll, chosen, forced)


def _snapshot(x, m, z, entropy, eog, stages, final, order, s, cand, roll, chosen, forced) -> Distribution:
    """Assemble the Distribution: per-candidate views of every stage."""
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
            rest = float(sv.p[~_member(sv.ids, by_id)].sum())
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
    p_final = out[-1].p
    return Distribution(
        n_vocab=x.size,
        candidates=_ro(cand),
        logits=_ro(raw),
        p_raw=_ro(p_raw),
        rest_p_raw=max(0.0, 1.0 - float(p_raw.sum())),
        stages=tuple(out),
        removed_by=tuple(removed_by),
        p_final=p_final,
        rest_p_final=out[-1].rest_p,
        n_alive=n_alive,
        u=roll,
        chosen=chosen,
        chosen_index=chosen_index,
        forced=forced is not None,
        greedy=s.greedy,
        entropy_bits=entropy,
        eos_p_raw=float((np.exp(x[eog].astype(np.float64) - m) / z).sum()),
        eos_p_final=float(final.probs(eog)[0].sum()),
        settings=s,
        order_ids=_ro(oid),
        order_p=_ro(op),
        order_rest_p=max(0.0, 1.0 - float(op.sum())) if n_alive > oid.size else 0.0,
    )


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
            hit = _member(ids, pid)
            v[hit] = pv[np.searchsorted(pid, ids[hit])]
        alive = v > -np.inf
        if self.key is not None:
            kv, kid = self.key
            alive &= (v > kv) | ((v == kv) & (ids <= kid))
        p = np.zeros(ids.size)
        p[alive] = np.exp((v[alive] - self.ref) / self.t) / self.z
        return p, alive


class _Order:
    """The finite values of ``vals`` sorted descending, ties by id, computed one prefix at a time.

    With ``base`` (the order of an array equal to ``vals`` except at the sorted ``changed`` ids), a
    prefix is merged from the base's prefix and the changed ids, without a pass over ``vals``.
    """

    __slots__ = ("base", "bm", "changed", "complete", "ids", "vals")

    def __init__(
        self, vals: np.ndarray, bm: np.ndarray | None = None, base: _Order | None = None, changed=_NO_IDS
    ) -> None:
        self.vals, self.bm, self.base, self.changed = vals, bm, base, changed
        self.ids, self.complete = _NO_IDS, False

    def top(self, k: int) -> np.ndarray:
        if k > self.ids.size and not self.complete:
            if self.base is None:
                ids = _top_ids(self.vals, k, self.bm)
            else:  # the unchanged among the first k are among the base's first k + len(changed)
                pool = self.base.top(k + self.changed.size)
                pool = np.concatenate((pool[~_member(pool, self.changed)], self.changed))
                ids = _sort_desc(self.vals[pool], pool)[:k]
            ids = ids[: int(np.count_nonzero(self.vals[ids] > -np.inf))]
            self.ids, self.complete = ids, ids.size < k or k >= self.vals.size
        return self.ids[:k]


def _explicit(vals: np.ndarray, ids: np.ndarray, t: float = 1.0) -> _Survivors:
    """Survivors listed in order (value descending), softmax at temperature ``t`` over them."""
    v = vals[ids].astype(np.float64)
    w = np.exp((v - v[0]) / t)
    z = float(w.sum())
    return _Survivors(vals, float(v[0]), z, t, ids, w / z)


def _implicit(cur: _Survivors, order: _Order, t: float) -> _Survivors:
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
    if z > prev.z * _CANCEL and (new.max() - prev.ref) < 600:
        e[ids] = w
        return _Survivors(vals, prev.ref, z, count=count)
    ref = float(vals.max())
    e[:] = _exps(vals, ref)
    return _Survivors(vals, ref, float(e.sum(dtype=np.float64)), count=count)


def _top_p(cur: _Survivors, order: _Order, top_p: float) -> np.ndarray:
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


def _min_p(cur: _Survivors, order: _Order, min_p: float) -> np.ndarray:
    """Survivors with p >= min_p * p_max, i.e. logit >= max logit + ln(min_p), in order."""
    vals = cur.vals
    ids = cur.ids if cur.ids is not None else order.top(1)
    top = float(vals[ids[0]]) + math.log(min_p)
    thr = np.float32(top)  # the smallest float32 >= top, so the float32 comparison is exact
    if float(thr) < top:
        thr = np.nextafter(thr, np.float32(np.inf))
    if cur.ids is not None:
        return ids[: max(1, int(np.count_nonzero(vals[ids] >= thr)))]
    idx = np.flatnonzero(vals >= thr)
    return _sort_desc(vals[idx], idx)


def _roll(final: _Survivors, order: _Order, u: float) -> int:
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
    cum = np.cumsum(p)
    j = int(np.searchsorted(cum, u, side="left"))
    if j >= cum.size:  # u above the rounded total: the last token with any probability
        nz = np.flatnonzero(p > 0)
        j = int(nz[-1]) if nz.size else cum.size - 1
    return int(ids[j])


def _as_logits(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits)
    _require(x.ndim == 1 and x.size > 0, "logits must be a non-empty 1-D array, one value per token.")
    if x.dtype != np.float32 or not x.flags.c_contiguous:
        x = np.ascontiguousarray(x, dtype=np.float32)
    return x


def _exps(vals: np.ndarray, ref: float, t: float = 1.0) -> np.ndarray:
    """exp((vals - ref) / t): float32 on big vocabularies (fast), float64 on small ones."""
    dt = np.float64 if vals.size < _SMALL else np.float32
    d = np.subtract(vals, ref, dtype=dt)
    if t != 1:
        np.divide(d, t, out=d)
    return np.exp(d, out=d)


def _raw_stats(x: np.ndarray, m: float) -> tuple[np.ndarray, float, float, int]:
    """exp(x - m), its float64 sum Z, the entropy in bits, (ln Z - Σ e·(x - m) / Z) / ln 2, and the
    number of finite logits."""
    d = np.subtract(x, m, dtype=np.float64 if x.size < _SMALL else np.float32)
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


def _block_max(v: np.ndarray) -> np.ndarray:
    """Maxima of disjoint blocks of 64 values (``v`` itself when short): the k-th largest block maximum
    is at most the k-th largest value, so it is a threshold that at least k values reach."""
    if v.size < _SMALL:
        return v
    cols = v.size // 64
    bm = v[: cols * 64].reshape(64, cols).max(axis=0)
    return bm if cols * 64 == v.size else np.concatenate((bm, v[cols * 64 :]))


def _top_ids(v: np.ndarray, k: int, bm: np.ndarray) -> np.ndarray:
    """Ids of the ``k`` largest values (descending, ties by id), without sorting the whole vector."""
    k = min(k, v.size)
    if k <= 0:
        return _NO_IDS
    if bm is v or k * 4 > bm.size:
        thr = np.partition(v, v.size - k)[v.size - k]
        idx = np.flatnonzero(v >= thr)
    else:
        thr = np.partition(bm, bm.size - k)[bm.size - k]
        blocks = np.flatnonzero(bm >= thr)  # every value >= thr lies in one of these blocks
        cols = v.size // 64
        if blocks.size * 256 > v.size:  # many ties: one pass is cheaper
            idx = np.flatnonzero(v >= thr)
        else:
            inner = blocks[blocks < cols]
            idx = np.concatenate(
                (
                    (np.arange(0, cols * 64, cols)[:, None] + inner).ravel(),
                    blocks[blocks >= cols] + (cols * 63),
                )
            )
            idx = idx[v[idx] >= thr]
    return _sort_desc(v[idx], idx)[:k]


def _sort_desc(vals: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``ids`` sorted by float32 ``vals`` descending, ties by id: one sort of packed uint64 keys."""
    bits = (vals + np.float32(0.0)).view(np.uint32)  # + 0 turns -0.0 into 0.0
    ascending = np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000))
    keys = ((~ascending).astype(np.uint64) << np.uint64(32)) | ids.astype(np.uint64)
    keys.sort()
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)


def _window(history: Sequence[int], last_n: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct in-vocabulary ids of the penalty window and their counts."""
    if last_n == 0 or len(history) == 0:
        return _NO_IDS, _NO_IDS
    h = np.asarray(history[-last_n:] if last_n > 0 else history, dtype=np.int64).ravel()
    return _distinct(h[(h >= 0) & (h < n)])


def _distinct(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (np.unique costs more on a few dozen values)."""
    if a.size == 0:
        return _NO_IDS, _NO_IDS
    a = np.sort(a)
    starts = np.flatnonzero(np.concatenate(([True], a[1:] != a[:-1])))
    return a[starts], np.diff(np.append(starts, a.size))


def _member(a: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which values of ``a`` are in the sorted, non-empty ``sorted_ids``."""
    j = np.minimum(np.searchsorted(sorted_ids, a), sorted_ids.size - 1)
    return sorted_ids[j] == a


def _penalise(old: np.ndarray, counts: np.ndarray, s: SamplerSettings) -> np.ndarray:
    """llama.cpp's penalties in float32: repeat divides positive logits and multiplies the others, then
    count·frequency + presence is subtracted."""
    rp = np.float32(s.repeat_penalty)
    new = np.where(old > 0, old / rp, old * rp)
    sub = counts.astype(np.float32) * np.float32(s.frequency_penalty) + np.float32(s.presence_penalty)
    return new - sub


def _generator(seed: int | None) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def _ro(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
