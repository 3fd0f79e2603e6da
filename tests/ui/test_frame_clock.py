"""The app's frame clock: every view that changed draws in one frame, nothing wakes an idle window, a
change after a pause draws at once, and frames space out when drawing costs more than its budget."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from desktop_app.ui.widgets.chat import ChatPane
from desktop_app.ui.widgets.frames import FRAME_MS, SLOWEST_FRAME_MS, FrameClock


class View(QObject):
    def __init__(self, cost_s: float = 0.0) -> None:
        super().__init__()
        self.cost_s = cost_s
        self.drawn: list[float] = []

    def draw(self) -> None:
        self.drawn.append(time.perf_counter())
        end = time.process_time() + self.cost_s
        while time.process_time() < end:  # a frame that costs this much CPU
            pass


def test_views_that_changed_draw_together_once_per_frame(qtbot):
    clock = FrameClock()
    a, b = View(), View()
    for _ in range(5):
        clock.request(a.draw)
        clock.request(b.draw)
    qtbot.waitUntil(lambda: bool(a.drawn and b.drawn), timeout=1000)
    assert clock.ticks == 1 and len(a.drawn) == len(b.drawn) == 1 and not clock.pending


def test_a_change_after_a_pause_draws_at_once_and_the_next_waits_a_frame(qtbot):
    clock = FrameClock()
    view = View()
    assert clock.next_frame_ms is None  # idle: no timer runs
    clock.request(view.draw)
    assert clock.next_frame_ms == 0  # at once: the next turn of the event loop, whatever the load
    qtbot.waitUntil(lambda: bool(view.drawn), timeout=1000)
    clock.request(view.draw)  # right after a frame: it waits for the next one
    qtbot.waitUntil(lambda: len(view.drawn) == 2, timeout=1000)
    assert view.drawn[1] - view.drawn[0] >= (FRAME_MS - 2) / 1000


def test_an_idle_window_is_not_woken_by_its_views(qtbot):
    """The chat pane drew on a timer of its own, 30 times a second, with nothing to draw."""
    pane = ChatPane()
    qtbot.addWidget(pane)
    pane.show()
    clock = FrameClock.shared()
    qtbot.waitUntil(lambda: not clock.pending, timeout=2000)  # its first layout is done
    renders = (pane.renders, pane.tail_renders, pane.appends)

    class Timers(QObject):
        seen = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Timer and _inside(obj, pane):
                Timers.seen += 1
            return False

    timers = Timers()
    QApplication.instance().installEventFilter(timers)
    try:
        qtbot.wait(400)
    finally:
        QApplication.instance().removeEventFilter(timers)
    assert Timers.seen == 0 and (pane.renders, pane.tail_renders, pane.appends) == renders


def _inside(obj: QObject, widget: QObject) -> bool:
    while obj is not None:
        if obj is widget:
            return True
        obj = obj.parent()
    return False


def test_frames_space_out_when_drawing_costs_more_than_the_budget_and_come_back(qtbot):
    clock = FrameClock(budget=0.12)  # the test's own waiting costs a few percent of a core too
    told: list[float] = []
    clock.interval_changed.connect(told.append)
    view = View(cost_s=0.02)  # 20 ms a frame: 60 % of a core at 30 frames a second

    def animate(frames: int) -> None:
        for _ in range(frames):
            n = len(view.drawn)
            clock.request(view.draw)
            qtbot.waitUntil(lambda n=n: len(view.drawn) > n, timeout=2000)
            QApplication.processEvents()

    animate(40)
    assert clock.interval_ms == SLOWEST_FRAME_MS  # 20 ms every 100 ms is still 20 %: the slowest
    assert told and told[-1] * 1000 > FRAME_MS + 20
    gaps = [b - a for a, b in zip(view.drawn[-10:], view.drawn[-9:], strict=False)]
    assert min(gaps) >= (SLOWEST_FRAME_MS - 5) / 1000
    view.cost_s = 0.0  # cheap frames again: back to the full rate
    animate(40)
    assert clock.interval_ms < FRAME_MS + 3 and told[-1] * 1000 < FRAME_MS + 8


def test_the_chat_draws_in_the_frame_s_second_half_after_the_first_is_painted(qtbot):
    """The chat's text costs the most: it draws half a frame later, after Qt has painted the views of
    the frame's first half (a timer due meanwhile, like the heartbeat of bench_gui, runs between the
    two), not in one long pass with them."""
    clock = FrameClock()
    chart, chat = View(), View()
    beat: list[float] = []
    painted: list[float] = []

    class Painted(QObject):
        def eventFilter(self, _obj, event) -> bool:
            if event.type() == QEvent.Type.UpdateRequest:
                painted.append(time.perf_counter())
            return False

    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    spy = Painted()
    widget.installEventFilter(spy)
    chart_draw = chart.draw

    def chart_changes() -> None:
        chart_draw()
        widget.update()  # the first half's paint

    clock.request(chart_changes)
    clock.request(chat.draw, second=True)
    clock.tick()
    assert len(chart.drawn) == 1 and chat.drawn == []  # not in the same pass
    assert clock.pending
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, lambda: beat.append(time.perf_counter()))
    qtbot.waitUntil(lambda: bool(chat.drawn), timeout=1000)
    assert not clock.pending
    assert painted and painted[0] < chat.drawn[0]  # the first half was painted before the chat drew
    assert beat and beat[0] < chat.drawn[0]  # and other events ran between the halves
    clock.request(chat.draw, second=True)  # asked again for one frame: drawn once
    clock.request(chat.draw, second=True)
    clock.tick()
    qtbot.waitUntil(lambda: len(chat.drawn) == 2, timeout=1000)
    qtbot.wait(20)
    assert len(chat.drawn) == 2
