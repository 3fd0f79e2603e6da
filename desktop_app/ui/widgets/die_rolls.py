"""Many rolls of one step's die: "Roll 100×" / "Roll 1000×" with a seed a class can repeat, a histogram
of how often each token came up beside its probability, and the chi-square check in one sentence.

Rolls follow the step shown: a new step (the next token, a slider moved) is rolled again with the same
count and seed when it is drawn. Rolling and the test are :func:`dice.roll_many` and
:func:`dice.chi_square`; this widget only asks for them and draws the result.

:class:`RollPath` is the way one roll is seen: the strip's marker running to u (see ``die_strip``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QStackedWidget, QVBoxLayout, QWidget

from desktop_app.core.engine import dice
from desktop_app.ui.widgets.prob_chart import format_percent
from desktop_app.ui.widgets.reported_step import tail_label
from desktop_app.ui.widgets.step_plot import OneStepPlot, make_plot, plot_item

HIST_ROWS = 12  # tokens in the histogram; the rest is one "other tokens" row
MIN_ROWS = 6  # a few tokens get bars of a normal thickness, not giant ones
MAX_SEED = 99_999_999
LABEL_EMS = 12
ROLL_COUNTS = (100, 1000)
ROLL_S = 0.6  # how long the marker rolls; steps closer together than this are shown at once
ROLL_STOPS = 3  # the random places the marker runs through before it settles on u


@dataclass(frozen=True)
class RollPath:
    """Where the rolling marker is over time: from ``points[0]`` back and forth through random places to
    u (the last point), fast at first and slowing down to a stop (a cubic ease-out of the distance)."""

    points: np.ndarray
    knots: np.ndarray  # the share of the whole distance run at each point, 0 … 1
    t0: float
    seconds: float = ROLL_S

    @classmethod
    def to(cls, u: float, start: float, t0: float, seconds: float = ROLL_S) -> RollPath:
        """A roll from ``start`` to ``u`` that turns back at each of ``ROLL_STOPS`` random places."""
        rng = np.random.default_rng(round(u * 1e9))  # the same roll rolls the same way
        start = min(max(start, 0.0), 1.0)
        for _ in range(200):
            p = np.concatenate(([start], rng.uniform(0.03, 0.97, ROLL_STOPS), [u]))
            run = np.diff(p)
            if np.all(np.abs(run) >= 0.2) and np.all(run[1:] * run[:-1] < 0):
                break
        else:  # from one end to the other, the last run into u from its far side
            far = 0.97 if u < 0.5 else 0.03
            ends = [far if (ROLL_STOPS - 1 - i) % 2 == 0 else 1.0 - far for i in range(ROLL_STOPS)]
            p = np.array([start, *ends, u])
        run = np.concatenate(([0.0], np.cumsum(np.abs(np.diff(p)))))
        return cls(p, run / run[-1] if run[-1] > 0 else np.linspace(0.0, 1.0, p.size), t0, seconds)

    def at(self, now: float) -> tuple[float, bool]:
        """The marker's place at ``now``, and whether it has stopped (then exactly at u)."""
        t = (now - self.t0) / self.seconds
        if t >= 1.0:
            return float(self.points[-1]), True
        run = 1.0 - (1.0 - max(t, 0.0)) ** 3
        return float(np.interp(run, self.knots, self.points)), False


class RollHistogram(OneStepPlot):
    """Roll a step's die many times and compare what came up with the probabilities."""

    rolled = Signal(int, int)  # the user rolled: count, seed

    def __init__(self, parent: QWidget | None = None, *, seed: int = 1) -> None:
        super().__init__(parent)
        self._n_rolls: int | None = None
        self._tally: dice.Tally | None = None
        self._chi: dice.ChiSquare | None = None
        self._tally_key: tuple | None = None
        self._build_toolbar(seed)
        self.chi_label = QLabel(self)
        self.chi_label.setWordWrap(True)
        self.chi_label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(self._toolbar)
        self._plot_place(layout, 1)
        layout.addWidget(self.legend_label)
        layout.addWidget(self.chi_label)
        self._finish_init()

    def _build_toolbar(self, seed: int) -> None:
        self.roll_buttons: dict[int, QPushButton] = {}
        self._toolbar = QHBoxLayout()
        self._toolbar.setSpacing(6)
        for n in ROLL_COUNTS:
            button = QPushButton(self.tr("Roll {n}×").format(n=n), self)
            button.setToolTip(self.tr("Roll this step's die {n} times and count what comes up.").format(n=n))
            button.clicked.connect(lambda _=False, n=n: self._user_roll(n))
            self.roll_buttons[n] = button
            self._toolbar.addWidget(button)
        self.seed_label = QLabel(self.tr("Seed"), self)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setValue(min(max(int(seed), 0), MAX_SEED))
        self.seed_spin.setToolTip(self.tr("The same seed gives the same rolls, so a class can repeat them."))
        self.seed_spin.valueChanged.connect(self._on_seed)
        self.new_rolls_button = QPushButton(self.tr("New rolls"), self)
        self.new_rolls_button.setToolTip(self.tr("Pick a new seed and roll again."))
        self.new_rolls_button.clicked.connect(self.new_rolls)
        self.legend_label = QLabel(self)
        for w in (self.seed_label, self.seed_spin, self.new_rolls_button):
            self._toolbar.addWidget(w)
        self._toolbar.addStretch(1)  # the legend goes on its own line, under the histogram

    def _plot_widget(self) -> QWidget:
        return self.stack

    def _build_plot(self) -> None:
        self.stack = QStackedWidget(self)
        self.placeholder = QLabel(self.stack)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setText(
            self.tr("Press “Roll 100×” or “Roll 1000×” to roll this step's die many times.")
        )
        self.plot = make_plot(self.stack)
        item = plot_item(self.plot)
        item.showGrid(x=True, y=False, alpha=0.18)
        self.view = item.getViewBox()
        self.view.invertY(True)
        self.view.sigResized.connect(self._schedule)
        self.left_axis = item.getAxis("left")
        self.left_axis.setStyle(tickLength=0, autoExpandTextSpace=False)
        self.bottom_axis = item.getAxis("bottom")
        self.bottom_axis.setStyle(tickLength=-5)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.plot)
        empty = np.zeros(0)
        self.prob_bars = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=0.4)
        self.freq_bars = pg.BarGraphItem(x0=empty, y=empty, width=empty, height=0.4)
        for z, bar in enumerate((self.prob_bars, self.freq_bars)):
            bar.setZValue(z)
            item.addItem(bar, ignoreBounds=True)
        self.texts: list[pg.TextItem] = []
        for _ in range(HIST_ROWS + 1):
            text = pg.TextItem("", anchor=(0, 0.5))
            text.setVisible(False)
            item.addItem(text, ignoreBounds=True)
            self.texts.append(text)

    # --- public API ----------------------------------------------------------------------------
    def clear(self) -> None:
        """No step, and the rolls forgotten."""
        self._step = None
        self._n_rolls = None
        self._schedule()

    def seed(self) -> int:
        return self.seed_spin.value()

    def set_seed(self, seed: int) -> None:
        """The seed of the rolls (rolls shown are rolled again with it)."""
        self.seed_spin.setValue(min(max(int(seed), 0), MAX_SEED))

    def roll(self, n: int, seed: int | None = None) -> dice.Tally | None:
        """Roll the step's die ``n`` times (with ``seed``, else the seed box's) and show the histogram.
        Returns the tally, or None when there is no step."""
        if n < 1:
            raise ValueError(f"roll at least once, not {n} times")
        if seed is not None:
            self.seed_spin.blockSignals(True)
            self.set_seed(seed)
            self.seed_spin.blockSignals(False)
        self._n_rolls = int(n)
        self._schedule()
        return self.last_tally()

    def new_rolls(self) -> dice.Tally | None:
        """A new random seed, and the rolls again (1000 when none were rolled yet)."""
        fresh = int(np.random.default_rng().integers(0, MAX_SEED + 1))
        if fresh == self.seed():
            fresh = (fresh + 1) % (MAX_SEED + 1)
        return self._user_roll(self._n_rolls or ROLL_COUNTS[-1], fresh)

    def clear_rolls(self) -> None:
        self._n_rolls = None
        self._schedule()

    def rolls(self) -> int | None:
        """How many rolls are shown (None: none)."""
        return self._n_rolls

    def last_tally(self) -> dice.Tally | None:
        """The rolls the histogram shows, for the step given last (None before any roll)."""
        self._update_tally()
        return self._tally

    def last_chi_square(self) -> dice.ChiSquare | None:
        self._update_tally()
        return self._chi

    def rolls_text(self) -> str:
        return self.chi_label.text()

    def shown_values(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The drawn rows: labels, rolled frequencies and probabilities (after :meth:`flush`)."""
        ticks = self.left_axis._tickLevels[0] if self.left_axis._tickLevels else []
        labels = [text for _pos, text in ticks]
        return labels, np.asarray(self.freq_bars.opts["width"]), np.asarray(self.prob_bars.opts["width"])

    # --- state ---------------------------------------------------------------------------------
    def _user_roll(self, n: int, seed: int | None = None) -> dice.Tally | None:
        tally = self.roll(n, seed)
        self.rolled.emit(int(n), self.seed())
        return tally

    def _on_seed(self, _seed: int) -> None:
        if self._n_rolls:
            self._schedule()
            self.rolled.emit(self._n_rolls, self.seed())

    def _update_tally(self) -> None:
        if self._step is None or not self._n_rolls:
            self._tally = self._chi = self._tally_key = None
            return
        key = (self._step.d, self._n_rolls, self.seed())
        old = self._tally_key
        if old is None or old[0] is not key[0] or old[1:] != key[1:]:
            self._tally = dice.roll_many(self._step.d, self._n_rolls, self.seed())
            self._chi = dice.chi_square(self._tally)
            self._tally_key = key

    # --- drawing -------------------------------------------------------------------------------
    def _redraw(self) -> None:
        self._update_tally()
        t = self._tally
        if t is None:
            self.stack.setCurrentWidget(self.placeholder)
            self.chi_label.setText("")
            return
        self.stack.setCurrentWidget(self.plot)
        k = min(HIST_ROWS, t.ids.size)
        counts = [int(c) for c in t.counts[:k]]
        probs = [float(p) for p in t.probs[:k]]
        labels = [self._label(tok) for tok in t.ids[:k]]
        if t.ids.size > k or t.other_p > 0:
            counts.append(int(t.counts[k:].sum()) + t.other_count)
            probs.append(float(t.probs[k:].sum()) + t.other_p)
            d = self._step.d if self._step else None
            if d is not None and d.reported and t.other_p > 0:  # the rest the server did not report
                labels.append(tail_label(d, t.ids.size - k))
            else:
                labels.append(self.tr("other tokens"))
        n = len(counts)
        freq, prob = np.array(counts) / t.n, np.array(probs)
        y = np.arange(n, dtype=np.float64)
        self.prob_bars.setOpts(x0=np.zeros(n), y=y - 0.21, width=prob, height=0.4)
        self.freq_bars.setOpts(x0=np.zeros(n), y=y + 0.21, width=freq, height=0.4)

        metrics = QFontMetricsF(self._label_font)
        limit = metrics.horizontalAdvance("M") * LABEL_EMS
        ticks = [
            (i, metrics.elidedText(lab, Qt.TextElideMode.ElideMiddle, limit)) for i, lab in enumerate(labels)
        ]
        if len(labels) > k:  # the last row's words are the app's own: whole, not elided
            ticks[-1] = (k, labels[-1])
        self.left_axis.setStyle(tickFont=self._label_font)
        self.left_axis.setTicks([ticks, []])
        self.left_axis.setWidth(int(max(metrics.horizontalAdvance(s) for _, s in ticks) + 16))

        texts = [
            self.tr("{count:,}× = {freq}").format(count=counts[i], freq=format_percent(freq[i]))
            + "   "
            + self.tr("p {p}").format(p=format_percent(probs[i]))
            for i in range(n)
        ]
        vm = QFontMetricsF(self._value_font)
        width = max(self.view.width(), 50.0)
        ends = np.maximum(freq, prob)
        x_max = 0.05  # wide enough that every bar's text fits after it
        for i in range(n):
            room = width - vm.horizontalAdvance(texts[i]) - 12
            x_max = max(x_max, ends[i] * width / max(room, width * 0.2))
        self.view.setRange(xRange=(0.0, x_max), yRange=(-0.6, max(n, MIN_ROWS) - 0.4), padding=0.0)
        step = 0.1 if x_max > 0.5 else 0.05 if x_max > 0.2 else 0.02 if x_max > 0.08 else 0.01
        room = QFontMetricsF(self._base_font(0.9)).horizontalAdvance("100 %") + 12  # one tick label
        while step < 0.5 and width * step / x_max < room:  # a narrow dock: fewer marks, none touching
            step = {0.01: 0.02, 0.02: 0.05, 0.05: 0.1, 0.1: 0.2, 0.2: 0.25}.get(step, 0.5)
        marks = np.arange(0, min(x_max, 1.0) + 1e-9, step)
        self.bottom_axis.setTicks([[(float(v), f"{round(v * 100)} %") for v in marks], []])
        for i, item in enumerate(self.texts):
            item.setVisible(i < n)
            if i < n:
                item.setText(texts[i])
                item.setPos(ends[i] + 4 * x_max / width, i)
        chi = self._chi
        assert chi is not None, "the test is computed with the tally"
        self.chi_label.setText(self._chi_sentence(t, chi))
        if chi.dof:  # the test's own number, for whoever asks
            self.chi_label.setToolTip(
                self.tr(
                    "A chi-square test of the counts against the probabilities: p = {p} (the chance that "
                    "a fair die lands at least this far off; above 0.05 is nothing unusual)."
                ).format(p=f"{chi.p_value:.3g}")
            )

    def _chi_sentence(self, t: dice.Tally, chi: dice.ChiSquare) -> str:
        head = self.tr("{n:,} rolls (seed {seed}):").format(n=t.n, seed=self.seed())
        if chi.dof == 0:
            only = self._label(t.ids[0]) if t.ids.size else ""
            body = self.tr("only one token can come up, so every roll took “{token}”.").format(token=only)
        elif chi.p_value >= 0.05:
            body = self.tr("the counts are as close to the probabilities as a fair die's usually are.")
        elif chi.p_value >= 0.001:
            body = self.tr(
                "the counts are further from the probabilities than usual: a fair die does that about "
                "once in {k} tries. Roll again with a new seed."
            ).format(k=max(2, round(1 / chi.p_value)))
        else:
            body = self.tr(
                "the counts do not match the probabilities: a fair die would almost never do that."
            )
        return head + " " + body

    # --- looks ---------------------------------------------------------------------------------
    def _apply_fonts(self) -> None:
        base = self._base_font()
        for w in (*self.roll_buttons.values(), self.seed_label, self.seed_spin, self.new_rolls_button):
            w.setFont(base)
        self.legend_label.setFont(base)
        self.placeholder.setFont(self._base_font(1.05))
        self.chi_label.setFont(self._base_font(1.15, bold=True))
        self._value_font = self._base_font(1.0)
        self._label_font = self._base_font(1.05)
        for text in self.texts:
            text.setFont(self._value_font)
        self.bottom_axis.setStyle(tickFont=self._base_font(0.9))

    def _apply_colors(self) -> None:
        c = self._colors
        self.plot.setBackground(c["base"])
        for axis in (self.left_axis, self.bottom_axis):
            axis.setPen(pg.mkPen(c["muted"]))
            axis.setTextPen(pg.mkPen(c["text"]))
        self.prob_bars.setOpts(brush=pg.mkBrush(c["ghost"]), pen=pg.mkPen(c["muted"], width=1))
        self.freq_bars.setOpts(brush=pg.mkBrush(c["bar"]), pen=pg.mkPen(None))
        for text in self.texts:
            text.setColor(c["text"])
        self.legend_label.setText(
            self.tr("{rolled} rolled   {prob} probability").format(
                rolled=f"<span style='color:{c['bar'].name()}'>■</span>",
                prob=f"<span style='color:{c['muted'].name()}'>□</span>",
            )
        )
