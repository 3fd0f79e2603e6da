"""A damaged database: find it, move it aside (kept as it was), and start anew with what can still be read.

:func:`database_problem` reads every page (``PRAGMA quick_check``). :func:`repair_database` renames the
damaged file (and its ``-wal``/``-shm``) to ``tokendice-damaged-<date>-<time>.sqlite3`` beside it, makes a
new database at the old path, and carries over, table by table, every row that can still be read: it
scans each table in key order, and past a damaged page it seeks ahead to the first key that reads again.
Rows that no longer fit together are left out (tokens of a reply whose tokens were not all readable, a
message whose chat or parent was lost, a branch to a lost reply); they are still in the kept file.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.core.store.db import page_problems
from desktop_app.core.store.relocate import free_name

# Tables in the order they are carried over (parents first), with the key each is scanned by.
_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("models", ("rowid",)),
    ("gguf_cache", ("rowid",)),
    ("chats", ("rowid",)),
    ("messages", ("rowid",)),
    ("tokens", ("message_id", "position")),
    ("branches", ("rowid",)),
    ("presets", ("rowid",)),
    ("model_settings", ("rowid",)),
)
_SUMMARY = (("chats", "chat"), ("messages", "message"), ("tokens", "token"), ("models", "model"))
_MAX_SKIPS = 10_000  # damaged areas one table may skip before giving up on the rest of it


@dataclass(frozen=True)
class RepairReport:
    """What :func:`repair_database` did; :meth:`sentence` says it to the user."""

    path: Path  # the database
    kept: Path | None  # where the damaged file went (None: nothing was changed)
    problem: str | None  # what was wrong with it (None: nothing)
    recovered: dict[str, int] = field(default_factory=dict)  # rows carried over, per table
    skipped_areas: int = 0  # damaged areas that were skipped
    left_out: int = 0  # rows read but left out because what they belonged to was lost

    @property
    def repaired(self) -> bool:
        return self.kept is not None

    def sentence(self) -> str:
        if self.kept is None:
            if self.problem is None:
                return f"The database {self.path} is not damaged; nothing was changed."
            return self.problem
        found = ((self.recovered.get(table, 0), word) for table, word in _SUMMARY)
        counts = ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in found if n)
        carried = (
            f"with everything that could still be read ({counts})" if counts else "(nothing could be read)"
        )
        lost = []
        if self.skipped_areas:
            lost.append(f"{self.skipped_areas} damaged area(s) could not be read")
        if self.left_out:
            lost.append(f"{self.left_out} row(s) that belonged to lost ones were left out")
        lost_text = f" {' and '.join(lost).capitalize()}; the kept copy still holds them." if lost else ""
        return (
            f"The damaged database ({self.problem}) was moved to {self.kept} and is kept as it was. A new "
            f"database was started at {self.path} {carried}.{lost_text}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "database": str(self.path),
            "kept": str(self.kept) if self.kept else None,
            "problem": self.problem,
            "repaired": self.repaired,
            "recovered": dict(self.recovered),
            "skipped_areas": self.skipped_areas,
            "left_out": self.left_out,
            "message": self.sentence(),
        }


def database_problem(path: Path) -> str | None:
    """What is damaged in the database at ``path`` (SQLite's words), or None when every page reads."""
    try:
        conn = _open_for_reading(path)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        return page_problems(conn)
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()


def repair_database(path: Path, *, force: bool = False) -> RepairReport:
    """Move a damaged database aside and start a new one with what can still be read (see the module).

    A database that is not damaged is left alone, unless ``force``. The caller holds the instance lock.
    """
    from desktop_app.core.store.db import Database, DatabaseError

    path = Path(path)
    if not path.exists():
        return RepairReport(path, None, f"There is no database at {path}; nothing was changed.")
    problem = database_problem(path)
    if problem is None and not force:
        return RepairReport(path, None, None)
    kept = free_name(path, "damaged")
    os.replace(path, kept)
    for ext in ("-wal", "-shm", "-journal"):  # SQLite finds these by the main file's name: they move with it
        side = Path(f"{path}{ext}")
        if side.exists():
            os.replace(side, Path(f"{kept}{ext}"))
    try:
        with Database(path) as fresh:
            try:
                recovered, skipped, left_out = _carry_over(kept, fresh)
            except sqlite3.Error as exc:
                raise fresh.error(exc) from exc
    except DatabaseError as exc:  # a full disk, say: the damaged file is safe where it was moved
        raise type(exc)(
            f"The damaged database was moved to {kept} and is kept as it was, but the new one could not be "
            f"finished: {exc}"
        ) from exc
    return RepairReport(path, kept, problem or "moved aside on request", recovered, skipped, left_out)


def _open_for_reading(path: Path) -> sqlite3.Connection:
    """Read-only, leaving the file and its folder as they are: without a ``-wal`` beside it (no TokenDice
    has it open) as an unchanging file, so SQLite makes no ``-wal``/``-shm`` files of its own."""
    uri = Path(path).resolve().as_uri()
    how = "mode=ro" if Path(f"{path}-wal").exists() else "immutable=1"
    conn = sqlite3.connect(f"{uri}?{how}", uri=True, timeout=10.0, isolation_level=None)
    conn.execute("PRAGMA query_only=ON")
    return conn


def _carry_over(source: Path, fresh) -> tuple[dict[str, int], int, int]:
    """Copy the readable rows of ``source`` into the new database ``fresh``: (rows per table, damaged
    areas skipped, rows left out)."""
    try:
        src = _open_for_reading(source)
    except sqlite3.Error:
        return {}, 1, 0
    raw: sqlite3.Connection = fresh.raw
    recovered: dict[str, int] = {}
    skipped = 0
    broken: set[int] = set()  # replies whose tokens were not all readable
    try:
        raw.execute("PRAGMA foreign_keys=OFF")
        for table, key in _TABLES:
            columns = _common_columns(src, raw, table)
            if not columns:
                skipped += 1 if table in ("chats", "messages", "models") else 0
                continue
            rows, areas, incomplete = _read_table(src, table, key, columns)
            skipped += areas
            broken |= incomplete
            raw.execute("BEGIN")
            names = ", ".join(columns)
            marks = ", ".join("?" * len(columns))
            raw.executemany(f"INSERT OR IGNORE INTO {table}({names}) VALUES ({marks})", rows)
            raw.execute("COMMIT")
            recovered[table] = len(rows)
        left_out = _drop_what_no_longer_fits(raw, broken)
        for table in recovered:
            recovered[table] = int(raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        src.close()
        raw.execute("PRAGMA foreign_keys=ON")
    return recovered, skipped, left_out


def _common_columns(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> list[str]:
    try:
        have = [str(r[1]) for r in src.execute(f"PRAGMA table_info({table})").fetchall()]
    except sqlite3.DatabaseError:
        return []  # the schema itself cannot be read
    wanted = [str(r[1]) for r in dst.execute(f"PRAGMA table_info({table})").fetchall()]
    return [c for c in wanted if c in have]


def _read_table(
    src: sqlite3.Connection, table: str, key: tuple[str, ...], columns: list[str]
) -> tuple[list[tuple], int, set[int]]:
    """Every row of ``table`` that reads: (rows as ``columns``, damaged areas skipped, first-key values
    whose rows were cut by damage: the replies whose tokens are incomplete)."""
    keys = ", ".join(key)
    select = f"SELECT {keys}, {', '.join(columns)} FROM {table}"
    order = f" ORDER BY {keys}"
    n = len(key)
    rows: list[tuple] = []
    incomplete: set[int] = set()
    where, params = "", ()
    after: int | None = None  # the first-key value the next search for readable rows starts past
    areas = 0
    resumed = False
    while areas <= _MAX_SKIPS:
        try:
            for row in src.execute(select + where + order, params):
                if resumed and n > 1 and row[1] != 0:
                    incomplete.add(row[0])  # a reply whose first tokens were in the damaged area
                resumed = False
                rows.append(tuple(row[n:]))
                after = row[0]
            return rows, areas, incomplete
        except sqlite3.DatabaseError:
            areas += 1
            if after is not None and n > 1:
                incomplete.add(after)
            start = _next_readable(src, table, key[0], after)
            if start is None:
                return rows, areas, incomplete
            where, params, resumed, after = f" WHERE {key[0]} >= ?", (start,), True, start
    return rows, areas, incomplete


def _next_readable(src: sqlite3.Connection, table: str, column: str, after: int | None) -> int | None:
    """The smallest first-key value past ``after`` from which ``table`` reads again (None: none does)."""
    base = after if after is not None else -1  # TokenDice's keys (ids, row ids) start at 1

    def reads_from(start: int) -> bool | None:  # True: a row reads; None: nothing there; False: damaged
        try:
            found = src.execute(
                f"SELECT {column} FROM {table} WHERE {column} >= ? ORDER BY {column} LIMIT 1", (start,)
            ).fetchone()
        except sqlite3.DatabaseError:
            return False
        return True if found is not None else None

    step, bad = 1, 0
    while step < (1 << 62):
        answer = reads_from(base + step)
        if answer is None:
            return None
        if answer:
            good = step
            while good - bad > 1:  # the first start that reads again, between bad and good
                middle = (bad + good) // 2
                if reads_from(base + middle):
                    good = middle
                else:
                    bad = middle
            return base + good
        bad, step = step, step * 2
    return None


def _drop_what_no_longer_fits(raw: sqlite3.Connection, broken: set[int]) -> int:
    """Delete rows whose parent rows were lost, so the tree holds together; how many were dropped."""
    dropped = 0
    raw.execute("BEGIN")
    if broken:
        marks = ", ".join("?" * len(broken))
        dropped += raw.execute(f"DELETE FROM tokens WHERE message_id IN ({marks})", tuple(broken)).rowcount
    dropped += raw.execute("DELETE FROM messages WHERE chat_id NOT IN (SELECT id FROM chats)").rowcount
    while True:  # messages that followed a lost one, level by level
        n = raw.execute(
            "DELETE FROM messages WHERE parent_id IS NOT NULL AND parent_id NOT IN (SELECT id FROM messages)"
        ).rowcount
        dropped += n
        if n == 0:
            break
    dropped += raw.execute("DELETE FROM tokens WHERE message_id NOT IN (SELECT id FROM messages)").rowcount
    dropped += raw.execute(
        "DELETE FROM branches WHERE message_id NOT IN (SELECT id FROM messages) "
        "OR child_message_id NOT IN (SELECT id FROM messages) OR NOT EXISTS (SELECT 1 FROM tokens t "
        "WHERE t.message_id = branches.child_message_id AND t.position = branches.position)"
    ).rowcount
    raw.execute("COMMIT")
    return dropped


__all__ = ["RepairReport", "database_problem", "repair_database"]
