"""Drawing at display rate: a widget whose state may change many times a second (a step per token)
marks itself dirty and draws at most once a frame, and not at all while nobody can see it."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QWidget

FRAME_MS = 33  # ~30 redraws a second at most


def behind_a_tab(widget: QWidget) -> bool:
    """Shown, but with nothing of it on screen: its dock is behind another one's tab."""
    return widget.isVisible() and widget.visibleRegion().isEmpty()


class FramedWidget(QWidget):
    """Call :meth:`_schedule` when the state changes; the timer then calls :meth:`_redraw` once, at most
    every ``FRAME_MS``. A hidden widget (or one behind another dock's tab) waits until it is shown:
    connect its dock's ``visibilityChanged`` to :meth:`shown_again`."""

    redrawn = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._dirty = False
        self.redraw_count = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.flush)

    def _redraw(self) -> None:  # pragma: no cover - every subclass draws
        raise NotImplementedError

    def shown_again(self) -> None:
        """The widget came into view (its dock's tab was chosen): draw what is waiting."""
        self._schedule()

    def _schedule(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    @property
    def dirty(self) -> bool:
        """A change is waiting for the next frame."""
        return self._dirty

    def in_view(self) -> bool:
        """On screen for someone to see (a dock behind another one's tab counts as visible but shows
        nothing)."""
        return self.isVisible() and not behind_a_tab(self)

    def flush(self) -> None:
        """Draw the latest state now if anything changed (the timer calls this; a widget out of view
        draws when it comes up)."""
        self._timer.stop()
        if not self._dirty or not self.in_view():
            return
        self._dirty = False
        self._redraw()
        self.redraw_count += 1
        self.redrawn.emit()
