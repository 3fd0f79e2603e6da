"""The die, made visible: the cumulative strip of a step's final distribution, many rolls at once, and
a chi-square check that the rolls follow the probabilities.

A roll is a uniform number u in [0, 1); the die picks the first token, in the final order (probability
descending, equal ones by id), whose cumulative probability reaches u — exactly what the sampler does
(``Distribution.final_order``). Rolling here never touches the model or the session's own die.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from desktop_app.core.engine.distribution import Distribution


@dataclass(frozen=True)
class Slice:
    """One token's part of the strip ``[lo, hi)``."""

    token: int
    lo: float
    hi: float

    @property
    def p(self) -> float:
        return self.hi - self.lo


@dataclass(frozen=True)
class Strip:
    """The final distribution laid end to end on [0, 1], and where the step's roll landed."""

    slices: tuple[Slice, ...]  # the first ``top`` survivors in die order
    rest: float  # the mass of the survivors not listed
    u: float | None  # the step's roll (None when greedy or picked by hand)
    landed: int | None  # index in ``slices`` of the slice that holds u (None: in the rest, or no roll)
    chosen: int  # the step's token


def strip(d: Distribution, top: int = 20) -> Strip:
    """The cumulative strip of ``d``'s final distribution (its first ``top`` survivors)."""
    ids, p = d.final_order()
    cum = np.cumsum(np.asarray(p, dtype=np.float64))
    n = min(top, ids.size)
    lo = np.concatenate(([0.0], cum[:-1]))
    slices = tuple(Slice(int(ids[i]), float(lo[i]), float(cum[i])) for i in range(n))
    rest = max(0.0, 1.0 - (float(cum[n - 1]) if n else 0.0))
    landed = None
    if d.u is not None and not d.forced and ids.size:
        j = _first_reaching(cum, d.u)
        # A server's partial report: a roll past what it reported fell in the rest, on no listed slice.
        beyond = d.reported and d.u > float(cum[-1])
        landed = j if j < n and not beyond else None
    return Strip(slices, rest, None if d.forced else d.u, landed, d.chosen)


@dataclass(frozen=True)
class Tally:
    """``n`` rolls of one step's die: how often each survivor came up, beside its probability."""

    ids: np.ndarray  # the survivors in die order (at most the Distribution's ORDER_CAP)
    counts: np.ndarray  # rolls that picked each
    probs: np.ndarray  # each one's probability
    other_count: int  # rolls that landed beyond the listed survivors (their mass: other_p)
    other_p: float
    n: int

    def frequency(self) -> np.ndarray:
        return self.counts / self.n if self.n else self.counts.astype(np.float64)


def roll_many(d: Distribution, n: int, seed: int | None = None) -> Tally:
    """Roll ``d``'s die ``n`` times (greedy: always the first token)."""
    if n < 1:
        raise ValueError(f"roll at least once, not {n} times")
    ids, p = d.final_order()
    p = np.asarray(p, dtype=np.float64)
    cum = np.cumsum(p)
    if d.greedy or ids.size == 1:
        counts = np.zeros(ids.size, dtype=np.int64)
        counts[0] = n
        return Tally(ids, counts, p, 0, float(d.order_rest_p), n)
    u = np.random.default_rng(seed).random(n)
    j = np.searchsorted(cum, u, side="left")
    # u above the listed total: the rest of the survivors when they were cut at ORDER_CAP, otherwise
    # the rounding of the total (the sampler then takes the last token with any probability)
    beyond = j >= ids.size
    other = int(np.count_nonzero(beyond)) if d.order_rest_p > 0 else 0
    if not d.order_rest_p > 0:
        nz = np.flatnonzero(p > 0)
        j[beyond] = nz[-1] if nz.size else ids.size - 1
        beyond[:] = False
    counts = np.bincount(j[~beyond], minlength=ids.size)[: ids.size].astype(np.int64)
    return Tally(ids, counts, p, other, float(d.order_rest_p), n)


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float  # the chance of a deviation at least this large if the die is fair


def chi_square(tally: Tally, min_expected: float = 5.0) -> ChiSquare:
    """Pearson's chi-square of the rolls against the probabilities. Cells expected fewer than
    ``min_expected`` times are pooled into one, as the test requires."""
    expected = np.append(tally.probs * tally.n, tally.other_p * tally.n)
    observed = np.append(tally.counts, tally.other_count).astype(np.float64)
    keep = expected >= min_expected
    pooled_e = float(expected[~keep].sum())
    pooled_o = float(observed[~keep].sum())
    e = expected[keep]
    o = observed[keep]
    if pooled_e > 0:
        e = np.append(e, pooled_e)
        o = np.append(o, pooled_o)
    if e.size < 2:
        return ChiSquare(0.0, 0, 1.0)
    stat = float(((o - e) ** 2 / e).sum())
    dof = int(e.size - 1)
    return ChiSquare(stat, dof, chi2_sf(stat, dof))


def chi2_sf(x: float, k: int) -> float:
    """P(X ≥ x) for X ~ chi-square with ``k`` degrees of freedom: the regularized upper gamma Q(k/2, x/2)."""
    if x <= 0:
        return 1.0
    return _gamma_q(k / 2.0, x / 2.0)


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma (a series below a + 1, a continued fraction above)."""
    gln = math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        ap = a
        for _ in range(1000):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(-x + a * math.log(x) - gln))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return min(1.0, math.exp(-x + a * math.log(x) - gln) * h)


def _first_reaching(cum: np.ndarray, u: float) -> int:
    j = int(np.searchsorted(cum, u, side="left"))
    return min(j, cum.size - 1)
