"""One generation step as data: the model's distribution, every sampler stage, the roll and the pick."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from desktop_app.core.sampler_settings import SamplerSettings

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
class Snapshot:
    """The per-candidate part of a step, as the full pipeline computes it (see :class:`Distribution`)."""

    candidates: np.ndarray
    logits: np.ndarray
    p_raw: np.ndarray
    rest_p_raw: float
    stages: tuple[Stage, ...]
    removed_by: tuple[str | None, ...]
    p_final: np.ndarray
    rest_p_final: float
    chosen_index: int
    entropy_bits: float
    eos_p_raw: float
    eos_p_final: float


class Distribution:
    """Everything one step shows: raw distribution, each stage, final distribution, the roll.

    Arrays are per candidate: the ``top_n`` tokens by raw probability (ties by id, tokens at -inf left
    out), in that order, with the chosen token appended when it is not among them. Arrays are read-only,
    and so is the Distribution.

    The roll and the final distribution (``u``, ``chosen``, :meth:`final_order`, ``n_alive``,
    ``chosen_p_final``) are known when the sampler returns. The per-candidate part (candidates, logits,
    p_raw, stages, removed_by, p_final, entropy, end-token mass and the rest) is computed by the full
    pipeline on first access and then cached (:attr:`is_materialized`). That computation only reads its
    inputs: the step's logits (the sampler's caller hands over an array it no longer writes —
    ``Engine.logits()`` is a fresh copy each step), the penalty window, settings, roll and forced token.
    So any thread may trigger it while the engine thread keeps generating, and two threads computing it
    at once get equal results (the later one's is kept). :meth:`release` computes it and drops the
    reference to the logits; every attribute keeps working after.
    """

    __slots__ = (
        "_compute",
        "_snap",
        "chosen",
        "chosen_p_final",
        "forced",
        "greedy",
        "n_alive",
        "n_vocab",
        "order_ids",
        "order_p",
        "order_rest_p",
        "reported",
        "settings",
        "u",
    )

    n_vocab: int
    settings: SamplerSettings | None  # None for a step read back from a saved chat
    u: float | None  # the roll in [0, 1); None when greedy
    chosen: int
    forced: bool  # the caller picked the token, not the die
    greedy: bool
    n_alive: int  # tokens that survived every stage (far-tail ones may round to p = 0.0)
    order_ids: np.ndarray  # see final_order()
    order_p: np.ndarray
    order_rest_p: float
    chosen_p_final: float  # the die's probability of the chosen token (0 when forced outside)
    # The candidates are what a server reported of the step (see core.remote.reported): the rest of the
    # vocabulary is one mass it did not itemise, the entropy is unknown (NaN), and a chosen token it did
    # not report has NaN probabilities.
    reported: bool

    def __init__(
        self,
        *,
        n_vocab: int,
        settings: SamplerSettings | None,
        u: float | None,
        chosen: int,
        forced: bool,
        greedy: bool,
        n_alive: int,
        order_ids: np.ndarray,
        order_p: np.ndarray,
        order_rest_p: float,
        chosen_p_final: float,
        snapshot: Snapshot | None = None,
        compute: Callable[[], Snapshot] | None = None,
        reported: bool = False,
    ) -> None:
        if (snapshot is None) == (compute is None):
            raise ValueError("a Distribution needs either its snapshot or the means to compute it")
        put = object.__setattr__
        put(self, "n_vocab", n_vocab)
        put(self, "settings", settings)
        put(self, "u", u)
        put(self, "chosen", chosen)
        put(self, "forced", forced)
        put(self, "greedy", greedy)
        put(self, "n_alive", n_alive)
        put(self, "order_ids", order_ids)
        put(self, "order_p", order_p)
        put(self, "order_rest_p", order_rest_p)
        put(self, "chosen_p_final", chosen_p_final)
        put(self, "reported", reported)
        put(self, "_snap", snapshot)
        put(self, "_compute", compute)

    def __reduce__(self):
        """Pickled whole (computed first if lazy), without the logits: how a step crosses from the
        engine process to the window."""
        fields = {
            name: getattr(self, name)
            for name in (
                "n_vocab", "settings", "u", "chosen", "forced", "greedy", "n_alive", "order_ids",
                "order_p", "order_rest_p", "chosen_p_final", "reported",
            )
        }  # fmt: skip
        return (_restore, (fields, self._full()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Distribution is read-only; cannot set {name}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Distribution is read-only; cannot delete {name}")

    def __repr__(self) -> str:
        state = "materialized" if self.is_materialized else "lazy"
        return f"<Distribution chosen={self.chosen} u={self.u} n_vocab={self.n_vocab} {state}>"

    # --- the lazy part -------------------------------------------------------------------------------
    @property
    def is_materialized(self) -> bool:
        """Whether the per-candidate part has been computed."""
        return self._snap is not None

    @property
    def is_released(self) -> bool:
        """Whether the Distribution holds no reference to the step's logits (after :meth:`release`, or
        when it was computed whole from the start)."""
        return self._compute is None

    def materialize(self) -> Distribution:
        """Compute the per-candidate part now (if not yet); returns self."""
        self._full()
        return self

    def release(self) -> None:
        """Compute everything still lazy, then drop the reference to the logits."""
        self._full()
        object.__setattr__(self, "_compute", None)

    def _full(self) -> Snapshot:
        snap = self._snap
        if snap is None:
            compute = self._compute
            if compute is None:  # released by another thread meanwhile: it stored the snapshot first
                return self._snap
            snap = compute()
            object.__setattr__(self, "_snap", snap)
        return snap

    @property
    def candidates(self) -> np.ndarray:
        """Token ids (int64)."""
        return self._full().candidates

    @property
    def logits(self) -> np.ndarray:
        """The candidates' raw logits (float32)."""
        return self._full().logits

    @property
    def p_raw(self) -> np.ndarray:
        """The model's own softmax at temperature 1, over the whole vocabulary."""
        return self._full().p_raw

    @property
    def rest_p_raw(self) -> float:
        """Raw mass of every token that is not a candidate."""
        return self._full().rest_p_raw

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Active stages in order: ban, penalties, top_k, top_p, min_p, temperature."""
        return self._full().stages

    @property
    def removed_by(self) -> tuple[str | None, ...]:
        """The stage that removed each candidate."""
        return self._full().removed_by

    @property
    def p_final(self) -> np.ndarray:
        """The die's probabilities (the temperature stage's p)."""
        return self._full().p_final

    @property
    def rest_p_final(self) -> float:
        return self._full().rest_p_final

    @property
    def chosen_index(self) -> int:
        """Of the chosen token in candidates."""
        return self._full().chosen_index

    @property
    def entropy_bits(self) -> float:
        """Of the raw distribution."""
        return self._full().entropy_bits

    @property
    def eos_p_raw(self) -> float:
        """Raw mass of the end-of-generation tokens."""
        return self._full().eos_p_raw

    @property
    def eos_p_final(self) -> float:
        return self._full().eos_p_final

    @classmethod
    def from_saved(
        cls,
        ids: np.ndarray,
        p_raw: np.ndarray,
        p_final: np.ndarray,
        *,
        chosen: int,
        u: float | None,
        forced: bool,
        n_vocab: int,
        eog_ids: frozenset[int] = frozenset(),
    ) -> Distribution:
        """A step read back from a saved chat: only its top candidates' probabilities are known.

        Logits and the entropy are NaN, there are no stages (a candidate the die could not pick is
        marked removed by ``"sampling"``), and the mass of the other tokens is what the candidates leave.
        """
        ids = np.asarray(ids, dtype=np.int64)
        p_raw = np.asarray(p_raw, dtype=np.float64)
        p_final = np.asarray(p_final, dtype=np.float64)
        if ids.ndim != 1 or not ids.shape == p_raw.shape == p_final.shape or ids.size == 0:
            raise ValueError("saved candidates need ids, p_raw and p_final of one same, non-zero length.")
        hit = np.flatnonzero(ids == chosen)
        if hit.size == 0:
            raise ValueError(f"the chosen token {chosen} is not among the saved candidates.")
        eog = np.fromiter((int(t) in eog_ids for t in ids), dtype=bool, count=ids.size)
        alive = np.flatnonzero(p_final > 0)
        order = alive[np.lexsort((ids[alive], -p_final[alive]))]
        snap = Snapshot(
            candidates=_frozen(ids),
            logits=_frozen(np.full(ids.size, np.nan, dtype=np.float32)),
            p_raw=_frozen(p_raw),
            rest_p_raw=max(0.0, 1.0 - float(np.nansum(p_raw))),
            stages=(),
            removed_by=tuple(None if not p <= 0 else "sampling" for p in p_final.tolist()),
            p_final=_frozen(p_final),
            rest_p_final=max(0.0, 1.0 - float(np.nansum(p_final))),
            chosen_index=int(hit[0]),
            entropy_bits=float("nan"),
            eos_p_raw=float(np.nansum(p_raw[eog])),
            eos_p_final=float(np.nansum(p_final[eog])),
        )
        return cls(
            n_vocab=n_vocab,
            settings=None,  # not saved with the step
            u=u,
            chosen=int(chosen),
            forced=forced,
            greedy=u is None and not forced,
            n_alive=int(alive.size),
            order_ids=_frozen(ids[order]),
            order_p=_frozen(p_final[order]),
            order_rest_p=max(0.0, 1.0 - float(p_final[order].sum())),
            chosen_p_final=float(p_final[hit[0]]),
            snapshot=snap,
            # A server's step whose token it did not report: its numbers are unknown (NaN), kept so.
            reported=bool(np.isnan(p_raw).any()),
        )

    @property
    def is_saved(self) -> bool:
        """Read back from a saved chat (see :meth:`from_saved`): no logits, stages or settings."""
        return self.settings is None

    # --- derived --------------------------------------------------------------------------------------
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

    def chosen_interval(self) -> tuple[float, float] | None:
        """The chosen token's slice ``[lo, hi]`` of the cumulative strip, or None if it has no slice."""
        hit = np.flatnonzero(self.order_ids == self.chosen)
        if hit.size == 0:
            return None
        cum = np.cumsum(self.order_p)
        i = int(hit[0])
        return (float(cum[i - 1]) if i else 0.0), float(cum[i])


def _restore(fields: dict[str, Any], snapshot: Snapshot) -> Distribution:
    for name in ("order_ids", "order_p"):
        fields[name] = _frozen(fields[name])
    return Distribution(**fields, snapshot=snapshot)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a
