"""Top-k selection over a vocabulary without sorting it: block maxima, threshold, sort a small pool.

Every order here is the die's order: float32 value descending, equal values by token id (-0.0 equals
0.0). Inputs are only read, never written.
"""

from __future__ import annotations

import numpy as np

NO_IDS = np.empty(0, dtype=np.int64)
NO_IDS.flags.writeable = False
SMALL = 4096  # below this many tokens: float64 passes, no block maxima


def block_max(v: np.ndarray) -> np.ndarray:
    """Maxima of disjoint blocks of 64 values (``v`` itself when short): the k-th largest block maximum
    is at most the k-th largest value, so it is a threshold that at least k values reach."""
    if v.size < SMALL:
        return v
    cols = v.size // 64
    bm = v[: cols * 64].reshape(64, cols).max(axis=0)
    return bm if cols * 64 == v.size else np.concatenate((bm, v[cols * 64 :]))


def top(
    v: np.ndarray, k: int, bm: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """Ids and values of the ``k`` largest values of ``v`` in die order, and the largest value of ``v``
    (NaN when ``v`` holds one). ``bm`` is :func:`block_max` of ``v``; ``rows`` may pass
    :func:`block_rows` of its size. Values at -inf are included when fewer than ``k`` are finite.
    """
    n = v.size
    k = min(k, n)
    if k <= 0:
        return NO_IDS, v[:0], float(v.max())
    if bm is v or k * 4 > bm.size:
        if k < n:
            part = np.partition(v, (n - k, n - 1))  # NaN sorts last
            idx = np.flatnonzero(v >= part[n - k])
            mx = part[n - 1]
        else:
            idx, mx = np.arange(n), v.max()
    else:
        nb = bm.size
        part = np.partition(bm, (nb - k, nb - 1))
        thr, mx = part[nb - k], part[nb - 1]
        blocks = np.flatnonzero(bm >= thr)  # every value >= thr lies in one of these blocks
        cols = n // 64
        if blocks.size * 256 > n:  # many ties: one pass is cheaper
            idx = np.flatnonzero(v >= thr)
        else:
            if rows is None:
                rows = block_rows(n)
            if nb == cols:
                idx = (rows + blocks).ravel()
            else:
                tail = blocks[blocks >= cols] + (cols * 63)
                idx = np.concatenate(((rows + blocks[blocks < cols]).ravel(), tail))
            idx = idx[v[idx] >= thr]
    vals = v[idx]
    # idx is ascending, so a stable sort of the negated values breaks ties by id
    o = np.argsort(-vals, kind="stable")[:k]
    return idx[o], vals[o], float(mx)


def block_rows(n: int) -> np.ndarray:
    """The first id of each row of :func:`block_max`'s (64, n // 64) view, as a column."""
    cols = n // 64
    return np.arange(0, cols * 64, cols)[:, None]


def sort_desc(vals: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """``ids`` (any order) sorted by their float32 ``vals`` in die order: one sort of packed uint64 keys."""
    bits = (vals + np.float32(0.0)).view(np.uint32)  # + 0 turns -0.0 into 0.0
    ascending = np.where(bits >> 31, ~bits, bits | np.uint32(0x80000000))
    keys = ((~ascending).astype(np.uint64) << np.uint64(32)) | ids.astype(np.uint64)
    keys.sort()
    return (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)


def member(a: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which values of ``a`` are in the sorted, non-empty ``sorted_ids``."""
    j = np.minimum(np.searchsorted(sorted_ids, a), sorted_ids.size - 1)
    return sorted_ids[j] == a


def distinct(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (np.unique costs more on a few dozen values)."""
    if a.size == 0:
        return NO_IDS, NO_IDS
    a = np.sort(a)
    starts = np.flatnonzero(np.concatenate(([True], a[1:] != a[:-1])))
    return a[starts], np.diff(np.append(starts, a.size))


class Order:
    """The finite values of ``vals`` in die order, computed one prefix at a time.

    With ``base`` (the order of an array equal to ``vals`` except at the sorted ``changed`` ids), a
    prefix is merged from the base's prefix and the changed ids, without a pass over ``vals``.
    """

    __slots__ = ("base", "bm", "changed", "complete", "ids", "vals")

    def __init__(
        self, vals: np.ndarray, bm: np.ndarray | None = None, base: Order | None = None, changed=NO_IDS
    ) -> None:
        self.vals, self.bm, self.base, self.changed = vals, bm, base, changed
        self.ids, self.complete = NO_IDS, False

    def top(self, k: int) -> np.ndarray:
        if k > self.ids.size and not self.complete:
            if self.base is None:
                assert self.bm is not None, "an Order without a base is given its values' block maxima"
                ids = top(self.vals, k, self.bm)[0]
            else:  # the unchanged among the first k are among the base's first k + len(changed)
                pool = self.base.top(k + self.changed.size)
                pool = np.concatenate((pool[~member(pool, self.changed)], self.changed))
                ids = sort_desc(self.vals[pool], pool)[:k]
            ids = ids[: int(np.count_nonzero(self.vals[ids] > -np.inf))]
            self.ids, self.complete = ids, ids.size < k or k >= self.vals.size
        return self.ids[:k]
