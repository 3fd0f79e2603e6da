"""The next-token chart: the top candidates as horizontal bars, the roll, what sampling removed.

``set_step`` only stores the latest step; a timer draws it at display rate, so a fast generation or a
slider dragged across its range costs one redraw per frame however many steps arrive. Redraws update
the plot items in place (``setOpts``, reused text items) and rebuild the axis labels only when the
candidate tokens change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QPoint,
    QPointF,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.frames import FramedWidget

RAW, FINAL = "raw", "final"
MIN_TOP_N, MAX_TOP_N = 5, 50
AXIS_SHRINK_PX = 48  # the token axis narrows only when its labels need this much less
END_SUFFIX = QT_TRANSLATE_NOOP("ProbChart", "  ⏎ end")  # after an end token's label; see end_suffix()
BAR_HEIGHT = 0.74
X_RANGE = (-0.016, 1.04)  # room for the "0 %" and "100 %" axis labels
LABEL_EMS = 13  # labels longer than this many ems are elided
# Stage names as a classroom reads them (display only: the stages themselves live in the sampler). English
# keys, translated when shown.
STAGE_WORDS = {
    "ban": QT_TRANSLATE_NOOP("ProbChart", "end banned"),
    "penalties": QT_TRANSLATE_NOOP("ProbChart", "repetition penalty"),
    "top_k": QT_TRANSLATE_NOOP("ProbChart", "top-k"),
    "top_p": QT_TRANSLATE_NOOP("ProbChart", "top-p"),
    "min_p": QT_TRANSLATE_NOOP("ProbChart", "min-p"),
    "temperature": QT_TRANSLATE_NOOP("ProbChart", "greedy"),
}
# Fixed accents that read on light and dark palettes alike.
CHOSEN_COLOR = QColor("#e8590c")
END_COLOR = QColor("#7b3fb5")


def bar_colour(palette: QPalette) -> QColor:
    """The colour of the candidates' bars: the palette's highlight, unless it is so grey that it would
    read as "removed" (a clear blue then)."""
    bar = QColor(palette.color(QPalette.Highlight))
    return bar if bar.hslSaturationF() >= 0.25 else QColor("#2f6fbf")


@dataclass(frozen=True)
class _Step:
    d: Distribution
    label_of: Callable[[int], str]
    eog_ids: frozenset[int]


def end_suffix() -> str:
    """What follows an end token's label in the charts ("  ⏎ end"), in the interface's language."""
    return QCoreApplication.translate("ProbChart", END_SUFFIX)


def format_percent(p: float) -> str:
    """``76.8 %``, ``0.57 %``, ``<0.01 %``, ``0 %``."""
    if p <= 0:
        return "0 %"
    if p < 1e-4:
        return "<0.01 %"
    if p < 0.01:
        return f"{p * 100:.2f} %"
    return f"{p * 100:.1f} %"


class ValueLabel:
    """One number at a bar's end (drawn by :class:`ValueLabels`)."""

    __slots__ = ("color", "right", "text", "visible", "x", "y")

    def __init__(self) -> None:
        self.text, self.color, self.right = "", QColor("black"), False
        self.x, self.y, self.visible = 0.0, 0, False

    def toPlainText(self) -> str:  # the name pyqtgraph's TextItem has
        return self.text

    def isVisible(self) -> bool:
        return self.visible

    def setVisible(self, visible: bool) -> None:
        self.visible = visible


class ValueLabels(pg.GraphicsObject):
    """Every bar's number, painted in one pass at its data position, in pixels (never scaled)."""

    def __init__(self, labels: list[ValueLabel]) -> None:
        super().__init__()
        self.labels = labels
        self.font = QFont()

    def boundingRect(self) -> QRectF:
        view = self.getViewBox()
        return view.viewRect() if view is not None else QRectF()

    def paint(self, painter: QPainter, *_args) -> None:
        to_device = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        metrics = QFontMetricsF(self.font)
        half = (metrics.ascent() - metrics.descent()) / 2
        for label in self.labels:
            if not label.visible or not label.text:
                continue
            at = to_device.map(QPointF(label.x, label.y))
            x = at.x() - metrics.horizontalAdvance(label.text) if label.right else at.x()
            painter.setPen(label.color)
            painter.drawText(QPointF(x, at.y() + half), label.text)
        painter.restore()


class TokenLabels(pg.GraphicsObject):
    """The token of each row, right-aligned beside its bar, painted in one pass over the left axis's
    area. The axis's own tick labels (laid out, elided and drawn through a QPicture) cost 5 to 7 ms a
    frame with 50 rows, and they change with every step."""

    def __init__(self, axis: pg.AxisItem, view: pg.ViewBox) -> None:
        super().__init__(axis)
        self.axis, self.view = axis, view
        self.rows: list[tuple[int, str]] = []
        self.font = QFont()
        self.color = QColor("black")

    def texts(self) -> list[str]:
        return [text for _row, text in self.rows]

    def set_rows(self, rows: list[tuple[int, str]]) -> None:
        self.rows = rows
        self.update()

    def boundingRect(self) -> QRectF:
        geometry = self.axis.geometry()
        return QRectF(0, 0, geometry.width(), geometry.height())

    def paint(self, painter: QPainter, *_args) -> None:
        if not self.rows:
            return
        painter.setFont(self.font)
        painter.setPen(self.color)
        metrics = QFontMetricsF(self.font)
        half = (metrics.ascent() - metrics.descent()) / 2
        right = self.axis.geometry().width() - 6
        # Rows are evenly spaced: map two of them, not every one.
        top = self.mapFromScene(self.view.mapViewToScene(QPointF(0.0, 0.0))).y()
        step = self.mapFromScene(self.view.mapViewToScene(QPointF(0.0, 1.0))).y() - top
        for row, text in self.rows:
            y = top + row * step + half
            painter.drawText(QPointF(right - metrics.horizontalAdvance(text), y), text)


class ProbChart(FramedWidget):
    """Bars of the next-token distribution; click a bar to pick that token instead of the die."""

    token_clicked = Signal(int)
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

        self.info_label = QLabel("", self)
        self.info_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # its own line
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

        self.roll_label = QLabel(self)
        self.roll_label.setTextFormat(Qt.PlainText)
        self.roll_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)

    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(self)
        self.plot.setAntialiasing(False)
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        # Grid lines at 25, 50, 75 %: three static lines (the axis's own grid made the bottom axis
        # part of every frame's repaint).
        self.grid_lines = [pg.InfiniteLine(pos=v, angle=90, movable=False) for v in (0.25, 0.5, 0.75)]
        for line in self.grid_lines:
            line.setZValue(-1)
            item.addItem(line, ignoreBounds=True)
        self.view = item.getViewBox()
        self.view.invertY(True)
        self.view.enableAutoRange(enable=False)
        self.view.setXRange(*X_RANGE, padding=0.0)
        self.view.sigResized.connect(self._on_resized)
        self.left_axis = item.getAxis("left")
        self.left_axis.setStyle(tickLength=0, autoExpandTextSpace=False, showValues=False)
        self.token_labels = TokenLabels(self.left_axis, self.view)
        self.bottom_axis = item.getAxis("bottom")
        self.bottom_axis.setStyle(tickLength=-5)
        self.bottom_axis.setTicks([[(v, f"{round(v * 100)} %") for v in (0.0, 0.25, 0.5, 0.75, 1.0)], []])
        # The axes are repainted with every frame of bars (the grid puts the bottom one under them):
        # from a cached pixmap, not by replaying 50 labels' text, unless their labels changed.
        for axis in (self.left_axis, self.bottom_axis):
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

        empty = np.zeros(0)
        no_pen = pg.mkPen(None)
        # One brush per item: ghosts of removed tokens behind, every candidate, then end tokens and the
        # chosen token drawn over their rows, and the rest of the vocabulary.
        self.removed_bars = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=BAR_HEIGHT, pen=no_pen)
        self.bars = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=BAR_HEIGHT, pen=no_pen)
        self.end_bars = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=BAR_HEIGHT, pen=no_pen)
        self.chosen_bar = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=BAR_HEIGHT)
        self.rest_bar = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=BAR_HEIGHT, pen=no_pen)
        for z, bar in enumerate(
            (self.removed_bars, self.bars, self.end_bars, self.chosen_bar, self.rest_bar)
        ):
            bar.setZValue(z)
            self.plot.addItem(bar, ignoreBounds=True)
        # Percentages at the bar ends: one label per possible row (+ the chosen beyond top-N, + rest),
        # all painted by one item (52 pyqtgraph TextItems cost ~10 ms a frame to lay out).
        self.value_texts: list[ValueLabel] = [ValueLabel() for _ in range(MAX_TOP_N + 2)]
        self.value_item = ValueLabels(self.value_texts)
        self.value_item.setZValue(10)
        self.plot.addItem(self.value_item, ignoreBounds=True)

        scene = self.plot.scene()
        scene.sigMouseClicked.connect(self._on_scene_click)
        scene.sigMouseMoved.connect(self._on_scene_move)

    # --- public API ----------------------------------------------------------------------------
    def set_step(
        self, d: Distribution, label_of: Callable[[int], str], eog_ids: frozenset[int] = frozenset()
    ) -> None:
        """Show step ``d`` at the next frame. Cheap: stores it and schedules a redraw, nothing more."""
        self._step = _Step(d, label_of, eog_ids)
        self._schedule()

    def clear(self) -> None:
        """Show nothing (call it too when the model changes: labels are rebuilt from scratch)."""
        self._step = None
        self._tick_key = None
        self._schedule()

    def step(self) -> Distribution | None:
        """The latest step given to :meth:`set_step` (drawn or not yet)."""
        return self._step.d if self._step else None

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

    def bar_at(self, y: float) -> int | None:
        """The token id of the bar at plot coordinate ``y`` (rows are 0, 1, … from the top), or None."""
        row = round(y)
        if 0 <= row < len(self._rows) and abs(y - row) <= 0.5:
            return int(self._rows[row])
        return None

    def bar_pos(self, token: int) -> QPoint | None:
        """Where to click the bar of ``token``, in ``plot.viewport()`` coordinates, or None."""
        hit = np.flatnonzero(self._rows == token)
        if hit.size == 0:
            return None
        scene = self.view.mapViewToScene(QPointF(0.02, float(hit[0])))
        return self.plot.mapFromScene(scene)

    def row_tooltip(self, row: int) -> str:
        """What hovering the bar in ``row`` says."""
        if self._step is None or not 0 <= row < len(self._rows):
            return ""
        d, i = self._step.d, int(self._row_index[row])
        token = int(self._rows[row])
        lines = [self.tr("{label}   (token {id})").format(label=self._step.label_of(token), id=token)]
        if token in self._step.eog_ids:
            lines.append(self.tr("An end-of-generation token: picking it ends the reply."))
        lines.append(self.tr("Model (raw): {p}").format(p=format_percent(float(d.p_raw[i]))))
        stage = d.removed_by[i]
        if stage is None:
            lines.append(self.tr("After sampling: {p}").format(p=format_percent(float(d.p_final[i]))))
        else:
            lines.append(
                self.tr("After sampling: removed by {stage}").format(stage=self._stage_words(d, stage))
            )
        lines.append(self.tr("Click to pick this token instead of the die."))
        return "\n".join(lines)

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
        rest = (d.rest_p_final if final else d.rest_p_raw) + float(np.asarray(p_all)[hidden].sum())
        self._rows, self._row_index = ids, index
        n = len(ids)
        y = np.arange(n, dtype=np.float64)
        eog = np.fromiter((int(t) in self._step.eog_ids for t in ids), dtype=bool, count=n)
        removed = np.fromiter((d.removed_by[i] is not None for i in index), dtype=bool, count=n)
        if not final:
            removed[:] = False
        chosen_row = int(np.flatnonzero(index == d.chosen_index)[0])

        self._fit_fonts()
        self._update_ticks(ids, eog)
        self.bars.setOpts(x0=np.zeros(n), y=y, width=p, height=BAR_HEIGHT)
        raw = np.asarray(d.p_raw, dtype=np.float64)[index]
        self.removed_bars.setOpts(x0=np.zeros(removed.sum()), y=y[removed], width=raw[removed])
        self.end_bars.setOpts(x0=np.zeros(eog.sum()), y=y[eog], width=p[eog])
        self.chosen_bar.setOpts(x0=[0.0], y=[float(chosen_row)], width=[p[chosen_row]])
        self.rest_bar.setOpts(x0=[0.0], y=[float(n)], width=[rest])
        self.view.setYRange(-0.6, n + 0.6, padding=0.0)

        for row in range(n):
            i = int(index[row])
            if removed[row]:
                text = f"0 %   ✂ {self._stage_words(d, d.removed_by[i])}"
                self._place_text(self.value_texts[row], row, raw[row], text, self._colors["muted"])
            else:
                color = self._colors["chosen_text"] if row == chosen_row else self._colors["text"]
                self._place_text(self.value_texts[row], row, p[row], format_percent(p[row]), color)
        others = (d.n_alive if final else d.n_vocab) - int(np.count_nonzero(p > 0) if final else n)
        if others > 0:
            others_text = self.tr("{n} other tokens").format(n=f"{others:,}")
        else:
            others_text = self.tr("no other token left")
        rest_text = f"{format_percent(rest)}   {others_text}"
        self._place_text(self.value_texts[n], n, rest, rest_text, self._colors["muted"])
        for text in self.value_texts[n + 1 :]:
            text.setVisible(False)
        self.value_item.update()
        self._update_labels(d)

    def _place_text(self, item: pg.TextItem, row: int, end: float, text: str, color: QColor) -> None:
        """Put ``text`` after the bar ending at ``end``, or inside it when it would not fit after."""
        units = (X_RANGE[1] - X_RANGE[0]) / (self.view.width() or 1.0)
        text_w = self._metrics.horizontalAdvance(text) * units + 0.01
        inside = end + text_w > X_RANGE[1] and end > text_w
        item.text = text
        item.color = self._colors["on_bar"] if inside else color
        item.right = inside  # inside the bar: the text ends at the bar's end
        item.x = end - 0.004 if inside else end + 0.004
        item.y = row
        item.visible = True

    def _update_ticks(self, ids: np.ndarray, eog: np.ndarray) -> None:
        """Rebuild the token labels, only when the drawn tokens (or the fonts) changed."""
        font = self._label_font
        key = (ids.tobytes(), eog.tobytes(), font.pointSizeF())
        if key == self._tick_key:
            return
        self._tick_key = key
        self.tick_rebuilds += 1
        metrics = QFontMetricsF(font)
        limit = metrics.horizontalAdvance("M") * LABEL_EMS
        labels, end = [], end_suffix()
        for row, token in enumerate(ids):
            label = metrics.elidedText(str(self._step.label_of(int(token))), Qt.ElideMiddle, limit)
            labels.append((row, label + (end if eog[row] else "")))
        labels.append((len(ids), self.tr("everything else")))
        self.token_labels.font = font
        self.token_labels.set_rows(labels)
        # The axis keeps its width unless the labels need more, or much less: a new width re-lays out
        # the whole plot (the view, the bottom axis), which costs a frame more than its drawing.
        width = int(max(metrics.horizontalAdvance(text) for _, text in labels) + 16)
        current = self.left_axis.width()
        if width > current or width < current - AXIS_SHRINK_PX:
            self.left_axis.setWidth(width)

    def _update_labels(self, d: Distribution) -> None:
        label = str(self._step.label_of(d.chosen))
        if d.forced:
            roll = self.tr("you picked “{token}” by hand (forced, not rolled)").format(token=label)
        elif d.greedy or d.u is None:
            roll = self.tr("greedy (temperature 0): always the most likely token → “{token}”").format(
                token=label
            )
        else:
            roll = self.tr("the die: u = {u} → “{token}”").format(u=f"{d.u:.4f}", token=label)
        self.roll_label.setText("🎲  " + roll)
        end = format_percent(d.eos_p_raw)
        if math.isfinite(d.entropy_bits):
            info = self.tr("uncertainty {bits} bits · end {end}").format(
                bits=f"{d.entropy_bits:.2f}", end=end
            )
        else:  # a step read back from a saved chat: only its top candidates are known
            info = self.tr("saved step · end ≥ {end}").format(end=end)
        self.info_label.setText(info)

    def _draw_empty(self) -> None:
        self._rows = np.zeros(0, dtype=np.int64)
        self._row_index = np.zeros(0, dtype=np.int64)
        empty = np.zeros(0)
        for bar in (self.removed_bars, self.bars, self.end_bars, self.chosen_bar, self.rest_bar):
            bar.setOpts(x0=empty, y=empty, width=empty)
        for text in self.value_texts:
            text.setVisible(False)
        self.value_item.update()
        self._tick_key = None
        self.token_labels.set_rows([])
        self.view.setYRange(-0.6, 10.6, padding=0.0)
        self.roll_label.setText("🎲  " + self.tr("Nothing to show yet: type a prompt and generate."))
        self.info_label.setText("")

    def _stage_words(self, d: Distribution, stage: str) -> str:
        if stage == "temperature" and not d.greedy:
            return self.tr("temperature")
        word = STAGE_WORDS.get(stage)
        return QCoreApplication.translate("ProbChart", word) if word else stage

    # --- looks ---------------------------------------------------------------------------------
    def _base_font(self, factor: float = 1.0) -> QFont:
        font = QFont(self.font())
        size = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        font.setPointSizeF(max(size, 10.0) * self._font_scale * factor)
        return font

    def _fit_fonts(self) -> None:
        """Token labels and percentages at the chosen size, shrunk when the rows are too thin for it
        (50 rows in a small window); the texts are re-fonted only when the size changes."""
        label, value = self._base_font(1.1), self._base_font(1.0)
        rows = len(self._rows) + 1.2
        height = self.view.height()
        if height > 0:
            fit = height / rows * 0.98  # pixels of line height per row
            for font in (label, value):
                px = QFontMetricsF(font).height()
                if px > fit:
                    font.setPointSizeF(max(font.pointSizeF() * fit / px, 6.0))
        self._label_font = label
        if value != self._value_font:
            self._value_font = value
            self._metrics = QFontMetricsF(value)
            self.value_item.font = value

    def _apply_fonts(self) -> None:
        for widget in (self.raw_button, self.final_button, self.top_n_label, self.top_n_spin):
            widget.setFont(self._base_font())
        self.info_label.setFont(self._base_font(0.95))
        roll = self._base_font(1.3)
        roll.setBold(True)
        self.roll_label.setFont(roll)
        self.bottom_axis.setStyle(tickFont=self._base_font(0.95))
        self._value_font = self._base_font(1.0)
        self._metrics = QFontMetricsF(self._value_font)
        self._label_font = self._base_font(1.1)
        self.value_item.font = self._value_font

    def _apply_palette(self) -> None:
        pal = self.palette()
        base, fg = pal.color(QPalette.Base), pal.color(QPalette.Text)
        dark = base.lightnessF() < 0.5
        bar = bar_colour(pal)
        ghost, rest, muted = QColor(fg), QColor(fg), QColor(fg)
        ghost.setAlphaF(0.13)
        rest.setAlphaF(0.35)
        muted.setAlphaF(0.6)
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
        self.token_labels.color = QColor(fg)
        self.token_labels.update()
        grid = QColor(fg)
        grid.setAlphaF(0.18)
        for line in self.grid_lines:
            line.setPen(pg.mkPen(grid))
        self.bars.setOpts(brush=pg.mkBrush(bar))
        self.removed_bars.setOpts(brush=pg.mkBrush(ghost))
        self.end_bars.setOpts(brush=pg.mkBrush(END_COLOR))
        self.chosen_bar.setOpts(brush=pg.mkBrush(CHOSEN_COLOR), pen=pg.mkPen(fg, width=2))
        self.rest_bar.setOpts(brush=pg.mkBrush(rest))
        self._schedule()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if not hasattr(self, "_colors"):  # still being built
            return
        if event.type() == QEvent.PaletteChange:
            self._apply_palette()
        elif event.type() == QEvent.FontChange:
            self._apply_fonts()
            self._tick_key = None
            self._schedule()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._schedule()  # sizes are known now: fit labels and texts

    # --- mouse ---------------------------------------------------------------------------------
    def _on_resized(self) -> None:
        if self._step is not None:
            self._schedule()

    def _row_under(self, scene_pos: QPointF) -> int | None:
        inside = self.view.sceneBoundingRect().contains(scene_pos)
        on_label = self.left_axis.sceneBoundingRect().contains(scene_pos)
        if not (inside or on_label):
            return None
        y = self.view.mapSceneToView(scene_pos).y()
        token = self.bar_at(y)
        return None if token is None else round(y)

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.LeftButton:
            return
        row = self._row_under(event.scenePos())
        if row is not None:
            event.accept()
            self.token_clicked.emit(int(self._rows[row]))

    def _on_scene_move(self, scene_pos: QPointF) -> None:
        row = self._row_under(scene_pos)
        if row == self._hover_row:
            return
        self._hover_row = row
        viewport = self.plot.viewport()
        if row is None:
            viewport.unsetCursor()
            QToolTip.hideText()
        else:
            viewport.setCursor(Qt.PointingHandCursor)
            QToolTip.showText(QCursor.pos(), self.row_tooltip(row), viewport)

    def _on_top_n(self, n: int) -> None:
        self._tick_key = None
        self._schedule()
        self.top_n_changed.emit(n)
