"""How the Models page writes hub facts: counts, sizes, durations, progress and fit verdicts."""

from __future__ import annotations

from types import MappingProxyType

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from desktop_app.core.engine.fit import FitEstimate, format_bytes
from desktop_app.core.models.acquire import ModelProgress
from desktop_app.core.units import duration_text, size_text
from desktop_app.ui import core_text

#: Verdict colours, readable on light and dark backgrounds.
VERDICT_COLOURS = MappingProxyType(
    {"fits": "#188038", "tight": "#b06000", "won't fit": "#c5221f", "unknown": "#5f6368"}
)
ERROR_COLOUR = "#c5221f"
NOTE_COLOUR = "#8a5300"
translate = QCoreApplication.translate  # lupdate finds translate("Context", "text") calls


def verdict_colour(verdict: str) -> QColor:
    return QColor(VERDICT_COLOURS.get(verdict, VERDICT_COLOURS["unknown"]))


def compact_count(n: int) -> str:
    """12, 3.4k, 56k, 1.2M: counts as the hub's pages show them."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale * 0.9995:
            value = n / scale
            return f"{value:.1f}{unit}" if value < 9.95 else f"{value:.0f}{unit}"
    return str(n)


def fit_text(fit: FitEstimate) -> str:
    """``fits: needs 438 MB``: the verdict and the need, short enough for a cell (the free memory it is
    judged against is shown once for the page; the full sentence is the cell's tooltip)."""
    need = format_bytes(fit.total_bytes)
    verdict = core_text.verdict(fit.verdict)
    if fit.gpu_layers and fit.verdict != "unknown":
        text = translate("HubText", "{verdict}: {need}, {layers}/{total} layers on GPU")
        return text.format(
            verdict=verdict, need=need, layers=fit.gpu_layers - 1, total=fit.requirements.n_layers
        )
    return translate("HubText", "{verdict}: needs {need}").format(verdict=verdict, need=need)


def progress_text(p: ModelProgress) -> str:
    """``40.1 MB of 99.0 MB · 12.3 MB/s · 0:05 left · part 1 of 3``."""
    done = size_text(p.done_bytes)
    of_total = translate("HubText", "{done} of {total}").format(done=done, total=size_text(p.total_bytes))
    bits = [of_total if p.total_bytes else done]
    if p.bytes_per_s > 0:
        bits.append(f"{size_text(p.bytes_per_s)}/s")
    if p.eta_s is not None:
        bits.append(translate("HubText", "{time} left").format(time=duration_text(p.eta_s)))
    if p.parts > 1:
        bits.append(translate("HubText", "part {n} of {total}").format(n=p.part, total=p.parts))
    return " · ".join(bits)
