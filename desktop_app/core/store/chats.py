"""Chats as message trees, the tokens of generated replies with their candidates, and branches.

The tables and the tree are described in ``migrations.py``. Every write is one transaction; a reply and
all its tokens (and its branch row) commit together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.store.db import Database, dump_json, load_json, utc_now

if TYPE_CHECKING:
    from collections.abc import Mapping

    from desktop_app.core.engine.distribution import Distribution
    from desktop_app.core.engine.session import Step

ROLES = ("system", "user", "assistant")
_CHAT_COLUMNS = "id, title, model_id, system_prompt, created_at, updated_at, settings"
_MESSAGE_COLUMNS = "id, chat_id, parent_id, role, content, created_at, template_source, stop_reason, metadata"


class ChatNotFound(LookupError):
    """No chat with that id (it may have been deleted)."""


class MessageNotFound(LookupError):
    """No message with that id (it may have been deleted)."""


@dataclass(frozen=True)
class Chat:
    id: int
    title: str
    model_id: str | None
    system_prompt: str
    created_at: str
    updated_at: str
    settings: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Message:
    id: int
    chat_id: int
    parent_id: int | None
    role: str
    content: str
    created_at: str
    template_source: str | None
    stop_reason: str | None
    metadata: dict[str, Any] = field(hash=False)


@dataclass(frozen=True, eq=False)
class Candidates:
    """One step's top-N candidates: ids, the model's probabilities and the die's, in the chart's order.

    Stored as little-endian ``int32 ids[n] ‖ float32 p_raw[n] ‖ float32 p_final[n]`` (12 bytes each).
    """

    ids: np.ndarray
    p_raw: np.ndarray
    p_final: np.ndarray

    def __post_init__(self) -> None:
        for name, dtype in (("ids", "<i4"), ("p_raw", "<f4"), ("p_final", "<f4")):
            a = np.asarray(getattr(self, name))
            if a.dtype != np.dtype(dtype) or a.flags.writeable:
                a = a.astype(dtype)  # a copy of our own
                a.flags.writeable = False
            object.__setattr__(self, name, a)
        if not self.ids.ndim == 1 or not self.ids.shape == self.p_raw.shape == self.p_final.shape:
            raise ValueError("candidate ids, p_raw and p_final must be flat arrays of the same length.")

    def __len__(self) -> int:
        return int(self.ids.size)

    def to_bytes(self) -> bytes:
        return self.ids.tobytes() + self.p_raw.tobytes() + self.p_final.tobytes()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Candidates:
        if len(blob) % 12:
            raise ValueError(f"a candidates blob holds 12 bytes per candidate, not {len(blob)} bytes.")
        n = len(blob) // 12
        return cls(
            np.frombuffer(blob, "<i4", n, 0),
            np.frombuffer(blob, "<f4", n, 4 * n),
            np.frombuffer(blob, "<f4", n, 8 * n),
        )

    @classmethod
    def from_distribution(cls, d: Distribution, top_n: int | None = None) -> Candidates:
        """The first ``top_n`` candidates of a step (all when None), keeping the chosen one."""
        keep = np.arange(d.candidates.size if top_n is None else min(top_n, d.candidates.size))
        if d.chosen_index >= keep.size:
            keep = np.append(keep, d.chosen_index)
        return cls(d.candidates[keep], d.p_raw[keep], d.p_final[keep])


@dataclass(frozen=True, eq=False)
class ReplyToken:
    """One token of a saved reply; its position is its index in the reply's token list."""

    token_id: int
    piece: bytes
    p_raw: float | None = None  # the token's probability under the model's own distribution
    p_final: float | None = None  # … and under the sampler's final distribution (the die's)
    u: float | None = None  # the roll; None when greedy, picked or inserted
    inserted: bool = False  # picked by the user or put in by the app, not the sampler's choice
    candidates: Candidates | None = None
    picked: bool = False  # picked by the user (``inserted`` is True too)

    @classmethod
    def from_step(cls, step: Step, top_n: int | None = None) -> ReplyToken:
        """A row for one ``Session`` step (``top_n`` candidates kept; all the step has when None)."""
        d = step.distribution
        token_id, piece = int(step.token.id), bytes(step.token.piece)
        if d is None:
            return cls(token_id, piece, inserted=True)
        cands = Candidates.from_distribution(d, top_n)
        if step.inserted:  # d is the step whose end token this one replaced
            hit = np.flatnonzero(cands.ids == token_id)
            p = (float(cands.p_raw[hit[0]]), float(cands.p_final[hit[0]])) if hit.size else (None, None)
            return cls(token_id, piece, p[0], p[1], None, True, cands)
        if d.forced:
            return cls(token_id, piece, d.chosen_p_raw, d.chosen_p_final, None, True, cands, picked=True)
        return cls(token_id, piece, d.chosen_p_raw, d.chosen_p_final, d.u, False, cands)


@dataclass(frozen=True)
class Branch:
    """Reply ``child_message_id`` left reply ``message_id`` at ``position`` by taking another token."""

    id: int
    message_id: int
    position: int
    chosen_token_id: int
    child_message_id: int
    created_at: str


@dataclass(frozen=True)
class ChatMatch:
    chat: Chat
    message_id: int | None  # the first message that matched; None when only the title did
    snippet: str


class ChatTree:
    """All messages of one chat, loaded once: paths, siblings and children without more queries."""

    def __init__(self, chat_id: int, messages: Sequence[Message]):
        self.chat_id = chat_id
        self.messages = {m.id: m for m in messages}
        self._children: dict[int | None, list[Message]] = {}
        for m in sorted(messages, key=lambda m: m.id):
            self._children.setdefault(m.parent_id, []).append(m)
        # The newest message in each subtree (children always have higher ids than their parents).
        self._newest = {m.id: m.id for m in messages}
        for m in sorted(messages, key=lambda m: m.id, reverse=True):
            if m.parent_id is not None and m.parent_id in self._newest:
                self._newest[m.parent_id] = max(self._newest[m.parent_id], self._newest[m.id])

    def __len__(self) -> int:
        return len(self.messages)

    def get(self, message_id: int) -> Message:
        try:
            return self.messages[message_id]
        except KeyError:
            raise MessageNotFound(f"message {message_id} is not in chat {self.chat_id}.") from None

    def children(self, message_id: int | None) -> list[Message]:
        """The replies to a message (``None``: the chat's first messages), oldest first."""
        return list(self._children.get(message_id, ()))

    def siblings(self, message_id: int) -> list[Message]:
        """The message and its alternatives (same parent), oldest first: the "‹ i/n ›" switcher."""
        return self.children(self.get(message_id).parent_id)

    def path(self, through: int | None = None) -> list[Message]:
        """Root → leaf through ``through`` (default: the chat's newest message).

        Below ``through`` it follows, at each level, the child whose subtree holds the newest message,
        so switching to an older sibling shows the conversation that was last continued from it.
        """
        if not self.messages:
            return []
        node = self.get(through if through is not None else max(self.messages))
        up = [node]
        while up[-1].parent_id is not None:
            up.append(self.messages[up[-1].parent_id])
        path = up[::-1]
        while kids := self._children.get(path[-1].id):
            path.append(max(kids, key=lambda m: self._newest[m.id]))
        return path


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
        return [
            ReplyToken(
                r[0],
                bytes(r[1]),
                r[2],
                r[3],
                r[4],
                bool(r[5]),
                Candidates.from_bytes(r[6]) if r[6] else None,
                picked=bool(r[7]),
            )
            for r in rows
        ]

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
        return [
            (
                i,
                int(t.token_id),
                bytes(t.piece),
                _real(t.p_raw),
                _real(t.p_final),
                _real(t.u),
                int(bool(t.inserted or t.picked)),
                t.candidates.to_bytes() if t.candidates is not None else None,
                int(bool(t.picked)),
            )
            for i, t in enumerate(tokens)
        ]

    def _insert_message(
        self,
        c: sqlite3.Connection,
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
        self, c: sqlite3.Connection, source: int, position: int, token_id: int, child: int
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
    def _touch(c: sqlite3.Connection, chat_id: int, now: str | None = None) -> bool:
        cur = c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now or utc_now(), chat_id))
        return cur.rowcount > 0


def _chat(r: sqlite3.Row) -> Chat:
    return Chat(r[0], r[1], r[2], r[3], r[4], r[5], load_json(r[6]))


def _message(r: sqlite3.Row) -> Message:
    return Message(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], load_json(r[8]))


def _real(x: float | None) -> float | None:
    return None if x is None else float(x)


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
