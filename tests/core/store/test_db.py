from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_app.core.store.db import SCHEMA_VERSION, Database, DatabaseError
from desktop_app.core.store.migrations import MIGRATIONS


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path):
    with Database(tmp_path / "a.sqlite3") as db:
        assert db.version == SCHEMA_VERSION == len(MIGRATIONS)
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"models", "gguf_cache"} <= tables
        assert {"chats", "messages", "tokens", "branches", "presets", "model_settings"} <= tables


def test_migrations_upgrade_an_old_database_and_keep_its_rows(tmp_path: Path):
    path = tmp_path / "old.sqlite3"
    extra = (*MIGRATIONS, "ALTER TABLE models ADD COLUMN note TEXT DEFAULT 'none'")
    with Database(path) as db, db.transaction() as c:
        c.execute(
            "INSERT INTO models(id, path, source, display_name) VALUES ('x', '/m.gguf', 'imported', 'X')"
        )
    with Database(path, migrations=extra) as db:
        assert db.version == len(extra)
        row = db.conn.execute("SELECT id, note FROM models").fetchone()
        assert tuple(row) == ("x", "none")


def test_failed_migration_rolls_back(tmp_path: Path):
    path = tmp_path / "f.sqlite3"
    Database(path).close()
    broken = (*MIGRATIONS, "CREATE TABLE t(a); INSERT INTO nope VALUES (1)")
    with pytest.raises(DatabaseError, match="cannot be opened"):
        Database(path, migrations=broken)
    with Database(path) as db:
        assert db.version == len(MIGRATIONS)
        assert db.conn.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone() is None


def test_newer_schema_is_refused_with_a_sentence(tmp_path: Path):
    path = tmp_path / "new.sqlite3"
    Database(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(DatabaseError, match="newer TokenDice"):
        Database(path)


def test_garbage_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="Move it aside"):
        Database(path)


def test_transaction_rolls_back_on_error(tmp_path: Path):
    with Database(tmp_path / "t.sqlite3") as db:
        with pytest.raises(RuntimeError), db.transaction() as c:
            c.execute(
                "INSERT INTO models(id, path, source, display_name) VALUES ('a', '/a', 'imported', 'A')"
            )
            raise RuntimeError("boom")
        assert db.conn.execute("SELECT COUNT(*) FROM models").fetchone()[0] == 0


def _schema_1_with_rows(path: Path) -> None:
    with Database(path, migrations=MIGRATIONS[:1]) as db, db.transaction() as c:
        c.execute(
            "INSERT INTO models(id, path, source, display_name) VALUES ('m', '/m.gguf', 'imported', 'M')"
        )
        c.execute("INSERT INTO gguf_cache(path, size, mtime_ns, metadata) VALUES ('/m.gguf', 1, 2, '{}')")


def test_schema_1_database_is_migrated_to_2_keeping_its_rows(tmp_path: Path):
    from desktop_app.core.store.chats import ChatStore

    path = tmp_path / "v1.sqlite3"
    _schema_1_with_rows(path)
    with Database(path, migrations=MIGRATIONS[:2]) as db:
        assert db.version == 2
        assert tuple(db.conn.execute("SELECT id, path, source FROM models").fetchone()) == (
            "m",
            "/m.gguf",
            "imported",
        )
        assert db.conn.execute("SELECT size, mtime_ns FROM gguf_cache").fetchone()[:] == (1, 2)
        chats = ChatStore(db)
        chat = chats.create_chat("after the upgrade", model_id="m")
        chats.add_message(chat.id, "user", "hello")
        assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        with pytest.raises(DatabaseError, match="FOREIGN KEY constraint failed"):  # enforced, as a sentence
            db.conn.execute(
                "INSERT INTO messages(chat_id, role, content, created_at) VALUES (999, 'user', 'x', 'now')"
            )


def test_failed_migration_2_rolls_back_to_schema_1(tmp_path: Path):
    path = tmp_path / "v1.sqlite3"
    _schema_1_with_rows(path)
    broken = (MIGRATIONS[0], MIGRATIONS[1] + "; INSERT INTO chats(nope) VALUES (1)")
    with pytest.raises(DatabaseError, match="cannot be opened"):
        Database(path, migrations=broken)
    with Database(path, migrations=MIGRATIONS[:1]) as db:
        assert db.version == 1
        tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"models", "gguf_cache"}
        assert db.conn.execute("SELECT COUNT(*) FROM models").fetchone()[0] == 1
    with Database(path) as db:  # the real migration still applies afterwards
        assert db.version == SCHEMA_VERSION


def test_migrations_have_no_semicolons_inside_statements():
    for number, script in enumerate(MIGRATIONS, 1):
        for statement in (s.strip() for s in script.split(";") if s.strip()):
            assert statement.split()[0].upper() in ("CREATE", "ALTER", "INSERT", "UPDATE", "DROP"), (
                f"migration {number} splits badly near: {statement[:60]!r}"
            )


def test_schema_2_database_is_migrated_to_3_and_its_tokens_are_not_picked(tmp_path: Path):
    from desktop_app.core.store.chats import ChatStore
    from desktop_app.core.store.reply_tokens import ReplyToken

    path = tmp_path / "v2.sqlite3"
    with Database(path, migrations=MIGRATIONS[:2]) as db:
        chats = ChatStore(db)
        chat = chats.create_chat("before")
        db.conn.execute(
            "INSERT INTO messages(chat_id, role, content, created_at) VALUES (?, 'assistant', 'hi', 'now')",
            (chat.id,),
        )
        mid = db.conn.execute("SELECT max(id) FROM messages").fetchone()[0]
        db.conn.execute(
            "INSERT INTO tokens(message_id, position, token_id, piece, inserted) "
            "VALUES (?, 0, 7, x'6869', 1)",
            (mid,),
        )
        db.conn.commit()
    with Database(path) as db:
        assert db.version == SCHEMA_VERSION >= 3
        chats = ChatStore(db)
        (old,) = chats.reply_tokens(mid)
        assert (old.token_id, old.piece, old.inserted, old.picked) == (7, b"hi", True, False)
        new = chats.save_reply(chat.id, "x", [ReplyToken(8, b"x", inserted=True, picked=True)])
        assert chats.reply_tokens(new.id)[0].picked
