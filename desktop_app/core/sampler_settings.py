"""The sampler's settings, with llama.cpp's meanings, validated when they are made."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from dataclasses import replace as _dc_replace
from typing import Any

import numpy as np

_FLOATS = ("temperature", "top_p", "min_p", "repeat_penalty", "frequency_penalty", "presence_penalty")
_INTS = ("top_k", "repeat_last_n", "wait_count", "think_wait", "think_budget")


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
    # A thinking model (its reply opens with <think>): its close taken back and wait_text written
    # instead, N times; and the close written for it after N thinking tokens (0: no budget).
    think_wait: int = 0
    think_budget: int = 0

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
        _require(self.think_wait >= 0, f"think_wait must be 0 or more, not {self.think_wait}.")
        budget = self.think_budget
        _require(budget >= 0, f"think_budget must be 0 (none) or a number of tokens, not {budget}.")
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
