"""The small JSON files (the settings, the saved servers and their keys): parsed with a reason when they
cannot be, written atomically (a private file never exists, not even for a moment, with wider permissions than
0o600), and a file that cannot be used kept beside itself as ``NAME.broken`` (``NAME.broken.2`` … when an
earlier one is there), so nothing the user wrote is lost."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from desktop_app.core.safe_text import is_utf8

BROKEN_SUFFIX = ".broken"
PRIVATE_MODE = 0o600
#: Where permission bits mean something (on Windows a user's AppData folder is private by its ACL).
POSIX = os.name == "posix"


class Unreadable(ValueError):
    """The whole file cannot be used; ``str()`` is the reason, a clause for a sentence."""


def parse_object(raw: bytes, version: int | None = None, *, of: str = "") -> dict[str, Any]:
    """The JSON object in RAW, written by this version of the file's format or an older one (``version``:
    the newest this TokenDice reads; None: any). Bytes that are not UTF-8 come through as lone
    surrogates (:func:`text` refuses them value by value). ``of``: what the object holds, for the
    sentence when it is not one ("settings")."""
    text = raw.decode("utf-8-sig", "surrogateescape")  # Notepad's byte-order mark is fine
    if not text.strip():
        raise Unreadable("it is empty")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(
            f"it is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise Unreadable(f"it is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        kind = {list: "a list", str: "a string", bool: "true or false", type(None): "null"}
        holds = f"a JSON object of {of}" if of else "a JSON object"
        raise Unreadable(f"it holds {kind.get(type(doc), 'a number')}, not {holds}")
    found = doc.get("schema_version", version)
    if version is not None and isinstance(found, int) and not isinstance(found, bool) and found > version:
        raise Unreadable(f"it was written by a newer TokenDice (version {found})")
    return doc


def text(value: Any) -> str | None:
    """VALUE if it is text that can be written back as UTF-8, else None."""
    return value if isinstance(value, str) and is_utf8(value) else None


def write_atomic(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace PATH by DATA in one step: a reader sees the old file or the new one, never half of it.
    A private file is created readable and writable only by its owner (the mode is given to open, so
    there is no moment in which it is wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own per write: two TokenDice processes (the window and the command line) may write
    # at once, and O_EXCL must not meet a temporary file left by another writer or an earlier crash.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, PRIVATE_MODE if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            if private and POSIX:
                os.fchmod(out.fileno(), PRIVATE_MODE)  # exactly 0o600, whatever the umask left
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def tighten(path: Path) -> bool:
    """Make an existing private file readable only by its owner; whether its permissions were wider."""
    if not POSIX:
        return False
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    if mode & 0o077 == 0:
        return False
    os.chmod(path, PRIVATE_MODE)
    return True


def _backup_names(path: Path) -> Iterator[Path]:
    """``NAME.broken``, then ``NAME.broken.2`` … (at most 1000)."""
    first = path.with_name(path.name + BROKEN_SUFFIX)
    yield first
    for n in range(2, 1001):
        yield first.with_name(f"{first.name}.{n}")


def _free_backup_name(path: Path) -> Path:
    """The first free backup name: an earlier backup is never written over (unless 1000 are there)."""
    for candidate in _backup_names(path):
        if not (candidate.exists() or candidate.is_symlink()):
            return candidate
    return path.with_name(path.name + BROKEN_SUFFIX)


def keep_copy(path: Path, raw: bytes, *, private: bool = False) -> Path | None:
    """A copy of the file's original bytes beside it (an identical earlier copy is reused), or None when
    it cannot be written."""
    for candidate in _backup_names(path):
        if not candidate.exists():
            break
        try:
            if candidate.is_file() and candidate.read_bytes() == raw:
                return candidate
        except OSError:
            continue
    backup = _free_backup_name(path)
    try:
        write_atomic(backup, raw, private=private)
    except OSError:
        return None
    return backup


def move_aside(path: Path) -> Path | None:
    """Rename the file to its backup name (it keeps its permissions), or None when that fails."""
    backup = _free_backup_name(path)
    try:
        os.replace(path, backup)
    except OSError:
        return None
    return backup


def kept_clause(backup: Path | None) -> str:
    """The end of a warning that says where the original file is."""
    return f" The original file is kept as {backup.name}." if backup is not None else ""
