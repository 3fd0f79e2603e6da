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
from typing import cast

import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette
from PySide6.QtWidgets import QBoxLayout, QVBoxLayout, QWidget

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.frames import FramedWidget
from desktop_app.ui.widgets.prob_chart_looks import CHOSEN_COLOR, END_COLOR, bar_colour, format_percent

__all__ = [
    "CHOSEN_COLOR",
    "END_COLOR",
    "OneStepPlot",
    "StepPlotWidget",
    "StepView",
    "fit_slice_text",
    "make_plot",
    "plot_item",
    "stage_word",
]

MIN_SCALE, MAX_SCALE = 0.5, 4.0
SLICE_LABEL_EMS = 12  # a slice's token label longer than this many ems is elided


@dataclass(frozen=True)
class StepView:
    """One step as the step plots receive it."""

    d: Distribution
    label_of: Callable[[int], str]
    eog_ids: frozenset[int]


# Marked for translation; translated when shown.
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
_STAGE_WORDS = cast(
    dict[str, str],
    {
        "ban": QT_TRANSLATE_NOOP("Stages", "end banned"),
        "penalties": QT_TRANSLATE_NOOP("Stages", "penalty"),
        "top_k": QT_TRANSLATE_NOOP("Stages", "top-k"),
        "top_p": QT_TRANSLATE_NOOP("Stages", "top-p"),
        "min_p": QT_TRANSLATE_NOOP("Stages", "min-p"),
        "temperature": QT_TRANSLATE_NOOP("Stages", "temperature"),
        "greedy": QT_TRANSLATE_NOOP("Stages", "greedy"),
        "sampling": QT_TRANSLATE_NOOP("Stages", "sampling"),
    },
)


# pyqtgraph's own texts that a plot may show, translated by TokenDice's translation file.
PYQTGRAPH_TEXTS = (QT_TRANSLATE_NOOP("GraphicsScene", "Export..."),)


def stage_word(d: Distribution | None, stage: str) -> str:
    """A stage's short name as a classroom reads it ("top-k", "penalty", …)."""
    if stage == "temperature" and d is not None and d.greedy:
        stage = "greedy"
    word = _STAGE_WORDS.get(stage)
    return QCoreApplication.translate("Stages", word) if word else stage


def fit_slice_text(
    item: pg.TextItem, x: float, width_px: float, label: str, p: float, metrics: QFontMetricsF
) -> None:
    """A slice's token and its % inside it (centred on ``x``, ``width_px`` wide); the token alone, elided,
    when narrower; nothing below two letters' width."""
    room = width_px - 8.0
    limit = metrics.horizontalAdvance("M") * SLICE_LABEL_EMS
    text = metrics.elidedText(label, Qt.TextElideMode.ElideMiddle, min(limit, max(room, 0.0)))
    if room < metrics.horizontalAdvance("MM") or not text:
        item.setVisible(False)
        return
    percent = format_percent(p)
    item.setText(text + "\n" + percent if metrics.horizontalAdvance(percent) <= room else text)
    item.setPos(x, 0.5)
    item.setVisible(True)


def plot_item(plot: pg.PlotWidget) -> pg.PlotItem:
    """``plot``'s PlotItem (pyqtgraph's attribute is None only once the plot is closed)."""
    item = plot.getPlotItem()
    assert item is not None, "a PlotWidget holds its PlotItem until it is closed"
    return item


def make_plot(parent: QWidget) -> pg.PlotWidget:
    """A plot that only displays: no context menu, no mouse zoom or pan, no auto-range button."""
    # A view built without its menu (the menu's widgets cost 8 ms a plot, at the window's start).
    plot = pg.PlotWidget(parent, viewBox=pg.ViewBox(enableMenu=False))
    plot.setAntialiasing(True)
    item = plot_item(plot)
    item.hideButtons()
    item.setMenuEnabled(False)
    view = item.getViewBox()
    view.enableAutoRange(enable=False)
    view.setMouseEnabled(x=False, y=False)
    return plot


class StepPlotWidget(FramedWidget):
    """Base of the step plots: call :meth:`_schedule` when the state changes; the app's frame clock then
    calls :meth:`_redraw` once, at the next frame. A hidden widget waits until it is shown.

    The pyqtgraph plot is built at the first show (:meth:`ensure_built`), not with the widget: the
    workshop's plots wait behind other docks' tabs when the window starts, and building them cost a
    quarter of a second of it. Until then the widget keeps its state (steps, rolls) and draws nothing;
    asking for an attribute the plot makes (``plot``, ``view``, …) builds it at once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self._built = False  # before anything can ask for a plot attribute
        super().__init__(parent)
        self._font_scale = 1.0
        self._colors: dict[str, QColor] = {}
        self._plot_slot: QVBoxLayout | None = None

    # --- for subclasses -------------------------------------------------------------------------
    def _build_plot(self) -> None:  # pragma: no cover - every subclass builds one
        """Make ``self.plot`` and its items."""
        raise NotImplementedError

    def _plot_widget(self) -> QWidget:
        """What :meth:`_plot_place` holds once built (the plot, or a widget around it)."""
        return self.plot

    def _plot_place(self, layout: QBoxLayout, stretch: int = 0) -> None:
        """Keep the plot's place in ``layout``, where :meth:`ensure_built` puts it."""
        self._plot_slot = QVBoxLayout()
        self._plot_slot.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._plot_slot, stretch)

    def _apply_fonts(self) -> None:
        """Re-font texts after a font or scale change (called once the plot is built)."""

    def _apply_colors(self) -> None:
        """Re-colour items after a palette change (``self._colors`` is up to date; plot built)."""

    def _finish_init(self) -> None:
        """Call at the end of the subclass's ``__init__``."""
        self._colors = self._palette_colors()
        if self._built:
            self._apply_fonts()
            self._apply_colors()
        self._schedule()

    # --- the plot, when first needed ------------------------------------------------------------
    def is_built(self) -> bool:
        return self._built

    def ensure_built(self) -> None:
        """Build the plot now (the first show does it; so does an export of a widget never shown)."""
        if self._built:
            return
        self._built = True
        self._build_plot()
        if self._colors:  # after _finish_init: style what was just built
            self._apply_fonts()
            self._apply_colors()
        if self._plot_slot is not None:
            self._plot_slot.addWidget(self._plot_widget())
            # Lay the new plot out now (and the docks around a plot that grew them), so that the first
            # frame is drawn at its size.
            QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def __getattr__(self, name: str):
        # Only for names not found: a plot attribute asked for before the first show builds the plot.
        if name.startswith("__") or self.__dict__.get("_built", True):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        self.ensure_built()
        return getattr(self, name)

    # --- fonts ----------------------------------------------------------------------------------
    def font_scale(self) -> float:
        return self._font_scale

    def set_font_scale(self, scale: float) -> None:
        """Scale every text (1.0 = the application font; 1.5–2 for a projector)."""
        self._font_scale = min(max(float(scale), MIN_SCALE), MAX_SCALE)
        if self._built:
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
        base, fg = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
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
        if event.type() == QEvent.Type.PaletteChange:
            self._colors = self._palette_colors()
            if self._built:
                self._apply_colors()
            self._schedule()
        elif event.type() == QEvent.Type.FontChange:
            if self._built:
                self._apply_fonts()
            self._schedule()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Built once the window's layout has settled, and only if still in view: a window that opens
        # with this plot's dock behind another tab shows it for a moment, then hides it.
        if not self._built:
            QTimer.singleShot(0, self._build_if_seen)
        self._schedule()  # sizes are known now: fit labels and texts

    def shown_again(self) -> None:
        if not self._built:
            QTimer.singleShot(0, self._build_if_seen)
        super().shown_again()

    def _build_if_seen(self) -> None:
        if not self._built and self.in_view():
            self.ensure_built()


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
