"""A chat out of the store as a ``tokendice-chat`` file and back in: exact, whole (every version, branch and
token with its candidates), made by the real conversation core over SmolLM2 or written with known tokens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.chat_files.json_export import FORMAT, VERSION, dumps, export_json, write_json
from desktop_app.core.chat_files.json_import import import_file, import_json
from desktop_app.core.conversation.conversation import Conversation
from desktop_app.core.conversation.local import LocalChat
from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.messages import LoadRequest
from desktop_app.core.models.bundled import BUNDLED_ID, BUNDLED_NAME
from desktop_app.core.models.library import Library
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from tests.core.chat_files.sample_chat import MODEL, build_sample_chat


@pytest.fixture
def open_store(tmp_path: Path):
    """``open_store(name)``: a store in a fresh database of its own."""
    opened: list[Database] = []

    def make(name: str) -> ChatStore:
        db = Database(tmp_path / f"{name}.sqlite3")
        opened.append(db)
        return ChatStore(db)

    yield make
    for db in opened:
        db.close()


def _same_tokens(a: ChatStore, a_id: int, b: ChatStore, b_id: int) -> None:
    """Every field of every token the same, the candidates' float32 bits included."""
    ta, tb = a.reply_tokens(a_id), b.reply_tokens(b_id)
    assert len(ta) == len(tb)
    for x, y in zip(ta, tb, strict=True):
        assert (x.token_id, x.piece, x.p_raw, x.p_final, x.u, x.inserted, x.picked) == (
            y.token_id, y.piece, y.p_raw, y.p_final, y.u, y.inserted, y.picked,
        )  # fmt: skip
        assert (x.candidates is None) == (y.candidates is None)
        if x.candidates is not None and y.candidates is not None:
            assert x.candidates.to_bytes() == y.candidates.to_bytes()


def _same_chat(a: ChatStore, a_id: int, b: ChatStore, b_id: int) -> None:
    """The two chats hold the same tree, tokens and branches (ids aside)."""
    ma, mb = a.tree(a_id).messages, b.tree(b_id).messages
    ids = dict(zip(sorted(ma), sorted(mb), strict=True))
    for old, new in ids.items():
        x, y = ma[old], mb[new]
        assert (x.role, x.content, x.created_at, x.stop_reason, x.template_source) == (
            y.role, y.content, y.created_at, y.stop_reason, y.template_source,
        )  # fmt: skip
        assert (None if x.parent_id is None else ids[x.parent_id]) == y.parent_id
        _same_tokens(a, old, b, new)
        left = [
            (br.position, br.chosen_token_id, ids[br.child_message_id], br.created_at)
            for br in a.branches(old)
        ]
        right = [
            (br.position, br.chosen_token_id, br.child_message_id, br.created_at) for br in b.branches(new)
        ]
        assert left == right
    ca, cb = a.get_chat(a_id), b.get_chat(b_id)
    assert (ca.title, ca.model_id, ca.system_prompt, ca.settings, ca.created_at, ca.updated_at) == (
        cb.title, cb.model_id, cb.system_prompt, cb.settings, cb.created_at, cb.updated_at,
    )  # fmt: skip


def test_a_written_chat_goes_out_and_back_in_exactly(open_store):
    source = open_store("source")
    chat_id = build_sample_chat(source)
    doc = export_json(source, chat_id)
    assert (doc["format"], doc["version"]) == (FORMAT, VERSION) == ("tokendice-chat", 1)
    assert [m["id"] for m in doc["messages"]] == list(range(1, 10))  # the file's own ids, in order
    assert doc["models"] == {}  # the library knows neither model
    [branch] = doc["branches"]
    assert (branch["reply"], branch["position"], branch["token_id"], branch["child"]) == (2, 0, 101, 3)
    edited = doc["messages"][7]
    assert (edited["content"], edited["metadata"]) == ("Count to three, please.", {"edit_of": 7})
    picked = doc["messages"][2]["tokens"][0]
    assert (picked["bytes"], picked["inserted"], picked["picked"], picked["u"]) == (
        "4c796f6e",
        True,
        True,
        None,
    )
    assert picked["candidates"]["p_raw"][0] == float(np.float32(0.05))  # the float32 stored, exactly

    target = open_store("target")
    target.create_chat("already here")  # the imported chat gets ids of its own
    new_id = import_json(target, json.loads(dumps(doc)))
    assert new_id != chat_id
    _same_chat(source, chat_id, target, new_id)
    assert dumps(export_json(target, new_id)) == dumps(doc)
    # the edit points at the imported earlier version, not at an id of the other store
    path = target.path(new_id)
    assert path[4].metadata == {"edit_of": target.siblings(path[4].id)[0].id}


def test_the_file_writer_and_reader(open_store, tmp_path):
    source = open_store("source")
    chat_id = build_sample_chat(source)
    out = tmp_path / "chat.json"
    write_json(source, chat_id, out)
    assert out.read_bytes() == dumps(export_json(source, chat_id))
    assert out.read_bytes().startswith(b'{\n  "format": "tokendice-chat",\n  "version": 1,')
    target = open_store("target")
    _same_chat(source, chat_id, target, import_file(target, out))


def test_a_chat_whose_model_is_not_installed_imports_with_its_distributions(open_store):
    source = open_store("source")
    doc = export_json(source, build_sample_chat(source))
    target = open_store("target")
    chat_id = import_json(target, doc)
    assert target.get_chat(chat_id).model_id == MODEL
    assert target.db.conn.execute("SELECT COUNT(*) FROM models").fetchone()[0] == 0
    # opened as the window opens a chat, with no model loaded: the saved steps are there to show
    conv = Conversation(target, backend=None)
    assert conv.open_chat(chat_id) is None
    reply = conv.messages[1]
    assert reply.content.endswith("It is Paris.") and reply.sibling_count == 3
    assert all(t.candidates is not None and len(t.candidates) == 3 for t in reply.tokens)
    first = target.reply_tokens(conv.path[1].id)[0]
    assert first.candidates is not None
    assert first.candidates.ids.tolist() == [400, 401, 402]
    assert first.candidates.p_raw.tolist() == doc["messages"][3]["tokens"][0]["candidates"]["p_raw"]


@pytest.fixture
def local(open_store, smollm2_path):
    store = open_store("source")
    Library(store.db).ensure_bundled()
    chat = LocalChat(store)
    chat.load(LoadRequest(smollm2_path, EngineConfig(n_ctx=2048, seed=1), BUNDLED_ID, BUNDLED_NAME))
    chat.conversation.settings = SamplerSettings(seed=7)
    chat.conversation.max_tokens = 8
    yield chat
    chat.close()


def test_a_chat_made_by_the_conversation_round_trips_exactly(local, open_store):
    conv = local.conversation
    store = conv.store
    conv.set_system_prompt("Answer briefly.")
    assert conv.send("Name a colour.") is None
    conv.settings = SamplerSettings(seed=99)
    assert conv.regenerate() is None
    _, reply = conv.path
    old = store.reply_tokens(reply.id)
    assert old[2].candidates is not None
    other = next(int(t) for t in old[2].candidates.ids if int(t) != old[2].token_id)
    assert conv.pick_token(1, 2, other) is None  # a branch at token 2
    conv.begin_edit(0)
    assert conv.send("Name a fruit.") is None  # an edited question, answered
    assert conv.step_next("And a number?") is None  # step mode: one token, then two more
    assert conv.step_next() is None and conv.step_next() is None
    chat_id = conv.chat_id
    assert chat_id is not None

    doc = export_json(store, chat_id)
    roles = [m["role"] for m in doc["messages"]]
    assert roles.count("assistant") == 5 and roles.count("user") == 3
    assert len(doc["branches"]) == 1 and doc["branches"][0]["position"] == 2
    assert doc["messages"][-1]["stop_reason"] == "step" and len(doc["messages"][-1]["tokens"]) == 3
    assert doc["models"][BUNDLED_ID]["name"] == BUNDLED_NAME
    assert doc["models"][BUNDLED_ID]["file"].endswith(".gguf")
    for m in doc["messages"]:
        if m["role"] == "assistant":
            assert m["metadata"]["model_id"] == BUNDLED_ID and m["tokens"]
            assert all(len(t["candidates"]["ids"]) >= 50 for t in m["tokens"] if not t["picked"])

    # into a store whose library knows the same model: the second export is the same bytes
    target = open_store("target")
    Library(target.db).ensure_bundled()
    new_id = import_json(target, json.loads(dumps(doc)))
    _same_chat(store, chat_id, target, new_id)
    assert dumps(export_json(target, new_id)) == dumps(doc)
    # and the imported chat opens in the conversation as the original does, at the same versions
    shown = Conversation(target, backend=None)
    shown.open_chat(new_id)
    conv.open_chat(chat_id)
    assert [(m.role, m.content, m.sibling_index, m.sibling_count) for m in shown.messages] == [
        (m.role, m.content, m.sibling_index, m.sibling_count) for m in conv.messages
    ]
