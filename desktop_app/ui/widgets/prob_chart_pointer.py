"""What the pointer finds on the next-token chart: the bar under it (its row on the plot or its label on
the axis), that bar's tooltip, and a click on it, which picks that token instead of the die.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, QPoint, QPointF, Qt
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QToolTip

from desktop_app.ui.widgets.prob_chart_looks import format_percent

if TYPE_CHECKING:
    import pyqtgraph as pg
    from PySide6.QtCore import SignalInstance

    from desktop_app.core.engine.distribution import Distribution
    from desktop_app.ui.widgets.prob_chart import _Step

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


class ChartPointer:
    """Hovering and clicking the bars of :class:`~desktop_app.ui.widgets.prob_chart.ProbChart` (a part of
    it, whose state it reads)."""

    if TYPE_CHECKING:  # what the chart provides
        plot: pg.PlotWidget
        view: pg.ViewBox
        left_axis: pg.AxisItem
        token_clicked: SignalInstance
        _step: _Step | None
        _rows: np.ndarray
        _row_index: np.ndarray
        _hover_row: int | None

        def _stage_words(self, d: Distribution, stage: str) -> str: ...

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
        lines = [
            translate("ProbChart", "{label}   (token {id})").format(
                label=self._step.label_of(token), id=token
            )
        ]
        if token in self._step.eog_ids:
            lines.append(translate("ProbChart", "An end-of-generation token: picking it ends the reply."))
        if math.isnan(float(d.p_raw[i])):
            lines.append(
                translate("ProbChart", "The server did not report this token: its probabilities are unknown.")
            )
        lines.append(translate("ProbChart", "Model (raw): {p}").format(p=format_percent(float(d.p_raw[i]))))
        stage = d.removed_by[i]
        if stage is None:
            lines.append(
                translate("ProbChart", "After sampling: {p}").format(p=format_percent(float(d.p_final[i])))
            )
        else:
            lines.append(
                translate("ProbChart", "After sampling: removed by {stage}").format(
                    stage=self._stage_words(d, stage)
                )
            )
        lines.append(translate("ProbChart", "Click to pick this token instead of the die."))
        return "\n".join(lines)

    def _row_under(self, scene_pos: QPointF) -> int | None:
        inside = self.view.sceneBoundingRect().contains(scene_pos)
        on_label = self.left_axis.sceneBoundingRect().contains(scene_pos)
        if not (inside or on_label):
            return None
        y = self.view.mapSceneToView(scene_pos).y()
        token = self.bar_at(y)
        return None if token is None else round(y)

    def _on_scene_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
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
            viewport.setCursor(Qt.CursorShape.PointingHandCursor)
            QToolTip.showText(QCursor.pos(), self.row_tooltip(row), viewport)
