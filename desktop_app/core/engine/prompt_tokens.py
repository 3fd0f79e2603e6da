"""Tokenizing a rendered chat prompt span by span, so typed control-token text stays plain text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.engine.rendered_prompt import RenderedPrompt, Span, SpanKind

__all__ = ["TokenizedSegment", "tokenize_rendered", "tokenize_segments"]


@dataclass(frozen=True)
class TokenizedSegment:
    """A run of the prompt tokenized in one call, its token ids and the kind of each token."""

    start: int
    end: int
    kind: SpanKind
    message_index: int | None
    parse_special: bool
    token_ids: tuple[int, ...]
    token_kinds: tuple[str, ...]


def tokenize_segments(
    prompt: RenderedPrompt,
    tokenize: Callable[[bytes, bool, bool], list[int]],
    *,
    add_bos: bool,
) -> list[TokenizedSegment]:
    """Tokenize the prompt span by span (see :func:`tokenize_rendered`), keeping each call's character range.

    Template and special spans are tokenized with special-token parsing, content spans without it. One
    adjustment keeps the tokens natural: when template text ends in a single space right before a content
    that starts with a non-space character ("User: " + "Hi"), that space is tokenized with the content,
    as a whole-text tokenizer would (" Hi" is one token in BPE and SentencePiece vocabularies).
    ``add_bos`` applies to the first call only, and is ignored when the text already starts with the BOS
    text. Tokens the tokenizer adds by itself (BOS) are labelled ``special``.
    """
    pieces: list[tuple[int, int, Span]] = []
    spans = prompt.spans
    carry_space_to: int | None = None
    for k, span in enumerate(spans):
        start, end = span.start, span.end
        if carry_space_to == k:
            start -= 1
        nxt = spans[k + 1] if k + 1 < len(spans) else None
        if (
            span.kind == "template"
            and nxt is not None
            and nxt.kind == "content"
            and prompt.text[end - 1] == " "
            and not prompt.text[nxt.start].isspace()
        ):
            end -= 1
            carry_space_to = k + 1
        if end > start:
            pieces.append((start, end, span))

    want_bos = add_bos and not prompt.starts_with_bos
    segments: list[TokenizedSegment] = []
    for start, end, span in pieces:
        parse_special = span.kind != "content"
        data = prompt.text[start:end].encode("utf-8")
        ids = list(tokenize(data, want_bos, parse_special))
        kinds = [span.kind] * len(ids)
        if want_bos:
            plain = list(tokenize(data, False, parse_special))
            kinds = _label_added(ids, plain, span.kind)
            want_bos = False
        segments.append(
            TokenizedSegment(
                start, end, span.kind, span.message_index, parse_special, tuple(ids), tuple(kinds)
            )
        )
    if want_bos:  # empty prompt: let the tokenizer decide whether a BOS is added at all
        ids = list(tokenize(b"", True, True))
        segments.append(TokenizedSegment(0, 0, "special", None, True, tuple(ids), ("special",) * len(ids)))
    return segments


def _label_added(with_added: list[int], plain: list[int], kind: str) -> list[str]:
    """Kinds for ``with_added``: tokens the tokenizer added around ``plain`` are ``special``."""
    extra = len(with_added) - len(plain)
    if extra <= 0:
        return [kind] * len(with_added)
    for offset in range(extra + 1):
        if with_added[offset : offset + len(plain)] == plain:
            return ["special"] * offset + [kind] * len(plain) + ["special"] * (extra - offset)
    return [kind] * len(with_added)


def tokenize_rendered(
    prompt: RenderedPrompt,
    tokenize: Callable[[bytes, bool, bool], list[int]],
    *,
    add_bos: bool,
) -> list[tuple[int, str]]:
    """(token_id, kind) for the whole prompt, safe against control tokens typed inside messages.

    ``tokenize(text_bytes, add_bos, parse_special)`` is the model's tokenizer (``llama_cpp.Llama.tokenize``
    has that signature). Template and special text is tokenized with ``parse_special=True``, so the
    template's own ``<|im_start|>`` becomes one control token; message contents with ``parse_special=False``,
    so the same characters typed by a user stay plain text. Contiguous runs are tokenized separately and
    concatenated. With a SentencePiece vocabulary that adds a space prefix to every call
    (``tokenizer.ggml.add_space_prefix``), a content run then starts with "▁" where a whole-text call would
    not: llama.cpp's own rule, visible in the token list.
    """
    return [
        (token_id, kind)
        for segment in tokenize_segments(prompt, tokenize, add_bos=add_bos)
        for token_id, kind in zip(segment.token_ids, segment.token_kinds, strict=True)
    ]
