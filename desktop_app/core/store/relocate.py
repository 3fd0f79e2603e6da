"""A database deleted or replaced while TokenDice runs: write out what the open connection still holds.

On POSIX a deleted file lives on while it is open: SQLite keeps reading and writing it, and every later
write "succeeds" into a file nobody can open again. So before each write the database checks that its
path still names the file it opened (:meth:`Database._check_file`), and when not, :func:`write_out` copies
the whole database from the connection (SQLite's online backup, which reads the open file and its WAL)
into a new file at the same path, keeps a file that replaced it under another name, and reconnects. The
write then goes to the new file, and the user is told in one sentence.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from desktop_app.core.store.db_errors import DatabaseUnavailable

if TYPE_CHECKING:
    from desktop_app.core.store.db import Database


def write_out(db: Database, *, replaced: bool) -> str:
    """Put a copy of everything ``db``'s connection sees at ``db.path`` and reconnect to it; the sentence
    for the user. A file found at the path (``replaced``) is kept beside it under a new name."""
    assert db.raw is not None
    path = db.path
    folder_gone = not path.parent.is_dir()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"The database {path} was deleted while TokenDice was running, and a new one cannot be made in "
            f"{path.parent} ({exc.strerror or exc}). Make that folder writable to save again; what TokenDice "
            "holds is kept until it closes."
        ) from exc
    fresh = path.with_name(path.name + ".recovering")
    _remove_with_side_files(fresh)
    failure: str | None = None
    try:
        target = sqlite3.connect(fresh)
        try:
            db.raw.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        failure = str(exc)
        _remove_with_side_files(fresh)
    db.raw.close()
    kept: Path | None = None
    try:
        if replaced and path.exists():
            kept = free_name(path, "replaced")
            os.replace(path, kept)
            for ext in ("-wal", "-shm"):
                side = Path(f"{path}{ext}")
                if side.exists():
                    os.replace(side, Path(f"{kept}{ext}"))
        else:
            for ext in ("-wal", "-shm"):  # the deleted database's own: their contents are in the copy
                Path(f"{path}{ext}").unlink(missing_ok=True)
        if failure is None:
            os.replace(fresh, path)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"The database {path} was deleted or replaced while TokenDice was running, and the copy of what "
            f"it held ({fresh}) could not be put in its place ({exc.strerror or exc}). Move it there "
            "yourself after closing TokenDice."
        ) from exc
    db.reconnect()
    return _sentence(path, replaced=replaced, folder_gone=folder_gone, kept=kept, failure=failure)


def _sentence(
    path: Path, *, replaced: bool, folder_gone: bool, kept: Path | None, failure: str | None
) -> str:
    if replaced:
        what = f"The database {path} was replaced by another file while TokenDice was running."
    elif folder_gone:
        what = f"The data folder {path.parent} was deleted while TokenDice was running."
    else:
        what = f"The database {path} was deleted while TokenDice was running."
    if failure is None:
        done = f" Everything TokenDice held was written to a new database at {path}, so nothing was lost."
    else:
        done = (
            f" What it held could not be copied ({failure}), so a new, empty database was started at {path}."
        )
    other = f" The other file was kept as {kept}." if kept is not None else ""
    return what + done + other


def free_name(path: Path, label: str) -> Path:
    """``<stem>-<label>-<date>-<time><suffix>`` beside ``path``, not taken yet (``-2``… if need be)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, n = path.with_name(f"{path.stem}-{label}-{stamp}{path.suffix}"), 2
    while candidate.exists() or any(Path(f"{candidate}{ext}").exists() for ext in ("-wal", "-shm")):
        candidate, n = path.with_name(f"{path.stem}-{label}-{stamp}-{n}{path.suffix}"), n + 1
    return candidate


def _remove_with_side_files(path: Path) -> None:
    for name in (str(path), f"{path}-journal", f"{path}-wal", f"{path}-shm"):
        with contextlib.suppress(OSError):
            Path(name).unlink(missing_ok=True)


__all__ = ["free_name", "write_out"]
