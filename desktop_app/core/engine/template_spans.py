"""Finding message contents in a rendered chat prompt: private-use markers, and a search fallback.

Used by :mod:`desktop_app.core.engine.chat_template`; see ``ChatTemplate._content_ranges``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

_PRIVATE_USE_RANGES = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))


def pick_markers(count: int, avoid: set[str]) -> list[str] | None:
    found: list[str] = []
    for low, high in _PRIVATE_USE_RANGES:
        for code in range(low, high + 1):
            ch = chr(code)
            if ch not in avoid:
                found.append(ch)
                if len(found) == count:
                    return found
    return None


def wrap(content: str, open_marker: str, close_marker: str, inside_whitespace: bool) -> str:
    if not inside_whitespace:
        return open_marker + content + close_marker
    core = content.strip()
    if not core:
        return content
    lead = content[: len(content) - len(content.lstrip())]
    trail = content[len(content.rstrip()) :]
    return lead + open_marker + core + close_marker + trail


def strip_markers(
    marked: str, marker_of: Mapping[str, tuple[int, bool]]
) -> tuple[str, list[tuple[int, int, int]]]:
    """The marked render without markers, and the (start, end, index) ranges the marker pairs bracket."""
    out: list[str] = []
    ranges: list[tuple[int, int, int]] = []
    open_at: dict[int, int] = {}
    pos = 0
    for ch in marked:
        hit = marker_of.get(ch)
        if hit is None:
            out.append(ch)
            pos += 1
            continue
        index, is_open = hit
        if is_open:
            open_at[index] = pos
        elif index in open_at:
            start = open_at.pop(index)
            if pos > start:
                ranges.append((start, pos, index))
    return "".join(out), ranges


def non_overlapping(ranges: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    kept: list[tuple[int, int, int]] = []
    end = 0
    for r in sorted(ranges):
        if r[0] >= end and r[1] > r[0]:
            kept.append(r)
            end = r[1]
    return kept


def find_in_order(
    text: str, contents: Mapping[int, str], bracketed: Mapping[int, str]
) -> list[tuple[int, int, int]]:
    ranges: list[tuple[int, int, int]] = []
    cursor = 0
    for i in sorted(contents):
        candidates = [bracketed.get(i, ""), contents[i], contents[i].strip()]
        for needle in candidates:
            if not needle:
                continue
            at = text.find(needle, cursor)
            if at >= 0:
                ranges.append((at, at + len(needle), i))
                cursor = at + len(needle)
                break
    return ranges
