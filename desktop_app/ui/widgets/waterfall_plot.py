"""The waterfall's plot: the columns' headers, bars, numbers and row labels inside one pyqtgraph plot,
laid out so that every text fits its column and row (fonts shrink when they would not), and redrawn
in place: bars by ``setOpts`` (one brush per item), texts re-laid out only when they change.

:class:`WaterfallPlot` draws a :class:`~desktop_app.ui.widgets.waterfall_model.WaterfallFrame`;
:class:`~desktop_app.ui.widgets.waterfall.WaterfallView` decides what to draw and when.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QTextOption

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.prob_chart import end_suffix
from desktop_app.ui.widgets.step_plot import StepView, plot_item
from desktop_app.ui.widgets.waterfall_model import ALIVE, CUT, WaterfallFrame, cell_text

LABEL_EMS = 11
BAR_HEIGHT = 0.7
BAR_X = 0.05  # where bars start inside their column (columns are 1 wide)
TEXT_X = 0.96  # where the numbers end
NUMBER = "100.0 %"  # the widest number a cell shows


class WaterfallPlot:
    """The items of the waterfall in ``plot`` (rows go down from 0, columns are 1 wide)."""

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.plot_item = item = plot_item(plot)
        item.hideAxis("bottom")
        self.view = item.getViewBox()
        self.view.invertY(True)
        self.left_axis = item.getAxis("left")
        self.left_axis.setStyle(tickLength=0, autoExpandTextSpace=False, hideOverlappingLabels=False)
        empty, no_pen = np.zeros(0), pg.mkPen(None)

        def bars(z: float) -> pg.BarGraphItem:
            b = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=BAR_HEIGHT, pen=no_pen)
            b.setZValue(z)
            item.addItem(b, ignoreBounds=True)
            return b

        # One brush per item.
        self.col_bands = bars(-2)  # every other column, faintly
        self.gone_bands = bars(-1)  # a removed token's row, from the removing stage on
        self.ghost_bars = bars(1)  # what a token had before the stage that removed it
        self.bars = bars(2)
        self.end_bars = bars(3)
        self.rest_bars = bars(3)
        self.chosen_bars = bars(4)
        self.separator = pg.PlotCurveItem(x=[], y=[], connect="pairs")
        item.addItem(self.separator, ignoreBounds=True)
        self.texts: list[pg.TextItem] = []
        self.header_items: list[pg.TextItem] = []
        self._header_looks: list[tuple | None] = []  # what each header was last laid out for
        self._text_cache: list[str] = []
        self._tick_key: tuple | None = None
        self._value_font: QFont | None = None
        self._masks: list[tuple[pg.BarGraphItem, np.ndarray]] = []
        self._text_room = 0.5
        self._colors: dict[str, QColor] = {}

    def clear(self) -> None:
        empty = np.zeros(0)
        for item in (self.bars, self.end_bars, self.rest_bars, self.chosen_bars, self.ghost_bars):
            item.setOpts(x0=empty, y=empty, width=empty)
        for item in (self.gone_bands, self.col_bands):
            item.setOpts(x0=empty, y=empty, width=empty)
        for item in (*self.texts, *self.header_items):
            item.setVisible(False)
        self._masks = []
        self.separator.setData(x=[], y=[])
        self.left_axis.setTicks([[], []])
        self._tick_key = None

    def forget_fonts(self) -> None:
        """Rebuild the row labels on the next layout (the fonts changed)."""
        self._tick_key = None

    # --- a new frame ---------------------------------------------------------------------------
    def layout(
        self, f: WaterfallFrame, step: StepView, fonts: tuple[QFont, QFont, QFont], others: str
    ) -> None:
        """Fit ``(header, value, label)`` fonts to the columns and rows, place the headers, the row
        labels (``others``: the last row's), the column bands and separators."""
        header_font, value_font, label_font = (QFont(font) for font in fonts)
        n_cols, n_rows = len(f.keys), len(f.tokens) + 1
        height = max(self.view.height(), 50.0)
        row_px = height / (n_rows + 3.5)  # a first guess, before the headers' height is known
        for font in (value_font, label_font):  # rows too thin for the chosen size: shrink
            _shrink(font, QFontMetricsF(font).height(), row_px * 0.98)
        axis_w = self._update_ticks(f, step, label_font, self.plot.width() * 0.3, others)
        col_px = max(self.plot.width() - axis_w - 12, 50.0) / n_cols
        # headers wrap at word breaks; they shrink only when one word is wider than a column
        hm = QFontMetricsF(header_font)
        _shrink(
            header_font, max(hm.horizontalAdvance(w) for h in f.headers for w in h.split()), col_px * 0.94
        )
        hm = QFontMetricsF(header_font)
        box, flags = (
            QRectF(0, 0, col_px * 0.94, 1e4),
            int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter),
        )
        header_px = max(hm.boundingRect(box, flags, h).height() for h in f.headers) + 10
        row_px = max((height - header_px) / (n_rows + 0.3), 1.0)
        _shrink(value_font, QFontMetricsF(value_font).horizontalAdvance(NUMBER), col_px * 0.5)
        number_w = QFontMetricsF(value_font).horizontalAdvance(NUMBER) / col_px
        self._text_room = (TEXT_X - BAR_X) - number_w - 0.07
        head_y, bottom = -0.5 - header_px / row_px, n_rows - 0.2
        self.view.setRange(xRange=(0.0, n_cols), yRange=(head_y, bottom), padding=0.0)

        while len(self.header_items) < n_cols:
            item = pg.TextItem("", anchor=(0.5, 0.0))
            item.textItem.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
            self.plot_item.addItem(item, ignoreBounds=True)
            self.header_items.append(item)
            self._header_looks.append(None)
        for c, item in enumerate(self.header_items):
            item.setVisible(c < n_cols)
            if c < n_cols:
                look = (f.headers[c], header_font.pointSizeF(), round(col_px), c == n_cols - 1)
                if self._header_looks[c] != look:  # re-laying out a text is slow: only on change
                    self._header_looks[c] = look
                    item.setFont(header_font)
                    item.textItem.setTextWidth(col_px * 0.96)
                    item.setText(f.headers[c])
                    item.setColor(self._colors["chosen_text" if c == n_cols - 1 else "text"])
                item.setPos(c + 0.5, head_y + 0.02)
        while len(self.texts) < n_cols * n_rows:
            item = pg.TextItem("", anchor=(1, 0.5))
            item.setZValue(10)
            self.plot_item.addItem(item, ignoreBounds=True)
            self.texts.append(item)
            self._text_cache.append("\0")
        if value_font != self._value_font:
            self._value_font = value_font
            for item in self.texts:
                item.setFont(value_font)
        for item in self.texts[n_cols * n_rows :]:
            item.setVisible(False)
        even = np.arange(0, n_cols, 2, dtype=np.float64)
        mid, tall = np.full(even.size, (head_y + bottom) / 2), bottom - head_y
        self.col_bands.setOpts(x0=even, y=mid, width=np.ones(even.size), height=tall)
        xs = np.repeat(np.arange(1, n_cols, dtype=np.float64), 2)
        self.separator.setData(x=xs, y=np.tile([head_y, bottom], n_cols - 1))

    def _update_ticks(
        self, f: WaterfallFrame, step: StepView, font: QFont, max_width: float, others: str
    ) -> float:
        """The row labels (rebuilt only when the rows or the font change); returns the axis width."""
        key = (f.tokens.tobytes(), font.pointSizeF(), int(max_width), others)
        if key != self._tick_key:
            self._tick_key = key
            metrics = QFontMetricsF(font)
            limit = min(metrics.horizontalAdvance("M") * LABEL_EMS, max_width - 14)
            ticks = []
            for row, token in enumerate(f.tokens):
                end = end_suffix() if int(token) in step.eog_ids else ""
                room = limit - metrics.horizontalAdvance(end)
                ticks.append(
                    (
                        row,
                        metrics.elidedText(str(step.label_of(int(token))), Qt.TextElideMode.ElideMiddle, room)
                        + end,
                    )
                )
            # The last row's words are the app's own: as wide as the axis may be before they are cut.
            whole = max(max_width - 14, limit)
            ticks.append((len(f.tokens), metrics.elidedText(others, Qt.TextElideMode.ElideRight, whole)))
            self.left_axis.setStyle(tickFont=font)
            self.left_axis.setTicks([ticks, []])
            self.left_axis.setWidth(int(max(metrics.horizontalAdvance(t) for _, t in ticks) + 14))
        return float(self.left_axis.width())

    def set_frame(self, f: WaterfallFrame, step: StepView) -> None:
        """Which cells each bar item draws, the bands of removed tokens, and every cell's text."""
        n_cols, n_rows = f.p.shape
        n = n_rows - 1
        token = np.zeros((n_cols, n_rows), dtype=bool)
        token[:, :n] = True
        is_end = np.zeros_like(token)
        is_end[:, :n] = np.fromiter((int(x) in step.eog_ids for x in f.tokens), dtype=bool, count=n)
        chosen = np.zeros_like(token)
        hit = np.flatnonzero(f.tokens == step.d.chosen)
        if hit.size and not math.isnan(float(f.p[-1, hit[0]])):  # an unreported one has no bar to mark
            chosen[-1, hit[0]] = True  # the die's column
        alive, cut = token & (f.state == ALIVE), token & (f.state == CUT)
        cut_c, cut_r = (a.astype(np.float64) for a in np.nonzero(cut))
        self.gone_bands.setOpts(x0=cut_c, y=cut_r, width=n_cols - cut_c, height=0.92)
        self._masks = [
            (self.bars, alive & ~is_end & ~chosen),
            (self.end_bars, alive & is_end & ~chosen),
            (self.chosen_bars, chosen),
            (self.rest_bars, ~token),
            (self.ghost_bars, cut),
        ]
        self.update_texts(f, step.d)

    def update_texts(self, f: WaterfallFrame, d: Distribution) -> None:
        """Every cell's number (or ✂ mark); a text is re-laid out only when it changes."""
        n_cols, n_rows = f.p.shape
        for c in range(n_cols):
            for r in range(n_rows):
                i, item = c * n_rows + r, self.texts[c * n_rows + r]
                text = self.cell_text(f, d, c, r)
                # Removed, or not reported by the server: words from the bar's start, muted.
                cut = int(f.state[c, r]) == CUT or math.isnan(float(f.p[c, r]))
                if text != self._text_cache[i]:
                    self._text_cache[i] = text
                    item.setText(text)
                    item.setAnchor((0, 0.5) if cut else (1, 0.5))
                    item.setColor(self._colors["muted" if cut or r == n_rows - 1 else "text"])
                item.setPos(c + (BAR_X if cut else TEXT_X), r)
                item.setVisible(bool(text))

    @staticmethod
    def cell_text(f: WaterfallFrame, d: Distribution | None, c: int, r: int) -> str:
        removed_by = f.removed_by[r] if r < len(f.removed_by) else None
        return cell_text(d, int(f.state[c, r]), float(f.p[c, r]), removed_by)

    # --- a frame of the animation --------------------------------------------------------------
    def draw_bars(self, length: np.ndarray, scale: float) -> None:
        """Bars ``length / scale`` of the room a column leaves beside its number."""
        n_cols, n_rows = length.shape
        w = np.minimum(length / scale, 1.0) * max(self._text_room, 0.15)
        cols, rows = np.meshgrid(
            np.arange(n_cols, dtype=np.float64), np.arange(n_rows, dtype=np.float64), indexing="ij"
        )
        for bar, mask in self._masks:
            bar.setOpts(x0=cols[mask] + BAR_X, y=rows[mask], width=w[mask], height=BAR_HEIGHT)

    # --- looks ---------------------------------------------------------------------------------
    def apply_colors(self, c: dict[str, QColor]) -> None:
        self._colors = c
        self.plot.setBackground(c["base"])
        self.left_axis.setPen(pg.mkPen(c["muted"]))
        self.left_axis.setTextPen(pg.mkPen(c["text"]))
        self.bars.setOpts(brush=pg.mkBrush(c["bar"]))
        self.end_bars.setOpts(brush=pg.mkBrush(c["end"]))
        self.rest_bars.setOpts(brush=pg.mkBrush(c["rest"]))
        self.chosen_bars.setOpts(brush=pg.mkBrush(c["chosen"]), pen=pg.mkPen(c["text"], width=1.5))
        self.ghost_bars.setOpts(brush=pg.mkBrush(c["ghost"]))
        self.gone_bands.setOpts(brush=pg.mkBrush(c["faint"]))
        self.col_bands.setOpts(brush=pg.mkBrush(c["faint"]))
        self.separator.setPen(pg.mkPen(c["grid"], width=1))
        self._text_cache = ["\0"] * len(self.texts)  # re-colour every text when next set
        self._header_looks = [None] * len(self.header_items)


def _shrink(font: QFont, size: float, limit: float) -> None:
    """Make ``font`` smaller (not below 6 pt) when something ``size`` wide or tall must fit ``limit``."""
    if size > limit > 0:
        font.setPointSizeF(max(font.pointSizeF() * limit / size, 6.0))
