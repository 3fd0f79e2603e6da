"""A plot as a slide shows it: only the plot's drawing (bars, labels, numbers, axes; none of the buttons,
spin boxes or other controls of the widget around it) with a caption under it that says what it shows:
the prompt, "step k of n", the model and the sampler settings.

:class:`Slide` paints itself with any ``QPainter`` (an image, an SVG generator);
:mod:`desktop_app.ui.widgets.export` writes it as PNG or SVG and puts it on the clipboard. The caption
is text (``drawText``), so an SVG keeps it as text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from PySide6.QtCore import QAbstractAnimation, QCoreApplication, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPalette, QTextLayout, QTextOption
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.widgets.frames import FramedWidget

__all__ = [
    "PROMPT_CHARS",
    "Slide",
    "caption_font",
    "caption_lines",
    "prompt_before",
    "settings_text",
    "settle",
    "shorten",
]

PROMPT_CHARS = 90  # a longer prompt is cut, with an ellipsis
MARGIN = 8  # px around the plot, on screen (an image at scale 2 has twice as many)
PAD = 10  # px above and below the caption's text

translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def shorten(text: str, limit: int = PROMPT_CHARS) -> str:
    """``text`` on one line (runs of white space as one space), cut to ``limit`` characters with "…"."""
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1].rstrip() + "…"


def settings_text(s: SamplerSettings) -> str:
    """The sampler settings in short: "temperature 0.8 · top-k 40 · top-p 0.95 · min-p 0.05", then the
    repetition penalty when it is on and the seed when it is fixed. (The waterfall's and the sampling
    panel's own words, so they read the same in every language.)"""
    off = translate("SamplingPanel", "off")
    parts = [
        translate("WaterfallView", "temperature {t}").format(t=f"{s.temperature:g}"),
        translate("WaterfallView", "top-k {k}").format(k=s.top_k if s.top_k > 0 else off),
        translate("WaterfallView", "top-p {p}").format(p=f"{s.top_p:g}" if s.top_p < 1 else off),
        translate("WaterfallView", "min-p {p}").format(p=f"{s.min_p:g}" if s.min_p > 0 else off),
    ]
    if s.repeat_penalty != 1.0:
        parts.append(translate("WaterfallView", "repeat ×{r}").format(r=f"{s.repeat_penalty:g}"))
    if s.seed is not None:
        parts.append(translate("CompareView", "seed %1").replace("%1", str(s.seed)))
    return " · ".join(parts)


def caption_lines(
    prompt: str,
    where: tuple[int, int] | None,
    model: str,
    settings: SamplerSettings | None,
    *,
    raw: bool = False,
) -> tuple[str, ...]:
    """The caption of a step's plot, a line each: the prompt (shortened), then "step k of n · model: …"
    (with a word that the bars are the model's raw probabilities when ``raw``), then the settings.
    Parts that are not known (no prompt, no step number) are left out."""
    lines = []
    if prompt.strip():
        lines.append(translate("Export", "Prompt: “{prompt}”").format(prompt=shorten(prompt)))
    facts = []
    if where is not None:
        facts.append(translate("ProbChart", "step {k} of {n}").format(k=where[0], n=where[1]))
    if model:
        facts.append(translate("Export", "model: {name}").format(name=model))
    if raw:
        facts.append(translate("Export", "bars: the model's raw probabilities, before sampling"))
    if facts:
        lines.append(" · ".join(facts))
    if settings is not None:
        lines.append(settings_text(settings))
    return tuple(lines)


def prompt_before(messages: Sequence, index: int | None = None) -> str:
    """The text of the last user message before ``messages[index]`` (the reply a step belongs to), or of
    the last one of all when ``index`` is None; "" when there is none."""
    before = messages if index is None else messages[:index]
    return next((m.content for m in reversed(before) if m.role == "user"), "")


def caption_font(view: QWidget) -> QFont:
    """The caption's font: ``view``'s, scaled like its texts (presentation mode makes it larger)."""
    font = QFont(view.font())
    font_scale = getattr(view, "font_scale", None)
    scale = font_scale() if font_scale is not None else 1.0
    font.setPointSizeF(max(font.pointSizeF(), 10.0) * scale)
    return font


def settle(view: FramedWidget) -> None:
    """``view`` (the chart, or a step plot) with its latest state drawn now, even when it waits behind
    another dock's tab or was never shown (its plot is built then), and with no bars mid-glide: an
    export shows the step, not an old frame."""
    ensure_built = getattr(view, "ensure_built", None)  # a step plot's, built at its first show
    if ensure_built is not None:
        ensure_built()
    QCoreApplication.sendPostedEvents()  # a plot just built or shown: shown and laid out at its size
    if view.dirty:
        view._redraw()  # it stays marked dirty: drawn again, at its size, when it comes into view
    anim = getattr(view, "anim", None)
    if anim is not None and anim.state() == QAbstractAnimation.State.Running:
        anim.setCurrentTime(anim.duration())  # the glide's end: the engine's numbers
    QCoreApplication.sendPostedEvents()  # the axes resized to the new labels: laid out again


@contextmanager
def _uncached(view: QGraphicsView):
    """The scene's items drawn afresh, not from their cached pixmaps (the chart's axes keep one): text
    stays sharp at any scale, and text in an SVG."""
    items = [
        (i, i.cacheMode()) for i in view.scene().items() if i.cacheMode() != QGraphicsItem.CacheMode.NoCache
    ]
    for item, _mode in items:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in items:
            item.setCacheMode(mode)


@dataclass(frozen=True)
class Slide:
    """``plot`` (a pyqtgraph ``PlotWidget``, or any ``QGraphicsView``) at its on-screen size with a
    ``MARGIN`` around it, the ``caption``'s lines under it in ``font`` (the plot's font when None), each
    wrapped to the plot's width. Sizes are the screen's pixels; :meth:`image` draws it ``scale`` times
    larger."""

    plot: QGraphicsView
    caption: Sequence[str] = ()
    font: QFont | None = field(default=None)

    # --- geometry --------------------------------------------------------------------------------
    def plot_size(self) -> QSize:
        """The plot's drawing on screen (its viewport: no frame, no scroll bars)."""
        return self.plot.viewport().size()

    def caption_font(self) -> QFont:
        return QFont(self.font) if self.font is not None else QFont(self.plot.font())

    def caption_rows(self) -> list[str]:
        """The caption's lines as drawn: each wrapped to the plot's width (at a word, or anywhere in a
        word too long for a line)."""
        font, width = self.caption_font(), max(self.plot_size().width(), 40)
        rows = []
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        for text in self.caption:
            layout = QTextLayout(text, font, self.plot)
            layout.setTextOption(option)
            layout.beginLayout()
            while (line := layout.createLine()).isValid():
                line.setLineWidth(width)
                rows.append(text[line.textStart() : line.textStart() + line.textLength()].rstrip())
            layout.endLayout()
        return rows

    def caption_height(self) -> int:
        """The caption's height in on-screen pixels (0 without a caption)."""
        rows = self.caption_rows()
        if not rows:
            return 0
        metrics = QFontMetricsF(self.caption_font(), self.plot)
        return math.ceil(len(rows) * metrics.lineSpacing() + 2 * PAD)

    def size(self) -> QSize:
        """The slide on screen: the plot with a margin around it, and the caption under it."""
        plot = self.plot_size()
        bottom = self.caption_height() or MARGIN
        return QSize(plot.width() + 2 * MARGIN, plot.height() + MARGIN + bottom)

    def dpi(self) -> float:
        """The screen's logical dots per inch, that fonts are sized by (an image gets the same)."""
        return float(self.plot.logicalDpiY()) or 96.0

    def background(self) -> QColor:
        brush = self.plot.backgroundBrush()
        if brush.style() != Qt.BrushStyle.NoBrush:
            return QColor(brush.color())
        return self.plot.palette().color(QPalette.ColorRole.Base)

    def text_colour(self) -> QColor:
        return self.plot.palette().color(QPalette.ColorRole.Text)

    # --- drawing ---------------------------------------------------------------------------------
    def paint(self, painter: QPainter) -> None:
        """Draw the slide at (0, 0) in on-screen pixels (scale the painter for a larger picture)."""
        size, plot = self.size(), self.plot_size()
        painter.fillRect(QRectF(0, 0, size.width(), size.height()), self.background())
        target = QRectF(MARGIN, MARGIN, plot.width(), plot.height())
        source = self.plot.mapToScene(self.plot.viewport().rect()).boundingRect()
        with _uncached(self.plot):
            self.plot.scene().render(painter, target, source, Qt.AspectRatioMode.IgnoreAspectRatio)
        rows = self.caption_rows()
        if not rows:
            return
        font = self.caption_font()
        metrics = QFontMetricsF(font, self.plot)
        painter.save()
        painter.setFont(font)
        painter.setPen(self.text_colour())
        y = MARGIN + plot.height() + PAD + metrics.ascent()
        for row in rows:
            painter.drawText(QPointF(MARGIN, y), row)
            y += metrics.lineSpacing()
        painter.restore()

    def image(self, scale: float = 1.0) -> QImage:
        """The slide as an image ``scale`` times its on-screen size (2.0: sharp on a projector). Its
        resolution says ``scale`` × the screen's, so a slide program places it at the on-screen size."""
        size = self.size()
        image = QImage(
            QSize(max(round(size.width() * scale), 1), max(round(size.height() * scale), 1)),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        dots = round(self.dpi() / 0.0254)
        image.setDotsPerMeterX(dots)  # fonts in the image sized as on screen
        image.setDotsPerMeterY(dots)
        image.fill(self.background())
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.scale(scale, scale)
            self.paint(painter)
        finally:
            painter.end()
        dots = round(self.dpi() * scale / 0.0254)
        image.setDotsPerMeterX(dots)
        image.setDotsPerMeterY(dots)
        return image
