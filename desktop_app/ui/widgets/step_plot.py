"""What the step plots (the die, the waterfall, the end lane) share with the next-token chart: a timer
that draws the latest state at display rate, fonts scaled for a projector, palette colours, and a
pyqtgraph plot that only displays (no menu, no mouse zoom).

The looks follow :mod:`desktop_app.ui.widgets.prob_chart`: the same accents (``CHOSEN_COLOR``,
``END_COLOR``), bars in the palette's highlight colour (a clear blue when that is grey), muted text
for what sampling removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QWidget

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.frames import FRAME_MS, FramedWidget
from desktop_app.ui.widgets.prob_chart import CHOSEN_COLOR, END_COLOR, bar_colour

__all__ = [
    "CHOSEN_COLOR",
    "END_COLOR",
    "FRAME_MS",
    "OneStepPlot",
    "StepPlotWidget",
    "StepView",
    "make_plot",
    "stage_word",
]

MIN_SCALE, MAX_SCALE = 0.5, 4.0


@dataclass(frozen=True)
class StepView:
    """One step as the step plots receive it."""

    d: Distribution
    label_of: Callable[[int], str]
    eog_ids: frozenset[int]


_STAGE_WORDS = {  # marked for translation; translated when shown
    "ban": QT_TRANSLATE_NOOP("Stages", "end banned"),
    "penalties": QT_TRANSLATE_NOOP("Stages", "penalty"),
    "top_k": QT_TRANSLATE_NOOP("Stages", "top-k"),
    "top_p": QT_TRANSLATE_NOOP("Stages", "top-p"),
    "min_p": QT_TRANSLATE_NOOP("Stages", "min-p"),
    "temperature": QT_TRANSLATE_NOOP("Stages", "temperature"),
    "greedy": QT_TRANSLATE_NOOP("Stages", "greedy"),
    "sampling": QT_TRANSLATE_NOOP("Stages", "sampling"),
}


# pyqtgraph's own texts that a plot may show, translated by TokenDice's translation file.
PYQTGRAPH_TEXTS = (QT_TRANSLATE_NOOP("GraphicsScene", "Export..."),)


def stage_word(d: Distribution | None, stage: str) -> str:
    """A stage's short name as a classroom reads it ("top-k", "penalty", …)."""
    if stage == "temperature" and d is not None and d.greedy:
        stage = "greedy"
    word = _STAGE_WORDS.get(stage)
    return QCoreApplication.translate("Stages", word) if word else stage


def make_plot(parent: QWidget) -> pg.PlotWidget:
    """A plot that only displays: no context menu, no mouse zoom or pan, no auto-range button."""
    plot = pg.PlotWidget(parent)
    plot.setAntialiasing(True)
    item = plot.getPlotItem()
    item.hideButtons()
    item.setMenuEnabled(False)
    item.setMouseEnabled(x=False, y=False)
    view = item.getViewBox()
    view.enableAutoRange(enable=False)
    view.setMouseEnabled(x=False, y=False)
    return plot


class StepPlotWidget(FramedWidget):
    """Base of the step plots: call :meth:`_schedule` when the state changes; the timer then calls
    :meth:`_redraw` once, at most every ``FRAME_MS``. A hidden widget waits until it is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font_scale = 1.0
        self._colors: dict[str, QColor] = {}

    # --- for subclasses -------------------------------------------------------------------------
    def _apply_fonts(self) -> None:
        """Re-font texts after a font or scale change."""

    def _apply_colors(self) -> None:
        """Re-colour items after a palette change (``self._colors`` is up to date)."""

    def _finish_init(self) -> None:
        """Call at the end of the subclass's ``__init__``."""
        self._colors = self._palette_colors()
        self._apply_fonts()
        self._apply_colors()
        self._schedule()

    # --- fonts ----------------------------------------------------------------------------------
    def font_scale(self) -> float:
        return self._font_scale

    def set_font_scale(self, scale: float) -> None:
        """Scale every text (1.0 = the application font; 1.5–2 for a projector)."""
        self._font_scale = min(max(float(scale), MIN_SCALE), MAX_SCALE)
        self._apply_fonts()
        self._schedule()

    def _base_font(self, factor: float = 1.0, *, bold: bool = False) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        font.setPointSizeF(max(size, 10.0) * self._font_scale * factor)
        font.setBold(bold)
        return font

    # --- colours --------------------------------------------------------------------------------
    def _palette_colors(self) -> dict[str, QColor]:
        pal = self.palette()
        base, fg = pal.color(QPalette.Base), pal.color(QPalette.Text)
        dark = base.lightnessF() < 0.5
        bar = bar_colour(pal)
        bar2 = bar.lighter(135) if not dark else bar.darker(130)
        ghost, rest, muted, faint, grid = QColor(fg), QColor(fg), QColor(fg), QColor(fg), QColor(fg)
        ghost.setAlphaF(0.16)
        rest.setAlphaF(0.35)
        muted.setAlphaF(0.62)
        faint.setAlphaF(0.06)
        grid.setAlphaF(0.25)
        return {
            "base": base,
            "text": fg,
            "muted": muted,
            "ghost": ghost,
            "rest": rest,
            "faint": faint,
            "grid": grid,
            "bar": bar,
            "bar2": bar2,
            "chosen": CHOSEN_COLOR,
            "chosen_text": CHOSEN_COLOR.lighter(130) if dark else CHOSEN_COLOR.darker(125),
            "end": END_COLOR,
            "end_text": END_COLOR.lighter(150) if dark else END_COLOR,
            "on_bar": QColor("white"),
        }

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if not self._colors:  # still being built
            return
        if event.type() == QEvent.PaletteChange:
            self._colors = self._palette_colors()
            self._apply_colors()
            self._schedule()
        elif event.type() == QEvent.FontChange:
            self._apply_fonts()
            self._schedule()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._schedule()  # sizes are known now: fit labels and texts


class OneStepPlot(StepPlotWidget):
    """A step plot of one step at a time (the die's strip, its rolls, the sampler's stages)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._step: StepView | None = None

    def set_step(
        self, d: Distribution, label_of: Callable[[int], str], eog_ids: frozenset[int] = frozenset()
    ) -> None:
        """Show step ``d`` at the next frame."""
        self._step = StepView(d, label_of, frozenset(eog_ids))
        self._schedule()

    def clear(self) -> None:
        """Show no step."""
        self._step = None
        self._schedule()

    def step(self) -> Distribution | None:
        return self._step.d if self._step else None

    def _label(self, token: int) -> str:
        return str(self._step.label_of(int(token))) if self._step else str(token)
