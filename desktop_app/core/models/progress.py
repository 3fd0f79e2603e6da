"""Progress of a transfer: bytes done of a total, a smoothed speed and the time left."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Progress:
    done_bytes: int
    total_bytes: int | None
    bytes_per_s: float  # smoothed over the last seconds
    eta_s: float | None  # None while the speed or the size is unknown

    @property
    def fraction(self) -> float | None:
        return self.done_bytes / self.total_bytes if self.total_bytes else None


class Meter:
    """Turns byte counts into Progress callbacks, at most every PROGRESS_INTERVAL_S, with a smoothed speed."""

    def __init__(self, callback: Callable[[Progress], None] | None, total: int | None):
        self.callback = callback
        self.total = total
        self.speed = 0.0
        self._last_t = time.monotonic()
        self._last_done: int | None = None

    def restart(self, done: int) -> None:
        self._last_t, self._last_done = time.monotonic(), done

    def update(self, done: int, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        elapsed = now - self._last_t
        if not force and elapsed < PROGRESS_INTERVAL_S:
            return
        if self._last_done is not None and elapsed > 0 and done >= self._last_done:
            instant = (done - self._last_done) / elapsed
            self.speed = instant if self.speed == 0 else 0.3 * instant + 0.7 * self.speed
        self._last_t, self._last_done = now, done
        eta = None
        if self.total is not None and self.speed > 0:
            eta = max(0.0, (self.total - done) / self.speed)
        self.callback(Progress(done, self.total, self.speed, eta))
