"""How amounts are written, in the window and on the command line alike: sizes in decimal units as the
hub lists them, durations as a clock shows them, parameter counts as model cards write them."""

from __future__ import annotations


def size_text(n: float | None) -> str:
    """Decimal units: ``386.4 MB``, ``1.1 GB``, ``512 B``; ``?`` for an unknown size."""
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def duration_text(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def parse_parameters(text: str) -> int | None:
    """``"360M"`` → 360_000_000, ``"1.2B"`` → 1_200_000_000; None when unreadable."""
    scales = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}
    text = text.strip().upper()
    try:
        return int(float(text[:-1]) * scales[text[-1]]) if text and text[-1] in scales else int(text)
    except (ValueError, KeyError):
        return None
