"""Export what a plot shows, for slides and handouts: PNG and SVG images of a widget, a pyqtgraph plot
or a :class:`~desktop_app.ui.widgets.slide.Slide` (a plot alone, with a caption), the step's
distribution as CSV, and an image on the clipboard.

Functions take paths; no dialogs (the window asks where). Errors reach the caller as ``OSError`` with a
sentence that says what failed.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QCoreApplication, QPoint, QRectF, QSize
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from desktop_app.core.engine.distribution import STAGE_NAMES, Distribution
from desktop_app.core.engine.tokens import continuation_label, decode_shown
from desktop_app.ui.widgets.slide import Slide

__all__ = [
    "Slide",
    "copy_image",
    "distribution_columns",
    "distribution_rows",
    "export_csv",
    "export_png",
    "export_svg",
    "grab_image",
]

Target = QWidget | pg.PlotItem | Slide
# A table's words, like its column names, stay English whatever the interface's language: a spreadsheet or
# a script reads them.
NOT_REPORTED = "not reported"  # a probability (or rank) a server did not report
REST_LABEL = "the rest, not reported"  # the tokens a server did not itemise, as one row


translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def grab_image(target: Target, scale: float = 1.0) -> QImage:
    """``target`` drawn into an image ``scale`` times its size on screen (2.0: sharp on slides)."""
    if isinstance(target, Slide):
        return target.image(scale)
    if isinstance(target, pg.PlotItem):
        exporter = pyqtgraph.exporters.ImageExporter(target)
        width = max(int(target.sceneBoundingRect().width() * scale), 1)
        exporter.parameters()["width"] = width
        # With toBytes=True the exporter returns the image it drew (its return type is not annotated).
        return cast(QImage, exporter.export(toBytes=True))
    size = target.size()
    image = QImage(
        QSize(max(int(size.width() * scale), 1), max(int(size.height() * scale), 1)),
        QImage.Format.Format_ARGB32,
    )
    image.fill(target.palette().color(target.backgroundRole()))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.scale(scale, scale)
        target.render(painter, QPoint())
    finally:
        painter.end()
    return image


def export_png(target: Target, path: str | Path, *, scale: float = 1.0) -> QSize:
    """Save ``target`` (a widget, a pyqtgraph plot or a slide) as a PNG; returns the image's size."""
    image = grab_image(target, scale)
    path = Path(path)
    # PySide6's stub types ``format`` as bytes, but the binding takes a str (and refuses bytes).
    if not image.save(str(path), "PNG"):  # pyright: ignore[reportCallIssue, reportArgumentType]
        raise OSError(
            translate(
                "Export", "Could not write the image to {path}: check that the folder exists and is writable."
            ).format(path=path)
        )
    return image.size()


def export_svg(target: Target, path: str | Path) -> None:
    """Save ``target`` as an SVG, drawn by Qt's SVG paint engine: bars, lines and text stay vectors.

    (pyqtgraph's own SVGExporter fails on the paths that Qt 6 writes — ``ValueError`` in its
    ``correctCoordinates``, pyqtgraph issue #3485 — so it is not used.)"""
    path = Path(path)
    if isinstance(target, Slide):
        rect = QRectF(0, 0, target.size().width(), target.size().height())
        dpi = target.dpi()
    elif isinstance(target, pg.PlotItem):
        rect = target.sceneBoundingRect()
        widget = target.getViewWidget() or None
        dpi = widget.logicalDpiX() if widget is not None else 96
    else:
        rect = QRectF(0, 0, target.width(), target.height())
        dpi = target.logicalDpiX()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(rect.size().toSize())
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle("TokenDice")
    generator.setResolution(round(dpi))  # fonts as on screen
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(
            translate(
                "Export",
                "Could not write the drawing to {path}: check that the folder exists and is writable.",
            ).format(path=path)
        )
    try:
        if isinstance(target, Slide):
            target.paint(painter)
        elif isinstance(target, pg.PlotItem):
            target.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        else:
            target.render(painter, QPoint())
    finally:
        painter.end()
    if not path.is_file():
        raise OSError(translate("Export", "Could not write the drawing to {path}.").format(path=path))


def copy_image(target: Target, *, scale: float = 1.0) -> QImage:
    """Put ``target``'s image on the clipboard (to paste into slides); returns it."""
    image = grab_image(target, scale)
    QGuiApplication.clipboard().setImage(image)
    return image


# --- the distribution as a table ---------------------------------------------------------------------
def distribution_columns(d: Distribution) -> list[str]:
    """rank, token_id, piece, label, bytes_hex, p_raw, p_<stage> for each active stage, p_final,
    removed_by, chosen."""
    stages = [f"p_{s.name}" for s in d.stages]
    return [
        "rank", "token_id", "piece", "label", "bytes_hex", "p_raw", *stages, "p_final", "removed_by", "chosen"
    ]  # fmt: skip


def distribution_rows(
    d: Distribution, piece_of: Callable[[int], bytes], pending: bytes = b""
) -> list[dict[str, object]]:
    """One row per candidate, in raw order (rank 1 = the model's most likely token). Probabilities are
    floats as the engine computed them ("not reported" where a server did not report them, and a last row
    for the rest it did not itemise); ``piece`` is the token's text (bytes that are not whole UTF-8 as
    ``<E8><87>``, never "�"; the exact bytes are in ``bytes_hex``); ``label`` is what the chart shows:
    after the bytes of an unfinished character (``pending``), the character a candidate completes
    (``<BA> → 臺``)."""
    rows = []
    stages = [(f"p_{s.name}", s.p) for s in d.stages if s.name in STAGE_NAMES]
    for i, token in enumerate(int(t) for t in d.candidates):
        data = bytes(piece_of(token))
        known = not math.isnan(float(d.p_raw[i]))
        row: dict[str, object] = {
            "rank": i + 1 if known else NOT_REPORTED,
            "token_id": token,
            "piece": decode_shown(data),
            "label": continuation_label(pending, data),
            "bytes_hex": data.hex(" ").upper(),
            "p_raw": _number(d.p_raw[i]),
        }
        for name, p in stages:
            row[name] = _number(p[i])
        row["p_final"] = _number(d.p_final[i])
        row["removed_by"] = d.removed_by[i] or ""
        row["chosen"] = 1 if i == d.chosen_index else 0
        rows.append(row)
    if d.reported and d.rest_p_raw > 0:
        rows.append(_rest_row(d))
    return rows


def _number(p: float) -> float | str:
    """A probability, or :data:`NOT_REPORTED` for one a server did not report (NaN)."""
    return NOT_REPORTED if math.isnan(p) else float(p)


def _rest_row(d: Distribution) -> dict[str, object]:
    """The row of a reported step's rest: the tokens the server did not itemise, as one mass through every
    stage, with the stage that cut it off (if one did)."""
    row: dict[str, object] = {
        "rank": "", "token_id": "", "piece": "", "label": REST_LABEL, "bytes_hex": "", "p_raw": d.rest_p_raw
    }  # fmt: skip
    removed_by = ""
    for s in d.stages:
        if s.name in STAGE_NAMES:
            row[f"p_{s.name}"] = float(s.rest_p)
        if s.rest_p <= 0 and not removed_by:
            removed_by = s.name
    row["p_final"] = float(d.rest_p_final)
    row["removed_by"] = removed_by
    row["chosen"] = 0
    return row


def export_csv(
    d: Distribution, path: str | Path, piece_of: Callable[[int], bytes], pending: bytes = b""
) -> int:
    """Write ``d``'s candidates as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read the
    Chinese pieces right); returns the number of rows. ``piece_of`` gives a token's bytes
    (``engine.piece``); ``pending``: the bytes of a character the reply left unfinished before the
    step (see :func:`distribution_rows`)."""
    path = Path(path)
    rows = distribution_rows(d, piece_of, pending)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=distribution_columns(d))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: repr(v) if isinstance(v, float) else v for k, v in row.items()})
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise OSError(
            translate("Export", "Could not write the table to {path}: {why}.").format(path=path, why=why)
        ) from exc
    return len(rows)
