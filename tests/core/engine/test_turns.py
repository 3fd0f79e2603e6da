"""Turns at the engine go in the order they were asked for, whoever asks (the window or a served client)."""

from __future__ import annotations

import threading
import time

from desktop_app.core.engine.turns import Turns


def test_turns_are_taken_in_the_order_they_were_asked_for():
    turns = Turns()
    order: list[int] = []
    holding = threading.Event()

    def first() -> None:
        with turns.turn():
            holding.set()
            time.sleep(0.2)  # the others ask meanwhile, one after the other
            order.append(0)

    def later(i: int) -> None:
        with turns.turn():
            order.append(i)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    holding.wait(5)
    for i in range(1, 6):
        t = threading.Thread(target=later, args=(i,))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while turns.waiting < i and time.monotonic() < deadline:  # it has its ticket before the next asks
            time.sleep(0.001)
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4, 5]
    assert turns.waiting == 0
