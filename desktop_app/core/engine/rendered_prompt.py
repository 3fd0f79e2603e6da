"""A rendered chat prompt: the exact text, and where every character of it came from.

:class:`~desktop_app.core.engine.chat_template.ChatTemplate` renders it; :func:`build_spans` labels the
text with :class:`Span` objects:

* ``content`` - characters copied from a message's content (with its index and role);
* ``special`` - occurrences of special-token texts (``<|im_start|>``, the BOS text, ...) in template text;
* ``template`` - everything else the template wrote.

Offsets in spans are Python string indices (code points) into :attr:`RenderedPrompt.text`; a Qt widget
that works in UTF-16 units has to convert them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

SpanKind = Literal["template", "special", "content"]
Origin = Literal["gguf", "override", "fallback", "plain"]


@dataclass(frozen=True)
class Span:
    """Characters ``text[start:end]`` of a rendered prompt and where they came from."""

    start: int
    end: int
    kind: SpanKind
    message_index: int | None = None  # set for content spans only
    role: str | None = None  # the message's role, for content spans only


@dataclass(frozen=True)
class RenderedPrompt:
    """The exact prompt string, its spans (in order, no gaps, no overlaps) and where the template came from.

    ``starts_with_bos`` is true when the text already begins with the BOS token's text: tokenize it with
    ``add_bos=False`` then (:func:`tokenize_rendered` does so by itself), or the model reads BOS twice.
    """

    text: str
    spans: tuple[Span, ...]
    source: Origin
    starts_with_bos: bool

    def content_spans(self, message_index: int | None = None) -> tuple[Span, ...]:
        """Content spans, of every message or of one (a template may copy a content more than once)."""
        return tuple(
            s
            for s in self.spans
            if s.kind == "content" and (message_index is None or s.message_index == message_index)
        )

    def span_at(self, offset: int) -> Span | None:
        """The span holding character ``offset``, or None outside the text."""
        for span in self.spans:
            if span.start <= offset < span.end:
                return span
        return None

    def kinds_at(self, start: int, end: int) -> frozenset[str]:
        """The kinds of all spans that overlap ``text[start:end]``."""
        return frozenset(s.kind for s in self.spans if s.start < end and start < s.end)

    def text_of(self, span: Span) -> str:
        return self.text[span.start : span.end]


def build_spans(
    text: str,
    ranges: Sequence[tuple[int, int, int]],
    roles: Sequence[str | None],
    special_re: re.Pattern[str] | None,
) -> tuple[Span, ...]:
    """Spans covering ``text`` in order: the content ``ranges`` (start, end, message index), and the
    template text around them cut where ``special_re`` finds special-token texts; neighbours of one kind
    (and message) are merged."""
    spans: list[Span] = []

    def template_part(start: int, end: int) -> None:
        if start >= end:
            return
        pos = start
        if special_re is not None:
            for match in special_re.finditer(text, start, end):
                if match.start() > pos:
                    spans.append(Span(pos, match.start(), "template"))
                spans.append(Span(match.start(), match.end(), "special"))
                pos = match.end()
        if pos < end:
            spans.append(Span(pos, end, "template"))

    pos = 0
    for start, end, index in ranges:
        template_part(pos, start)
        spans.append(Span(start, end, "content", index, roles[index]))
        pos = end
    template_part(pos, len(text))

    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.kind == span.kind
            and last.end == span.start
            and last.message_index == span.message_index
        ):
            merged[-1] = Span(last.start, span.end, last.kind, last.message_index, last.role)
        else:
            merged.append(span)
    return tuple(merged)
