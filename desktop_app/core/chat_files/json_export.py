"""A chat as a file: the ``tokendice-chat`` JSON format, and the export of a chat from the store into it.

The document holds everything the store keeps of one chat, so a chat leaves one TokenDice and comes back
into another unchanged (chat_import.py reads it back)::

    {"format": "tokendice-chat", "version": 1,
     "chat": {"title", "model_id", "system_prompt", "settings": {…}, "created_at", "updated_at"},
     "models": {MODEL_ID: {"name", "file", "repo_id", "source"}},
     "messages": [{"id", "parent", "role", "content", "created_at", "template_source", "stop_reason",
                   "metadata": {…}, "tokens": [TOKEN, …]}, …],
     "branches": [{"reply", "position", "token_id", "child", "created_at"}, …]}

    TOKEN = {"id", "bytes": HEX, "p_raw", "p_final", "u", "inserted", "picked",
             "candidates": {"ids": […], "p_raw": […], "p_final": […]} | null}

* Message ids are the file's own, 1, 2, 3… in the order the store made the messages (a parent always comes
  before its children, and later siblings after earlier ones: the order says which version is the newest).
  ``parent`` (null for a first message), a branch's ``reply``/``child`` and a message's
  ``metadata.edit_of`` name messages by these ids; an import numbers them anew in its own store.
* Every time is kept as stored (UTC, ``2025-01-31T12:34:56.789012Z``), so exporting an imported chat
  gives the same bytes again.
* Probabilities are written as the exact numbers stored: a token's ``p_raw``/``p_final``/``u`` as the
  store's doubles, the candidates' float32 values as the doubles they equal. ``bytes`` is the token's
  piece in hexadecimal (a piece may be part of a UTF-8 character).
* ``models`` describes, for information, each model the chat names (the chat's and each reply's
  ``metadata.model_id``) that the library knows; the library keeps no checksum of a model's file, so there
  is none here. An import does not need the model installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.safe_text import path_from_store, shown
from desktop_app.core.store.json_file import write_atomic

if TYPE_CHECKING:
    from desktop_app.core.store.chats import ChatStore, Message, ReplyToken

FORMAT = "tokendice-chat"
VERSION = 1
#: The metadata key that names another message (an edited message's earlier version).
EDIT_OF = "edit_of"


class ChatFileError(ValueError):
    """A chat file that cannot be imported; ``str()`` is one sentence naming what is wrong and where."""


def export_json(store: ChatStore, chat_id: int) -> dict[str, Any]:
    """The whole chat as a ``tokendice-chat`` document (see the module). Raises ChatNotFound."""
    chat = store.get_chat(chat_id)
    tree = store.tree(chat_id)
    ordered = sorted(tree.messages.values(), key=lambda m: m.id)
    local = {m.id: i for i, m in enumerate(ordered, 1)}
    messages = [_message(m, local, store.reply_tokens(m.id)) for m in ordered]
    branches = [
        {
            "reply": local[b.message_id],
            "position": b.position,
            "token_id": b.chosen_token_id,
            "child": local[b.child_message_id],
            "created_at": b.created_at,
        }
        for m in ordered
        for b in store.branches(m.id)
    ]
    named = [chat.model_id, *(m.metadata.get("model_id") for m in ordered)]
    models = {}
    for model_id in named:
        known = model_identity(store, model_id) if isinstance(model_id, str) else None
        if known is not None and model_id not in models:
            models[model_id] = known
    return {
        "format": FORMAT,
        "version": VERSION,
        "chat": {
            "title": chat.title,
            "model_id": chat.model_id,
            "system_prompt": chat.system_prompt,
            "settings": chat.settings,
            "created_at": chat.created_at,
            "updated_at": chat.updated_at,
        },
        "models": models,
        "messages": messages,
        "branches": branches,
    }


def dumps(doc: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON, the same bytes for the same document: its structure indented, and each
    token, branch, metadata and settings object on one line of its own."""
    return (_encode(doc, "", 0) + "\n").encode("utf-8")


def write_json(store: ChatStore, chat_id: int, path: Path) -> None:
    """Export the chat to ``path`` (replaced in one step: a reader never sees half a file)."""
    write_atomic(Path(path), dumps(export_json(store, chat_id)))


def model_identity(store: ChatStore, model_id: str) -> dict[str, str | None] | None:
    """How the library knows a model: its name, file name, hub repository and source; None when it does
    not know it (read from its table: a listing would read each model's file)."""
    row = store.db.conn.execute(
        "SELECT display_name, filename, repo_id, source, path FROM models WHERE id = ?", (model_id,)
    ).fetchone()
    if row is None:
        return None
    file = row[1] or path_from_store(row[4]).name
    return {"name": row[0], "file": shown(file), "repo_id": row[2], "source": row[3]}


def _message(m: Message, local: dict[int, int], tokens: list[ReplyToken]) -> dict[str, Any]:
    metadata = dict(m.metadata)
    if EDIT_OF in metadata:  # a store's id means nothing elsewhere: the file's id, or null when it is gone
        edited = metadata[EDIT_OF]
        metadata[EDIT_OF] = local.get(edited) if type(edited) is int else None
    return {
        "id": local[m.id],
        "parent": None if m.parent_id is None else local[m.parent_id],
        "role": m.role,
        "content": m.content,
        "created_at": m.created_at,
        "template_source": m.template_source,
        "stop_reason": m.stop_reason,
        "metadata": metadata,
        "tokens": [_token(t) for t in tokens],
    }


def _token(t: ReplyToken) -> dict[str, Any]:
    c = t.candidates
    return {
        "id": int(t.token_id),
        "bytes": bytes(t.piece).hex(),
        "p_raw": _real(t.p_raw),
        "p_final": _real(t.p_final),
        "u": _real(t.u),
        "inserted": bool(t.inserted),
        "picked": bool(t.picked),
        # float32 → the double it equals, exactly: reading it back as float32 gives the same bits
        "candidates": None
        if c is None
        else {"ids": c.ids.tolist(), "p_raw": c.p_raw.tolist(), "p_final": c.p_final.tolist()},
    }


def _real(x: float | None) -> float | None:
    return None if x is None else float(x)


# Objects written on one line: a token, a branch, and the free-form metadata and settings.
_ONE_LINE = frozenset({"tokens[]", "branches[]", "metadata", "settings", "models[]"})


def _encode(value: Any, key: str, level: int) -> str:
    if key in _ONE_LINE or not isinstance(value, (dict, list)) or not value:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    pad = "\n" + "  " * (level + 1)
    if isinstance(value, dict):
        # a model's id is a key of "models": its entry goes on one line whatever the id is
        named = [
            (json.dumps(k, ensure_ascii=False), "models[]" if key == "models" else k, v)
            for k, v in value.items()
        ]
        items = [f"{k}: {_encode(v, inner, level + 1)}" for k, inner, v in named]
        return "{" + ",".join(pad + i for i in items) + "\n" + "  " * level + "}"
    items = [_encode(v, key + "[]", level + 1) for v in value]
    return "[" + ",".join(pad + i for i in items) + "\n" + "  " * level + "]"
