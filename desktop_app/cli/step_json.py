"""A generated token as the command line's JSON gives it (``generate``, ``chat``, local or on a server)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_app.core.engine.session import Step


def step_data(step: Step) -> dict[str, Any]:
    """One generated token as ``generate --json`` and ``chat --json`` give it: id, text, bytes, the
    model's and the sampler's probability of it and the die's roll (None for a token the app inserted)."""
    d = step.distribution if not step.inserted else None
    return {
        "id": step.token.id,
        "piece": step.token.text,
        "bytes": step.token.hex,
        "text": step.text,
        "p_raw": known(d.chosen_p_raw) if d is not None else None,
        "p_final": known(d.chosen_p_final) if d is not None else None,
        "u": d.u if d is not None else None,
        "inserted": step.inserted,
        "end": step.end,
    }


def known(p: float) -> float | None:
    """JSON has no NaN: a probability nobody reported (a server's token from the unreported rest) is null."""
    return None if math.isnan(p) else p
