"""The store's own errors, each a sentence that says what happened to the database and what to do.

SQLite reports a damaged file, a full disk, a read-only file or a failing disk as ``sqlite3`` exceptions
with terse texts ("database disk image is malformed"). The store never lets those reach its callers:
:func:`store_error` turns each into one of the classes below (by SQLite's result code), with the database's
path and the remedy in the message. The CLI prints the message as its one line; the window shows it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

#: The command that moves a damaged database aside (keeping it) and starts a new one.
REPAIR_COMMAND = "tokendice db repair"

# SQLite's primary result codes (the low byte of an extended code).
_PERM, _BUSY, _LOCKED, _NOMEM, _READONLY, _IOERR, _CORRUPT = 3, 5, 6, 7, 8, 10, 11
_FULL, _CANTOPEN, _CONSTRAINT, _NOTADB = 13, 14, 19, 26
_NEARLY_FULL = 256 << 10  # bytes free below which a disk counts as full (SQLite grows files by pages)


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why and what to do."""


class DatabaseDamaged(DatabaseError):
    """The database file is damaged (or is no database): move it aside with ``tokendice db repair``."""


class DatabaseReadOnly(DatabaseError):
    """The database cannot be written (a read-only file or folder, or another TokenDice holds it)."""


class DatabaseFull(DatabaseError):
    """The disk that holds the database is full: nothing of the failed change was written."""


class DatabaseUnavailable(DatabaseError):
    """The database could not be read or written just now (a disk error, another program holds it)."""


def damaged_sentence(path: Path, detail: str, *, at_open: bool = False) -> str:
    opened = " and cannot be opened" if at_open else ""
    return (
        f"The database {path} is damaged ({detail}){opened}. Move it aside and start a new one with "
        f"'{REPAIR_COMMAND}': it keeps a copy of the damaged file and carries over everything that can "
        "still be read."
    )


def disk_is_full(path: Path) -> bool:
    """Whether the disk that holds ``path`` (its folder) has (next to) no room left."""
    try:
        return shutil.disk_usage(path.parent).free < _NEARLY_FULL
    except OSError:
        return False


def full_at_open_sentence(path: Path, detail: str) -> str:
    return (
        f"The disk that holds the database {path} is full ({detail}), so TokenDice opened it read-only: "
        "everything in it can be read, but nothing can be saved. Free some space, then start TokenDice again."
    )


def store_error(exc: sqlite3.Error, path: Path, *, read_only_reason: str | None = None) -> DatabaseError:
    """The store's error for a ``sqlite3`` exception raised while using the database at ``path``.

    ``read_only_reason``: the sentence a refused write gives, when the database was opened read-only.
    """
    detail = str(exc) or type(exc).__name__
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (_CORRUPT, _NOTADB):
        return DatabaseDamaged(damaged_sentence(path, detail))
    # A full disk is "disk I/O error" too when it is SQLite's shared-memory file that cannot grow.
    if primary == _FULL or (primary == _IOERR and disk_is_full(path)):
        return DatabaseFull(
            f"The disk that holds the database {path} is full, so the last change was not saved ({detail}). "
            "Free some space and try again; everything saved before is kept."
        )
    if primary in (_READONLY, _PERM):
        return DatabaseReadOnly(
            read_only_reason
            or f"The database {path} cannot be written ({detail}), so nothing can be saved. Make the file "
            "and its folder writable, then start TokenDice again."
        )
    if primary in (_BUSY, _LOCKED):
        return DatabaseUnavailable(
            f"The database {path} is busy: another program is using it ({detail}). Close that program "
            "and try again."
        )
    if primary == _IOERR:
        return DatabaseUnavailable(
            f"The database {path} could not be read or written ({detail}): the disk may be failing, "
            "full or gone. Check it, then try again; everything saved before is kept."
        )
    if primary == _CANTOPEN:
        return DatabaseUnavailable(
            f"The database {path} cannot be opened ({detail}): check that its folder exists and can be "
            "read, then try again."
        )
    if primary == _NOMEM:
        return DatabaseUnavailable(f"The database {path} ran out of memory ({detail}). Close other programs.")
    if primary == _CONSTRAINT or isinstance(exc, sqlite3.IntegrityError):
        return DatabaseError(
            f"The database {path} refused a change that breaks its rules ({detail}); nothing of it was "
            "saved. This is a bug in TokenDice: please report it."
        )
    return DatabaseError(f"The database {path} reported an error ({detail}).")


__all__ = [
    "REPAIR_COMMAND",
    "DatabaseDamaged",
    "DatabaseError",
    "DatabaseFull",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "damaged_sentence",
    "disk_is_full",
    "full_at_open_sentence",
    "store_error",
]
