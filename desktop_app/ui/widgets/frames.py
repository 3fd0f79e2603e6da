"""Drawing at display rate: a widget whose state may change many times a second (a step per token)
marks itself dirty and draws at most once a frame, and not at all while nobody can see it."""

from __future__ import annotations

import time
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

FRAME_MS = 33  # the most frames a second: ~30
#: The fewest, when drawing costs more than its budget: 10 a second. On a 2-core machine whose cores
#: llama.cpp's two threads hold, a frame costs 5-9 ms of CPU: at 15 a second the window took 10-12 % of a
#: core and left the model 0.82-0.84 of its speed, at 10 a second (or 11-13, within the budget) 8-9 %
#: and 0.86-0.87 (medians of 6 and 9 rounds of the two, alternated).
SLOWEST_FRAME_MS = 100
#: The least time between a frame's two halves: Qt paints a window's changes 5 ms after them at most.
HALF_MIN_MS = 8
#: The share of one core the window may spend between frames while it animates (a reply streaming):
#: llama.cpp's threads wait for each other at every layer, so CPU the window takes slows the model more
#: than its own share.
DRAW_BUDGET = 0.08


class FrameClock(QObject):
    """One frame timer for all the views of the app. A view whose state changed asks for the next frame
    (:meth:`request`); at the frame, every view that asked draws, one after the other in the same pass
    of the event loop, so Qt paints them all in one pass of its own (views on timers of their own drew
    at different moments of a frame: a paint pass each). The timer runs only while a view waits: an
    idle window does not wake up. A change after a pause draws at once; while views keep changing (a
    reply streaming), frames come every :attr:`interval_ms`.

    The interval follows what frames cost: while they come one after the other, the clock measures the
    process's CPU time between them, and spaces them so that it stays within ``DRAW_BUDGET`` of a core
    (between ``FRAME_MS`` and ``SLOWEST_FRAME_MS``). On a fast machine that is 30 frames a second; on a
    slow one the window draws fewer frames rather than take the CPU from the model.
    ``interval_changed`` says so, in seconds, so the engine can send steps at that pace."""

    interval_changed = Signal(float)

    _shared: FrameClock | None = None

    def __init__(self, parent: QObject | None = None, *, budget: float = DRAW_BUDGET) -> None:
        super().__init__(parent)
        self.budget = budget
        self._waiting: dict[Callable[[], None], None] = {}  # in the order asked, each once
        self._second: dict[Callable[[], None], None] = {}  # the same, for the frame's second half
        self._half_timer = QTimer(self)
        self._half_timer.setSingleShot(True)
        self._half_timer.timeout.connect(self._second_half)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.tick)
        self.ticks = 0
        self.interval_ms = float(FRAME_MS)
        self.share: float | None = None  # the process's CPU per second of animation (smoothed)
        self._said = self.interval_ms  # the interval last announced
        self._last: tuple[float, float] | None = None  # (wall, process CPU) at the last frame

    @classmethod
    def shared(cls) -> FrameClock:
        """The application's clock."""
        clock = cls._shared
        if clock is None or not shiboken6.isValid(clock):
            clock = cls._shared = FrameClock(QCoreApplication.instance())
        return clock

    def request(self, draw: Callable[[], None], *, second: bool = False) -> None:
        """Call ``draw`` at the next frame (once, however often asked before it). ``second``: in the
        frame's second half, after Qt has painted the first (see :meth:`tick`)."""
        (self._second if second else self._waiting)[draw] = None
        if not self._timer.isActive():
            since = (time.perf_counter() - self._last[0]) * 1000 if self._last is not None else 1e9
            self._timer.start(max(0, round(self.interval_ms - since)))

    @property
    def pending(self) -> bool:
        return bool(self._waiting) or bool(self._second)

    @property
    def next_frame_ms(self) -> int | None:
        """How long until the next frame is due, in milliseconds (0: the next turn of the event loop);
        ``None`` while no view waits."""
        return self._timer.remainingTime() if self._timer.isActive() else None

    def tick(self) -> None:
        """The frame: every view that asked draws now; those that asked for the second half (the chat,
        whose text costs the most to lay out and paint) draw half a frame later, after Qt has painted
        the first ones (Qt paints a window at most every 5 ms after a change). Two shorter passes with
        the loop's other events between them, instead of one long one: on a small machine whose cores
        llama.cpp's threads keep busy, a long pass is stretched the most."""
        self._timer.stop()
        self._measure()
        waiting, self._waiting = self._waiting, {}
        self.ticks += 1
        _draw_all(waiting)
        if self._second and not self._half_timer.isActive():
            self._half_timer.start(max(HALF_MIN_MS, round(self.interval_ms / 2)))

    def _second_half(self) -> None:
        second, self._second = self._second, {}
        _draw_all(second)

    def _measure(self) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        last, self._last = self._last, (now, cpu)
        if last is None or now - last[0] <= 0 or now - last[0] > 2.5 * self.interval_ms / 1000:
            return  # the first frame after a pause: nothing to measure
        share = (cpu - last[1]) / (now - last[0])
        self.share = share if self.share is None else 0.8 * self.share + 0.2 * share
        # A frame's cost is share × interval; the interval that keeps it within the budget:
        wanted = self.share * self.interval_ms / self.budget
        self.interval_ms = min(SLOWEST_FRAME_MS, max(FRAME_MS, 0.8 * self.interval_ms + 0.2 * wanted))
        if abs(self.interval_ms - self._said) >= 4:
            self._said = self.interval_ms
            self.interval_changed.emit(self.interval_ms / 1000)


def _draw_all(draws: dict[Callable[[], None], None]) -> None:
    for draw in draws:
        owner = getattr(draw, "__self__", None)
        if owner is None or not isinstance(owner, QObject) or shiboken6.isValid(owner):
            draw()


def behind_a_tab(widget: QWidget) -> bool:
    """Shown, but with nothing of it on screen: its dock is behind another one's tab."""
    return widget.isVisible() and widget.visibleRegion().isEmpty()


class FramedWidget(QWidget):
    """Call :meth:`_schedule` when the state changes; the app's :class:`FrameClock` then calls
    :meth:`_redraw` once, at the next frame. A hidden widget (or one
    behind another dock's tab) waits until it is shown: connect its dock's ``visibilityChanged`` to
    :meth:`shown_again`."""

    redrawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dirty = False
        self.redraw_count = 0

    def _redraw(self) -> None:  # pragma: no cover - every subclass draws
        raise NotImplementedError

    def shown_again(self) -> None:
        """The widget came into view (its dock's tab was chosen): draw what is waiting."""
        self._schedule()

    def _schedule(self) -> None:
        self._dirty = True
        FrameClock.shared().request(self.flush)

    @property
    def dirty(self) -> bool:
        """A change is waiting for the next frame."""
        return self._dirty

    def in_view(self) -> bool:
        """On screen for someone to see (a dock behind another one's tab counts as visible but shows
        nothing)."""
        return self.isVisible() and not behind_a_tab(self)

    def flush(self) -> None:
        """Draw the latest state now if anything changed (the frame clock calls this; a widget out of
        view draws when it comes up)."""
        if not self._dirty or not self.in_view():
            return
        self._dirty = False
        self._redraw()
        self.redraw_count += 1
        self.redrawn.emit()
