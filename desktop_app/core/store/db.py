"""The one SQLite database of a TokenDice installation (stdlib ``sqlite3``, WAL mode, migrations)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop_app.core.store.migrations import MIGRATIONS, SCHEMA_VERSION


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why and what to do."""


class Database:
    """A connection to the app database, migrated to the current schema on open.

    Use it from one thread (the thread that opened it), or open another ``Database`` per thread.
    ``read_only=True`` opens an existing database for reading only (``mode=ro``), without migrating it:
    for a second TokenDice while the first one holds the instance lock.
    """

    def __init__(self, path: Path, *, migrations: tuple[str, ...] = MIGRATIONS, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.is_file():
            raise DatabaseError(
                f"The database {self.path} does not exist yet, so it cannot be opened read-only. "
                "Start TokenDice once to create it."
            )
        try:
            if read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self.conn = sqlite3.connect(uri, uri=True, timeout=10.0, isolation_level=None)
            else:
                self.conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            if read_only:
                self.conn.execute("PRAGMA query_only=ON")
                self._check_read_only_version(len(migrations))
            else:
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self.conn.execute("PRAGMA foreign_keys=ON")
                self._migrate(migrations)
        except sqlite3.DatabaseError as exc:
            self._close_quietly()
            raise DatabaseError(
                f"The database {self.path} cannot be opened ({exc}). "
                "Move it aside to start with an empty one."
            ) from exc
        except DatabaseError:
            self._close_quietly()
            raise

    def _close_quietly(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()

    def _check_read_only_version(self, known: int) -> None:
        current = self.version
        if current > known:
            raise DatabaseError(
                f"The database {self.path} was written by a newer TokenDice "
                f"(schema {current}, this one knows {known}). Update TokenDice."
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
        current = self.version
        if current > len(migrations):
            raise DatabaseError(
                f"The database {self.path} was written by a newer TokenDice "
                f"(schema {current}, this one knows "
                f"{len(migrations)}). Update TokenDice."
            )
        for number in range(current, len(migrations)):
            with self.transaction():
                for statement in _split(migrations[number]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception."""
        if self.read_only:
            raise DatabaseError(
                f"The database {self.path} is open read-only (another TokenDice is running), "
                "so nothing can be saved. Close the other TokenDice to make changes."
            )
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


__all__ = ["SCHEMA_VERSION", "Database", "DatabaseError", "dump_json", "load_json", "utc_now"]
