"""A database with a valid header and damaged pages, or no database at all: a sentence and a way out.

Each case is a real SQLite file written by TokenDice (chats with replies, tokens and candidates), closed,
then damaged in place by overwriting whole pages of one table's b-tree (found by walking the b-tree from
the table's root page, as SQLite stores it). The commands say what is wrong and what to do in one line
(the sentence names ``tokendice db repair``); the repair keeps the damaged file as it was and carries over
everything that can still be read; the window offers the same repair before it opens.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.services import Services
from desktop_app.core.store.chats import Candidates, ReplyToken
from desktop_app.core.store.db import DatabaseDamaged, DatabaseError
from desktop_app.core.store.lock import InstanceLock
from desktop_app.paths import AppPaths
from tests.helpers import run_cli

REPAIR = "'tokendice db repair'"
CHATS = 4
TOKENS = 150  # per reply: the tokens table spans dozens of pages


def seed(chats: int = CHATS, tokens: int = TOKENS) -> dict[str, list[tuple[str, str, int]]]:
    """Chats written the way the app writes them: a user message and a reply with its tokens, each with
    20 candidates. Returns, per chat title, its path as (role, content, number of tokens)."""
    services = Services.open()
    try:
        for i in range(chats):
            chat = services.chats.create_chat(f"chat {i}")
            user = services.chats.add_message(chat.id, "user", f"question {i}")
            cands = Candidates(np.arange(20), np.full(20, 0.05), np.full(20, 0.04))
            reply = [ReplyToken(t, b"t%d" % t, 0.5, 0.4, 0.3, candidates=cands) for t in range(tokens)]
            services.chats.save_reply(chat.id, f"answer {i}", reply, parent_id=user.id)
        return snapshot(services)
    finally:
        services.close()


def snapshot(services: Services) -> dict[str, list[tuple[str, str, int]]]:
    chats = services.chats
    return {
        c.title: [(m.role, m.content, len(chats.reply_tokens(m.id))) for m in chats.path(c.id)]
        for c in chats.list_chats()
    }


def db_path() -> Path:
    return AppPaths.from_env().db_path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_pages(path: Path, table: str) -> tuple[int, list[int], int]:
    """(root page, leaf pages in key order, page size) of ``table``'s b-tree in the closed database."""
    conn = sqlite3.connect(path)
    try:
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    data = path.read_bytes()
    leaves, todo = [], [root]
    while todo:
        page = todo.pop(0)
        start = (page - 1) * size
        head = start + (100 if page == 1 else 0)
        kind = data[head]
        if kind in (0x0A, 0x0D):  # a leaf of an index (WITHOUT ROWID) or of a table b-tree
            leaves.append(page)
            continue
        assert kind in (0x02, 0x05), f"page {page} is not a b-tree page ({kind})"
        cells = int.from_bytes(data[head + 3 : head + 5], "big")
        children = []
        for i in range(cells):  # each interior cell begins with its left child's page number
            at = start + int.from_bytes(data[head + 12 + 2 * i : head + 14 + 2 * i], "big")
            children.append(int.from_bytes(data[at : at + 4], "big"))
        children.append(int.from_bytes(data[head + 8 : head + 12], "big"))  # the right-most child
        todo = children + todo
    return root, leaves, size


def overwrite_page(path: Path, page: int, size: int) -> None:
    """Overwrite one page with garbage (on page 1, everything after the 100-byte file header)."""
    skip = 100 if page == 1 else 0
    with path.open("r+b") as f:
        f.seek((page - 1) * size + skip)
        f.write(b"\xde\xad\xbe\xef" * ((size - skip) // 4))


def damage(table: str, which: str = "root") -> Path:
    path = db_path()
    root, leaves, size = table_pages(path, table)
    overwrite_page(path, root if which == "root" else leaves[len(leaves) // 2], size)
    return path


def kept_copies(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}-damaged-*{path.suffix}"))


def assert_damaged_line(stderr: str, path: Path) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"tokendice: error: The database {path} is damaged ("), stderr
    assert f"Move it aside and start a new one with {REPAIR}" in lines[0]
    assert "keeps a copy of the damaged file" in lines[0]


# --- the commands say what is wrong and what to do ----------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [["models", "list"], ["models", "info", "default"], ["tokens", "--model", "default", "hi"]],
    ids=["models-list", "models-info", "tokens"],
)
def test_damaged_library_pages_get_the_sentence_from_every_command(command: list[str]):
    seed(chats=1, tokens=5)
    path = damage("models")
    before = digest(path)
    done = run_cli(command)
    assert done.returncode == 1
    assert_damaged_line(done.stderr, path)
    assert digest(path) == before and not kept_copies(path)  # nothing was changed by reading


def test_a_damaged_schema_page_gets_the_sentence():
    seed(chats=1, tokens=5)
    path = db_path()
    _, _, size = table_pages(path, "models")
    overwrite_page(path, 1, size)  # the header stays valid; the schema after it is garbage
    done = run_cli(["models", "list"])
    assert done.returncode == 1
    assert_damaged_line(done.stderr, path)
    assert "and cannot be opened" in done.stderr


def test_a_file_that_is_no_database_gets_the_sentence_and_is_repaired():
    path = db_path()
    path.parent.mkdir(parents=True)
    junk = b"these are not the pages of a database " * 300
    path.write_bytes(junk)
    done = run_cli(["models", "list"])
    assert done.returncode == 1
    assert_damaged_line(done.stderr, path)
    repaired = run_cli(["db", "repair"])
    assert repaired.returncode == 0, repaired.stderr
    (kept,) = kept_copies(path)
    assert kept.read_bytes() == junk
    assert "(nothing could be read)" in repaired.stdout
    assert run_cli(["models", "list"]).returncode == 0


def test_db_check_tells_a_healthy_database_from_a_damaged_one():
    seed(chats=1, tokens=5)
    path = db_path()
    healthy = run_cli(["db", "check"])
    assert healthy.returncode == 0 and healthy.stdout.strip() == f"The database {path} reads without errors."
    damage("tokens", "leaf")
    damaged = run_cli(["db", "check", "--json"])
    assert damaged.returncode == 1
    report = json.loads(damaged.stdout)
    assert report["damaged"] and report["repair"] == "tokendice db repair" and REPAIR in report["message"]


# --- the repair keeps the damaged file and carries over what can be read ------------------------------


def test_repair_keeps_the_damaged_file_and_every_chat_when_the_library_was_hit():
    chats = seed()
    path = damage("models")
    damaged_bytes = digest(path)
    done = run_cli(["db", "repair", "--json"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    (kept,) = kept_copies(path)
    assert report["repaired"] and report["kept"] == str(kept) and digest(kept) == damaged_bytes
    assert report["recovered"]["chats"] == CHATS and report["recovered"]["tokens"] == CHATS * TOKENS
    assert f"was moved to {kept} and is kept as it was" in report["message"]
    assert run_cli(["models", "list"]).returncode == 0  # the bundled model is registered again
    services = Services.open(check=True)
    try:
        assert snapshot(services) == chats  # everything recorded before is still readable
    finally:
        services.close()


def test_damaged_token_pages_raise_the_stores_error_and_the_repair_keeps_every_message():
    chats = seed()
    path = damage("tokens", "leaf")
    with pytest.raises(DatabaseDamaged, match=REPAIR):
        Services.open(check=True)  # the window's way: found before anything depends on it
    services = Services.open()
    hit = []
    try:
        for chat in services.chats.list_chats():
            reply = services.chats.path(chat.id)[-1]
            try:
                services.chats.reply_tokens(reply.id)
            except DatabaseError as exc:  # the store's error with the sentence, never sqlite3's
                assert isinstance(exc, DatabaseDamaged) and REPAIR in str(exc)
                hit.append(chat.title)
    finally:
        services.close()
    assert hit
    done = run_cli(["db", "repair"])
    assert done.returncode == 0, done.stderr
    assert "damaged area(s) could not be read" in done.stdout and len(kept_copies(path)) == 1
    services = Services.open(check=True)
    try:
        after = snapshot(services)
    finally:
        services.close()
    assert set(after) == set(chats)
    for title, messages in chats.items():
        texts = [(role, content) for role, content, _ in after[title]]
        assert texts == [(role, content) for role, content, _ in messages]  # every message kept
        if title not in hit:
            assert after[title] == messages  # and every token of the replies that could be read
    assert any(after[t][-1][2] == 0 for t in hit)  # a reply whose tokens were cut keeps its text only


def test_repair_leaves_a_healthy_database_alone():
    seed(chats=1, tokens=5)
    path = db_path()
    before = digest(path)
    done = run_cli(["db", "repair"])
    assert done.returncode == 0
    assert done.stdout.strip() == f"The database {path} is not damaged; nothing was changed."
    assert digest(path) == before and not kept_copies(path)


def test_repair_waits_for_the_other_tokendice_to_close():
    seed(chats=1, tokens=5)
    damage("models")
    lock = InstanceLock.for_folder(db_path().parent)  # as a running window holds it
    try:
        done = run_cli(["db", "repair"])
    finally:
        lock.release()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("tokendice: error: TokenDice is already running")
    assert not kept_copies(db_path())


def test_opening_a_damaged_database_releases_the_lock():
    seed(chats=1, tokens=5)
    damage("models")
    with pytest.raises(DatabaseDamaged, match=REPAIR):
        Services.open()
    InstanceLock.for_folder(db_path().parent).release()  # free again: the repair can take it


# --- the window offers the repair before it opens -----------------------------------------------------


def _answer_prompt(qtbot, button_text: str) -> None:
    """Click ``button_text`` in the repair dialog as soon as it is shown."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        assert box.objectName() == "database_repair_prompt"
        assert "database is damaged" in box.text() and REPAIR in box.detailedText()
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        button.click()

    QTimer.singleShot(0, click)


def test_window_offers_to_move_a_damaged_database_aside_and_opens_with_the_chats(qtbot):
    from desktop_app.ui.database_prompt import open_services
    from desktop_app.ui.main_window import MainWindow

    chats = seed()
    path = damage("models")
    damaged_bytes = digest(path)
    _answer_prompt(qtbot, "Move Aside and Start Fresh")
    services = open_services()
    assert services is not None
    try:
        (kept,) = kept_copies(path)
        assert digest(kept) == damaged_bytes
        assert snapshot(services) == chats
        window = MainWindow(services, current=None)
        qtbot.addWidget(window)
        window.show()
        assert sorted(window.chats.titles()) == sorted(chats)
        message = window.statusBar().currentMessage()
        assert message.startswith("The damaged database (") and str(kept) in message
        window.close()
    finally:
        services.close()


def test_window_prompt_declined_quits_and_changes_nothing(qtbot):
    from desktop_app.ui.database_prompt import open_services

    seed(chats=1, tokens=5)
    path = damage("models")
    before = digest(path)
    _answer_prompt(qtbot, "Quit")
    assert open_services() is None
    assert digest(path) == before and not kept_copies(path)
    InstanceLock.for_folder(path.parent).release()  # and nothing holds the folder


# --- what no longer fits together is left out, so every chat still opens --------------------------------


def seed_many_messages(chats: int = 30) -> None:
    """Chats whose messages fill several pages of the messages table (long texts), each with a reply."""
    services = Services.open()
    try:
        for i in range(chats):
            chat = services.chats.create_chat(f"long chat {i}")
            user = services.chats.add_message(chat.id, "user", f"question {i} " + "words " * 120)
            reply = [ReplyToken(t, b"t%d" % t, 0.5, 0.4, 0.3) for t in range(3)]
            services.chats.save_reply(chat.id, f"answer {i}", reply, parent_id=user.id)
    finally:
        services.close()


@pytest.mark.parametrize("which", ["first", "middle"])
def test_a_repair_after_lost_messages_leaves_every_chat_whole(which: str):
    seed_many_messages()
    path = db_path()
    _, leaves, size = table_pages(path, "messages")
    assert len(leaves) >= 3
    overwrite_page(path, leaves[0] if which == "first" else leaves[len(leaves) // 2], size)
    done = run_cli(["db", "repair", "--json"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["skipped_areas"] >= 1 and report["left_out"] >= 1  # replies to the lost questions
    assert 0 < report["recovered"]["messages"] < 60 and report["recovered"]["chats"] == 30
    services = Services.open(check=True)
    try:
        assert services.db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        for chat in services.chats.list_chats():  # every chat opens: no reply without its question
            path_shown = services.chats.path(chat.id)
            assert [m.role for m in path_shown] in ([], ["user"], ["user", "assistant"])
            if path_shown:
                assert len(services.chats.reply_tokens(path_shown[-1].id)) == (
                    3 if len(path_shown) == 2 else 0
                )
    finally:
        services.close()
