"""The end lane: the model's probability of ending the reply at every token so far (the end tokens'
raw mass, ``Distribution.eos_p_raw``), a point per step, with the steps where the end was banned or
replaced by "Wait" marked, and the step where the reply really ended.

It shows the lecture's "replace the end token with Wait" idea at work: the chance of ending rises,
the app says no, and the reply goes on. Points are stored as they come; a timer draws the latest state
at display rate, updating its plot items in place.

Every number it writes is that one, and says so ("(model)"): the chart's "Model (raw)" figure line and the
reply's end marker show the same number for the same step, in the same words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QCursor, QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from desktop_app.core.engine.session import Step
from desktop_app.ui.widgets.end_controls import EndControls
from desktop_app.ui.widgets.prob_chart import format_percent
from desktop_app.ui.widgets.step_plot import StepPlotWidget, make_plot, plot_item

PLAIN, BANNED, WAIT, END = "", "banned", "wait", "end"
MARKERS = (PLAIN, BANNED, WAIT, END)
Y_TOPS = (0.1, 0.25, 0.5, 1.0)  # the lane's top: the smallest that holds every point
MIN_STEPS = 20  # the x axis spans at least this many steps


def point_of_step(step: Step) -> tuple[float, str] | None:
    """``(eos_p, marker)`` for a session :class:`Step`, or None for a token with no roll (the rest of
    an inserted "Wait" after its first token). ``eos_p`` is NaN when a server reported the step and no
    end token was among what it reported."""
    d = step.distribution
    if d is None:
        return None
    if step.end:
        marker = END
    elif step.inserted and step.replaced is not None:
        marker = WAIT
    elif not d.is_saved and d.stage("ban") is not None:
        marker = BANNED
    else:
        marker = PLAIN
    if d.reported and d.eos_p_raw <= 0 and d.rest_p_raw > 0:
        return math.nan, marker  # no end token among what the server reported: its chance is not known
    return float(d.eos_p_raw), marker


class EndLane(StepPlotWidget):
    """A point per step of the reply: how likely the model was to end it there."""

    step_clicked = Signal(int)  # the index of the clicked point (0 = the reply's first step)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._p: list[float] = []
        self._markers: list[str] = []
        self._pending: list[Step] = []  # steps whose end probability is not read yet
        self._current: int | None = None
        self._hover: int | None = None
        self.title_label = QLabel(self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)  # the selected token's number too: wraps, never widens the dock
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label.setToolTip(
            self.tr(
                "The model's own chance to end the reply at each token: its end tokens' probability before "
                "the sampling settings, as the chart shows it in “Model (raw)”."
            )
        )
        self.legend_label = QLabel(self)
        self.legend_label.setWordWrap(True)
        self.legend_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.title_label)
        self.controls = EndControls(self)  # ban the end, or replace it with "Wait": right where it shows
        layout.addWidget(self.controls)
        self._plot_place(layout, 1)
        layout.addWidget(self.legend_label)
        self._finish_init()

    def _build_plot(self) -> None:
        self.plot = make_plot(self)
        self.plot.setMinimumHeight(90)
        item = plot_item(self.plot)
        item.showGrid(x=False, y=True, alpha=0.18)
        self.view = item.getViewBox()
        self.view.sigResized.connect(self._schedule)
        self.left_axis = item.getAxis("left")
        self.bottom_axis = item.getAxis("bottom")
        self.line = pg.PlotDataItem(x=[], y=[])
        self.dots = pg.PlotDataItem(x=[], y=[], pen=None, symbol="o")
        self.banned = pg.PlotDataItem(x=[], y=[], pen=None, symbol="x")
        self.waits = pg.PlotDataItem(x=[], y=[], pen=None, symbol="t1")  # a triangle pointing up
        self.ends = pg.PlotDataItem(x=[], y=[], pen=None, symbol="star")
        self.current_line = pg.InfiniteLine(angle=90, movable=False)
        self.current_line.setVisible(False)
        self._marker_items = {PLAIN: self.dots, BANNED: self.banned, WAIT: self.waits, END: self.ends}
        for z, it in enumerate((self.current_line, self.line, self.dots, self.banned, self.waits, self.ends)):
            it.setZValue(z)
            item.addItem(it, ignoreBounds=True)
        # Qt's stub types scene() as QGraphicsScene; a pyqtgraph view holds pyqtgraph's own.
        scene = cast(pg.GraphicsScene, self.plot.scene())
        scene.sigMouseClicked.connect(self._on_click)
        scene.sigMouseMoved.connect(self._on_move)

    # --- public API ----------------------------------------------------------------------------
    def set_points(self, points: Iterable[tuple[float, str]]) -> None:
        """Show these ``(eos_p, marker)`` points, one per step (markers: PLAIN, BANNED, WAIT, END)."""
        self._p, self._markers, self._pending = [], [], []
        for p, marker in points:
            self._add(p, marker)
        self._schedule()

    def append_point(self, eos_p: float, marker: str = PLAIN) -> None:
        """One more step at the end of the reply."""
        self._resolve()
        self._add(eos_p, marker)
        self._schedule()

    def set_steps(self, steps: Sequence[Step]) -> None:
        """Show a whole reply from its session steps."""
        self.set_points(pt for pt in map(point_of_step, steps) if pt is not None)

    def append_step(self, step: Step) -> bool:
        """One more session step; False when it has no roll of its own (no point added).

        Its end probability is read when the lane is drawn (or ``points`` is asked): reading it
        computes the step's whole distribution, which a lane in a hidden dock should not pay for on
        every token."""
        if step.distribution is None:
            return False
        self._pending.append(step)
        self._schedule()
        return True

    def _resolve(self) -> None:
        pending, self._pending = self._pending, []
        for step in pending:
            point = point_of_step(step)
            if point is not None:
                self._add(*point)

    def clear(self) -> None:
        """No steps (a new reply begins)."""
        self._p, self._markers, self._current, self._pending = [], [], None, []
        self._schedule()

    def points(self) -> list[tuple[float, str]]:
        self._resolve()
        return list(zip(self._p, self._markers, strict=True))

    def set_current(self, index: int | None) -> None:
        """Mark the step shown elsewhere (the chart's), or none."""
        self._current = index
        self._schedule()

    def current(self) -> int | None:
        return self._current

    def drawn(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What the plot shows, per marker: the steps (1, 2, …) and their end probabilities."""
        out = {}
        for marker, item in self._marker_items.items():
            x, y = item.getData()
            out[marker] = (
                np.zeros(0) if x is None else np.asarray(x),
                np.zeros(0) if y is None else np.asarray(y),
            )
        return out

    def point_tooltip(self, index: int) -> str:
        p, marker = self._p[index], self._markers[index]
        if math.isnan(p):
            text = self.tr("Token {n}: the server did not report the model's chance to end here.").format(
                n=index + 1
            )
        else:
            text = self.tr("Token {n}: the model's chance to end here was {p}.").format(
                n=index + 1, p=format_percent(p)
            )
        extra = {
            BANNED: self.tr("The end token was banned."),
            WAIT: self.tr("The die picked the end; “Wait” was put in its place."),
            END: self.tr("The reply ended here."),
        }.get(marker)
        return text + ("\n" + extra if extra else "")

    # --- drawing -------------------------------------------------------------------------------
    def _add(self, p: float, marker: str) -> None:
        if marker not in MARKERS:
            raise ValueError(f"marker must be one of {MARKERS}, not {marker!r}")
        self._p.append(min(max(float(p), 0.0), 1.0) if not math.isnan(p) else math.nan)
        self._markers.append(marker)

    def _redraw(self) -> None:
        self._resolve()
        n = len(self._p)
        x = np.arange(1, n + 1, dtype=np.float64)
        y = np.asarray(self._p, dtype=np.float64)
        kinds = np.asarray(self._markers, dtype=object)
        known = ~np.isnan(y)  # a step whose end a server did not report: no point, a gap in the line
        self.line.setData(x=x, y=y, connect="finite")
        size = 7 if n <= 150 else 4
        for marker, item in self._marker_items.items():
            mask = (kinds == marker) & known if n else np.zeros(0, dtype=bool)
            big = {PLAIN: size, BANNED: size + 3, WAIT: size + 5, END: size + 9}[marker]
            item.setData(x=x[mask], y=y[mask], symbolSize=big)
        high = float(y[known].max()) if known.any() else 0.0
        top = next((t for t in Y_TOPS if high <= t), 1.0)
        # room for half a tick label below "0 %" and above "100 %": labels past the axis are not drawn
        half = QFontMetricsF(self._tick_font).height() * 0.5 + 2
        pad = top * half / max(self.view.height() - 2 * half, 10.0)
        self.view.setRange(xRange=(0.5, max(n, MIN_STEPS) + 0.5), yRange=(-pad, top + pad), padding=0.0)
        marks = np.linspace(0.0, top, 3)
        self.left_axis.setTicks([[(float(v), f"{round(v * 100)} %") for v in marks], []])
        self.left_axis.setWidth(int(QFontMetricsF(self._tick_font).horizontalAdvance("100 %") + 12))
        if self._current is not None and 0 <= self._current < n:
            self.current_line.setPos(self._current + 1)
            self.current_line.setVisible(True)
        else:
            self.current_line.setVisible(False)
        self.title_label.setText(self.headline())

    def headline(self) -> str:
        """The lane's title: whose chance it is, the selected token's, the latest and the highest (a
        number kept on one line with its "%" where the title wraps)."""
        self._resolve()
        if not self._p:
            return self.tr("Chance to end the reply (model): no tokens yet.")
        p = self._p

        def percent(v: float) -> str:
            return format_percent(v).replace(" ", "\u00a0")

        last = self.tr("now {p}").format(p=percent(p[-1]))  # "not reported" for an unknown one
        parts = [last]
        known = [i for i, v in enumerate(p) if not math.isnan(v)]
        if known:
            top = max(known, key=p.__getitem__)
            parts.append(self.tr("highest {p} at token {i}").format(p=percent(p[top]), i=top + 1))
        k = self._current
        if k is not None and 0 <= k < len(p) - 1:  # the selected token, when it is not the latest
            parts.insert(0, self.tr("token {k}: {p}").format(k=k + 1, p=percent(p[k])))
        return self.tr("Chance to end the reply (model): {figures}").format(figures=" · ".join(parts))

    # --- looks ---------------------------------------------------------------------------------
    def _apply_fonts(self) -> None:
        self.title_label.setFont(self._base_font(1.0, bold=True))
        self.legend_label.setFont(self._base_font(0.9))
        self._tick_font = self._base_font(0.85)
        for axis in (self.left_axis, self.bottom_axis):
            axis.setStyle(tickFont=self._tick_font)

    def _apply_colors(self) -> None:
        c = self._colors
        self.plot.setBackground(c["base"])
        for axis in (self.left_axis, self.bottom_axis):
            axis.setPen(pg.mkPen(c["muted"]))
            axis.setTextPen(pg.mkPen(c["text"]))
        self.line.setPen(pg.mkPen(c["rest"], width=1.5))
        self.dots.setSymbolBrush(pg.mkBrush(c["bar"]))
        self.dots.setSymbolPen(pg.mkPen(None))
        self.banned.setSymbolBrush(pg.mkBrush(c["muted"]))
        self.banned.setSymbolPen(pg.mkPen(c["muted"], width=1))
        self.waits.setSymbolBrush(pg.mkBrush(c["chosen"]))
        self.waits.setSymbolPen(pg.mkPen(c["base"], width=1))
        self.ends.setSymbolBrush(pg.mkBrush(c["end"]))
        self.ends.setSymbolPen(pg.mkPen(c["base"], width=1))
        self.current_line.setPen(pg.mkPen(c["grid"], width=2))
        self.legend_label.setText(
            self.tr(
                "{dot} the model's chance to end at each token   {x} end banned   "
                "{wait} end replaced by “Wait”   {end} the reply ended"
            ).format(
                dot=f"<span style='color:{c['bar'].name()}'>●</span>",
                x=f"<span style='color:{c['muted'].name()}'>✕</span>",
                wait=f"<span style='color:{c['chosen'].name()}'>▲</span>",
                end=f"<span style='color:{c['end'].name()}'>★</span>",
            )
        )

    # --- mouse ---------------------------------------------------------------------------------
    def index_at(self, scene_pos: QPointF) -> int | None:
        """The step under a scene position (nearest on the x axis), or None outside the points."""
        if not self._p or not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        i = round(self.view.mapSceneToView(scene_pos).x()) - 1
        return i if 0 <= i < len(self._p) else None

    def point_pos(self, index: int):
        """Where point ``index`` is drawn, in ``plot.viewport()`` coordinates."""
        scene = self.view.mapViewToScene(QPointF(index + 1, self._p[index]))
        return self.plot.mapFromScene(scene)

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        i = self.index_at(event.scenePos())
        if i is not None:
            event.accept()
            self.step_clicked.emit(i)

    def _on_move(self, scene_pos: QPointF) -> None:
        i = self.index_at(scene_pos)
        if i == self._hover:
            return
        self._hover = i
        if i is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(QCursor.pos(), self.point_tooltip(i), self.plot.viewport())
