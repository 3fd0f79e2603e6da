"""Tokens as text: pieces, bytes, incremental UTF-8, and labels that make whitespace and bytes visible.

llama-cpp-python 0.3.36 drops any token longer than 32 bytes when detokenizing, so pieces come from our
own ``llama_token_to_piece`` calls, retried with the size llama.cpp asks for.
"""

from __future__ import annotations

import codecs
import ctypes
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import llama_cpp

_FIRST_BUFFER = 64

# Whitespace made visible in token views (the text itself is never changed).
_VISIBLE = {" ": "·", "\n": "↵", "\t": "→", "\r": "␍"}


def token_piece(vocab: llama_cpp.llama_vocab_p, token: int, *, special: bool = True) -> bytes:
    """The bytes of one token, however long (special=True renders control tokens such as <|im_end|>)."""
    import llama_cpp  # not with the module: the window imports this one before any model is loaded

    size = _FIRST_BUFFER
    for _ in range(2):
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, special)
        if n >= 0:
            return buf.raw[:n]
        size = -n
    raise RuntimeError(f"llama.cpp could not render token {token}")


def incomplete_utf8_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` start a UTF-8 character that is not complete yet."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b & 0xC0 == 0x80:  # continuation byte: keep looking for the lead byte
            continue
        if b & 0x80 == 0:
            return 0
        need = 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4 if b & 0xF8 == 0xF0 else 1
        return back if back < need else 0
    return 0


def is_valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def bytes_label(data: bytes) -> str:
    """``<E8><87>``: how a piece that is not whole UTF-8 is shown."""
    return "".join(f"<{b:02X}>" for b in data)


def visible(text: str) -> str:
    """Whitespace made visible: a space as ·, a newline as ↵, a tab as →."""
    return "".join(_VISIBLE.get(ch, ch) for ch in text)


def piece_label(piece: bytes) -> str:
    """The label of a token in token views and the chart: visible whitespace, bytes where not UTF-8."""
    if not piece:
        return "∅"
    try:
        return visible(piece.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    # Decode what is valid, show the rest as bytes: b"\xe8\x87" → "<E8><87>", b"a\xe8" → "a<E8>".
    out, i = [], 0
    while i < len(piece):
        for j in range(min(len(piece), i + 4), i, -1):
            try:
                out.append(visible(piece[i:j].decode("utf-8")))
                i = j
                break
            except UnicodeDecodeError:
                continue
        else:
            out.append(bytes_label(piece[i : i + 1]))
            i += 1
    return "".join(out)


class TextAssembler:
    """Joins token pieces into exact text, emitting only whole characters (incremental UTF-8)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self.text = ""

    def feed(self, piece: bytes) -> str:
        """Add a piece; return the text that became complete (may be empty mid-character)."""
        try:
            delta = self._decoder.decode(piece)
        except UnicodeDecodeError:
            # Invalid sequence (a model can emit any bytes): show replacement, never lose the stream.
            self._decoder.reset()
            delta = piece.decode("utf-8", errors="replace")
        self.text += delta
        return delta

    def pending(self) -> bytes:
        return self._decoder.getstate()[0]

    def finish(self) -> str:
        """Flush: bytes of an unfinished character become U+FFFD at the very end only."""
        rest = self._decoder.getstate()[0]
        self._decoder.reset()
        if rest:
            tail = rest.decode("utf-8", errors="replace")
            self.text += tail
            return tail
        return ""


@dataclass(frozen=True)
class TokenView:
    """One token for display: its id, bytes, label and whether it is a special (control) token."""

    id: int
    piece: bytes
    special: bool = False

    @property
    def label(self) -> str:
        return piece_label(self.piece)

    @property
    def hex(self) -> str:
        return self.piece.hex()

    @property
    def text(self) -> str:
        return self.piece.decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "piece": self.text,
            "bytes": self.hex,
            "label": self.label,
            "special": self.special,
        }
