"""The one SQLite database of a TokenDice installation (stdlib ``sqlite3``, WAL mode, migrations)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop_app.core.store.db_errors import (
    DatabaseDamaged,
    DatabaseError,
    DatabaseFull,
    DatabaseReadOnly,
    DatabaseUnavailable,
    damaged_sentence,
    disk_is_full,
    full_at_open_sentence,
    store_error,
)
from desktop_app.core.store.guarded import GuardedConnection
from desktop_app.core.store.migrations import MIGRATIONS, SCHEMA_VERSION

_BUSY, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 8, 10, 11, 13, 14, 26


def page_problems(conn: Any) -> str | None:
    """What ``PRAGMA quick_check`` finds damaged in the database on ``conn`` (SQLite's words, its first
    three findings), or None when every page reads."""
    rows = [str(r[0]) for r in conn.execute("PRAGMA quick_check(3)").fetchall()]
    return None if rows == ["ok"] else "; ".join(rows)


class Database:
    """A connection to the app database, migrated to the current schema on open.

    Use it from one thread (the thread that opened it), or open another ``Database`` per thread.
    ``read_only=True`` opens an existing database for reading only (``mode=ro``), without migrating it:
    for a second TokenDice while the first one holds the instance lock, or a file or folder that cannot
    be written (``read_only_reason`` is then the sentence a refused write gives).

    Every error of the store is a :class:`DatabaseError` with a sentence (``conn`` is a
    :class:`~desktop_app.core.store.guarded.GuardedConnection`): never a raw ``sqlite3`` one.

    Before each write (:meth:`transaction`) it checks that its file is still the one it opened: a database
    deleted or replaced while TokenDice runs is written out again, whole, from the file this connection
    still holds open, to a new database in its place (:meth:`_write_out`), and ``notify`` (when set) gets a
    sentence saying so. Writes never go to a file that is gone.
    """

    def __init__(
        self,
        path: Path,
        *,
        migrations: tuple[str, ...] = MIGRATIONS,
        read_only: bool = False,
        read_only_reason: str | None = None,
    ):
        self.path = Path(path)
        self.read_only = read_only
        self.read_only_reason = (read_only_reason or _locked_sentence(self.path)) if read_only else None
        self.notify: Callable[[str], None] | None = None  # told when the database had to be written anew
        self.migrations = migrations
        self.conn = GuardedConnection(self)
        self._functions: dict[str, tuple[int, Callable[..., Any] | None, bool]] = {}
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file opened
        self.raw: sqlite3.Connection | None = None
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_file():
            raise DatabaseError(
                f"The database {self.path} does not exist yet, so it cannot be opened read-only. "
                "Start TokenDice once to create it."
            )
        try:
            self._connect()
            if read_only:
                self._check_read_only_version(len(migrations))
            else:
                self._migrate(migrations)
        except sqlite3.Error as exc:
            self._close_quietly()
            raise self._open_error(exc) from exc
        except DatabaseError:
            self._close_quietly()
            raise

    # --- connecting -------------------------------------------------------------------------------
    def _connect(self) -> None:
        if self.read_only:
            self.raw = _connect_read_only(self.path)
        else:
            self.raw = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        self.raw.row_factory = sqlite3.Row
        for name, (narg, func, deterministic) in self._functions.items():
            self.raw.create_function(name, narg, func, deterministic=deterministic)
        if self.read_only:
            self.raw.execute("PRAGMA query_only=ON")
            return
        self.raw.execute("PRAGMA journal_mode=WAL")
        self.raw.execute("PRAGMA synchronous=NORMAL")
        self.raw.execute("PRAGMA foreign_keys=ON")
        self._identity = _identity(self.path)

    def _open_error(self, exc: sqlite3.Error) -> DatabaseError:
        code = _primary(exc)
        if code in (_CORRUPT, _NOTADB):
            return DatabaseDamaged(damaged_sentence(self.path, str(exc), at_open=True))
        if code == _READONLY:
            return DatabaseReadOnly(read_only_sentence(self.path, str(exc)))
        if code in (_IOERR, _FULL) and disk_is_full(self.path):
            return DatabaseFull(full_at_open_sentence(self.path, str(exc)))
        if code in (_IOERR, _CANTOPEN, _BUSY):
            return store_error(exc, self.path)
        return DatabaseError(
            f"The database {self.path} cannot be opened ({exc}). Move it aside to start with an empty one."
        )

    def _close_quietly(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def remember_function(
        self, name: str, narg: int, func: Callable[..., Any] | None, deterministic: bool
    ) -> None:
        """``create_function`` on this connection and on any it opens later."""
        self._functions[name] = (narg, func, deterministic)
        assert self.raw is not None
        self.raw.create_function(name, narg, func, deterministic=deterministic)

    def error(self, exc: sqlite3.Error) -> DatabaseError:
        """The store's error, with a sentence, for an ``sqlite3`` error raised on this database."""
        return store_error(exc, self.path, read_only_reason=self.read_only_reason)

    def _check_read_only_version(self, known: int) -> None:
        current = self.version
        if current > known:
            raise DatabaseError(
                f"The database {self.path} was written by a newer TokenDice "
                f"(schema {current}, this one knows {known}). Update TokenDice."
            )
        if current < known and self.read_only_reason != _locked_sentence(self.path):
            raise DatabaseReadOnly(
                f"The database {self.path} has an older schema ({current}, this TokenDice uses {known}) "
                "and cannot be upgraded, because it cannot be written. Make the file and its folder "
                "writable, then start TokenDice again."
            )
        if current < known:
            raise DatabaseError(
                f"The database {self.path} has an older schema ({current}, this TokenDice uses {known}) "
                "and cannot be upgraded while it is open read-only. Close the other TokenDice and try again."
            )

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, migrations: tuple[str, ...]) -> None:
        assert self.raw is not None
        current = int(self.raw.execute("PRAGMA user_version").fetchone()[0])
        if current > len(migrations):
            raise DatabaseError(
                f"The database {self.path} was written by a newer TokenDice "
                f"(schema {current}, this one knows "
                f"{len(migrations)}). Update TokenDice."
            )
        for number in range(current, len(migrations)):
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split(migrations[number]):
                    self.raw.execute(statement)
                self.raw.execute(f"PRAGMA user_version = {number + 1}")
            except BaseException:
                _rollback(self.raw)
                raise
            self.raw.execute("COMMIT")

    def check(self) -> None:
        """Read every page once (``PRAGMA quick_check``): :class:`DatabaseDamaged` if any is damaged.

        About 0.05 s for 60 MB; the window runs it at start, so a damaged file is found (and its repair
        offered) before anything depends on it."""
        problem = page_problems(self.conn)
        if problem is not None:
            raise DatabaseDamaged(damaged_sentence(self.path, problem))

    # --- writing ----------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[GuardedConnection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception.

        A read-only database refuses with :class:`DatabaseReadOnly`; a file deleted or replaced since it
        was opened is written out again first (see the class). SQLite errors are the store's
        (:class:`DatabaseFull` for a full disk, …); the change is then rolled back, and what was saved
        before is untouched.
        """
        if self.read_only:
            raise DatabaseReadOnly(self.read_only_reason or _locked_sentence(self.path))
        self._check_file()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            _rollback(self.raw)
            raise
        try:
            self.conn.execute("COMMIT")
        except DatabaseError:
            _rollback(self.raw)
            raise

    def _check_file(self) -> None:
        """Write the database out anew when its file was deleted or replaced since it was opened."""
        if self._identity is None:
            return
        try:
            now = _identity(self.path)
        except FileNotFoundError:
            self._write_out(replaced=False)
            return
        except OSError:
            return  # cannot tell: the write itself says what is wrong
        if now != self._identity:
            self._write_out(replaced=True)

    def _write_out(self, *, replaced: bool) -> None:
        """Copy everything this connection sees (its file is still open, deleted or not) to a new database
        at :attr:`path`, keep a file that replaced it under another name, and continue on the new one."""
        from desktop_app.core.store.relocate import write_out

        assert self.raw is not None
        sentence = write_out(self, replaced=replaced)
        if self.notify is not None:
            self.notify(sentence)

    def reconnect(self) -> None:
        """Open :attr:`path` again (after :func:`~.relocate.write_out` put a file there)."""
        try:
            self._connect()
            if self.version < len(self.migrations):
                self._migrate(self.migrations)
        except sqlite3.Error as exc:
            raise self.error(exc) from exc

    def close(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_only_sentence(path: Path, why: str) -> str:
    """What a write to a database that cannot be written gets (and the window says at start)."""
    return (
        f"The database {path} cannot be written ({why}), so TokenDice opened it read-only: everything in it "
        "can be read, but nothing can be saved. Make the file and its folder writable, then start "
        "TokenDice again."
    )


def write_problem(path: Path) -> str | None:
    """Why the database at ``path`` (or its folder, which SQLite writes its journal into) cannot be
    written, in a few words; None when it can be (or does not exist yet in a folder that can be)."""
    folder = path.parent
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is read-only"
    return None


def _locked_sentence(path: Path) -> str:
    return (
        f"The database {path} is open read-only (another TokenDice is running), so nothing can be saved. "
        "Close the other TokenDice to make changes."
    )


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """``mode=ro``; where no shared-memory file for a WAL database can be made (a folder that cannot be
    written, a full disk) ``immutable=1``, which reads what the main file holds."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=10.0, isolation_level=None)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if _primary(exc) not in (_READONLY, _CANTOPEN, _IOERR):
            raise
    return sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=10.0, isolation_level=None)


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _primary(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _rollback(conn: sqlite3.Connection | None) -> None:
    """Roll back the open transaction, if SQLite has not already (it does on a full disk)."""
    if conn is not None and conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def utc_now() -> str:
    """The current UTC time as stored in the database: ``2025-01-31T12:34:56.789012Z`` (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dump_json(value: Mapping[str, Any] | None, what: str) -> str:
    """``value`` as a JSON object for a TEXT column; ValueError with a sentence when it is not one."""
    if value is None:
        return "{}"
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} must be a mapping of names to values, not {type(value).__name__}.")
    try:
        return json.dumps(dict(value), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} cannot be saved as JSON ({exc}).") from exc


def load_json(text: str | None) -> dict[str, Any]:
    """A JSON object from a TEXT column (an empty or non-object value reads as ``{}``)."""
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _split(script: str) -> list[str]:
    """Split a migration into statements (our migrations contain no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]


__all__ = [
    "SCHEMA_VERSION",
    "Database",
    "DatabaseDamaged",
    "DatabaseError",
    "DatabaseFull",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "dump_json",
    "full_at_open_sentence",
    "load_json",
    "read_only_sentence",
    "utc_now",
    "write_problem",
]
