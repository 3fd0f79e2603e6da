"""Malformed and hostile chat files: each is refused with one sentence naming what is wrong and where, and
the store is left exactly as it was."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.chat_files import json_import
from desktop_app.core.chat_files.json_export import ChatFileError, dumps, export_json
from desktop_app.core.chat_files.json_import import import_json, parse_chat_json, read_chat_file
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from tests.core.chat_files.sample_chat import build_sample_chat


@pytest.fixture
def store(tmp_path: Path):
    db = Database(tmp_path / "chats.sqlite3")
    yield ChatStore(db)
    db.close()


@pytest.fixture
def doc(store) -> dict[str, Any]:
    """A valid file's document (the sample chat exported); the store keeps the chat."""
    return json.loads(dumps(export_json(store, build_sample_chat(store))))


def _counts(store: ChatStore) -> tuple[int, ...]:
    return tuple(
        store.db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("chats", "messages", "tokens", "branches")
    )


def _refused(store: ChatStore, raw: bytes) -> str:
    """The sentence ``raw`` is refused with, having checked that nothing was written."""
    before = _counts(store)
    with pytest.raises(ChatFileError) as refused:
        import_json(store, parse_chat_json(raw))
    assert _counts(store) == before
    sentence = str(refused.value)
    assert "\n" not in sentence and sentence.endswith(".")
    return sentence


NOT_A_CHAT = [
    (b"", "the file is not JSON"),
    (b"hello", "the file is not JSON (Expecting value at line 1, column 1)"),
    (b'{"format": "tokendice-chat", ', "the file is not JSON"),
    (b'{"format": "tok\xffendice-chat"}', "the file is not UTF-8 text (byte 15 cannot be read)"),
    (b"[1, 2]", "the file holds a list, not a TokenDice chat"),
    (b"[" * 100_000 + b"]" * 100_000, "the file is not JSON that can be read"),
    (b"1" * 5000, "the file is not JSON that can be read"),
    (b'{"format": "csv", "version": 1}', 'the file is not a TokenDice chat (its format is "csv"'),
]


@pytest.mark.parametrize(("raw", "sentence"), NOT_A_CHAT)
def test_what_is_not_a_chat_file_is_refused(store, doc, raw, sentence):
    assert _refused(store, raw).startswith(sentence)


def _msg(i: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["messages"][i].update(changes)

    return change


def _tok(i: int, t: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["messages"][i]["tokens"][t].update(changes)

    return change


def _cands(i: int, t: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["messages"][i]["tokens"][t]["candidates"].update(changes)

    return change


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        at = d
        for key in path[:-1]:
            at = at[key]
        at[path[-1]] = value

    return change


def _drop(i: int, key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["messages"][i].pop(key)


# (how the valid document is spoiled, the start of the sentence)
SPOILED = [
    (_set(("version",), 2), "the file was written by a newer TokenDice (format 2; this one reads 1)"),
    (_set(("version",), "1"), 'the file has version "1", not a whole number from 1'),
    (_set(("chat",), []), "the file: its chat must be an object, not a list"),
    (_set(("messages",), {}), "the file: its messages must be a list, not an object"),
    (_set(("chat", "title"), 7), "the chat: its title must be text, not a number"),
    (_set(("chat", "created_at"), "yesterday"), "the chat: its created_at must be a UTC time"),
    (
        _set(("chat", "settings"), {"temperature": float("inf")}),
        "the chat: its settings holds a number that is",
    ),
    (
        _set(("chat", "system_prompt"), "x" * (16 * 1024 * 1024 + 1)),
        "the chat: its system_prompt is 16,777,217",
    ),
    (_set(("models",), {"m": "a name"}), 'model "m": it must be an object, not text'),
    (_msg(1, parent=40), "message 2: parent 40 does not exist"),
    (_msg(0, parent=2), "message 1: its parents go round in a circle (1 → 2 → 1), so it is not a tree"),
    (_msg(0, parent=1), "message 1: its parents go round in a circle (1 → 1)"),
    (_msg(1, parent=5), "message 2: parent 5 comes after it in the file"),
    (_msg(1, parent=True), "message 2: its parent must be a message id or null, not true"),
    (_msg(2, id=2), "message 2: another message has the same id"),
    (_msg(0, id=0), "message number 1: its id must be a whole number from 1, not 0"),
    (_msg(0, content=5), "message 1: its content must be text, not a number"),
    (_msg(0, content="x" * (16 * 1024 * 1024 + 1)), "message 1: its content is 16,777,217 characters long"),
    (_msg(0, content="\ud800"), "message 1: its content is not valid UTF-8 text"),
    (_msg(0, role="robot"), 'message 1: its role must be one of system, user, assistant, not "robot"'),
    (_drop(0, "role"), "message 1: it has no 'role'"),
    (_msg(1, metadata={"x": float("nan")}), "message 2: its metadata holds a number that is not finite"),
    (_msg(1, metadata=[]), "message 2: its metadata must be an object, not a list"),
    (_msg(7, metadata={"edit_of": 9}), "message 8: it is an edit of message 9, which is not an earlier"),
    (_msg(1, created_at="2025-01-31 12:00"), "message 2: its created_at must be a UTC time"),
    (_msg(0, tokens=[{"id": 1}]), "message 1: a user message has no tokens"),
    (
        _tok(1, 0, p_raw=float("nan")),
        "message 2, token 0: its p_raw must be a number from 0 to 1 or null, not NaN",
    ),
    (
        _tok(1, 0, p_final=float("inf")),
        "message 2, token 0: its p_final must be a number from 0 to 1 or null",
    ),
    (_tok(1, 0, u=1.5), "message 2, token 0: its u must be a number from 0 to 1 or null, not 1.5"),
    (_tok(1, 0, p_raw="0.5"), "message 2, token 0: its p_raw must be a number from 0 to 1 or null"),
    (_tok(1, 0, id=True), "message 2, token 0: its id must be a whole number from 0 to 2,147,483,647"),
    (_tok(1, 0, id=2**40), "message 2, token 0: its id must be a whole number"),
    (_tok(1, 0, bytes="zz"), "message 2, token 0: its bytes must be hexadecimal digits"),
    (_tok(1, 0, bytes="a b "), "message 2, token 0: its bytes must be hexadecimal digits"),
    (_tok(1, 0, inserted="no"), 'message 2, token 0: its inserted must be true or false, not "no"'),
    (_tok(2, 0, inserted=False), "message 3, token 0: a picked token is an inserted one too"),
    (_tok(1, 0, candidates=[1, 2]), "message 2, token 0: its candidates must be an object or null"),
    (
        _cands(1, 0, ids=[1, 2]),
        "message 2, token 0: its candidates' ids, p_raw and p_final are not of the same",
    ),
    (_cands(1, 0, ids=[], p_raw=[], p_final=[]), "message 2, token 0: it must have 1 to 4096 candidates"),
    (_cands(1, 0, ids=[1, -2, 3]), "message 2, token 0: its candidates' ids must be whole numbers"),
    (
        _cands(1, 0, p_final=[0.5, float("inf"), 0]),
        "message 2, token 0: its candidates' p_final must be numbers",
    ),
    (_cands(1, 0, p_raw=[0.5, None, 0]), "message 2, token 0: its candidates' p_raw must be numbers"),
    (_set(("branches", 0, "child"), 99), "branch 1: message 99 does not exist"),
    (_set(("branches", 0, "child"), 1), "branch 1: message 1 is a user message, not a reply"),
    (_set(("branches", 0, "child"), 2), "branch 1: replies 2 and 2 are not two versions of the same reply"),
    (_set(("branches", 0, "child"), 6), "branch 1: replies 2 and 6 are not two versions of the same reply"),
    (
        _set(("branches", 0, "position"), 1),
        "branch 1: reply 2 has 1 token, so it cannot branch at position 1",
    ),
    (_set(("branches", 0, "position"), -1), "branch 1: its position must be a whole number from 0"),
    (lambda d: d["branches"].append(dict(d["branches"][0])), "branch 2: reply 3 was already made by another"),
    (_set(("branches", 0), "2→3"), "branch 1: it must be an object, not text"),
]


@pytest.mark.parametrize(("spoil", "sentence"), SPOILED)
def test_a_spoiled_chat_file_is_refused_with_its_sentence(store, doc, spoil, sentence):
    spoilt = copy.deepcopy(doc)
    spoil(spoilt)
    got = _refused(store, json.dumps(spoilt).encode())  # NaN as JSON's NaN, a lone surrogate as \ud800
    assert got.startswith(sentence), got


def test_a_million_tokens_are_refused_before_they_are_read(store, doc):
    doc["messages"][1]["tokens"] *= 1_000_000  # one object a million times: cheap to make, not to write out
    before = _counts(store)
    with pytest.raises(ChatFileError, match=r"^message 2: the chat has more than 500,000 tokens"):
        import_json(store, doc)
    assert _counts(store) == before


def test_the_valid_document_itself_imports(store, doc):
    before = _counts(store)
    import_json(store, parse_chat_json(json.dumps(doc).encode()))
    assert _counts(store)[0] == before[0] + 1


def test_a_file_too_large_is_not_read(store, tmp_path, monkeypatch):
    monkeypatch.setattr(json_import, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1001)
    with pytest.raises(ChatFileError, match=r"^the file is larger than"):
        read_chat_file(big)


def test_a_write_that_fails_half_way_leaves_nothing(store, doc, monkeypatch):
    """One transaction: a failure after some rows were written takes them all back."""
    calls = []

    def failing(value, what):
        calls.append(what)
        if len(calls) == 5:
            raise ValueError("the disk went away")
        return json.dumps(dict(value))

    monkeypatch.setattr(json_import, "dump_json", failing)
    before = _counts(store)
    with pytest.raises(ValueError, match="the disk went away"):
        import_json(store, doc)
    assert _counts(store) == before
