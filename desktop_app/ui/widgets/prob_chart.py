"""The next-token chart: the top candidates as horizontal bars, the roll, what sampling removed.

``set_step`` only stores the latest step; a timer draws it at display rate, so a fast generation or a
slider dragged across its range costs one redraw per frame however many steps arrive. A redraw turns the
step into rows (:class:`~desktop_app.ui.widgets.chart_items.BarRow`) that one plot item paints, with
token labels and text sizes kept from earlier steps; the roll and the figures are text lines
(:class:`TextLine`) that repaint without a new layout.

The chart's colours, fonts and token labels are :class:`~desktop_app.ui.widgets.prob_chart_looks.ChartLooks`;
hovering and clicking its bars :class:`~desktop_app.ui.widgets.prob_chart_pointer.ChartPointer`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets import reported_step as reported
from desktop_app.ui.widgets.chart_items import (
    CANDIDATE,
    CHOSEN,
    END,
    REST,
    BarRow,
    BarsItem,
)
from desktop_app.ui.widgets.frames import FramedWidget

# The other views take the chart's accents, its end tokens' suffix and its percentages from here too.
from desktop_app.ui.widgets.prob_chart_looks import CHOSEN_COLOR as CHOSEN_COLOR
from desktop_app.ui.widgets.prob_chart_looks import END_COLOR as END_COLOR
from desktop_app.ui.widgets.prob_chart_looks import ChartLooks
from desktop_app.ui.widgets.prob_chart_looks import bar_colour as bar_colour
from desktop_app.ui.widgets.prob_chart_looks import end_suffix as end_suffix
from desktop_app.ui.widgets.prob_chart_looks import format_percent as format_percent
from desktop_app.ui.widgets.prob_chart_pointer import ChartPointer
from desktop_app.ui.widgets.step_plot import plot_item
from desktop_app.ui.widgets.text_line import DIE, TextLine

RAW, FINAL = "raw", "final"
MIN_TOP_N, MAX_TOP_N = 5, 50
X_RANGE = (-0.016, 1.04)  # room for the "0 %" and "100 %" axis labels
# Stage names as a classroom reads them (display only: the stages themselves live in the sampler). English
# keys, translated when shown.
# QT_TRANSLATE_NOOP returns its message; the cast says so where PySide6's stub says ``object``.
STAGE_WORDS = cast(
    dict[str, str],
    {
        "ban": QT_TRANSLATE_NOOP("ProbChart", "end banned"),
        "penalties": QT_TRANSLATE_NOOP("ProbChart", "repetition penalty"),
        "top_k": QT_TRANSLATE_NOOP("ProbChart", "top-k"),
        "top_p": QT_TRANSLATE_NOOP("ProbChart", "top-p"),
        "min_p": QT_TRANSLATE_NOOP("ProbChart", "min-p"),
        "temperature": QT_TRANSLATE_NOOP("ProbChart", "greedy"),
    },
)


@dataclass(frozen=True)
class _Step:
    d: Distribution
    label_of: Callable[[int], str]
    eog_ids: frozenset[int]
    where: tuple[int, int] | None = None  # (k, n): step k of a reply of n tokens


class ProbChart(ChartLooks, ChartPointer, FramedWidget):
    """Bars of the next-token distribution; click a bar to pick that token instead of the die."""

    token_clicked: Signal = Signal(int)
    top_n_changed = Signal(int)
    mode_changed = Signal(str)  # RAW or FINAL

    def __init__(self, parent: QWidget | None = None, *, top_n: int = 20, mode: str = FINAL):
        super().__init__(parent)
        self._step: _Step | None = None
        self._mode = FINAL if mode != RAW else RAW
        self._font_scale = 1.0
        self._tick_key: tuple | None = None
        self._rows = np.zeros(0, dtype=np.int64)  # token id of each drawn row, top to bottom
        self._row_index = np.zeros(0, dtype=np.int64)  # their index in the step's candidates
        self._hover_row: int | None = None
        self.tick_rebuilds = 0
        self._y_rows = -1  # rows the view's range was set for
        self._label_texts: dict[int, str] = {}  # token id → its label, elided, for one font and model
        self._labels_for: Callable[[int], str] | None = None

        self._build_toolbar(top_n)
        self._build_plot()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(self._toolbar)
        layout.addWidget(self.roll_label)
        layout.addWidget(self.info_label)
        layout.addWidget(self.plot, 1)
        self._apply_fonts()
        self._apply_palette()
        self._draw_empty()

    # --- building ------------------------------------------------------------------------------
    def _build_toolbar(self, top_n: int) -> None:
        self.raw_button = QPushButton(self.tr("Model (raw)"), self)
        self.raw_button.setToolTip(self.tr("The model's own probabilities, before any sampling setting."))
        self.final_button = QPushButton(self.tr("After sampling"), self)
        self.final_button.setToolTip(
            self.tr(
                "The probabilities the die really uses, after temperature, top-k, top-p, min-p and "
                "penalties. Greyed tokens were removed; their label says by which setting."
            )
        )
        self._mode_group = QButtonGroup(self)
        for button in (self.raw_button, self.final_button):
            button.setCheckable(True)
            self._mode_group.addButton(button)
        (self.raw_button if self._mode == RAW else self.final_button).setChecked(True)
        self.raw_button.toggled.connect(lambda on: self.set_mode(RAW if on else FINAL))

        self.top_n_label = QLabel(self.tr("Show top"), self)
        self.top_n_spin = QSpinBox(self)
        self.top_n_spin.setRange(MIN_TOP_N, MAX_TOP_N)
        self.top_n_spin.setValue(min(max(top_n, MIN_TOP_N), MAX_TOP_N))
        self.top_n_spin.setToolTip(self.tr("How many of the most likely next tokens to show as bars."))
        self.top_n_spin.valueChanged.connect(self._on_top_n)

        self.info_label = TextLine("", self)
        self.info_label.setToolTip(
            self.tr(
                "Uncertainty: the entropy of the model's distribution in bits (0 = certain; each extra "
                "bit doubles the number of equally likely choices). End: the chance the reply stops here."
            )
        )
        self._toolbar = QHBoxLayout()
        self._toolbar.setSpacing(6)
        self._toolbar.addWidget(self.raw_button)
        self._toolbar.addWidget(self.final_button)
        self._toolbar.addSpacing(12)
        self._toolbar.addWidget(self.top_n_label)
        self._toolbar.addWidget(self.top_n_spin)
        self._toolbar.addStretch(1)

        self.roll_label = TextLine("", self)

    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(self, viewBox=pg.ViewBox(enableMenu=False))  # no menu: not even built
        self.plot.setAntialiasing(False)
        item = plot_item(self.plot)
        item.hideButtons()
        item.setMenuEnabled(False)
        self.view = item.getViewBox()
        self.view.setMouseEnabled(x=False, y=False)
        self.view.invertY(True)
        self.view.enableAutoRange(enable=False)
        self.view.setXRange(*X_RANGE, padding=0.0)
        self.view.sigResized.connect(self._on_resized)
        self.left_axis = item.getAxis("left")
        self.left_axis.setStyle(tickLength=0, autoExpandTextSpace=False, showValues=False)
        self.bottom_axis = item.getAxis("bottom")
        self.bottom_axis.setStyle(tickLength=-5)
        self.bottom_axis.setTicks([[(v, f"{round(v * 100)} %") for v in (0.0, 0.25, 0.5, 0.75, 1.0)], []])
        # The axes are repainted with every frame of bars (the grid puts the bottom one under them):
        # from a cached pixmap, not by replaying their labels' text.
        for axis in (self.left_axis, self.bottom_axis):
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        # Every bar, grid line and percentage: one item, one paint a frame.
        self.bars = BarsItem(item)

        # Qt's stub types scene() as QGraphicsScene; a pyqtgraph view holds pyqtgraph's own.
        scene = cast(pg.GraphicsScene, self.plot.scene())
        scene.sigMouseClicked.connect(self._on_scene_click)
        scene.sigMouseMoved.connect(self._on_scene_move)

    # --- public API ----------------------------------------------------------------------------
    def set_step(
        self,
        d: Distribution,
        label_of: Callable[[int], str],
        eog_ids: frozenset[int] = frozenset(),
        where: tuple[int, int] | None = None,
    ) -> None:
        """Show step ``d`` at the next frame. Cheap: stores it and schedules a redraw, nothing more.
        ``where``: (k, n), shown as "step k of n"."""
        self._step = _Step(d, label_of, eog_ids, where)
        self._schedule()

    def clear(self) -> None:
        """Show nothing (call it too when the model changes: labels are rebuilt from scratch)."""
        self._step = None
        self._tick_key = None
        self._label_texts.clear()
        self._schedule()

    def step(self) -> Distribution | None:
        """The latest step given to :meth:`set_step` (drawn or not yet)."""
        return self._step.d if self._step else None

    def where(self) -> tuple[int, int] | None:
        """(k, n) of the latest step, shown as "step k of n"; None when not known."""
        return self._step.where if self._step else None

    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        """RAW: the model's probabilities; FINAL: after the sampling settings."""
        if mode not in (RAW, FINAL):
            raise ValueError(f"mode must be {RAW!r} or {FINAL!r}, not {mode!r}")
        if mode == self._mode:
            return
        self._mode = mode
        button = self.raw_button if mode == RAW else self.final_button
        if not button.isChecked():
            button.setChecked(True)
        self._schedule()
        self.mode_changed.emit(mode)

    def top_n(self) -> int:
        return self.top_n_spin.value()

    def set_top_n(self, n: int) -> None:
        self.top_n_spin.setValue(n)  # clamped to 5..50; emits top_n_changed when it changes

    def font_scale(self) -> float:
        return self._font_scale

    def set_font_scale(self, scale: float) -> None:
        """Scale every text of the chart (1.0 = the application font; 1.5–2 for a projector)."""
        self._font_scale = min(max(float(scale), 0.5), 4.0)
        self._apply_fonts()
        self._tick_key = None
        self._schedule()

    def rows(self) -> list[int]:
        """Token ids of the drawn bars, top to bottom (the rest bar not included)."""
        return [int(t) for t in self._rows]

    # --- drawing -------------------------------------------------------------------------------
    def _redraw(self) -> None:
        if self._step is None:
            self._draw_empty()
            return
        d, final = self._step.d, self._mode == FINAL
        p_all = d.p_final if final else d.p_raw
        n_cand = len(d.candidates)
        shown = min(self.top_n(), n_cand)
        index = np.arange(shown)
        if d.chosen_index >= shown:
            index = np.append(index, d.chosen_index)
        ids = np.asarray(d.candidates)[index]
        p = np.asarray(p_all, dtype=np.float64)[index]
        hidden = np.ones(n_cand, dtype=bool)
        hidden[index] = False
        unreported = d.rest_p_final if final else d.rest_p_raw
        hidden_p = np.asarray(p_all, dtype=np.float64)[hidden]
        rest = unreported + float(np.nansum(hidden_p))
        self._rows, self._row_index = ids, index
        n = len(ids)
        eog_ids = self._step.eog_ids
        eog = [int(t) in eog_ids for t in ids]
        raw = np.asarray(d.p_raw, dtype=np.float64)[index]

        self._fit_fonts(shown + 2)
        self._update_ticks(ids, eog, shown + 1, self._step.label_of)
        colors = self._colors
        units = (X_RANGE[1] - X_RANGE[0]) / (self.view.width() or 1.0)
        rows = []
        columns = zip(ids.tolist(), index.tolist(), p.tolist(), raw.tolist(), strict=True)
        for row, (token, i, width, ghost) in enumerate(columns):
            stage = d.removed_by[i] if final else None
            if i == d.chosen_index:
                kind = CHOSEN
            else:
                kind = END if eog[row] else CANDIDATE
            if reported.unknown(width):  # a token the server did not report: no bar, and no "0 %" either
                text = "?  " + reported.not_reported()
                bar = BarRow(token, row, 0.0, kind, 0.0, text, end=eog[row], unknown=True)
                self._place_text(bar, 0.0, colors["chosen_text" if kind == CHOSEN else "text"], units)
            elif stage is not None:
                text = f"0 %   ✂ {self._stage_words(d, stage)}"
                bar = BarRow(token, row, 0.0, kind, ghost, text, end=eog[row])
                self._place_text(bar, ghost, colors["muted"], units)
            else:
                bar = BarRow(token, row, width, kind, 0.0, format_percent(width), end=eog[row])
                self._place_text(
                    bar, width, colors["chosen_text"] if kind == CHOSEN else colors["text"], units
                )
            rows.append(bar)
        if d.reported:  # the candidates not shown, and the rest the server did not itemise: one row
            others = int(np.count_nonzero(hidden_p > 0) if final else np.count_nonzero(~np.isnan(hidden_p)))
            others_text = reported.rest_row_text(d, others, unreported, final)
        else:
            others = (d.n_alive if final else d.n_vocab) - int(np.count_nonzero(p > 0) if final else n)
            if others > 0:
                others_text = self.tr("{n} other tokens").format(n=f"{others:,}")
            else:
                others_text = self.tr("no other token left")
        # The rest sits one row below the top N, whether or not the chosen token comes between them: the
        # chart keeps its rows' places (and its scale) from one step to the next.
        rest_row = BarRow(-1, shown + 1, rest, REST, 0.0, f"{format_percent(rest)}   {others_text}")
        rest_row.hatch = unreported if d.reported else 0.0
        self._place_text(rest_row, rest, colors["muted"], units)
        rows.append(rest_row)
        self.bars.set_rows(rows)
        self._set_row_count(shown + 2)
        self._update_labels(self._step)

    def _place_text(self, row: BarRow, end: float, color: QColor, units: float) -> None:
        """Put the row's text after its bar, ending at ``end``, or inside it when it would not fit after
        (``units``: plot units per pixel)."""
        text_w = self.bars.cache.width(row.text) * units + 0.01
        row.inside = end + text_w > X_RANGE[1] and end > text_w
        row.text_color = self._colors["on_bar"] if row.inside else color

    def _update_labels(self, step: _Step) -> None:
        d = step.d
        label = str(step.label_of(d.chosen))
        if d.reported and (reported.fell_in_rest(d) or reported.server_rolled(d)):
            roll = reported.reported_roll_text(d, label)
        elif d.forced:
            roll = self.tr("you picked “{token}” by hand (forced, not rolled)").format(token=label)
        elif d.greedy or d.u is None:
            roll = self.tr("greedy (temperature 0): always the most likely token → “{token}”").format(
                token=label
            )
        else:
            roll = self.tr("the die: u = {u} → “{token}”").format(u=f"{d.u:.4f}", token=label)
        self.roll_label.setText(DIE + "  " + roll)
        # The end token's chance as the bars show it (the model's, or after sampling), said which.
        if d.reported:
            end = reported.reported_end_text(d, step.eog_ids, raw=self._mode == RAW)
        elif self._mode == RAW:
            end = self.tr("end token (model) {p}").format(p=format_percent(d.eos_p_raw))
        else:
            end = self.tr("end token (after sampling) {p}").format(p=format_percent(d.eos_p_final))
        if d.reported:
            info = self.tr("uncertainty unknown (not reported) · {end}").format(end=end)
        elif math.isfinite(d.entropy_bits):
            info = self.tr("uncertainty {bits} bits · {end}").format(bits=f"{d.entropy_bits:.2f}", end=end)
        else:  # a step read back from a saved chat: only its top candidates are known
            info = self.tr("saved step · {end}").format(end=end)
        where = step.where
        if where is not None:
            info = self.tr("step {k} of {n}").format(k=where[0], n=where[1]) + " · " + info
        self.info_label.setText(info)

    def _draw_empty(self) -> None:
        self._rows = np.zeros(0, dtype=np.int64)
        self._row_index = np.zeros(0, dtype=np.int64)
        self.bars.set_rows([])
        self._tick_key = None
        self.bars.set_labels([])
        # Already the rows (and the fonts) of a step at the chosen top N: the first step of a reply then
        # only paints, with no new scale or axes.
        rows = self.top_n() + 2
        self._set_row_count(rows)
        self._fit_fonts(rows)
        self.roll_label.setText(DIE + "  " + self.tr("Nothing to show yet: type a prompt and generate."))
        self.info_label.setText("")

    def _stage_words(self, d: Distribution, stage: str) -> str:
        if stage == "temperature" and not d.greedy:
            return self.tr("temperature")
        word = STAGE_WORDS.get(stage)
        return QCoreApplication.translate("ProbChart", word) if word else stage

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if not hasattr(self, "_colors"):  # still being built
            return
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        elif event.type() == QEvent.Type.FontChange:
            self._apply_fonts()
            self._tick_key = None
            self._schedule()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._schedule()  # sizes are known now: fit labels and texts

    # --- size and top N ------------------------------------------------------------------------
    def _on_resized(self) -> None:
        if self._step is not None:
            self._schedule()

    def _on_top_n(self, n: int) -> None:
        self._tick_key = None
        self._schedule()
        self.top_n_changed.emit(n)
