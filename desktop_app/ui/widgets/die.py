"""The die made visible for the current step: the cumulative strip with the roll (:class:`DieStrip`)
above many rolls of the same die with the chi-square check (:class:`RollHistogram`).

Feed it like the next-token chart: ``set_step(distribution, label_of, eog_ids)`` for every step shown;
it stores the step and both parts draw it at display rate. A step shown after a pause is seen rolled:
the strip's marker runs and settles on u (:meth:`DieView.set_animate` turns that off); what the view
reports is the real roll at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.core.engine import dice
from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.die_rolls import RollHistogram
from desktop_app.ui.widgets.die_strip import DieStrip

__all__ = ["DieStrip", "DieView", "RollHistogram"]


class DieView(QWidget):
    """The strip of the step's die with its roll, and a histogram of many rolls beside the odds."""

    token_clicked = Signal(int)  # a slice of the strip was clicked: pick that token by hand
    rolled = Signal(int, int)  # the user rolled the die many times: count, seed

    def __init__(self, parent: QWidget | None = None, *, seed: int = 1) -> None:
        super().__init__(parent)
        self.strip_view = DieStrip(self)
        self.rolls_view = RollHistogram(self, seed=seed)
        self.strip_view.token_clicked.connect(self.token_clicked)
        self.rolls_view.rolled.connect(self.rolled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self.strip_view)
        layout.addWidget(self.rolls_view, 1)

    # --- feeding -------------------------------------------------------------------------------
    def set_step(
        self, d: Distribution, label_of: Callable[[int], str], eog_ids: frozenset[int] = frozenset()
    ) -> None:
        """Show step ``d`` at the next frame; rolls shown are rolled again for it (same count, seed)."""
        self.strip_view.set_step(d, label_of, eog_ids)
        self.rolls_view.set_step(d, label_of, eog_ids)

    def clear(self) -> None:
        """Show nothing; the rolls are forgotten too."""
        self.strip_view.clear()
        self.rolls_view.clear()

    def step(self) -> Distribution | None:
        return self.strip_view.step()

    def shown_again(self) -> None:
        self.strip_view.shown_again()
        self.rolls_view.shown_again()

    def flush(self) -> None:
        """Draw now what is waiting for the next frame."""
        self.strip_view.flush()
        self.rolls_view.flush()

    @property
    def dirty(self) -> bool:
        return self.strip_view.dirty or self.rolls_view.dirty

    def set_font_scale(self, scale: float) -> None:
        """Scale every text (1.0 = the application font; 1.5–2 for a projector)."""
        self.strip_view.set_font_scale(scale)
        self.rolls_view.set_font_scale(scale)

    def font_scale(self) -> float:
        return self.strip_view.font_scale()

    # --- the roll of the step ------------------------------------------------------------------
    def set_animate(self, on: bool) -> None:
        """Roll the marker across the strip for a step shown after a pause (on), or show it at once."""
        self.strip_view.set_animate(on)

    def animates(self) -> bool:
        return self.strip_view.animates()

    def rolling(self) -> bool:
        """The marker is being rolled now (what is painted; the state is already the real roll)."""
        return self.strip_view.rolling()

    def finish_roll(self) -> None:
        """Show the end of a roll now: the marker at u, the landed slice highlighted."""
        self.strip_view.finish_roll()

    def painted_u(self) -> float | None:
        """Where the marker is drawn now (on its way while it rolls)."""
        return self.strip_view.painted_u()

    def marked_u(self) -> float | None:
        """Where the roll's marker stands (None: greedy, picked by hand, nothing shown)."""
        return self.strip_view.marked_u()

    def landed_token(self) -> int | None:
        """The token whose slice holds the marker."""
        return self.strip_view.landed_token()

    def landed_interval(self) -> tuple[float, float] | None:
        """The landed token's cumulative ``(lo, hi)`` on the strip."""
        return self.strip_view.landed_interval()

    def strip(self) -> dice.Strip | None:
        """The strip as drawn (the slices in die order, where u landed)."""
        return self.strip_view.strip()

    def roll_text(self) -> str:
        """The sentence under the strip."""
        return self.strip_view.roll_text()

    # --- many rolls ----------------------------------------------------------------------------
    def roll(self, n: int, seed: int | None = None) -> dice.Tally | None:
        """Roll the step's die ``n`` times (with ``seed``, else the seed box's); returns the tally."""
        return self.rolls_view.roll(n, seed)

    def new_rolls(self) -> dice.Tally | None:
        """A new random seed, and the rolls again."""
        return self.rolls_view.new_rolls()

    def clear_rolls(self) -> None:
        self.rolls_view.clear_rolls()

    def seed(self) -> int:
        return self.rolls_view.seed()

    def set_seed(self, seed: int) -> None:
        self.rolls_view.set_seed(seed)

    def last_tally(self) -> dice.Tally | None:
        """The rolls shown, for the step given last (None before any roll)."""
        return self.rolls_view.last_tally()

    def last_chi_square(self) -> dice.ChiSquare | None:
        return self.rolls_view.last_chi_square()

    def rolls_text(self) -> str:
        """The chi-square sentence under the histogram ("" before any roll)."""
        return self.rolls_view.rolls_text()
