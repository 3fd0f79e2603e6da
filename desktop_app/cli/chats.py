"""``tokendice chats list|show|export|import``: the saved chats (the window's and ``tokendice chat``'s).

``list``, ``show`` and ``export`` only read (they work while the window is open); ``export`` writes a chat
as a ``tokendice-chat`` JSON file (everything: the whole tree, every token with its candidates) or as
Markdown to read, and ``import`` adds the chat of such a JSON file as a new chat (core/chat_files).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop_app.cli.args import whole
from desktop_app.cli.errors import CliError, Parser
from desktop_app.cli.io import print_json
from desktop_app.core.safe_text import shown


def register(sub: Any, json_flag: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable]:
    chats = sub.add_parser("chats", help="the saved chats: list them, show, export or import one")
    verbs = chats.add_subparsers(dest="chats_command", metavar="list|show|export|import", parser_class=Parser)
    verbs.required = True
    listing = verbs.add_parser("list", help="the chats, the most recent first")
    listing.add_argument("--limit", type=whole(1), default=None, metavar="N", help="at most N chats")
    json_flag(listing)
    show = verbs.add_parser("show", help="one chat: the conversation shown, or with --json its whole tree")
    show.add_argument("chat_id", type=whole(1), metavar="ID")
    show.add_argument(
        "--tokens", action="store_true", help="with --json: each reply's tokens and probabilities"
    )
    json_flag(show)
    export = verbs.add_parser(
        "export", help="one chat as a file: JSON to import again (all of it), or Markdown to read"
    )
    export.add_argument("chat_id", type=whole(1), metavar="ID")
    export.add_argument(
        "--format", choices=("json", "md"), default="json", help="json (the default) or md (Markdown)"
    )
    # dest "path": a file name is kept as given (cli/io.py), so one that is not UTF-8 still opens
    export.add_argument("-o", "--output", dest="path", metavar="FILE", help="write to FILE, not stdout")
    imported = verbs.add_parser("import", help="a chat exported as JSON, as a new chat; prints its id")
    imported.add_argument("path", metavar="FILE")
    json_flag(imported)
    return {"chats": cmd_chats}


def cmd_chats(args: argparse.Namespace) -> int:
    from desktop_app.core.services import Services

    if args.chats_command == "import":
        return _import(args)
    services = Services.open(read_only_if_locked=True)  # reading works while the window is open
    try:
        if args.chats_command == "list":
            return _list(services.chats, args)
        if args.chats_command == "export":
            return _export(services.chats, args)
        return _show(services.chats, args)
    finally:
        services.close()


def _list(store, args: argparse.Namespace) -> int:
    chats = store.list_chats(args.limit)
    rows = [
        {
            "id": c.id,
            "title": c.title,
            "model_id": c.model_id,
            "messages": len(store.tree(c.id)),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
        }
        for c in chats
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no chats yet", file=sys.stderr)
    for r in rows:
        when = r["updated_at"][:16].replace("T", " ")
        print(f"{r['id']:>5}  {when}  {r['messages']:>3} messages  {r['title']}")
    return 0


def _show(store, args: argparse.Namespace) -> int:
    from desktop_app.core.store.chats import ChatNotFound

    try:
        chat = store.get_chat(args.chat_id)
    except ChatNotFound:
        raise CliError(f"there is no chat {args.chat_id} (tokendice chats list shows them)") from None
    tree = store.tree(chat.id)
    path = tree.path()
    if args.json:
        messages = []
        for m in _all(tree):
            entry = {
                "id": m.id,
                "parent_id": m.parent_id,
                "role": m.role,
                "content": m.content,
                "stop_reason": m.stop_reason,
                "created_at": m.created_at,
            }
            if args.tokens and m.role == "assistant":
                entry["tokens"] = [_token(t) for t in store.reply_tokens(m.id)]
            messages.append(entry)
        print_json(
            {
                "id": chat.id,
                "title": chat.title,
                "model_id": chat.model_id,
                "system_prompt": chat.system_prompt,
                "settings": chat.settings,
                "created_at": chat.created_at,
                "updated_at": chat.updated_at,
                "messages": messages,  # every message of the tree, each with its parent
                "path": [m.id for m in path],  # the conversation the window shows first
            }
        )
        return 0
    print(f"chat {chat.id}: {chat.title}")
    if chat.system_prompt:
        print(f"[system] {chat.system_prompt}")
    for m in path:
        siblings = tree.siblings(m.id)
        at = [s.id for s in siblings].index(m.id) + 1
        version = f" (version {at} of {len(siblings)})" if len(siblings) > 1 else ""
        print(f"[{m.role}{version}] {m.content}")
    return 0


def _export(store, args: argparse.Namespace) -> int:
    from desktop_app.core.chat_files.json_export import dumps, export_json
    from desktop_app.core.chat_files.markdown_export import export_markdown
    from desktop_app.core.store.chats import ChatNotFound
    from desktop_app.core.store.json_file import write_atomic

    try:
        if args.format == "json":
            data = dumps(export_json(store, args.chat_id))
        else:
            data = export_markdown(store, args.chat_id).encode("utf-8")
    except ChatNotFound:
        raise CliError(f"there is no chat {args.chat_id} (tokendice chats list shows them)") from None
    if args.path is None:  # the bytes as a file gets them (no newline translation, whatever the locale)
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        return 0
    try:
        write_atomic(Path(args.path), data)
    except OSError as exc:
        raise CliError(f"cannot write {shown(args.path)}: {exc.strerror or exc}") from None
    return 0


def _import(args: argparse.Namespace) -> int:
    from desktop_app.core.chat_files.json_export import ChatFileError
    from desktop_app.core.chat_files.json_import import import_json, read_chat_file
    from desktop_app.core.services import Services

    name = shown(args.path)
    # a file that is not a chat is refused before the database opens (and whether or not it can be)
    try:
        doc = read_chat_file(Path(args.path))
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None
    except ChatFileError as exc:
        raise CliError(f"cannot import {name}: {exc}") from None
    services = Services.open()  # a write: not while the desktop app holds the database
    try:
        chat_id = import_json(services.chats, doc)
    except ChatFileError as exc:
        raise CliError(f"cannot import {name}: {exc}") from None
    finally:
        services.close()
    if args.json:
        print_json({"chat_id": chat_id})
    else:
        print(chat_id)
    return 0


def _all(tree) -> list:
    """Every message of the tree, parents before children, siblings in order."""
    out = []
    pending = list(tree.children(None))
    while pending:
        m = pending.pop(0)
        out.append(m)
        pending.extend(tree.children(m.id))
    return out


def _token(t) -> dict[str, Any]:
    return {
        "id": t.token_id,
        "bytes": t.piece.hex(),
        "p_raw": t.p_raw,
        "p_final": t.p_final,
        "u": t.u,
        "inserted": t.inserted,
        "picked": t.picked,
    }
