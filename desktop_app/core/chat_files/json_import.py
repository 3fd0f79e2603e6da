"""A ``tokendice-chat`` file back into the store (the format is described in json_export.py).

Everything is checked before anything is written: a file that is not JSON, not UTF-8, of another format
or a newer version, with a value of the wrong type, a probability that is not a number from 0 to 1, a
parent that does not exist or a circle of parents, or more than a chat can hold (the limits below), is
refused with one :class:`ChatFileError` sentence that names what is wrong and where, and the store is left
as it was. A file that passes is written in one transaction, the messages numbered anew in file order (so
the newest version is still the newest), every time kept as the file gives it. Keys this version does
not know are passed over.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from desktop_app.core.chat_files.checks import (
    entry,
    fail,
    field,
    get_flag,
    get_object,
    get_probability,
    get_text,
    get_time,
    get_whole,
    is_int,
    is_number,
    kind,
    short,
)
from desktop_app.core.chat_files.json_export import EDIT_OF, FORMAT, VERSION, ChatFileError
from desktop_app.core.safe_text import is_utf8
from desktop_app.core.store.chat_tree import ROLES
from desktop_app.core.store.db import dump_json
from desktop_app.core.store.reply_tokens import Candidates, ReplyToken

if TYPE_CHECKING:
    from desktop_app.core.store.chats import ChatStore

# Beyond these a file is not a chat TokenDice made (a saved step keeps 50 candidates and the chosen one; a
# token with them is about 2.4 kB of JSON), and reading it on would only fill the memory.
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_MESSAGES = 100_000
MAX_TOKENS = 500_000  # in the whole chat
MAX_CANDIDATES = 4096  # of one token
MAX_PIECE_BYTES = 1024
MAX_TEXT = 16 * 1024 * 1024  # characters of a message or a system prompt
MAX_NAME = 10_000  # characters of a title, a model id, a stop reason, a template's source
MAX_MODELS = 1000
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_INT32 = 2**31 - 1


def read_chat_file(path: Path) -> dict[str, Any]:
    """The document in the file at ``path``: ChatFileError when it is too big, not UTF-8 or not a JSON
    object; OSError when it cannot be read."""
    with Path(path).open("rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    return parse_chat_json(raw)


def parse_chat_json(raw: bytes) -> dict[str, Any]:
    """The document in ``raw``, or ChatFileError saying why it is not one (the rest is checked on import)."""
    if len(raw) > MAX_FILE_BYTES:
        _fail_file(f"is larger than {MAX_FILE_BYTES // 2**20} MB, more than a chat file holds")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Notepad's) is fine
    except UnicodeDecodeError as exc:
        _fail_file(f"is not UTF-8 text (byte {exc.start} cannot be read)")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail_file(f"is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    except (ValueError, RecursionError) as exc:  # a number too long, arrays nested too deep
        _fail_file(f"is not JSON that can be read ({type(exc).__name__}: {exc})")
    if not isinstance(doc, dict):
        _fail_file(f"holds {kind(doc)}, not a TokenDice chat")
    return doc


def import_file(store: ChatStore, path: Path) -> int:
    """Import the chat in the file at ``path``; its new id. ChatFileError, OSError or DatabaseError."""
    return import_json(store, read_chat_file(path))


@dataclass
class _Message:
    id: int
    parent: int | None
    role: str
    content: str
    created_at: str
    template_source: str | None
    stop_reason: str | None
    metadata: dict[str, Any]
    tokens: list[tuple[Any, ...]]  # rows as ReplyToken.to_row gives them


def import_json(store: ChatStore, doc: Any) -> int:
    """Write the chat ``doc`` holds into the store as a new chat, in one transaction; its id.

    Raises ChatFileError (nothing written) when the document is not a valid ``tokendice-chat``, or the
    store's DatabaseError when it cannot be written (rolled back).
    """
    chat, messages, branches = _checked(doc)
    with store.db.transaction() as c:
        cur = c.execute(
            "INSERT INTO chats(title, model_id, system_prompt, created_at, updated_at, settings) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            chat,
        )
        chat_id = int(cur.lastrowid or 0)
        new: dict[int, int] = {}
        for m in messages:
            metadata = dict(m.metadata)
            if metadata.get(EDIT_OF) is not None:
                metadata[EDIT_OF] = new[metadata[EDIT_OF]]
            cur = c.execute(
                "INSERT INTO messages(chat_id, parent_id, role, content, created_at, template_source, "
                "stop_reason, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (chat_id, None if m.parent is None else new[m.parent], m.role, m.content, m.created_at,
                 m.template_source, m.stop_reason, dump_json(metadata, "message metadata")),
            )  # fmt: skip
            new[m.id] = mid = int(cur.lastrowid or 0)
            c.executemany(
                "INSERT INTO tokens(message_id, position, token_id, piece, p_raw, p_final, u, inserted, "
                "candidates, picked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(mid, i, *row) for i, row in enumerate(m.tokens)],
            )
        c.executemany(
            "INSERT INTO branches(message_id, position, chosen_token_id, child_message_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(new[reply], position, token, new[child], at) for reply, position, token, child, at in branches],
        )
    return chat_id


# --- the checks -------------------------------------------------------------------------------------
def _checked(doc: Any) -> tuple[tuple[Any, ...], list[_Message], list[tuple[Any, ...]]]:
    """The chat's row, its messages and its branches from ``doc``, or ChatFileError."""
    if not isinstance(doc, dict):
        _fail_file(f"holds {kind(doc)}, not a TokenDice chat")
    if doc.get("format") != FORMAT:
        found = doc.get("format")
        _fail_file(f"is not a TokenDice chat (its format is {short(found)}, not {FORMAT!r})")
    version = doc.get("version")
    if not is_int(version) or version < 1:
        _fail_file(f"has version {short(version)}, not a whole number from 1")
    if version > VERSION:
        _fail_file(f"was written by a newer TokenDice (format {version}; this one reads {VERSION})")
    chat = field(doc, "the file", "chat", dict)
    row = (
        get_text(chat, "the chat", "title", MAX_NAME),
        get_text(chat, "the chat", "model_id", MAX_NAME, null=True),
        get_text(chat, "the chat", "system_prompt", MAX_TEXT),
        get_time(chat, "the chat", "created_at"),
        get_time(chat, "the chat", "updated_at"),
        get_object(chat, "the chat", "settings"),
    )
    _models(field(doc, "the file", "models", dict))
    messages = _messages(field(doc, "the file", "messages", list))
    return row, messages, _branches(field(doc, "the file", "branches", list), messages)


def _models(models: dict[str, Any]) -> None:
    if len(models) > MAX_MODELS:
        fail("models", f"there are {len(models)}, more than {MAX_MODELS}")
    for model_id, known in models.items():
        where = f"model {short(model_id)}"
        if len(model_id) > MAX_NAME or not is_utf8(model_id):
            fail("models", "a model id is too long or not UTF-8 text")
        if not isinstance(known, dict):
            fail(where, f"it must be an object, not {kind(known)}")
        for key in ("name", "file", "repo_id", "source"):
            if key in known:
                get_text(known, where, key, MAX_NAME, null=True)


def _messages(items: list[Any]) -> list[_Message]:
    if len(items) > MAX_MESSAGES:
        fail("messages", f"there are {len(items):,}, more than the {MAX_MESSAGES:,} a chat may hold")
    out: list[_Message] = []
    seen: dict[int, _Message] = {}
    # every message's parent, to tell a parent that does not exist from one that comes later or a circle
    parents = {i["id"]: i.get("parent") for i in items if isinstance(i, dict) and is_int(i.get("id"))}
    tokens = 0
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            fail(f"message number {n}", f"it must be an object, not {kind(item)}")
        mid = item.get("id")
        if not is_int(mid) or not 1 <= mid <= 2**62:
            fail(f"message number {n}", f"its id must be a whole number from 1, not {short(mid)}")
        where = f"message {mid}"
        if mid in seen:
            fail(where, "another message has the same id")
        parent = entry(item, where, "parent")
        if parent is not None and (not is_int(parent) or parent not in seen):
            _unknown_parent(mid, parent, parents)
        role = get_text(item, where, "role", MAX_NAME)
        if role not in ROLES:
            fail(where, f"its role must be one of {', '.join(ROLES)}, not {short(role)}")
        metadata = get_object(item, where, "metadata", parse=True)
        if EDIT_OF in metadata:
            edited = metadata[EDIT_OF]
            if edited is not None and not (is_int(edited) and edited in seen):
                fail(where, f"it is an edit of message {short(edited)}, which is not an earlier message")
        listed = field(item, where, "tokens", list)
        if listed and role != "assistant":
            fail(where, f"a {role} message has no tokens; only a reply (assistant) has them")
        tokens += len(listed)
        if tokens > MAX_TOKENS:
            fail(where, f"the chat has more than {MAX_TOKENS:,} tokens, more than a chat may hold")
        rows = _tokens(listed, where)
        m = _Message(
            mid, parent, role,
            get_text(item, where, "content", MAX_TEXT),
            get_time(item, where, "created_at"),
            get_text(item, where, "template_source", MAX_NAME, null=True),
            get_text(item, where, "stop_reason", MAX_NAME, null=True),
            metadata, rows,
        )  # fmt: skip
        seen[mid] = m
        out.append(m)
    return out


def _fail_file(what: str) -> NoReturn:
    """Refuse the file as a whole: "the file is not JSON (…)."."""
    raise ChatFileError(f"the file {what}.")


def _unknown_parent(mid: int, parent: Any, parents: dict[int, Any]) -> NoReturn:
    """Why ``parent``, not a message before ``mid``, cannot be its parent: one sentence."""
    where = f"message {mid}"
    if not is_int(parent):
        fail(where, f"its parent must be a message id or null, not {short(parent)}")
    if parent not in parents:
        fail(where, f"parent {parent} does not exist")
    chain = [mid, parent]
    while is_int(chain[-1]) and chain[-1] in parents and chain[-1] != mid and len(chain) <= len(parents):
        chain.append(parents[chain[-1]])
    if chain[-1] == mid:
        circle = " → ".join(map(str, chain if len(chain) <= 8 else [*chain[:4], "…", *chain[-3:]]))
        fail(where, f"its parents go round in a circle ({circle}), so it is not a tree")
    fail(where, f"parent {parent} comes after it in the file (a message's parent comes first)")


def _tokens(items: list[Any], at: str) -> list[tuple[Any, ...]]:
    rows = []
    for i, t in enumerate(items):
        where = f"{at}, token {i}"
        if not isinstance(t, dict):
            fail(where, f"it must be an object, not {kind(t)}")
        token_id = get_whole(t, where, "id", 0, _INT32)
        piece = get_text(t, where, "bytes", 2 * MAX_PIECE_BYTES)
        if not _HEX.fullmatch(piece):
            fail(where, "its bytes must be hexadecimal digits, two for each byte")
        inserted, picked = get_flag(t, where, "inserted"), get_flag(t, where, "picked")
        if picked and not inserted:
            fail(where, "a picked token is an inserted one too, but inserted is false")
        p_raw, p_final, u = (get_probability(t, where, k) for k in ("p_raw", "p_final", "u"))
        cands = _candidates(entry(t, where, "candidates"), where)
        token = ReplyToken(token_id, bytes.fromhex(piece), p_raw, p_final, u, inserted, cands, picked)
        rows.append(token.to_row())
    return rows


def _candidates(c: Any, where: str) -> Candidates | None:
    if c is None:
        return None
    if not isinstance(c, dict):
        fail(where, f"its candidates must be an object or null, not {kind(c)}")
    ids, p_raw, p_final = (field(c, f"{where}, candidates", k, list) for k in ("ids", "p_raw", "p_final"))
    if not 1 <= len(ids) <= MAX_CANDIDATES:
        fail(where, f"it must have 1 to {MAX_CANDIDATES} candidates (or null), not {len(ids)}")
    if not len(ids) == len(p_raw) == len(p_final):
        fail(where, "its candidates' ids, p_raw and p_final are not of the same length")
    if not all(is_int(x) for x in ids) or not all(0 <= x <= _INT32 for x in ids):
        fail(where, "its candidates' ids must be whole numbers from 0 to 2,147,483,647")
    arrays = []
    for name, values in (("p_raw", p_raw), ("p_final", p_final)):
        if not all(is_number(x) for x in values):
            fail(where, f"its candidates' {name} must be numbers")
        a = np.asarray(values, dtype=np.float64)
        if not (np.isfinite(a).all() and (a >= 0).all() and (a <= 1).all()):
            bad = next(x for x in values if not (math.isfinite(x) and 0 <= x <= 1))
            fail(where, f"its candidates' {name} must be numbers from 0 to 1, not {short(bad)}")
        arrays.append(a)
    return Candidates(np.asarray(ids, dtype=np.int64), arrays[0], arrays[1])


def _branches(items: list[Any], messages: list[_Message]) -> list[tuple[Any, ...]]:
    by_id = {m.id: m for m in messages}
    children: set[int] = set()
    out = []
    for n, b in enumerate(items, 1):
        where = f"branch {n}"
        if not isinstance(b, dict):
            fail(where, f"it must be an object, not {kind(b)}")
        reply, child = get_whole(b, where, "reply", 1, 2**62), get_whole(b, where, "child", 1, 2**62)
        position, token = (
            get_whole(b, where, "position", 0, MAX_TOKENS),
            get_whole(b, where, "token_id", 0, _INT32),
        )
        for mid in (reply, child):
            if mid not in by_id:
                fail(where, f"message {mid} does not exist")
            if by_id[mid].role != "assistant":
                fail(where, f"message {mid} is a {by_id[mid].role} message, not a reply")
        if reply == child or by_id[reply].parent != by_id[child].parent:
            fail(where, f"replies {reply} and {child} are not two versions of the same reply")
        if child in children:
            fail(where, f"reply {child} was already made by another branch")
        n_tokens = len(by_id[reply].tokens)
        if n_tokens and position >= n_tokens:
            tokens = f"{n_tokens} token{'s' if n_tokens > 1 else ''}"
            fail(where, f"reply {reply} has {tokens}, so it cannot branch at position {position}")
        children.add(child)
        out.append((reply, position, token, child, get_time(b, where, "created_at")))
    return out
