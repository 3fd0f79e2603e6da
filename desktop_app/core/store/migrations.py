"""The database schema, as an ordered list of migrations.

Each entry moves the schema from version ``i`` to ``i + 1``; ``PRAGMA user_version`` records where a
database stands. Never edit a released migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: the model library, and a cache of GGUF header metadata keyed by path, size and mtime.
    """
    CREATE TABLE models (
        id          TEXT PRIMARY KEY,
        path        TEXT NOT NULL,
        source      TEXT NOT NULL CHECK (source IN ('bundled', 'downloaded', 'imported', 'referenced')),
        repo_id     TEXT,
        filename    TEXT,
        display_name TEXT NOT NULL,
        added_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
    );
    CREATE UNIQUE INDEX models_path ON models(path);
    CREATE TABLE gguf_cache (
        path        TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        metadata    TEXT,
        error       TEXT
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
