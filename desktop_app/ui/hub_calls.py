"""Hub calls (search, a repository's files, the memory probe) off the GUI thread, answered on it.

Each call runs on a Python thread of its own; its result comes back as a queued signal to
:meth:`HubCalls._deliver`, a slot of this object (which lives on the GUI thread), and only there are the
caller's callbacks invoked — so a callback may be a lambda and may touch widgets. (A lambda connected
directly to a signal emitted from a worker would run on the worker.) A call of a ``kind`` supersedes the
earlier calls of that kind: their answers are dropped, so a slow search never overwrites a newer one.

A hub call cannot be interrupted halfway (huggingface_hub's request has its own timeout), so
:meth:`HubCalls.shutdown` waits a little and then lets a late thread finish on its own: it only holds
its own objects, and its answer, if any, is dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from desktop_app.core.models.hub import HubError
from desktop_app.ui import core_text

log = logging.getLogger(__name__)


class HubCalls(QObject):
    """Runs blocking hub functions on worker threads; calls back on the GUI thread."""

    _answered = Signal(int, bool, object)  # call id, ok, value or error sentence (emitted by workers)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}  # kind -> the id whose answer counts
        self._pending: dict[int, tuple[str, Callable[[Any], None], Callable[[str], None]]] = {}
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._answered.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def closed(self) -> bool:
        return self._closed

    def run(
        self,
        kind: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> int:
        """Run ``fn()`` on a worker thread; ``on_done(value)`` or ``on_error(sentence)`` on this thread."""
        if self._closed:
            raise RuntimeError("the hub calls are shut down")
        call_id = next(self._ids)
        self._latest[kind] = call_id
        was_busy = self.busy
        self._pending[call_id] = (kind, on_done, on_error)
        thread = threading.Thread(
            target=self._work, args=(call_id, fn), name=f"tokendice-hub-{kind}", daemon=True
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        if not was_busy:
            self.busy_changed.emit(True)
        return call_id

    def _work(self, call_id: int, fn: Callable[[], Any]) -> None:
        try:
            value: Any = fn()
            ok = True
        except HubError as exc:
            value, ok = core_text.hub_error(exc.kind, exc.sentence), False
        except Exception as exc:  # a bug must still reach the user as a sentence, not a dead page
            log.exception("hub call failed unexpectedly")
            text = self.tr("The hub call stopped on an unexpected error ({error}); please try again.")
            value, ok = text.format(error=exc), False
        with contextlib.suppress(RuntimeError):  # this object is gone (the window closed): nobody waits
            self._answered.emit(call_id, ok, value)

    @Slot(int, bool, object)
    def _deliver(self, call_id: int, ok: bool, value: object) -> None:
        entry = self._pending.pop(call_id, None)
        if entry is None or self._closed:
            return
        if not self._pending:
            self.busy_changed.emit(False)
        kind, on_done, on_error = entry
        if self._latest.get(kind) != call_id:
            return  # superseded by a newer call of the same kind
        if ok:
            on_done(value)
        else:
            on_error(str(value))

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Drop every pending answer and wait up to ``timeout`` s for the threads; True if all ended."""
        self._closed = True
        self._pending.clear()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]
        return not self._threads

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Join the running threads (for tests and the screenshot script); answers still arrive as events."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)
