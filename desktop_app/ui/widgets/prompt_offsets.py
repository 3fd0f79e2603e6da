"""Where a prompt's tokens are in its text: the characters each token covers, the tokens two prompts share,
and a character's position in a QTextDocument.

Offsets: spans are Python string indices (code points). A QTextDocument counts UTF-16 units, and turns
"\\r\\n" into one paragraph separator; :func:`qt_position` converts.
"""

from __future__ import annotations

from collections.abc import Sequence


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two prompts share (the part a KV cache can reuse)."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def token_char_ranges(text: str, pieces: Sequence[bytes]) -> list[tuple[int, int]]:
    """The character range of ``text`` each token covers, by walking the pieces' bytes along its UTF-8.

    A token whose piece is not the next text (a BOS the tokenizer adds) covers nothing; a piece that brings
    its own leading space (SentencePiece's space prefix) covers the text after the space; a token holding
    part of a character (a byte token) covers that whole character.
    """
    data = text.encode("utf-8")
    char_of_byte = [0] * (len(data) + 1)  # byte offset -> index of the character it belongs to
    b = 0
    for i, ch in enumerate(text):
        n = len(ch.encode("utf-8"))
        char_of_byte[b : b + n] = [i] * n
        b += n
    char_of_byte[len(data)] = len(text)
    ranges: list[tuple[int, int]] = []
    pos = 0
    for piece in pieces:
        if piece and data.startswith(piece, pos):
            end = pos + len(piece)
        elif piece[:1] == b" " and len(piece) > 1 and data.startswith(piece[1:], pos):
            end = pos + len(piece) - 1
        else:
            end = pos
        start_char = char_of_byte[pos]
        end_char = char_of_byte[end - 1] + 1 if end > pos else start_char
        ranges.append((start_char, end_char))
        pos = end
    return ranges


def qt_position(text: str, index: int) -> int:
    """The QTextDocument position of ``text[index]`` in a document of ``text``: UTF-16, "\\r\\n" as one."""
    prefix = text[:index]
    units = len(prefix.encode("utf-16-le")) // 2
    merged = prefix.count("\r\n") + (1 if prefix.endswith("\r") and text[index : index + 1] == "\n" else 0)
    return units - merged
