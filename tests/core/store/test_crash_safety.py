"""A writer killed with SIGKILL mid-write leaves a database that opens, checks clean and holds every
committed reply whole, and no reply half-written."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database

ROOT = Path(__file__).resolve().parents[3]

# Writes chats and replies in a loop; prints "begin N" just before a reply's transaction (N tokens) and
# "done ID N" once it has committed. Replies are large (up to 2,000 tokens x 20 candidates, several
# milliseconds) so a kill right after "begin" lands inside the transaction.
WRITER = """
import sys
import time
from pathlib import Path
import numpy as np
from desktop_app.core.store.db import Database
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.reply_tokens import Candidates, ReplyToken

rng = np.random.default_rng(int(sys.argv[2]))
cands = Candidates(np.arange(20), np.full(20, 0.05), np.full(20, 0.05))
pool = [ReplyToken(i, b"tok", 0.5, 0.6, 0.1, False, cands) for i in range(2000)]
store = ChatStore(Database(Path(sys.argv[1])))
i = 0
while True:
    chat = store.create_chat(f"chat {i}")
    user = store.add_message(chat.id, "user", f"question {i}")
    n = int(rng.integers(200, 2001))
    print(f"begin {n}", flush=True)
    reply = store.save_reply(chat.id, f"reply {i}", pool[:n], parent_id=user.id, metadata={"n": n})
    print(f"done {reply.id} {n}", flush=True)
    if i % 3 == 0:
        store.rename_chat(chat.id, f"renamed {i}")
    i += 1
"""


def _check(path: Path, committed: dict[int, int]) -> None:
    with Database(path) as db:
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        store = ChatStore(db)
        for reply_id, n in committed.items():
            assert store.token_count(reply_id) == n, f"committed reply {reply_id} lost tokens"
            assert store.get_message(reply_id).metadata["n"] == n
        rows = db.conn.execute(
            "SELECT m.id, m.metadata, (SELECT COUNT(*) FROM tokens t WHERE t.message_id = m.id) "
            "FROM messages m WHERE m.role = 'assistant'"
        ).fetchall()
        assert {r[0] for r in rows} >= set(committed)
        for message_id, _meta, count in rows:  # every reply present is whole, including uncounted ones
            assert count == store.get_message(message_id).metadata["n"], f"reply {message_id} is half-written"
        last = store.reply_tokens(max(committed))
        assert last[-1].candidates is not None and len(last[-1].candidates) == 20


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path, seed: int):
    path = tmp_path / "crash.sqlite3"
    committed: dict[int, int] = {}
    # (replies to let commit, kill after the next "begin" or "done" line, plus this many seconds). The
    # delays put the kill at different points inside a 1-7 ms reply transaction; with them, a writer
    # that split a reply over several transactions was caught half-written in 10 runs out of 10.
    plan = [
        (1, "begin", 0.0),
        (4, "begin", 0.001),
        (2, "done", 0.0),
        (9, "begin", 0.002),
        (3, "begin", 0.004),
    ]
    for round_, (wait_for, kill_after, delay) in enumerate(plan):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(seed * 100 + round_)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            done = 0
            while True:
                line = proc.stdout.readline()
                assert line, f"the writer stopped early: {proc.stderr.read()}"
                word, *rest = line.split()
                if word == "done":
                    committed[int(rest[0])] = int(rest[1])
                    done += 1
                if done >= wait_for and word == kill_after:
                    break
            time.sleep(delay)  # not a wait for anything: it picks the moment of the kill
            proc.kill()  # SIGKILL on POSIX
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            proc.stdout.close()
            proc.stderr.close()
        assert proc.returncode != 0
        _check(path, committed)
    assert len(committed) >= sum(w for w, _, _ in plan)
