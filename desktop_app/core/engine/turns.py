"""Turns at one engine, first come first served (:class:`Turns`): the window's own requests and a served
API's take the engine one at a time, in the order they asked, so neither can keep the other waiting
behind a stream of its own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Turns:
    """A lock handed out in the order it was asked for (a ticket lock): ``with turns.turn(): …``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0  # the next ticket to give
        self._now = 0  # the ticket whose turn it is

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._cond:
            ticket = self._next
            self._next += 1
            while ticket != self._now:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._now += 1
                self._cond.notify_all()

    @property
    def waiting(self) -> int:
        """How many wait for their turn (the one holding it not counted)."""
        with self._cond:
            return max(0, self._next - self._now - 1)
