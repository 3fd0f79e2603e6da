"""The next-token chart's looks: its colours (from the palette, with fixed accents for the chosen and the
end tokens), how it writes a probability, its fonts (fitted to the rows), and the token labels on its left
axis.

Labels are made once per token, font and model and rebuilt only when the drawn tokens change; the axis
keeps its width unless the labels need more, or much less.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPalette, QPen

from desktop_app.ui.widgets.chart_items import CANDIDATE, CHOSEN, END, REST

if TYPE_CHECKING:
    from PySide6.QtWidgets import QLabel, QPushButton, QSpinBox

    from desktop_app.ui.widgets.chart_items import BarsItem
    from desktop_app.ui.widgets.text_line import TextLine

AXIS_SHRINK_PX = 48  # the token axis narrows only when its labels need this much less
# After an end token's label; see end_suffix(). QT_TRANSLATE_NOOP returns its message; the cast says so
# where PySide6's stub says ``object``.
END_SUFFIX = cast(str, QT_TRANSLATE_NOOP("ProbChart", "  ⏎ end"))
LABEL_EMS = 13  # labels longer than this many ems are elided
# Fixed accents that read on light and dark palettes alike.
CHOSEN_COLOR = QColor("#e8590c")
END_COLOR = QColor("#7b3fb5")


def bar_colour(palette: QPalette) -> QColor:
    """The colour of the candidates' bars: the palette's highlight, unless it is so grey that it would
    read as "removed" (a clear blue then)."""
    bar = QColor(palette.color(QPalette.ColorRole.Highlight))
    return bar if bar.hslSaturationF() >= 0.25 else QColor("#2f6fbf")


def mix(colour: QColor, background: QColor, alpha: float) -> QColor:
    """``colour`` at opacity ``alpha`` over ``background``, as one opaque colour."""

    def over(a: float, b: float) -> float:
        return alpha * a + (1 - alpha) * b

    return QColor.fromRgbF(
        over(colour.redF(), background.redF()),
        over(colour.greenF(), background.greenF()),
        over(colour.blueF(), background.blueF()),
    )


def end_suffix() -> str:
    """What follows an end token's label in the charts ("  ⏎ end"), in the interface's language."""
    return QCoreApplication.translate("ProbChart", END_SUFFIX)


def not_reported() -> str:
    """What a view shows for a probability a server did not report (see ``Distribution.reported``)."""
    return QCoreApplication.translate("ProbChart", "not reported")


def format_percent(p: float) -> str:
    """``76.8 %``, ``0.57 %``, ``<0.01 %``, ``0 %``; "not reported" for an unknown (NaN) one."""
    if math.isnan(p):
        return not_reported()
    if p <= 0:
        return "0 %"
    if p < 1e-4:
        return "<0.01 %"
    if p < 0.01:
        return f"{p * 100:.2f} %"
    return f"{p * 100:.1f} %"


translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ChartLooks:
    """Colours, fonts and token labels of :class:`~desktop_app.ui.widgets.prob_chart.ProbChart` (a part of
    it, whose state it reads and keeps)."""

    if TYPE_CHECKING:  # what the chart provides
        plot: pg.PlotWidget
        view: pg.ViewBox
        bars: BarsItem
        left_axis: pg.AxisItem
        bottom_axis: pg.AxisItem
        raw_button: QPushButton
        final_button: QPushButton
        top_n_label: QLabel
        top_n_spin: QSpinBox
        info_label: TextLine
        roll_label: TextLine
        tick_rebuilds: int
        _tick_key: tuple | None
        _labels_for: Callable[[int], str] | None
        _label_texts: dict[int, str]
        _font_scale: float
        _y_rows: int

        def font(self) -> QFont: ...
        def palette(self) -> QPalette: ...
        def _schedule(self) -> None: ...

    def _update_ticks(
        self, ids: np.ndarray, eog: list[bool], rest_y: int, label_of: Callable[[int], str]
    ) -> None:
        """Rebuild the token labels (``rest_y``: the row of "everything else"; ``label_of``: the step's
        token labels), only when the drawn tokens (or the fonts) changed; each token's label (elided to
        fit) is made once per font and model."""
        font = self._label_font
        key = (ids.tobytes(), tuple(eog), rest_y, font.pointSizeF())
        if key == self._tick_key:
            return
        self._tick_key = key
        self.tick_rebuilds += 1
        cache = self.bars.label_cache
        if cache.font != font or self._labels_for != label_of:
            cache.set_font(font)
            self._labels_for = label_of
            self._label_texts.clear()
        metrics = cache.metrics
        limit = metrics.horizontalAdvance("M") * LABEL_EMS
        texts, end, known = [], end_suffix(), self._label_texts
        for row, token in enumerate(ids.tolist()):
            label = known.get(token)
            if label is None:
                label = metrics.elidedText(str(label_of(token)), Qt.TextElideMode.ElideMiddle, limit)
                if len(known) >= 4096:
                    known.clear()
                known[token] = label
            texts.append(label + end if eog[row] else label)
        rest = translate("ProbChart", "everything else")
        self.bars.set_labels([*enumerate(texts), (rest_y, rest)])
        # The axis keeps its width unless the labels need more, or much less: a new width re-lays out
        # the whole plot (the view, the bottom axis), which costs a frame more than its drawing.
        width = int(max(cache.width(text) for text in (*texts, rest)) + 16)
        current = self.left_axis.width()
        if width > current or width < current - AXIS_SHRINK_PX:
            self.left_axis.setWidth(width)

    def _base_font(self, factor: float = 1.0) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        font.setPointSizeF(max(size, 10.0) * self._font_scale * factor)
        return font

    def _set_row_count(self, rows: int) -> None:
        """Show rows 0 … ``rows`` - 1 (a new range re-lays out the axes: only when the count changes)."""
        if rows != self._y_rows:
            self._y_rows = rows
            self.view.setYRange(-0.6, rows - 0.4, padding=0.0)

    def _fit_fonts(self, rows: int) -> None:
        """Token labels and percentages at the chosen size, shrunk when the ``rows`` are too thin for it
        (50 rows in a small window); worked out again only when the rows, the height or the fonts
        change."""
        height = self.view.height()
        key = (rows, height, self._font_key)
        if key == self._fit_key:
            return
        self._fit_key = key
        label, value = self._base_font(1.1), self._base_font(1.0)
        if height > 0:
            fit = height / (rows + 0.2) * 0.98  # pixels of line height per row
            for font in (label, value):
                px = QFontMetricsF(font).height()
                if px > fit:
                    font.setPointSizeF(max(font.pointSizeF() * fit / px, 6.0))
        self._label_font = label
        if value != self.bars.cache.font:
            self.bars.cache.set_font(value)

    def _apply_fonts(self) -> None:
        for widget in (self.raw_button, self.final_button, self.top_n_label, self.top_n_spin):
            widget.setFont(self._base_font())
        self.info_label.setFont(self._base_font(0.95))
        roll = self._base_font(1.3)
        roll.setBold(True)
        self.roll_label.setFont(roll)
        self.bottom_axis.setStyle(tickFont=self._base_font(0.95))
        self._label_font = self._base_font(1.1)
        self.bars.cache.set_font(self._base_font(1.0))
        self._font_key = (self._font_scale, self.font().key())
        self._fit_key = None

    def _apply_palette(self) -> None:
        pal = self.palette()
        base, fg = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        dark = base.lightnessF() < 0.5
        bar = bar_colour(pal)
        # Faint colours mixed with the background beforehand: opaque fills and lines draw faster than
        # blended ones, and they lie on the background.
        ghost, rest, muted, grid = (mix(fg, base, a) for a in (0.13, 0.35, 0.6, 0.18))
        self._colors = {
            "text": fg,
            "muted": muted,
            "chosen_text": CHOSEN_COLOR.lighter(130) if dark else CHOSEN_COLOR.darker(125),
            "on_bar": QColor("white"),
        }
        self.plot.setBackground(base)
        for axis in (self.left_axis, self.bottom_axis):
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(fg))
        self.bars.label_color = QColor(fg)
        self.bars.grid_pen = QPen(grid)
        self.bars.grid_pen.setCosmetic(True)
        self.bars.ghost_brush = QBrush(ghost)
        self.bars.brushes = {
            CANDIDATE: QBrush(bar),
            END: QBrush(END_COLOR),
            CHOSEN: QBrush(CHOSEN_COLOR),
            REST: QBrush(rest),
        }
        self.bars.chosen_pen = QPen(QBrush(fg), 2)
        # The rest a server did not itemise: hatched in the muted colour, outlined.
        self.bars.hatch_brush = QBrush(muted, Qt.BrushStyle.BDiagPattern)
        self.bars.hatch_pen = QPen(muted)
        self.bars.hatch_pen.setCosmetic(True)
        self.bars.unknown_pen = QPen(QBrush(self._colors["chosen_text"]), 1.5, Qt.PenStyle.DashLine)
        self.bars.update()
        self._schedule()
