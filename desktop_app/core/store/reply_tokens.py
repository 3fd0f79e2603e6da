"""The tokens of a saved reply: each token's probabilities, the die's roll, and its candidates.

A step's candidates are stored as one blob (:class:`Candidates`, 12 bytes per candidate); a
:class:`ReplyToken` is made from a ``Session`` step and read back by the store (chats.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from desktop_app.core.engine.distribution import Distribution
    from desktop_app.core.engine.session import Step


@dataclass(frozen=True, eq=False)
class Candidates:
    """One step's top-N candidates: ids, the model's probabilities and the die's, in the chart's order.

    Stored as little-endian ``int32 ids[n] ‖ float32 p_raw[n] ‖ float32 p_final[n]`` (12 bytes each).
    """

    ids: np.ndarray
    p_raw: np.ndarray
    p_final: np.ndarray

    def __post_init__(self) -> None:
        for name, dtype in (("ids", "<i4"), ("p_raw", "<f4"), ("p_final", "<f4")):
            a = np.asarray(getattr(self, name))
            if a.dtype != np.dtype(dtype) or a.flags.writeable:
                a = a.astype(dtype)  # a copy of our own
                a.flags.writeable = False
            object.__setattr__(self, name, a)
        if not self.ids.ndim == 1 or not self.ids.shape == self.p_raw.shape == self.p_final.shape:
            raise ValueError("candidate ids, p_raw and p_final must be flat arrays of the same length.")

    def __len__(self) -> int:
        return int(self.ids.size)

    def to_bytes(self) -> bytes:
        return self.ids.tobytes() + self.p_raw.tobytes() + self.p_final.tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Candidates:
        if len(blob) % 12:
            raise ValueError(f"a candidates blob holds 12 bytes per candidate, not {len(blob)} bytes.")
        n = len(blob) // 12
        return cls(
            np.frombuffer(blob, "<i4", n, 0),
            np.frombuffer(blob, "<f4", n, 4 * n),
            np.frombuffer(blob, "<f4", n, 8 * n),
        )

    @classmethod
    def from_distribution(cls, d: Distribution, top_n: int | None = None) -> Candidates:
        """The first ``top_n`` candidates of a step (all when None), keeping the chosen one."""
        keep = np.arange(d.candidates.size if top_n is None else min(top_n, d.candidates.size))
        if d.chosen_index >= keep.size:
            keep = np.append(keep, d.chosen_index)
        return cls(d.candidates[keep], d.p_raw[keep], d.p_final[keep])


@dataclass(frozen=True, eq=False)
class ReplyToken:
    """One token of a saved reply; its position is its index in the reply's token list."""

    token_id: int
    piece: bytes
    p_raw: float | None = None  # the token's probability under the model's own distribution
    p_final: float | None = None  # … and under the sampler's final distribution (the die's)
    u: float | None = None  # the roll; None when greedy, picked or inserted
    inserted: bool = False  # picked by the user or put in by the app, not the sampler's choice
    candidates: Candidates | None = None
    picked: bool = False  # picked by the user (``inserted`` is True too)

    @classmethod
    def from_step(cls, step: Step, top_n: int | None = None) -> ReplyToken:
        """A row for one ``Session`` step (``top_n`` candidates kept; all the step has when None)."""
        d = step.distribution
        token_id, piece = int(step.token.id), bytes(step.token.piece)
        if d is None:
            return cls(token_id, piece, inserted=True)
        cands = Candidates.from_distribution(d, top_n)
        if step.inserted:  # d is the step whose end token this one replaced
            hit = np.flatnonzero(cands.ids == token_id)
            p = (float(cands.p_raw[hit[0]]), float(cands.p_final[hit[0]])) if hit.size else (None, None)
            return cls(token_id, piece, p[0], p[1], None, True, cands)
        if d.forced:
            return cls(token_id, piece, d.chosen_p_raw, d.chosen_p_final, None, True, cands, picked=True)
        return cls(token_id, piece, d.chosen_p_raw, d.chosen_p_final, d.u, False, cands)

    def to_row(self) -> tuple[Any, ...]:
        """The token as the tokens table stores it: token_id, piece, p_raw, p_final, u, inserted,
        candidates, picked (a picked token counts as inserted too)."""
        return (
            int(self.token_id),
            bytes(self.piece),
            _real(self.p_raw),
            _real(self.p_final),
            _real(self.u),
            int(bool(self.inserted or self.picked)),
            self.candidates.to_bytes() if self.candidates is not None else None,
            int(bool(self.picked)),
        )

    @classmethod
    def from_row(cls, r: Sequence[Any]) -> ReplyToken:
        """The token from the columns :meth:`to_row` gives, in that order."""
        return cls(
            r[0],
            bytes(r[1]),
            r[2],
            r[3],
            r[4],
            bool(r[5]),
            Candidates.from_bytes(r[6]) if r[6] else None,
            picked=bool(r[7]),
        )


def _real(x: float | None) -> float | None:
    return None if x is None else float(x)
