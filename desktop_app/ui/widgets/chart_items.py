"""What the next-token chart paints each frame: every bar, grid line, percentage and token label, by one
plot item (:class:`BarsItem`).

One item with one ``paint`` is what keeps a frame cheap: pyqtgraph's bar items, text items, axis tick
labels and grid lines each take a bounding-rectangle query and a paint call per frame (50 text items took
~10 ms to lay out, the axis's 50 tick labels 5–7 ms).
Texts are drawn as ``QStaticText`` kept by :class:`TextCache`: a token or a percentage seen in an earlier
step is not laid out again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QStaticText, QTransform

BAR_HEIGHT = 0.74  # of a row
GRID = (0.25, 0.5, 0.75)
# Kinds of bar, in the colour each gets.
CANDIDATE, END, CHOSEN, REST = "candidate", "end", "chosen", "rest"
KINDS = (CANDIDATE, END, CHOSEN, REST)


@dataclass(slots=True)
class BarRow:
    """One row of the chart as drawn: a bar of length ``width`` (a probability) at row ``y``, the ghost of
    what sampling removed (``ghost``, the raw probability), and the number at its end."""

    token: int  # -1 for the rest of the vocabulary
    y: int
    width: float
    kind: str = CANDIDATE
    ghost: float = 0.0
    text: str = ""
    text_color: QColor | None = None
    inside: bool = False  # the number is inside the bar, right-aligned to its end
    end: bool = False  # an end-of-generation token (coloured as one unless it is the chosen token)
    # Of ``width``, the last part a server did not itemise (the rest of a reported step): hatched.
    hatch: float = 0.0
    unknown: bool = False  # a token whose probability a server did not report: a dashed box, no bar


class TextCache:
    """``QStaticText`` for each text drawn in one font, with its width: laid out once, then drawn from
    the cache."""

    LIMIT = 4096  # texts kept per font (tokens of a long reply, percentages); emptied when full

    def __init__(self, font: QFont | None = None) -> None:
        self._texts: dict[str, tuple[QStaticText, float]] = {}
        self.set_font(font or QFont())

    def set_font(self, font: QFont) -> None:
        self.font = QFont(font)
        self.metrics = QFontMetricsF(self.font)
        self._texts.clear()

    def entry(self, text: str) -> tuple[QStaticText, float]:
        found = self._texts.get(text)
        if found is None:
            if len(self._texts) >= self.LIMIT:
                self._texts.clear()
            static = QStaticText(text)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.setPerformanceHint(QStaticText.PerformanceHint.AggressiveCaching)
            static.prepare(QTransform(), self.font)
            found = self._texts[text] = (static, static.size().width())
        return found

    def width(self, text: str) -> float:
        return self.entry(text)[1]


def _scene_painting(item: pg.GraphicsObject, painter: QPainter) -> None:
    """Make ``painter`` draw in scene coordinates (pixels of the plot; an export's own scale is kept)."""
    from_scene, _ok = item.sceneTransform().inverted()
    painter.setTransform(from_scene * painter.transform())


class BarsItem(pg.GraphicsObject):
    """One step as the chart draws it, in one paint: the grid lines, the bars, the percentages at their
    ends and the token of each row right-aligned beside the left axis.

    It lies over the plot's left axis and its view (a child of the plot, not of the view, so the labels
    are not clipped away). Rows are at y = 0, 1, … of the view (inverted: row 0 on top); bars start at
    x = 0."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(plot)
        self.view: pg.ViewBox = plot.getViewBox()
        self.axis: pg.AxisItem = plot.getAxis("left")
        self.rows: list[BarRow] = []
        self.labels: list[tuple[int, str]] = []  # (row, text): each token, then "everything else"
        self.cache = TextCache()  # the percentages' font
        self.label_cache = TextCache()  # the tokens' font
        self.label_color = QColor("black")
        self.brushes = {kind: QBrush(QColor("gray")) for kind in KINDS}
        self.ghost_brush = QBrush(QColor(0, 0, 0, 30))
        self.chosen_pen = QPen(QBrush(QColor("black")), 2)
        self.grid_pen = QPen(QColor(0, 0, 0, 45))
        self.grid_pen.setCosmetic(True)
        self.hatch_brush = QBrush(QColor("gray"), Qt.BrushStyle.BDiagPattern)
        self.hatch_pen = QPen(QColor("gray"))
        self.unknown_pen = QPen(QColor("black"), 1.5, Qt.PenStyle.DashLine)
        self.setZValue(10)
        self.view.sigResized.connect(lambda *_: self.prepareGeometryChange())

    # --- what tests and the chart read ---------------------------------------------------------
    def candidates(self) -> list[BarRow]:
        """The token rows, top to bottom (not the rest of the vocabulary)."""
        return [r for r in self.rows if r.kind != REST]

    def widths(self) -> list[float]:
        return [r.width for r in self.candidates()]

    def of_kind(self, kind: str) -> list[BarRow]:
        return [r for r in self.rows if r.kind == kind]

    def set_rows(self, rows: list[BarRow]) -> None:
        self.rows = rows
        self.update()

    def label_texts(self) -> list[str]:
        return [text for _y, text in self.labels]

    def set_labels(self, labels: list[tuple[int, str]]) -> None:
        self.labels = labels
        self.update()

    # --- drawing -------------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self.axis.geometry().united(self.view.geometry())

    def paint(self, painter: QPainter, *_args) -> None:
        _scene_painting(self, painter)
        view = self.view
        origin = view.mapViewToScene(QPointF(0.0, 0.0))
        one = view.mapViewToScene(QPointF(1.0, 1.0))
        x0, y0 = origin.x(), origin.y()
        dx, dy = one.x() - x0, one.y() - y0  # pixels per unit of probability, per row
        area = view.sceneBoundingRect()

        painter.setPen(self.grid_pen)
        for v in GRID:
            x = x0 + v * dx
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        if not self.rows:
            return
        half = BAR_HEIGHT / 2
        height = BAR_HEIGHT * dy
        # One call per colour: the ghosts of removed tokens, then each kind of bar over them.
        rects: dict[str, list[QRectF]] = {kind: [] for kind in KINDS}
        ghosts, hatched, unknown, chosen = [], [], [], None
        cache = self.cache
        pad = 0.004 * dx
        for row in self.rows:
            top = y0 + (row.y - half) * dy
            if row.ghost > 0.0:
                ghosts.append(QRectF(x0, top, row.ghost * dx, height))
            solid = row.width - row.hatch
            if solid > 0:
                rect = QRectF(x0, top, solid * dx, height)
                rects[row.kind].append(rect)
                if row.kind == CHOSEN:
                    chosen = rect
            if row.hatch > 0:
                hatched.append(QRectF(x0 + max(solid, 0.0) * dx, top, row.hatch * dx, height))
            if row.unknown:  # a box around its words: a place held, not a length
                unknown.append(QRectF(x0, top, cache.width(row.text) + 2 * pad, height))
        painter.setPen(Qt.PenStyle.NoPen)
        for brush, drawn in ((self.ghost_brush, ghosts), *((self.brushes[k], rects[k]) for k in KINDS)):
            if drawn:
                painter.setBrush(brush)
                painter.drawRects(drawn)
        if hatched:
            painter.setPen(self.hatch_pen)
            painter.setBrush(self.hatch_brush)
            painter.drawRects(hatched)
        if chosen is not None:
            painter.setPen(self.chosen_pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(chosen)
        if unknown:
            painter.setPen(self.unknown_pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRects(unknown)

        painter.setFont(cache.font)
        raise_by = cache.metrics.height() / 2
        color = None
        for row in self.rows:
            if not row.text:
                continue
            if row.text_color is not color:
                color = row.text_color
                painter.setPen(color)
            static, width = cache.entry(row.text)
            end = x0 + max(row.width, row.ghost) * dx
            x = end - pad - width if row.inside else end + pad
            painter.drawStaticText(QPointF(x, y0 + row.y * dy - raise_by), static)

        labels = self.label_cache
        painter.setFont(labels.font)
        painter.setPen(self.label_color)
        raise_by = labels.metrics.height() / 2
        right = self.axis.sceneBoundingRect().right() - 6
        for y, text in self.labels:
            static, width = labels.entry(text)
            painter.drawStaticText(QPointF(right - width, y0 + y * dy - raise_by), static)
