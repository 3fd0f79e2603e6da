"""The one SQLite database of a TokenDice installation (stdlib ``sqlite3``, WAL mode, migrations)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from desktop_app.core.store.migrations import MIGRATIONS, SCHEMA_VERSION


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why and what to do."""


class Database:
    """A connection to the app database, migrated to the current schema on open.

    Use it from one thread (the thread that opened it), or open another ``Database`` per thread.
    """

    def __init__(self, path: Path, *, migrations: tuple[str, ...] = MIGRATIONS):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(migrations)
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(
                f"The database {self.path} cannot be opened ({exc}). "
                "Move it aside to start with an empty one."
            ) from exc

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


def _split(script: str) -> list[str]:
    """Split a migration into statements (our migrations contain no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]


__all__ = ["SCHEMA_VERSION", "Database", "DatabaseError"]
