"""Text that came from bytes which were not UTF-8: shown with replacement characters, never an exception.

Python reads the command line, file names and (in a C or C.UTF-8 locale) standard input with the
``surrogateescape`` error handler: a byte that is not UTF-8 becomes a lone surrogate (``b"\\xff"`` →
``"\\udcff"``). Such a string still names its file exactly (``open`` and ``os.stat`` encode it back), but
encoding it as UTF-8 (to print it, to store it in SQLite, to hand it to llama.cpp) raises
``UnicodeEncodeError: surrogates not allowed``. These helpers make the shown form.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_utf8(text: str) -> bool:
    """Whether TEXT can be encoded as UTF-8 (it holds no lone surrogates)."""
    return _SURROGATE.search(text) is None


def shown(text: str) -> str:
    """TEXT with each undecodable byte (a lone surrogate) replaced by U+FFFD: safe to print or store."""
    return _SURROGATE.sub(REPLACEMENT, text)


def decoded(data: bytes) -> str:
    """DATA as text; what is not UTF-8 becomes U+FFFD (a byte-order mark at the start is dropped)."""
    return data.decode("utf-8-sig", "replace")


def stored_path(path: str | os.PathLike[str]) -> str | bytes:
    """A file's path as SQLite can keep it: text, or, for a name that is not UTF-8, its bytes (a BLOB;
    SQLite compares a BLOB with the same bytes as equal, so ``WHERE path = ?`` still finds it)."""
    text = os.fspath(path)
    return text if is_utf8(text) else os.fsencode(text)


def path_from_store(value: str | bytes) -> Path:
    """The path :func:`stored_path` kept."""
    return Path(os.fsdecode(value)) if isinstance(value, bytes) else Path(value)
