"""The chat store: chats as message trees, the tokens of generated replies, and branches, in SQLite.

The tables and the tree are described in ``migrations.py``; the records are in chat_tree.py and
reply_tokens.py. Every write is one transaction: a reply, its tokens and its branch row commit together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from desktop_app.core.store.chat_tree import (
    ROLES,
    Branch,
    Chat,
    ChatMatch,
    ChatNotFound,
    ChatTree,
    Message,
    MessageNotFound,
)
from desktop_app.core.store.db import Database, dump_json, load_json, utc_now
from desktop_app.core.store.reply_tokens import Candidates, ReplyToken

if TYPE_CHECKING:
    from collections.abc import Mapping

    from desktop_app.core.store.guarded import GuardedConnection

_CHAT_COLUMNS = "id, title, model_id, system_prompt, created_at, updated_at, settings"
_MESSAGE_COLUMNS = "id, chat_id, parent_id, role, content, created_at, template_source, stop_reason, metadata"


class ChatStore:
    """Chats, messages, reply tokens and branches in the app database."""

    def __init__(self, db: Database):
        self.db = db
        db.conn.create_function("td_contains", 2, _contains, deterministic=True)

    # --- chats ----------------------------------------------------------------------------------
    def create_chat(
        self,
        title: str = "",
        *,
        model_id: str | None = None,
        system_prompt: str = "",
        settings: Mapping[str, Any] | None = None,
    ) -> Chat:
        now, blob = utc_now(), dump_json(settings, "chat settings")
        with self.db.transaction() as c:
            cur = c.execute(
                "INSERT INTO chats(title, model_id, system_prompt, created_at, updated_at, settings) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (title, model_id, system_prompt, now, now, blob),
            )
        return self.get_chat(int(cur.lastrowid or 0))

    def get_chat(self, chat_id: int) -> Chat:
        row = self.db.conn.execute(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = ?", (chat_id,)).fetchone()
        if row is None:
            raise ChatNotFound(f"chat {chat_id} does not exist (it may have been deleted).")
        return _chat(row)

    def rename_chat(self, chat_id: int, title: str) -> Chat:
        return self.update_chat(chat_id, title=title)

    def update_chat(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        model_id: str | None = None,
        system_prompt: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Chat:
        """Change the given fields (None: unchanged) and mark the chat as recently used."""
        changes: dict[str, Any] = {"updated_at": utc_now()}
        for name, value in (("title", title), ("model_id", model_id), ("system_prompt", system_prompt)):
            if value is not None:
                changes[name] = value
        if settings is not None:
            changes["settings"] = dump_json(settings, "chat settings")
        with self.db.transaction() as c:
            assignments = ", ".join(f"{k} = ?" for k in changes)
            cur = c.execute(f"UPDATE chats SET {assignments} WHERE id = ?", (*changes.values(), chat_id))
            if cur.rowcount == 0:
                raise ChatNotFound(f"chat {chat_id} does not exist (it may have been deleted).")
        return self.get_chat(chat_id)

    def delete_chat(self, chat_id: int) -> None:
        """Delete a chat with its messages, tokens and branches."""
        with self.db.transaction() as c:
            if c.execute("DELETE FROM chats WHERE id = ?", (chat_id,)).rowcount == 0:
                raise ChatNotFound(f"chat {chat_id} does not exist (it may have been deleted).")

    def list_chats(self, limit: int | None = None) -> list[Chat]:
        """Chats, most recently updated first."""
        rows = self.db.conn.execute(
            f"SELECT {_CHAT_COLUMNS} FROM chats ORDER BY updated_at DESC, id DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return [_chat(r) for r in rows]

    def search(self, text: str, limit: int = 100) -> list[ChatMatch]:
        """Chats whose title or any message contains ``text`` (ignoring case), most recent first.

        A blank ``text`` matches nothing (list the chats instead).
        """
        needle = text.strip().casefold()
        if not needle:
            return []
        conn = self.db.conn
        hits: dict[int, int | None] = {
            r[0]: None for r in conn.execute("SELECT id FROM chats WHERE td_contains(title, ?)", (needle,))
        }
        for chat_id, message_id in conn.execute(
            "SELECT chat_id, MIN(id) FROM messages WHERE td_contains(content, ?) GROUP BY chat_id", (needle,)
        ):
            if hits.get(chat_id) is None:
                hits[chat_id] = message_id
        chats = sorted((self.get_chat(i) for i in hits), key=lambda ch: (ch.updated_at, ch.id), reverse=True)[
            :limit
        ]
        out = []
        for ch in chats:
            mid = hits[ch.id]
            snippet = _snippet(self.get_message(mid).content, needle) if mid is not None else ch.title
            out.append(ChatMatch(ch, mid, snippet))
        return out

    # --- messages -------------------------------------------------------------------------------
    def add_message(
        self,
        chat_id: int,
        role: str,
        content: str,
        *,
        parent_id: int | None = None,
        template_source: str | None = None,
        stop_reason: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Message:
        """Append a message after ``parent_id`` (None: a first message of the chat)."""
        with self.db.transaction() as c:
            mid = self._insert_message(
                c, chat_id, role, content, parent_id, template_source, stop_reason, metadata
            )
        return self.get_message(mid)

    def get_message(self, message_id: int) -> Message:
        row = self.db.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            raise MessageNotFound(f"message {message_id} does not exist (it may have been deleted).")
        return _message(row)

    def tree(self, chat_id: int) -> ChatTree:
        self.get_chat(chat_id)
        rows = self.db.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return ChatTree(chat_id, [_message(r) for r in rows])

    def path(self, chat_id: int, through: int | None = None) -> list[Message]:
        """The conversation shown: root → leaf through ``through`` (see ``ChatTree.path``)."""
        return self.tree(chat_id).path(through)

    def siblings(self, message_id: int) -> list[Message]:
        """The message and its alternatives (same parent), oldest first."""
        m = self.get_message(message_id)
        rows = self.db.conn.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE chat_id = ? AND parent_id IS ? ORDER BY id",
            (m.chat_id, m.parent_id),
        )
        return [_message(r) for r in rows]

    def edit_message(
        self, message_id: int, content: str, *, metadata: Mapping[str, Any] | None = None
    ) -> Message:
        """Edit = a new sibling with the new text; the old one and what followed it are kept.

        Continue the conversation from the returned message (it is the newest, so ``path`` follows it).
        """
        old = self.get_message(message_id)
        meta = {"edit_of": old.id, **(metadata or {})}
        return self.add_message(old.chat_id, old.role, content, parent_id=old.parent_id, metadata=meta)

    def delete_message(self, message_id: int) -> None:
        """Delete a message and everything that followed it (its subtree)."""
        m = self.get_message(message_id)
        with self.db.transaction() as c:
            c.execute(
                "DELETE FROM messages WHERE id IN (WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL "
                "SELECT m.id FROM messages m JOIN sub ON m.parent_id = sub.id) SELECT id FROM sub)",
                (message_id,),
            )
            self._touch(c, m.chat_id)

    # --- replies and their tokens ---------------------------------------------------------------
    def save_reply(
        self,
        chat_id: int,
        content: str,
        tokens: Sequence[ReplyToken],
        *,
        parent_id: int | None = None,
        stop_reason: str | None = None,
        template_source: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        branch_from: tuple[int, int] | None = None,
    ) -> Message:
        """Save a generated reply and its tokens in one transaction.

        ``branch_from=(reply_id, position)``: this reply left ``reply_id`` (a sibling) at ``position``
        by taking ``tokens[position]``; the branch row is written in the same transaction.
        """
        rows = self._token_rows(tokens)
        with self.db.transaction() as c:
            mid = self._insert_message(
                c, chat_id, "assistant", content, parent_id, template_source, stop_reason, metadata
            )
            c.executemany(
                "INSERT INTO tokens(message_id, position, token_id, piece, p_raw, p_final, u, inserted, "
                f"candidates, picked) VALUES ({mid}, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if branch_from is not None:
                source, position = branch_from
                if not 0 <= position < len(rows):
                    raise ValueError(f"the branch position {position} is not a token of the new reply.")
                self._insert_branch(c, source, position, rows[position][1], mid)
        return self.get_message(mid)

    def rewrite_reply(
        self, message_id: int, content: str, tokens: Sequence[ReplyToken], *, stop_reason: str | None
    ) -> Message:
        """Replace a reply's text and tokens in one transaction (step mode: one token more, or one
        less). Branches taken from positions the reply no longer has are dropped with them."""
        m = self.get_message(message_id)
        if m.role != "assistant":
            raise ValueError(f"message {message_id} is a {m.role} message, not a reply.")
        rows = self._token_rows(tokens)
        with self.db.transaction() as c:
            c.execute(
                "UPDATE messages SET content = ?, stop_reason = ? WHERE id = ?",
                (content, stop_reason, message_id),
            )
            c.execute("DELETE FROM tokens WHERE message_id = ?", (message_id,))
            c.executemany(
                "INSERT INTO tokens(message_id, position, token_id, piece, p_raw, p_final, u, inserted, "
                f"candidates, picked) VALUES ({int(message_id)}, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            c.execute("DELETE FROM branches WHERE message_id = ? AND position >= ?", (message_id, len(rows)))
            self._touch(c, m.chat_id)
        return self.get_message(message_id)

    def reply_tokens(self, message_id: int) -> list[ReplyToken]:
        """The tokens of a reply in order (empty for a message without recorded tokens)."""
        rows = self.db.conn.execute(
            "SELECT token_id, piece, p_raw, p_final, u, inserted, candidates, picked FROM tokens "
            "WHERE message_id = ? ORDER BY position",
            (message_id,),
        ).fetchall()
        return [ReplyToken.from_row(r) for r in rows]

    def token_count(self, message_id: int) -> int:
        row = self.db.conn.execute("SELECT COUNT(*) FROM tokens WHERE message_id = ?", (message_id,))
        return int(row.fetchone()[0])

    # --- branches -------------------------------------------------------------------------------
    def record_branch(self, message_id: int, position: int, child_message_id: int) -> Branch:
        """Record that reply ``child_message_id`` left reply ``message_id`` at ``position``."""
        with self.db.transaction() as c:
            row = c.execute(
                "SELECT token_id FROM tokens WHERE message_id = ? AND position = ?",
                (child_message_id, position),
            ).fetchone()
            if row is None:
                raise ValueError(f"reply {child_message_id} has no token at position {position}.")
            bid = self._insert_branch(c, message_id, position, int(row[0]), child_message_id)
        return self._branches("id = ?", (bid,))[0]

    def branches(self, message_id: int, position: int | None = None) -> list[Branch]:
        """The branches taken from a reply (at one position, or all), by position then age."""
        if position is None:
            return self._branches("message_id = ?", (message_id,))
        return self._branches("message_id = ? AND position = ?", (message_id, position))

    def branched_from(self, child_message_id: int) -> Branch | None:
        """The branch that created this reply, if it was one."""
        found = self._branches("child_message_id = ?", (child_message_id,))
        return found[0] if found else None

    # --- internals ------------------------------------------------------------------------------
    @staticmethod
    def _token_rows(tokens: Sequence[ReplyToken]) -> list[tuple[Any, ...]]:
        return [(i, *t.to_row()) for i, t in enumerate(tokens)]

    def _insert_message(
        self,
        c: GuardedConnection,
        chat_id: int,
        role: str,
        content: str,
        parent_id: int | None,
        template_source: str | None,
        stop_reason: str | None,
        metadata: Mapping[str, Any] | None,
    ) -> int:
        if role not in ROLES:
            raise ValueError(f"a message's role is one of {', '.join(ROLES)}, not {role!r}.")
        blob = dump_json(metadata, "message metadata")
        if parent_id is not None:
            parent = c.execute("SELECT chat_id FROM messages WHERE id = ?", (parent_id,)).fetchone()
            if parent is None:
                raise MessageNotFound(f"message {parent_id} does not exist (it may have been deleted).")
            if parent[0] != chat_id:
                raise ValueError(f"message {parent_id} belongs to chat {parent[0]}, not chat {chat_id}.")
        now = utc_now()
        if not self._touch(c, chat_id, now):
            raise ChatNotFound(f"chat {chat_id} does not exist (it may have been deleted).")
        cur = c.execute(
            "INSERT INTO messages(chat_id, parent_id, role, content, created_at, template_source, "
            "stop_reason, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (chat_id, parent_id, role, content, now, template_source, stop_reason, blob),
        )
        return int(cur.lastrowid or 0)

    def _insert_branch(
        self, c: GuardedConnection, source: int, position: int, token_id: int, child: int
    ) -> int:
        pair = c.execute(
            "SELECT a.chat_id, a.parent_id IS b.parent_id AND a.chat_id = b.chat_id, a.role, b.role "
            "FROM messages a, messages b WHERE a.id = ? AND b.id = ?",
            (source, child),
        ).fetchone()
        if pair is None or source == child:
            raise MessageNotFound(f"reply {source} or reply {child} does not exist, or they are the same.")
        if not pair[1] or pair[2] != "assistant" or pair[3] != "assistant":
            raise ValueError(f"a branch joins two replies to the same message; {source} and {child} are not.")
        n = c.execute("SELECT COUNT(*) FROM tokens WHERE message_id = ?", (source,)).fetchone()[0]
        if position < 0 or (n and position >= n):
            raise ValueError(f"reply {source} has {n} tokens; it cannot branch at position {position}.")
        cur = c.execute(
            "INSERT INTO branches(message_id, position, chosen_token_id, child_message_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (source, position, token_id, child, utc_now()),
        )
        self._touch(c, pair[0])
        return int(cur.lastrowid or 0)

    def _branches(self, where: str, args: tuple[Any, ...]) -> list[Branch]:
        rows = self.db.conn.execute(
            "SELECT id, message_id, position, chosen_token_id, child_message_id, created_at FROM branches "
            f"WHERE {where} ORDER BY position, id",
            args,
        )
        return [Branch(*r) for r in rows]

    @staticmethod
    def _touch(c: GuardedConnection, chat_id: int, now: str | None = None) -> bool:
        cur = c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now or utc_now(), chat_id))
        return cur.rowcount > 0


def _chat(r: sqlite3.Row) -> Chat:
    return Chat(r[0], r[1], r[2], r[3], r[4], r[5], load_json(r[6]))


def _message(r: sqlite3.Row) -> Message:
    return Message(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], load_json(r[8]))


def _contains(text: str | None, needle: str) -> bool:
    return text is not None and needle in text.casefold()


def _snippet(content: str, needle: str, before: int = 30, width: int = 100) -> str:
    flat = " ".join(content.split())
    at = max(flat.lower().find(needle), 0)
    start = max(at - before, 0)
    piece = flat[start : start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


__all__ = [
    "ROLES",
    "Branch",
    "Candidates",
    "Chat",
    "ChatMatch",
    "ChatNotFound",
    "ChatStore",
    "ChatTree",
    "Message",
    "MessageNotFound",
    "ReplyToken",
]
