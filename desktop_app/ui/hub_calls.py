"""Hub calls (search, a repository's files, the memory probe) off the GUI thread, answered on it.

The calls run on a :class:`~desktop_app.ui.background.Background` of their own; the callbacks are called on
the GUI thread, so they may touch widgets. A call of a ``kind`` supersedes the earlier calls of that
kind: their answers are dropped, so a slow search never overwrites a newer one. A hub error becomes the
interface's sentence for it (``core_text.hub_error``).

A hub call cannot be interrupted halfway (huggingface_hub's request has its own timeout), so
:meth:`HubCalls.shutdown` waits a little and then lets a late call finish on its own, answering nobody.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop_app.core.models.hub import HubError
from desktop_app.ui import core_text
from desktop_app.ui.background import Background

log = logging.getLogger(__name__)

# Calls of different kinds run side by side; superseded ones may still be waiting on the network.
THREADS = 6


class HubCalls(QObject):
    """Runs blocking hub functions on worker threads; calls back on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.background = Background(self, name="tokendice-hub", threads=THREADS, sentence=self._sentence)
        self.background.busy_changed.connect(self.busy_changed)

    @property
    def busy(self) -> bool:
        return self.background.busy

    @property
    def closed(self) -> bool:
        return self.background.closed

    def run(
        self,
        kind: str,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
    ) -> int:
        """Run ``fn()`` on a worker thread; ``on_done(value)`` or ``on_error(sentence)`` on this thread.
        Returns the call's id."""
        if self.closed:
            raise RuntimeError("the hub calls are shut down")
        return self.background.run(fn, on_done, on_error, kind=kind).id

    def _sentence(self, exc: BaseException) -> str:
        if isinstance(exc, HubError):
            return core_text.hub_error(exc.kind, exc.sentence)
        # A bug must still reach the user as a sentence, not a dead page.
        log.error("hub call failed unexpectedly", exc_info=exc)
        text = self.tr("The hub call stopped on an unexpected error ({error}); please try again.")
        return text.format(error=exc)

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Drop every pending answer and wait up to ``timeout`` s for the threads; True if all ended."""
        return self.background.shutdown(timeout)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the running calls (for tests and scripts); their answers still arrive as events."""
        return self.background.wait_idle(timeout)
