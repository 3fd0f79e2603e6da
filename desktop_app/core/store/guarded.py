"""The database's connection as the store sees it: ``sqlite3``'s, with the store's errors instead of SQLite's.

:class:`GuardedConnection` and :class:`GuardedCursor` pass everything through to the ``sqlite3`` objects
underneath, except that an ``sqlite3.Error`` raised by a statement, or while its rows are fetched (a
damaged page is found only when it is read), becomes the store's own error with a sentence
(:func:`~desktop_app.core.store.db_errors.store_error`). Functions registered with ``create_function``
are remembered, so a connection the database opens again (after its file was deleted) has them too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop_app.core.store.db import Database


class GuardedCursor:
    """A ``sqlite3.Cursor`` whose fetches raise the store's errors."""

    __slots__ = ("_cursor", "_db")

    def __init__(self, db: Database, cursor: sqlite3.Cursor):
        self._db = db
        self._cursor = cursor

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except sqlite3.Error as exc:
            raise self._db.error(exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except sqlite3.Error as exc:
            raise self._db.error(exc) from exc

    def fetchmany(self, size: int = 1) -> list[Any]:
        try:
            return self._cursor.fetchmany(size)
        except sqlite3.Error as exc:
            raise self._db.error(exc) from exc

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._cursor)
        except sqlite3.Error as exc:
            raise self._db.error(exc) from exc

    def __getattr__(self, name: str) -> Any:  # lastrowid, rowcount, description, close
        return getattr(self._cursor, name)


class GuardedConnection:
    """The database's ``sqlite3.Connection``, raising the store's errors; the rest passes through."""

    __slots__ = ("_db",)

    def __init__(self, db: Database):
        self._db = db

    @property
    def _raw(self) -> sqlite3.Connection:
        raw = self._db.raw
        assert raw is not None, "the database connects before it runs a statement"
        return raw

    def execute(self, sql: str, parameters: Any = ()) -> GuardedCursor:
        try:
            return GuardedCursor(self._db, self._raw.execute(sql, parameters))
        except sqlite3.Error as exc:
            raise self._db.error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Any]) -> GuardedCursor:
        try:
            return GuardedCursor(self._db, self._raw.executemany(sql, rows))
        except sqlite3.Error as exc:
            raise self._db.error(exc) from exc

    def create_function(
        self, name: str, narg: int, func: Callable[..., Any] | None, *, deterministic: bool = False
    ) -> None:
        self._db.remember_function(name, narg, func, deterministic)

    def __getattr__(self, name: str) -> Any:  # commit, in_transaction, total_changes, …
        return getattr(self._db.raw, name)


__all__ = ["GuardedConnection", "GuardedCursor"]
