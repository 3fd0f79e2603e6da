"""Every sampler stage of one step side by side: raw → ban → penalties → top-k → top-p → min-p →
temperature (= the die's final probabilities), as columns, for the top candidates.

Each cell is the token's probability after that stage (a bar and its number); a token removed at a
stage shows a faint bar of what it had and "✂ stage" there, and its row is greyed from there on. Only
the step's active stages appear. A saved step has no stages: raw and final only, with a note saying so.

``set_step`` stores the step; a timer draws it at display rate. When the new step has the same
candidates (a slider moved on the same position) the bars glide from the old values to the new ones
over ``ANIMATION_MS``; with other candidates they jump. The numbers come from
:mod:`desktop_app.ui.widgets.waterfall_model`, the drawing is :mod:`desktop_app.ui.widgets.waterfall_plot`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEasingCurve, QVariantAnimation, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from desktop_app.core.engine.distribution import Distribution
from desktop_app.ui.widgets.reported_step import reported_count, tail_label
from desktop_app.ui.widgets.step_plot import OneStepPlot, StepView, make_plot
from desktop_app.ui.widgets.waterfall_model import (
    ALIVE,
    STATE_NAMES,
    WaterfallCell,
    WaterfallFrame,
    build_frame,
)
from desktop_app.ui.widgets.waterfall_plot import WaterfallPlot

__all__ = ["ANIMATION_MS", "WaterfallCell", "WaterfallView"]

MIN_TOP_N, MAX_TOP_N = 5, 30
ANIMATION_MS = 250


class WaterfallView(OneStepPlot):
    """Small multiples of one step: a column per sampler stage, a row per top candidate."""

    top_n_changed = Signal(int)
    animation_finished = Signal()

    def __init__(self, parent: QWidget | None = None, *, top_n: int = 12) -> None:
        super().__init__(parent)
        self._position: int | None = None
        self._frame: WaterfallFrame | None = None
        self._drawn_key: tuple | None = None  # what tells a slider move from another step
        empty = np.zeros((0, 1))
        self._from_p = self._from_len = self._shown_p = self._shown_len = empty
        self._from_scale = self._shown_scale = 1.0

        self.anim = QVariantAnimation(self)
        self.anim.setDuration(ANIMATION_MS)
        self.anim.setStartValue(0.0)
        self.anim.setEndValue(1.0)
        self.anim.setEasingCurve(QEasingCurve.Type.OutCubic)
        self.anim.valueChanged.connect(lambda t: self._draw_frame(float(t)))
        self.anim.finished.connect(self._on_anim_done)

        self.top_n_label = QLabel(self.tr("Show top"), self)
        self.top_n_spin = QSpinBox(self)
        self.top_n_spin.setRange(MIN_TOP_N, MAX_TOP_N)
        self.top_n_spin.setValue(min(max(top_n, MIN_TOP_N), MAX_TOP_N))
        self.top_n_spin.setToolTip(self.tr("How many of the model's most likely tokens to follow."))
        self.top_n_spin.valueChanged.connect(self._on_top_n)
        self.help_label = QLabel(self)
        self.help_label.setWordWrap(True)
        self.help_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.help_label.setText(
            self.tr("How each sampling setting changes the odds, left to right. ✂: a token was removed.")
        )
        self.note_label = QLabel(self)
        self.note_label.setWordWrap(True)
        self.note_label.setVisible(False)
        bar = QHBoxLayout()
        bar.addWidget(self.help_label, 1)
        bar.addWidget(self.top_n_label)
        bar.addWidget(self.top_n_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.note_label)
        self._plot_place(layout, 1)
        self._finish_init()

    def _build_plot(self) -> None:
        self.plot = make_plot(self)
        self.canvas = WaterfallPlot(self.plot)
        self.view = self.canvas.view
        self.view.sigResized.connect(self._on_resized)

    # --- public API ----------------------------------------------------------------------------
    def set_step(
        self,
        d: Distribution,
        label_of: Callable[[int], str],
        eog_ids: frozenset[int] = frozenset(),
        *,
        position: int | None = None,
    ) -> None:
        """Show step ``d`` at the next frame. ``position`` (optional) tells steps apart: a step with
        the same candidates at another position jumps instead of gliding."""
        self._step = StepView(d, label_of, frozenset(eog_ids))
        self._position = position
        self._schedule()

    def top_n(self) -> int:
        return self.top_n_spin.value()

    def set_top_n(self, n: int) -> None:
        self.top_n_spin.setValue(n)  # clamped to 5..30; emits top_n_changed when it changes

    def columns(self) -> list[str]:
        """The drawn columns: "raw", then the active stages (ban, penalties, top_k, top_p, min_p,
        temperature), or "raw" and "final" for a saved step."""
        return list(self._frame.keys) if self._frame else []

    def header(self, column: str) -> str:
        f, _step = self._drawn()
        return f.headers[f.keys.index(column)]

    def rows(self) -> list[int]:
        """The token ids of the rows, top to bottom ("all other tokens" not included)."""
        return [int(t) for t in self._frame.tokens] if self._frame else []

    def values(self) -> dict[str, np.ndarray]:
        """The probabilities the cells' numbers show, per column, one per row: the engine's own
        (``Stage.p``; 0 once removed). "final" is always there: the die's column."""
        return self._per_column(self._frame.p if self._frame else None)

    def bar_values(self) -> dict[str, np.ndarray]:
        """The probabilities the bars stand for now: while they glide, between the old and the new."""
        return self._per_column(self._shown_p if self._frame else None)

    def others_values(self) -> dict[str, float]:
        """The "all other tokens" row, per column."""
        f = self._frame
        return {key: float(f.p[c, -1]) for c, key in enumerate(f.keys)} if f else {}

    def _per_column(self, p: np.ndarray | None) -> dict[str, np.ndarray]:
        f = self._frame
        if p is None or f is None:
            return {}
        n = len(f.tokens)
        out = {key: p[c, :n].copy() for c, key in enumerate(f.keys)}
        out["final"] = p[-1, :n].copy()
        return out

    def cell(self, token: int, column: str) -> WaterfallCell:
        f, step = self._drawn()
        row, c = self.rows().index(int(token)), f.keys.index(column)
        state, p = int(f.state[c, row]), float(f.p[c, row])
        removed_by = f.removed_by[row] if state != ALIVE else None
        text = self.canvas.cell_text(f, step.d, c, row)
        return WaterfallCell(p, text, STATE_NAMES[state], removed_by)

    def _drawn(self) -> tuple[WaterfallFrame, StepView]:
        """The frame drawn and its step (what the header and cell queries read)."""
        f, step = self._frame, self._step
        assert f is not None and step is not None, "no step drawn yet"
        return f, step

    def note_text(self) -> str:
        """Why a saved step has only two columns ("" otherwise)."""
        return self.note_label.text() if self.note_label.isVisibleTo(self) else ""

    def is_animating(self) -> bool:
        return self.anim.state() == QVariantAnimation.State.Running

    def set_animation_ms(self, ms: int) -> None:
        """How long bars glide to new values (0: they jump)."""
        self.anim.setDuration(max(int(ms), 0))

    # --- a new target --------------------------------------------------------------------------
    def _redraw(self) -> None:
        self.anim.stop()
        if self._step is None:
            self._frame, self._drawn_key = None, None
            self.note_label.setVisible(False)
            self.canvas.clear()
            return
        d = self._step.d
        new = build_frame(d, self.top_n())
        key = (np.asarray(d.candidates).tobytes(), new.index.tobytes(), self._position)
        old, shown_p, shown_len = self._frame, self._shown_p, self._shown_len
        from_p, from_len = new.p, new.length
        if key == self._drawn_key and old is not None and self.anim.duration() > 0:
            from_p, from_len = new.p.copy(), new.length.copy()
            at = {k: c for c, k in enumerate(old.keys)}
            for c, k in enumerate(new.keys):  # a stage just switched on starts at its new values
                if k in at:
                    from_p[c], from_len[c] = shown_p[at[k]], shown_len[at[k]]
        glide = not (np.array_equal(from_p, new.p) and np.array_equal(from_len, new.length))
        self._frame, self._drawn_key = new, key
        self.note_label.setVisible(new.saved)
        if new.saved:
            self.note_label.setText(
                self.tr(
                    "A saved step: only the model's probabilities and the die's final ones were kept, "
                    "so the stages in between cannot be shown. Generate again from here to see them."
                )
            )
        self._from_p, self._from_len = from_p, from_len
        self._from_scale = self._shown_scale if glide else new.scale
        self._layout(new, self._step)
        self.canvas.set_frame(new, self._step)  # the new numbers at once; the bars glide to them
        if glide:
            self._draw_frame(0.0)
            self.anim.start()
        else:
            self._draw_frame(1.0)

    # --- one frame -----------------------------------------------------------------------------
    def _draw_frame(self, t: float) -> None:
        f = self._frame
        if f is None:
            return
        if t >= 1.0:  # the end: exactly the engine's numbers
            p, length, scale = f.p, f.length, f.scale
        else:
            p = self._from_p + (f.p - self._from_p) * t
            length = self._from_len + (f.length - self._from_len) * t
            scale = self._from_scale + (f.scale - self._from_scale) * t
        self._shown_p, self._shown_len, self._shown_scale = p, length, scale
        self.canvas.draw_bars(length, scale)

    def _layout(self, f: WaterfallFrame, step: StepView) -> None:
        fonts = (self._base_font(0.95, bold=True), self._base_font(0.95), self._base_font(1.05))
        d = step.d
        if d.reported and d.rest_p_raw > 0:  # the rest the server did not report is in the last row
            known = np.count_nonzero(~np.isnan(np.asarray(d.p_raw, dtype=np.float64)[f.index]))
            others = tail_label(d, reported_count(d) - int(known))
        else:
            others = self.tr("all other tokens")
        self.canvas.layout(f, step, fonts, others)

    # --- events and looks ----------------------------------------------------------------------
    def _on_anim_done(self) -> None:
        self._draw_frame(1.0)
        self.animation_finished.emit()

    def _on_resized(self) -> None:
        # after clear() the last frame is still drawn until the next redraw; nothing to lay out again
        if self._step is not None and self._frame is not None and self._from_p.shape == self._frame.p.shape:
            self._layout(self._frame, self._step)
            self.canvas.update_texts(self._frame, self._step.d)
            self._draw_frame(float(self.anim.currentValue()) if self.is_animating() else 1.0)

    def _on_top_n(self, n: int) -> None:
        self._schedule()
        self.top_n_changed.emit(n)

    def _apply_fonts(self) -> None:
        for w in (self.top_n_label, self.top_n_spin):
            w.setFont(self._base_font())
        self.help_label.setFont(self._base_font(0.95))
        self.note_label.setFont(self._base_font(1.0, bold=True))
        self.canvas.forget_fonts()

    def _apply_colors(self) -> None:
        self.canvas.apply_colors(self._colors)
