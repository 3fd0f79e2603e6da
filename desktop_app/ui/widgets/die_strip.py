"""The die's strip for one step: the final distribution laid end to end on [0, 1] in die order (the top
tokens as labelled slices, the tail as one grey slice), the roll u marked where it landed, and a
sentence that says what happened ("u = 0.4369 landed in “·Taiwan” (cumulative 0.21–0.95)").

The strip itself comes from :func:`desktop_app.core.engine.dice.strip`; this widget only draws it.

A step shown after a pause (step mode's next token, a token clicked, a lesson) is *seen* to be rolled:
the marker runs across the strip through a few random places and settles, slowing down, on u
(``die_rolls.RollPath``, ~0.6 s); only then are the landed slice highlighted and the sentence shown.
The frames of that roll come from the app's frame clock, and only while it runs. Steps closer together
than a roll (a reply streaming) are shown at once, as are greedy and hand-picked steps (nothing is
rolled). What the widget reports (:meth:`DieStrip.marked_u`, :meth:`DieStrip.landed_token`,
:meth:`DieStrip.roll_text`) is always the real roll; the roll is only what is painted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QBrush, QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from desktop_app.core.engine import dice
from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets import reported_step as reported
from desktop_app.ui.widgets.die_rolls import ROLL_S, RollPath
from desktop_app.ui.widgets.frames import FrameClock
from desktop_app.ui.widgets.step_plot import OneStepPlot, fit_slice_text, make_plot, plot_item

STRIP_TOP = 20  # slices drawn one by one; the rest is one grey slice
Y_RANGE = (-0.04, 1.9)  # the strip fills 0..1; the arrow and "u = …" sit above it


class DieStrip(OneStepPlot):
    """The cumulative strip of a step's die with its roll marked; click a slice to pick that token."""

    token_clicked = Signal(int)
    marker_moved = Signal(float)  # a frame of the roll painted the marker there (the last one: at u)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._strip: dice.Strip | None = None
        self._marked_u: float | None = None  # the real roll
        self._painted_u: float | None = None  # where the marker is drawn (the roll's way, then u)
        self._animate = True
        self._roll: RollPath | None = None  # the marker is rolling
        self._roll_wanted = False  # the next draw starts a roll
        self._last_step_at: float | None = None
        self._landed: int | None = None
        self._interval: tuple[float, float] | None = None
        self._slice_tokens = np.zeros(0, dtype=np.int64)
        self._slice_edges = np.zeros(1)
        self.help_label = QLabel(self)
        self.help_label.setWordWrap(True)
        self.help_label.setText(
            self.tr(
                "The die: the final probabilities laid end to end from 0 to 1. The roll u is a random "
                "number in that range; the token whose slice it lands in comes next."
            )
        )
        self.roll_label = QLabel(self)
        self.roll_label.setWordWrap(True)
        self.roll_label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.help_label)
        self._plot_place(layout)
        layout.addWidget(self.roll_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._finish_init()

    def _build_plot(self) -> None:
        self.plot = make_plot(self)
        self.plot.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        item = plot_item(self.plot)
        item.hideAxis("left")
        self.view = item.getViewBox()
        self.view.setRange(xRange=(-0.012, 1.012), yRange=Y_RANGE, padding=0.0)
        self.view.sigResized.connect(self._schedule)
        self.axis = item.getAxis("bottom")
        self.axis.setStyle(tickLength=-5)
        self.axis.setTicks([[(v, f"{v:g}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)], []])
        empty = np.zeros(0)
        self.slices_a = pg.BarGraphItem(x0=empty, y0=empty, width=empty, height=1.0)
        self.slices_b = pg.BarGraphItem(x0=empty, y0=empty, width=empty, height=1.0)
        self.end_slices = pg.BarGraphItem(x0=empty, y0=empty, width=empty, height=1.0)
        self.rest_slice = pg.BarGraphItem(x0=empty, y0=empty, width=empty, height=1.0)
        self.unreported_slice = pg.BarGraphItem(x0=empty, y0=empty, width=empty, height=1.0)
        self.chosen_slice = pg.BarGraphItem(x0=empty, y0=empty, width=empty, height=1.0)
        self._slice_items = (
            self.slices_a,
            self.slices_b,
            self.end_slices,
            self.rest_slice,
            self.unreported_slice,
            self.chosen_slice,
        )
        for z, bar in enumerate(self._slice_items):
            bar.setZValue(z)
            item.addItem(bar, ignoreBounds=True)
        self.slice_texts: list[pg.TextItem] = []
        for _ in range(STRIP_TOP + 2):  # the slices, the others and the rest a server did not report
            text = pg.TextItem("", anchor=(0.5, 0.5))
            text.setZValue(10)
            text.setVisible(False)
            item.addItem(text, ignoreBounds=True)
            self.slice_texts.append(text)
        self.unreported_text = self.slice_texts[-1]
        self.u_line = pg.PlotCurveItem(x=[], y=[])
        self.u_line.setZValue(8)  # under the slice labels: a label stays readable where u crosses it
        self.u_arrow = pg.ArrowItem(angle=-90, headLen=16, tipAngle=40, pen=None)
        self.u_arrow.setZValue(21)
        self.u_text = pg.TextItem("", anchor=(0.5, 0.0))
        self.u_text.setZValue(21)
        for it in (self.u_line, self.u_arrow, self.u_text):
            item.addItem(it, ignoreBounds=True)
        # Qt's stub types scene() as QGraphicsScene; a pyqtgraph view holds pyqtgraph's own.
        cast(pg.GraphicsScene, self.plot.scene()).sigMouseClicked.connect(self._on_click)

    # --- public API ----------------------------------------------------------------------------
    def strip(self) -> dice.Strip | None:
        """The strip as drawn (after :meth:`flush`)."""
        return self._strip

    def marked_u(self) -> float | None:
        """Where the roll's marker stands on [0, 1] (None: greedy, picked by hand, or nothing drawn)."""
        return self._marked_u

    def painted_u(self) -> float | None:
        """Where the marker is drawn now: on its way while it rolls, else :meth:`marked_u`."""
        return self._painted_u

    def rolling(self) -> bool:
        """The marker is rolling (painted on its way to u)."""
        return self._roll is not None

    def set_animate(self, on: bool) -> None:
        """Roll the marker for a step shown after a pause (on), or show every roll at once (off)."""
        self._animate = bool(on)
        if not on:
            self.finish_roll()

    def animates(self) -> bool:
        return self._animate

    def finish_roll(self) -> None:
        """Stop a rolling marker where it was going: at u, the landed slice highlighted (next frame)."""
        self._roll_wanted = False
        if self._roll is not None:
            self._roll = None
            self._schedule()

    def set_step(
        self, d: Distribution, label_of: Callable[[int], str], eog_ids: frozenset[int] = frozenset()
    ) -> None:
        """Show step ``d`` at the next frame; rolled, if it comes after a pause and can be seen."""
        now = time.perf_counter()
        after_pause = self._last_step_at is None or now - self._last_step_at >= ROLL_S
        self._last_step_at = now
        before = self.step()
        self.finish_roll()  # a step mid-roll: the old roll is over, the new step is drawn as it is
        rolled = d.u is not None and not d.forced and not d.greedy
        again = before is not None and before.u == d.u  # the same roll re-sampled: a slider moved
        self._roll_wanted = self._animate and after_pause and rolled and not again and self.in_view()
        super().set_step(d, label_of, eog_ids)

    def clear(self) -> None:
        self.finish_roll()
        super().clear()

    def landed_token(self) -> int | None:
        """The token whose slice holds the marker (a greedy step: the top token; forced: the pick)."""
        return self._landed

    def landed_interval(self) -> tuple[float, float] | None:
        """The cumulative ``(lo, hi)`` the sentence gives for the landed token."""
        return self._interval

    def roll_text(self) -> str:
        return self.roll_label.text()

    def slice_at(self, x: float) -> int | None:
        """The token of the drawn slice at strip position ``x`` (None: the grey tail, or outside)."""
        if self._slice_tokens.size == 0 or not 0 <= x <= self._slice_edges[-1]:
            return None
        i = int(np.searchsorted(self._slice_edges, x, side="right")) - 1
        return int(self._slice_tokens[min(max(i, 0), self._slice_tokens.size - 1)])

    def slice_pos(self, token: int) -> QPoint | None:
        """Where to click the slice of ``token``, in ``plot.viewport()`` coordinates, or None."""
        hit = np.flatnonzero(self._slice_tokens == token)
        if hit.size == 0:
            return None
        i = int(hit[0])
        mid = (self._slice_edges[i] + self._slice_edges[i + 1]) / 2
        return self.plot.mapFromScene(self.view.mapViewToScene(QPointF(mid, 0.3)))

    # --- drawing -------------------------------------------------------------------------------
    def _redraw(self) -> None:
        self._interval = None
        if self._step is None:
            self._draw_empty()
            return
        d, eog = self._step.d, self._step.eog_ids
        s = dice.strip(d, STRIP_TOP)
        self._strip = s
        if self._roll_wanted and s.u is not None:
            start = self._painted_u if self._painted_u is not None else 0.0
            self._roll = RollPath.to(s.u, start, time.perf_counter())
            FrameClock.shared().request(self._roll_frame)
        self._roll_wanted = False
        n = len(s.slices)
        lo = np.array([sl.lo for sl in s.slices])
        w = np.array([sl.p for sl in s.slices])
        tokens = np.array([sl.token for sl in s.slices], dtype=np.int64)
        self._slice_tokens = tokens
        self._slice_edges = np.append(lo, lo[-1] + w[-1]) if n else np.zeros(1)
        is_end = np.fromiter((int(t) in eog for t in tokens), dtype=bool, count=n)
        is_chosen = (tokens == d.chosen) & (self._roll is None)  # highlighted once the marker stops
        parity = np.arange(n) % 2
        plain = ~is_end & ~is_chosen
        for bar, mask in (
            (self.slices_a, plain & (parity == 0)),
            (self.slices_b, plain & (parity == 1)),
            (self.end_slices, is_end & ~is_chosen),
            (self.chosen_slice, is_chosen),
        ):
            bar.setOpts(x0=lo[mask], y0=np.zeros(mask.sum()), width=w[mask], height=1.0)
        rest_lo = float(self._slice_edges[-1]) if n else 0.0
        # A reported step's tail ends in the rest the server did not itemise: hatched, after the grey of
        # the reported candidates not drawn one by one.
        unreported = min(d.order_rest_p, s.rest) if d.reported else 0.0
        for bar, x0, width in (
            (self.rest_slice, rest_lo, s.rest - unreported),
            (self.unreported_slice, rest_lo + s.rest - unreported, unreported),
        ):
            shown = width > 1e-9
            bar.setOpts(x0=[x0] if shown else [], y0=[0.0] if shown else [], width=[width] if shown else [])

        px = max(self.view.width(), 1.0)  # pixels per unit of probability
        metrics = QFontMetricsF(self._slice_font)
        for i, text in enumerate(self.slice_texts[:n]):
            fit_slice_text(text, lo[i] + w[i] / 2, w[i] * px, self._label(tokens[i]), w[i], metrics)
            text.setColor(self._colors["on_bar"])
        for text in self.slice_texts[n:]:
            text.setVisible(False)
        grey = s.rest - unreported
        others = (d.order_ids.size if d.reported else d.n_alive) - n
        if grey > 1e-9 and (others > 0 or not d.reported):
            label = self.tr("{n:,} others").format(n=others) if others > 1 else self.tr("1 other")
            fit_slice_text(self.slice_texts[n], rest_lo + grey / 2, grey * px, label, grey, metrics)
            self.slice_texts[n].setColor(self._colors["text"])
        if unreported > 1e-9:  # on a patch of the background, over the hatching
            x, words = rest_lo + grey + unreported / 2, reported.not_reported()
            fit_slice_text(self.unreported_text, x, unreported * px, words, unreported, metrics)
            self.unreported_text.setColor(self._colors["text"])
        self.roll_label.setText(self._sentence(d, s))
        # While the marker rolls the sentence keeps its place (the layout does not jump) but is not seen.
        self._hide_sentence(self._roll is not None)

    def _roll_frame(self) -> None:
        """A frame of the roll: the marker moves on; at the end the final state is drawn."""
        roll = self._roll
        if roll is None:
            return
        if not self.in_view():
            self.finish_roll()
            return
        x, done = roll.at(time.perf_counter())
        if done:
            self._roll = None
            self._dirty = True
            self.flush()  # the marker at u, the landed slice highlighted, the sentence shown
        else:
            self._paint_marker(x)
            FrameClock.shared().request(self._roll_frame)
        self.marker_moved.emit(self._painted_u if self._painted_u is not None else x)

    def _hide_sentence(self, hidden: bool) -> None:
        style = "color: transparent" if hidden else ""
        if self.roll_label.styleSheet() != style:  # a style set again costs a re-polish every frame
            self.roll_label.setStyleSheet(style)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.finish_roll()  # drawn at u when it is seen again

    def _sentence(self, d: Distribution, s: dice.Strip) -> str:
        """Where the roll landed, or why there was none; sets the marker and the landed token."""
        interval = d.chosen_interval()
        ids, p = d.final_order()
        cum = np.cumsum(np.asarray(p, dtype=np.float64))
        if reported.fell_in_rest(d) or reported.server_rolled(d):  # the server picked the token
            self._set_u(s.u if reported.fell_in_rest(d) else None)
            self._landed = d.chosen
            self._interval = (float(cum[-1]) if cum.size else 0.0, 1.0) if s.u is not None else interval
            return reported.die_server_sentence(d, self._label(d.chosen), self._interval)
        if d.forced:
            self._set_u(None)
            self._landed, self._interval = d.chosen, interval
            text = self.tr("“{token}” was picked by hand: the die was not rolled for this step.").format(
                token=self._label(d.chosen)
            )
            if reported.unknown(d.chosen_p_final):
                text += " " + reported.die_unreported_pick()
            elif interval is None:
                text += " " + self.tr("The die would never have picked it: sampling had removed it.")
            return text
        if d.greedy or s.u is None:
            self._set_u(None)
            self._landed = int(ids[0]) if ids.size else d.chosen
            self._interval = (0.0, float(p[0])) if ids.size else None
            return self.tr(
                "Greedy (temperature 0): the die is not rolled; it always takes the top token “{token}”."
            ).format(token=self._label(self._landed))
        self._set_u(s.u)
        j = min(int(np.searchsorted(cum, s.u, side="left")), cum.size - 1)  # the die's own rule
        self._landed = int(ids[j])
        lo, hi = (float(cum[j - 1]) if j else 0.0), float(cum[j])
        self._interval = (lo, hi)
        digits = 2 if hi - lo >= 0.02 else 4
        text = self.tr("u = {u} landed in “{token}” (cumulative {lo}–{hi}).").format(
            u=f"{s.u:.4f}", token=self._label(self._landed), lo=f"{lo:.{digits}f}", hi=f"{hi:.{digits}f}"
        )
        if s.landed is None:
            text += " " + self.tr("That is in the grey tail of less likely tokens.")
        return text

    def _draw_empty(self) -> None:
        self._roll = None
        self._hide_sentence(False)
        empty = np.zeros(0)
        for bar in self._slice_items:
            bar.setOpts(x0=empty, y0=empty, width=empty)
        for text in self.slice_texts:
            text.setVisible(False)
        self._set_u(None)
        self._strip, self._landed = None, None
        self._slice_tokens, self._slice_edges = np.zeros(0, dtype=np.int64), np.zeros(1)
        self.roll_label.setText(self.tr("Nothing to roll yet: type a prompt and generate."))

    def _set_u(self, u: float | None) -> None:
        """The real roll; the marker is drawn there, or on its way there while it rolls."""
        self._marked_u = u
        if u is None:
            self._roll = None
        self._paint_marker(self._roll.at(time.perf_counter())[0] if self._roll is not None else u)

    def _paint_marker(self, u: float | None) -> None:
        self._painted_u = u
        shown = u is not None
        self.u_arrow.setVisible(shown)
        self.u_text.setVisible(shown)
        if not shown:
            self.u_line.setData(x=[], y=[])
            return
        self.u_line.setData(x=[u, u], y=[Y_RANGE[0], 1.45])
        self.u_arrow.setPos(u, 1.02)
        text = self.tr("u = {u}").format(u=f"{u:.4f}")
        self.u_text.setText(text)
        # Centred over the marker, unless that would cut it at an edge (large print, a roll near 0 or 1).
        half = QFontMetricsF(self.u_text.textItem.font()).horizontalAdvance(text) / 2 + 6
        x = (u + 0.012) / 1.024 * max(self.view.width(), 1.0)  # the marker, in pixels from the left
        right = max(self.view.width(), 1.0) - x
        self.u_text.setAnchor((0.0 if x < half else 1.0 if right < half else 0.5, 0.0))
        self.u_text.setPos(u, Y_RANGE[1] - 0.02)

    # --- looks and mouse -----------------------------------------------------------------------
    def _apply_fonts(self) -> None:
        self.help_label.setFont(self._base_font(0.95))
        self.roll_label.setFont(self._base_font(1.25, bold=True))
        self._slice_font = self._base_font(1.0)
        for text in self.slice_texts:
            text.setFont(self._slice_font)
        self.u_text.setFont(self._base_font(1.1, bold=True))
        self.axis.setStyle(tickFont=self._base_font(0.9))
        self.plot.setFixedHeight(int(QFontMetricsF(self._slice_font).height() * 6.2 + 40))

    def _apply_colors(self) -> None:
        c = self._colors
        self.plot.setBackground(c["base"])
        self.axis.setPen(pg.mkPen(c["muted"]))
        self.axis.setTextPen(pg.mkPen(c["text"]))
        edge = pg.mkPen(c["base"], width=1.5)
        self.slices_a.setOpts(brush=pg.mkBrush(c["bar"]), pen=edge)
        self.slices_b.setOpts(brush=pg.mkBrush(c["bar2"]), pen=edge)
        self.end_slices.setOpts(brush=pg.mkBrush(c["end"]), pen=edge)
        self.rest_slice.setOpts(brush=pg.mkBrush(c["ghost"]), pen=edge)
        hatch = QBrush(c["muted"], Qt.BrushStyle.BDiagPattern)
        self.unreported_slice.setOpts(brush=hatch, pen=pg.mkPen(c["muted"], width=1))
        self.unreported_text.fill = pg.mkBrush(c["base"])
        self.chosen_slice.setOpts(brush=pg.mkBrush(c["chosen"]), pen=pg.mkPen(c["text"], width=2))
        self.u_line.setPen(pg.mkPen(c["text"], width=3))
        self.u_arrow.setBrush(pg.mkBrush(c["text"]))
        self.u_text.setColor(c["text"])

    def _on_click(self, event) -> None:
        scene_pos = event.scenePos()
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return
        pos = self.view.mapSceneToView(scene_pos)
        token = self.slice_at(pos.x()) if 0 <= pos.y() <= 1 else None
        if token is not None:
            event.accept()
            self.token_clicked.emit(token)
