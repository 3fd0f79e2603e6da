"""Tokens as text: pieces, bytes, incremental UTF-8, and labels that make whitespace and bytes visible.

llama-cpp-python 0.3.36 drops any token longer than 32 bytes when detokenizing, so pieces come from our
own ``llama_token_to_piece`` calls, retried with the size llama.cpp asks for.
"""

from __future__ import annotations

import codecs
import ctypes
from collections.abc import Sequence
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


def utf8_length(lead: int) -> int:
    """How many bytes the UTF-8 character that starts with byte ``lead`` has (1 for an invalid lead)."""
    return 2 if lead & 0xE0 == 0xC0 else 3 if lead & 0xF0 == 0xE0 else 4 if lead & 0xF8 == 0xF0 else 1


def incomplete_utf8_tail(data: bytes) -> int:
    """How many bytes at the end of ``data`` start a UTF-8 character that is not complete yet."""
    for back in range(1, min(4, len(data)) + 1):
        b = data[-back]
        if b & 0xC0 == 0x80:  # continuation byte: keep looking for the lead byte
            continue
        if b & 0x80 == 0:
            return 0
        return back if back < utf8_length(b) else 0
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


def _bytes_instead(error: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: bytes that make no character are shown as ``<E8><87>``, never "�"."""
    assert isinstance(error, UnicodeDecodeError), "tokendice-bytes is for decoding only"
    return bytes_label(error.object[error.start : error.end]), error.end


codecs.register_error("tokendice-bytes", _bytes_instead)


def decode_shown(data: bytes) -> str:
    """``data`` as text, with bytes that are not UTF-8 (or a character cut short) shown as ``<XX>``."""
    return data.decode("utf-8", errors="tokendice-bytes")


@dataclass(frozen=True)
class SplitChar:
    """One character whose UTF-8 bytes are spread over several tokens (a model whose vocabulary lacks
    it spells it byte by byte: SmolLM2 needs 3 tokens for 臺)."""

    first: int  # the index of the token where its bytes start
    parts: tuple[bytes, ...]  # its bytes in each token from ``first`` on
    char: str  # the character they make; "" when the text ends before it is complete

    @property
    def last(self) -> int:
        return self.first + len(self.parts) - 1

    def label(self) -> str:
        """``<E8><87> + <BA> = 臺``, or ``<E8><87> …`` when it never became complete."""
        joined = " + ".join(bytes_label(p) for p in self.parts)
        return f"{joined} = {self.char}" if self.char else f"{joined} …"


def split_chars(pieces: Sequence[bytes]) -> list[SplitChar]:
    """The characters of the text that ``pieces`` make whose bytes lie in more than one token, in
    order (a token can end one and start the next)."""
    out: list[SplitChar] = []
    pending = b""  # the bytes of the unfinished character
    parts: list[bytes] = []
    first = 0
    for i, piece in enumerate(pieces):
        rest = piece
        if pending:
            need = utf8_length(pending[0])
            take = 0
            while take < len(rest) and len(pending) + take < need and rest[take] & 0xC0 == 0x80:
                take += 1
            pending += rest[:take]
            if take:
                parts.append(rest[:take])
            rest = rest[take:]
            if len(pending) == need:
                out.append(SplitChar(first, tuple(parts), decode_shown(pending)))
                pending, parts = b"", []
            elif rest or take == 0:  # broken off: these bytes make no character
                out.append(SplitChar(first, tuple(parts), ""))
                pending, parts = b"", []
        tail = incomplete_utf8_tail(rest)
        if tail and not pending:
            pending, parts, first = rest[-tail:], [rest[-tail:]], i
    if pending:
        out.append(SplitChar(first, tuple(parts), ""))
    return [c for c in out if len(c.parts) > 1 or not c.char]


def continuation_label(pending: bytes, piece: bytes) -> str:
    """A candidate's label after the bytes of an unfinished character (``pending``): ``<BA> → 臺`` when
    it completes it, its bytes and ``…`` when the character needs more; else as :func:`piece_label`."""
    if not pending:
        label = piece_label(piece)
        return label + " …" if incomplete_utf8_tail(piece) else label
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    decoder.decode(pending)
    try:
        made = decoder.decode(piece)
    except UnicodeDecodeError:
        return piece_label(piece)  # it does not continue the character
    if not made:
        return bytes_label(piece) + " …"
    return f"{piece_label(piece)} → {visible(made)}"


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
            # Invalid sequence (a model can emit any bytes): its bytes are shown as <XX>, never "�",
            # and the stream goes on.
            data = self._decoder.getstate()[0] + piece
            self._decoder.reset()
            tail = incomplete_utf8_tail(data)  # the start of a character that may still come whole
            delta = decode_shown(data[: len(data) - tail])
            self._decoder.decode(data[len(data) - tail :])
        self.text += delta
        return delta

    def pending(self) -> bytes:
        return self._decoder.getstate()[0]

    def state(self) -> tuple[tuple[bytes, int], str]:
        """Where it is, for :meth:`restore` (tokens taken back are fed no more)."""
        return self._decoder.getstate(), self.text

    def restore(self, state: tuple[tuple[bytes, int], str]) -> None:
        self._decoder.setstate(state[0])
        self.text = state[1]

    def finish(self) -> str:
        """Flush: the bytes of a character the text ends before completing are shown as ``<E8><87>``
        (the reply is never empty or "�" because the die stopped mid-character)."""
        rest = self._decoder.getstate()[0]
        self._decoder.reset()
        if rest:
            tail = bytes_label(rest)
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
