"""The end lane: the model's probability of ending the reply at every token so far (the end tokens'
raw mass, ``Distribution.eos_p_raw``), a point per step, with the steps where the end was banned or
replaced by "Wait" marked, and the step where the reply really ended.

It shows the lecture's "replace the end token with Wait" idea at work: the chance of ending rises,
the app says no, and the reply goes on. Points are stored as they come; a timer draws the latest state
at display rate, updating its plot items in place.

While a reply thinks, a second series in its own colour: the model's chance to close its thinking at
each step, the raw probability of the close's first token (``</think>`` where the vocabulary has it as
one token; ``</`` where it writes it in several, an upper bound of the chance to begin closing there; see
:mod:`~desktop_app.ui.widgets.end_lane_points`), with the closes taken back ("Wait" written instead) and
the end of the thinking (the model's close, or the budget's) marked. A token outside a step's candidates
is drawn hollow at the smallest candidate's probability: its chance is below that.

Every number it writes is that one, and says so ("(model)"): the chart's "Model (raw)" figure line and the
reply's end marker show the same number for the same step, in the same words.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from desktop_app.core.engine.session import Step
from desktop_app.ui.widgets.end_controls import EndControls
from desktop_app.ui.widgets.end_lane_points import (
    BANNED,
    BELOW,
    BUDGET,
    CLOSE_KINDS,
    CLOSED,
    END,
    MARKERS,
    PLAIN,
    TAKEN_BACK,
    THINKING,
    WAIT,
    ClosePoint,
    LaneToken,
    ReplyPoints,
    close_kind,
    point_of_step,
)
from desktop_app.ui.widgets.end_lane_texts import explanations, headline, point_tooltip
from desktop_app.ui.widgets.step_plot import StepPlotWidget, make_plot, plot_item

__all__ = [
    "BANNED", "BELOW", "BUDGET", "CLOSED", "END", "MARKERS", "PLAIN", "TAKEN_BACK", "THINKING", "WAIT",
    "ClosePoint", "EndLane", "LaneToken", "point_of_step",
]  # fmt: skip

CLOSE_COLOR = QColor("#0f8a6f")  # the close of the thinking: apart from the bars' blue and the end's purple
Y_TOPS = (0.1, 0.25, 0.5, 1.0)  # the lane's top: the smallest that holds every point
MIN_STEPS = 20  # the x axis spans at least this many steps


class EndLane(StepPlotWidget):
    """A point per step of the reply: how likely the model was to end it there (and, while it thinks,
    to close its thinking there)."""

    step_clicked = Signal(int)  # the index of the clicked point (0 = the reply's first step)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._close_ids: tuple[int, ...] = ()
        self._eog_ids: frozenset[int] | None = None
        self._reply = ReplyPoints()
        self._current: int | None = None
        self._hover: int | None = None
        self._shows_close: bool | None = None  # whether the legend and the title's tooltip tell of the close
        self.title_label = QLabel(self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setWordWrap(True)  # the selected token's number too: wraps, never widens the dock
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
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
        self._set_explanations(False)  # (the title's tooltip from the start, before the plot is built)

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
        self.close_line = pg.PlotDataItem(x=[], y=[])
        symbols = {THINKING: "o", BELOW: "o", TAKEN_BACK: "d", CLOSED: "s", BUDGET: "s"}
        self._close_items = {
            kind: pg.PlotDataItem(x=[], y=[], pen=None, symbol=symbols[kind]) for kind in CLOSE_KINDS
        }
        self.current_line = pg.InfiniteLine(angle=90, movable=False)
        self.current_line.setVisible(False)
        self._marker_items = {PLAIN: self.dots, BANNED: self.banned, WAIT: self.waits, END: self.ends}
        # The close's points over the end's, smaller: both near 0 while the reply thinks, both in view.
        items = (self.current_line, self.close_line, self.line, self.dots, self.banned, self.waits, self.ends,
                 *self._close_items.values())  # fmt: skip
        for z, it in enumerate(items):
            it.setZValue(z)
            item.addItem(it, ignoreBounds=True)
        # Qt's stub types scene() as QGraphicsScene; a pyqtgraph view holds pyqtgraph's own.
        scene = cast(pg.GraphicsScene, self.plot.scene())
        scene.sigMouseClicked.connect(self._on_click)
        scene.sigMouseMoved.connect(self._on_move)

    # --- public API ----------------------------------------------------------------------------
    def set_model(self, close_ids: Sequence[int], eog_ids: Collection[int] | None) -> None:
        """The loaded model's close of a thinking (its tokens, ``LoadedModel.think_close_ids``; none: no
        chance to close is shown) and end tokens (to tell a "Wait" for the end from one for the close)."""
        self._close_ids, self._eog_ids = tuple(close_ids), None if eog_ids is None else frozenset(eog_ids)
        self._reply.set_vocabulary(self._close_ids, self._eog_ids)
        self._schedule()

    def set_points(self, points: Iterable[tuple[float, str] | tuple[float, str, ClosePoint | None]]) -> None:
        """Show these ``(eos_p, marker)`` points, one per step (markers: PLAIN, BANNED, WAIT, END), each
        with its chance to close the thinking when it has one: ``(eos_p, marker, ClosePoint)``."""
        self._reply = ReplyPoints(self._close_ids, self._eog_ids)
        for p, marker, *close in points:
            self._reply.add(p, marker, close[0] if close else None)
        self._schedule()

    def append_point(self, eos_p: float, marker: str = PLAIN, close: ClosePoint | None = None) -> None:
        """One more step at the end of the reply."""
        self._reply.add(eos_p, marker, close)
        self._schedule()

    def set_steps(self, steps: Sequence[Step], opened: bool = False) -> None:
        """Show a whole reply from its session steps (``opened``: its prompt opened its thinking)."""
        self.set_tokens(map(LaneToken.of_step, steps), opened)

    def set_tokens(self, tokens: Iterable[LaneToken], opened: bool = False) -> None:
        """Show a reply from its tokens (``opened``: its prompt opened its thinking); read when drawn."""
        self._reply = ReplyPoints(self._close_ids, self._eog_ids, opened)
        for t in tokens:
            self._reply.feed(t)
        self._schedule()

    def set_opened(self, opened: bool) -> None:
        """Whether the prompt of the reply shown opened its thinking (known once the prompt is)."""
        self._reply.set_opened(opened)
        self._schedule()

    def append_step(self, step: Step) -> bool:
        """One more session step; False when it has no roll of its own (no point added).

        Its end probability is read when the lane is drawn (or ``points`` is asked): reading it
        computes the step's whole distribution, which a lane in a hidden dock should not pay for on
        every token."""
        self._reply.feed(LaneToken.of_step(step))  # (a token with no roll still moves the thinking on)
        self._schedule()
        return step.distribution is not None

    def clear(self) -> None:
        """No steps (a new reply begins)."""
        self._reply, self._current = ReplyPoints(self._close_ids, self._eog_ids), None
        self._schedule()

    def points(self) -> list[tuple[float, str]]:
        self._reply.resolve()
        return list(zip(self._reply.p, self._reply.markers, strict=True))

    def close_points(self) -> list[ClosePoint | None]:
        """Each point's chance to close the thinking (None: not in the thinking)."""
        self._reply.resolve()
        return list(self._reply.close)

    def point_tokens(self) -> list[int]:
        """Each point's token: its index among the tokens given (``set_tokens``, ``append_step``)."""
        self._reply.resolve()
        return list(self._reply.point_token)

    def set_current(self, index: int | None) -> None:
        """Mark the step shown elsewhere (the chart's), or none."""
        self._current = index
        self._schedule()

    def current(self) -> int | None:
        return self._current

    def drawn(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What the plot shows, per marker: the steps (1, 2, …) and their end probabilities."""
        return {marker: _data(item) for marker, item in self._marker_items.items()}

    def drawn_close(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """What the plot shows of the close, per kind (CLOSE_KINDS): the steps and their chances to close."""
        return {kind: _data(item) for kind, item in self._close_items.items()}

    def point_tooltip(self, index: int) -> str:
        self._reply.resolve()
        return point_tooltip(self._reply, index)

    def headline(self) -> str:
        """The lane's title: whose chance it is, the selected token's, the latest and the highest; then,
        for a reply that thinks, the same of its chance to close the thinking."""
        self._reply.resolve()
        return headline(self._reply, self._current)

    # --- drawing -------------------------------------------------------------------------------
    def _redraw(self) -> None:
        reply = self._reply
        reply.resolve()
        n = len(reply.p)
        x = np.arange(1, n + 1, dtype=np.float64)
        y = np.asarray(reply.p, dtype=np.float64)
        kinds = np.asarray(reply.markers, dtype=object)
        known = ~np.isnan(y)  # a step whose end a server did not report: no point, a gap in the line
        self.line.setData(x=x, y=y, connect="finite")
        size = 7 if n <= 150 else 4
        for marker, item in self._marker_items.items():
            mask = (kinds == marker) & known if n else np.zeros(0, dtype=bool)
            big = {PLAIN: size, BANNED: size + 3, WAIT: size + 5, END: size + 9}[marker]
            item.setData(x=x[mask], y=y[mask], symbolSize=big)
        high = float(y[known].max()) if known.any() else 0.0
        high = max(high, self._draw_close(x, size))
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
        self._set_explanations(reply.thought)
        self.title_label.setText(self.headline())

    def _draw_close(self, x: np.ndarray, size: int) -> float:
        """Draw the chance to close the thinking; returns the highest drawn (0 when none)."""
        close = self._reply.close
        if not self._reply.thought:
            if self._shows_close is not False:  # (once: a reply with no thinking costs nothing here)
                self.close_line.setData(x=[], y=[])
                for item in self._close_items.values():
                    item.setData(x=[], y=[])
            return 0.0
        y = np.fromiter((math.nan if c is None else c.p for c in close), dtype=np.float64, count=len(close))
        kinds = np.asarray([close_kind(c) for c in close], dtype=object)
        self.close_line.setData(x=x, y=y, connect="finite")
        for kind, item in self._close_items.items():
            mask = (kinds == kind) & ~np.isnan(y)
            big = {
                THINKING: size - 3,
                BELOW: size - 2,
                TAKEN_BACK: size + 6,
                CLOSED: size + 5,
                BUDGET: size + 5,
            }
            item.setData(x=x[mask], y=y[mask], symbolSize=big[kind])
        known = y[~np.isnan(y)]
        return float(known.max()) if known.size else 0.0

    # --- looks ---------------------------------------------------------------------------------
    def _apply_fonts(self) -> None:
        self.title_label.setFont(self._base_font(1.0, bold=True))
        self.legend_label.setFont(self._base_font(0.9))
        self._tick_font = self._base_font(0.85)
        for axis in (self.left_axis, self.bottom_axis):
            axis.setStyle(tickFont=self._tick_font)

    def close_color(self) -> QColor:
        return CLOSE_COLOR.lighter(150) if self._colors["base"].lightnessF() < 0.5 else QColor(CLOSE_COLOR)

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
        close = self.close_color()
        line = QColor(close)
        line.setAlphaF(0.55)
        self.close_line.setPen(pg.mkPen(line, width=1.5, style=Qt.PenStyle.DashLine))
        for kind, item in self._close_items.items():
            hollow = kind in (BELOW, BUDGET)  # at most this much; the close written for the model
            item.setSymbolBrush(pg.mkBrush(c["base"] if hollow else close))
            item.setSymbolPen(pg.mkPen(close, width=1.5) if hollow else pg.mkPen(c["base"], width=1))
        self.current_line.setPen(pg.mkPen(c["grid"], width=2))
        self._shows_close = None
        self._set_explanations(self._reply.thought)

    def _set_explanations(self, thinking: bool) -> None:
        """The legend and the title's tooltip: the close's part too while the reply shown thinks."""
        if thinking == self._shows_close or not self._colors:
            return
        self._shows_close = thinking
        tip, legend = explanations(self._colors, self.close_color(), thinking)
        self.title_label.setToolTip(tip)
        self.legend_label.setText(legend)

    # --- mouse ---------------------------------------------------------------------------------
    def index_at(self, scene_pos: QPointF) -> int | None:
        """The step under a scene position (nearest on the x axis), or None outside the points."""
        p = self._reply.p
        if not p or not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        i = round(self.view.mapSceneToView(scene_pos).x()) - 1
        return i if 0 <= i < len(p) else None

    def point_pos(self, index: int):
        """Where point ``index`` is drawn, in ``plot.viewport()`` coordinates."""
        scene = self.view.mapViewToScene(QPointF(index + 1, self._reply.p[index]))
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


def _data(item: pg.PlotDataItem) -> tuple[np.ndarray, np.ndarray]:
    x, y = item.getData()
    return (np.zeros(0) if x is None else np.asarray(x), np.zeros(0) if y is None else np.asarray(y))
