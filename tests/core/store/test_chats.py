from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.store.chat_tree import ChatNotFound, MessageNotFound
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from desktop_app.core.store.reply_tokens import Candidates, ReplyToken


@pytest.fixture
def db(tmp_path: Path):
    with Database(tmp_path / "chats.sqlite3") as database:
        yield database


@pytest.fixture
def store(db: Database) -> ChatStore:
    return ChatStore(db)


def _tokens(n: int, n_candidates: int = 5, seed: int = 0, first: int = 100) -> list[ReplyToken]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = np.sort(rng.dirichlet(np.ones(n_candidates)))[::-1]
        ids = np.arange(first + i, first + i + n_candidates)
        out.append(
            ReplyToken(
                int(ids[0]),
                f"t{i}".encode(),
                float(p[0]),
                float(p[0]) * 1.1,
                float(rng.random()),
                False,
                Candidates(ids, p, p * 1.1),
            )
        )
    return out


def test_create_list_rename_delete_chats(store: ChatStore):
    a = store.create_chat("First", model_id="m1", system_prompt="Be brief.", settings={"temperature": 0.5})
    b = store.create_chat("Second")
    assert (a.title, a.model_id, a.system_prompt, a.settings) == (
        "First",
        "m1",
        "Be brief.",
        {"temperature": 0.5},
    )
    assert [c.id for c in store.list_chats()] == [b.id, a.id]
    renamed = store.rename_chat(a.id, "Renamed")
    assert renamed.title == "Renamed" and renamed.updated_at >= a.updated_at
    assert [c.id for c in store.list_chats()] == [a.id, b.id]  # renaming counts as use
    assert [c.id for c in store.list_chats(limit=1)] == [a.id]
    store.update_chat(b.id, system_prompt="New", settings={"top_k": 3})
    assert store.get_chat(b.id).settings == {"top_k": 3}
    store.delete_chat(a.id)
    assert [c.id for c in store.list_chats()] == [b.id]
    with pytest.raises(ChatNotFound, match="does not exist"):
        store.get_chat(a.id)
    with pytest.raises(ChatNotFound):
        store.rename_chat(a.id, "x")
    with pytest.raises(ValueError, match="JSON"):
        store.create_chat("bad", settings={"x": object()})


def test_adding_a_message_moves_the_chat_to_the_top(store: ChatStore):
    a = store.create_chat("a")
    b = store.create_chat("b")
    store.add_message(a.id, "user", "hi")
    assert [c.id for c in store.list_chats()] == [a.id, b.id]


def test_messages_are_a_tree_and_the_path_follows_the_newest(store: ChatStore):
    chat = store.create_chat("tree")
    u1 = store.add_message(chat.id, "user", "Hello")
    r1 = store.add_message(chat.id, "assistant", "Hi!", parent_id=u1.id)
    u2 = store.add_message(chat.id, "user", "Tell me a joke", parent_id=r1.id)
    r2 = store.save_reply(chat.id, "A joke.", _tokens(3), parent_id=u2.id, stop_reason="eog")
    assert [m.id for m in store.path(chat.id)] == [u1.id, r1.id, u2.id, r2.id]

    # Regenerate: a sibling reply; the path now shows it, the old one is kept.
    r2b = store.save_reply(chat.id, "Another joke.", _tokens(4), parent_id=u2.id)
    assert [m.id for m in store.siblings(r2.id)] == [r2.id, r2b.id]
    assert store.path(chat.id)[-1].id == r2b.id
    assert store.path(chat.id, through=r2.id)[-1].id == r2.id

    # Edit an earlier user message: a sibling of u2; the conversation continues from it.
    u2e = store.edit_message(u2.id, "Tell me a poem")
    assert u2e.parent_id == r1.id and u2e.role == "user" and u2e.metadata == {"edit_of": u2.id}
    r3 = store.add_message(chat.id, "assistant", "A poem.", parent_id=u2e.id)
    assert [m.id for m in store.path(chat.id)] == [u1.id, r1.id, u2e.id, r3.id]
    assert [m.content for m in store.siblings(u2.id)] == ["Tell me a joke", "Tell me a poem"]

    # Switching back to the old user message shows the reply that was last continued from it.
    assert [m.id for m in store.path(chat.id, through=u2.id)] == [u1.id, r1.id, u2.id, r2b.id]
    tree = store.tree(chat.id)
    assert len(tree) == 7 and [m.id for m in tree.children(None)] == [u1.id]
    assert [m.id for m in tree.siblings(u2e.id)] == [u2.id, u2e.id]
    with pytest.raises(MessageNotFound):
        tree.path(through=999_999)


def test_editing_the_first_message_makes_a_new_root(store: ChatStore):
    chat = store.create_chat()
    u1 = store.add_message(chat.id, "user", "one")
    store.add_message(chat.id, "assistant", "reply", parent_id=u1.id)
    u1b = store.edit_message(u1.id, "two")
    assert u1b.parent_id is None
    assert [m.id for m in store.path(chat.id)] == [u1b.id]
    assert [m.id for m in store.siblings(u1.id)] == [u1.id, u1b.id]
    assert store.path(store.create_chat().id) == []


def test_message_validation(store: ChatStore):
    a, b = store.create_chat(), store.create_chat()
    m = store.add_message(a.id, "user", "x")
    with pytest.raises(ValueError, match="role"):
        store.add_message(a.id, "robot", "x")
    with pytest.raises(ValueError, match="belongs to chat"):
        store.add_message(b.id, "assistant", "x", parent_id=m.id)
    with pytest.raises(MessageNotFound):
        store.add_message(a.id, "assistant", "x", parent_id=123456)
    with pytest.raises(ChatNotFound):
        store.add_message(987654, "user", "x")
    assert store.token_count(m.id) == 0 and len(store.tree(a.id)) == 1  # nothing half-written


def test_reply_tokens_round_trip(store: ChatStore):
    chat = store.create_chat()
    u = store.add_message(chat.id, "user", "q")
    tokens = [*_tokens(5, 7), ReplyToken(42, b"\xe4\xbd", None, None, None, True, None)]
    r = store.save_reply(
        chat.id,
        "answer",
        tokens,
        parent_id=u.id,
        stop_reason="max_tokens",
        template_source="{{ messages }}",
        metadata={"seed": 3, "settings": {"temperature": 0.8}},
    )
    assert (r.role, r.stop_reason, r.template_source, r.metadata["seed"]) == (
        "assistant",
        "max_tokens",
        "{{ messages }}",
        3,
    )
    back = store.reply_tokens(r.id)
    assert len(back) == 6 and store.token_count(r.id) == 6
    for want, got in zip(tokens[:5], back[:5], strict=True):
        assert (got.token_id, got.piece, got.inserted) == (want.token_id, want.piece, False)
        assert got.p_raw == pytest.approx(want.p_raw) and got.u == pytest.approx(want.u)
        assert got.candidates is not None and want.candidates is not None
        assert got.candidates.ids.dtype == np.int32 and got.candidates.p_final.dtype == np.float32
        np.testing.assert_array_equal(got.candidates.ids, want.candidates.ids)
        np.testing.assert_allclose(got.candidates.p_raw, want.candidates.p_raw, rtol=1e-6)
    assert (back[5].token_id, back[5].piece, back[5].p_raw, back[5].inserted, back[5].candidates) == (
        42,
        b"\xe4\xbd",
        None,
        True,
        None,
    )


def test_candidates_format_is_documented_bytes():
    c = Candidates(np.array([5, 7]), np.array([0.75, 0.25]), np.array([1.0, 0.0]))
    blob = c.to_bytes()
    assert len(blob) == 24
    assert blob[:8] == np.array([5, 7], "<i4").tobytes()
    assert blob[8:16] == np.array([0.75, 0.25], "<f4").tobytes()
    back = Candidates.from_bytes(blob)
    assert len(back) == 2 and back.ids.tolist() == [5, 7] and back.p_final.tolist() == [1.0, 0.0]
    assert not back.ids.flags.writeable
    with pytest.raises(ValueError, match="12 bytes"):
        Candidates.from_bytes(b"12345")
    with pytest.raises(ValueError, match="same length"):
        Candidates(np.array([1, 2]), np.array([0.5]), np.array([0.5]))


def test_a_failed_reply_save_leaves_nothing(store: ChatStore):
    chat = store.create_chat()
    u = store.add_message(chat.id, "user", "q")
    bad = [*_tokens(3), ReplyToken(2**70, b"x")]  # fails inside the transaction, after the message row
    with pytest.raises(OverflowError):
        store.save_reply(chat.id, "half", bad, parent_id=u.id)
    assert [m.id for m in store.path(chat.id)] == [u.id]
    assert store.db.conn.execute("SELECT COUNT(*) FROM tokens").fetchone()[0] == 0


def test_bulk_insert_of_2000_tokens_with_20_candidates_is_fast(store: ChatStore):
    chat = store.create_chat()
    u = store.add_message(chat.id, "user", "q")
    tokens = _tokens(2000, 20)
    best_save = best_load = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        r = store.save_reply(chat.id, "long", tokens, parent_id=u.id)
        t1 = time.perf_counter()
        loaded = store.reply_tokens(r.id)
        t2 = time.perf_counter()
        best_save, best_load = min(best_save, t1 - t0), min(best_load, t2 - t1)
    assert len(loaded) == 2000 and len(loaded[1999].candidates or ()) == 20
    print(f"save 2000 tokens x 20 candidates: {best_save * 1000:.1f} ms, load: {best_load * 1000:.1f} ms")
    assert best_save < 0.5, f"saving took {best_save * 1000:.0f} ms"  # ~10 ms here; generous for slow CI


def test_branches_are_recorded_with_the_reply_and_listed_per_position(store: ChatStore):
    chat = store.create_chat()
    u = store.add_message(chat.id, "user", "q")
    original = store.save_reply(chat.id, "abcdef", _tokens(6), parent_id=u.id)
    # The user picks token 999 at position 2: the new reply repeats the prefix, then continues.
    prefix = store.reply_tokens(original.id)[:2]
    picked = ReplyToken(999, b"Z", 0.01, 0.02, None, True)
    child = store.save_reply(
        chat.id, "abZ...", [*prefix, picked, *_tokens(3)], parent_id=u.id, branch_from=(original.id, 2)
    )
    other = store.save_reply(chat.id, "a?", [prefix[0], ReplyToken(7, b"?", inserted=True)], parent_id=u.id)
    b2 = store.record_branch(original.id, 1, other.id)
    assert b2.chosen_token_id == 7
    branches = store.branches(original.id)
    assert [(b.position, b.chosen_token_id, b.child_message_id) for b in branches] == [
        (1, 7, other.id),
        (2, 999, child.id),
    ]
    assert [b.child_message_id for b in store.branches(original.id, position=2)] == [child.id]
    assert store.branched_from(child.id) == branches[1] and store.branched_from(original.id) is None
    assert [m.id for m in store.siblings(original.id)] == [original.id, child.id, other.id]
    # A branch from the branch points at the reply it left.
    grandchild = store.save_reply(chat.id, "abZ.!", _tokens(5), parent_id=u.id, branch_from=(child.id, 4))
    assert [b.child_message_id for b in store.branches(child.id)] == [grandchild.id]

    with pytest.raises(ValueError, match="cannot branch at position"):
        store.save_reply(chat.id, "x", _tokens(9), parent_id=u.id, branch_from=(original.id, 7))
    with pytest.raises(ValueError, match="not a token of the new reply"):
        store.save_reply(chat.id, "x", _tokens(2), parent_id=u.id, branch_from=(original.id, 3))
    with pytest.raises(ValueError, match="same message"):
        store.record_branch(u.id, 0, other.id)
    n = len(store.tree(chat.id))
    assert n == 5  # the refused replies were rolled back with their branch rows

    # Deleting the branched reply removes its branch rows; deleting the source removes the rest.
    store.delete_message(child.id)
    assert [b.child_message_id for b in store.branches(original.id)] == [other.id]
    store.delete_message(original.id)
    assert store.db.conn.execute("SELECT COUNT(*) FROM branches").fetchone()[0] == 0


def test_delete_message_removes_its_subtree_and_long_chats_delete(store: ChatStore):
    chat = store.create_chat()
    parent = None
    ids = []
    for i in range(1500):  # deeper than SQLite's trigger (cascade) recursion limit of 1000
        role = "user" if i % 2 == 0 else "assistant"
        m = store.add_message(chat.id, role, f"m{i}", parent_id=parent)
        ids.append(m.id)
        parent = m.id
    store.save_reply(chat.id, "r", _tokens(3), parent_id=ids[-1])
    store.delete_message(ids[1000])
    assert len(store.path(chat.id)) == 1000
    store.delete_chat(chat.id)
    for table in ("messages", "tokens", "chats"):
        assert store.db.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0


def test_search_titles_and_messages_ignoring_case(store: ChatStore):
    a = store.create_chat("Über Würfel")
    b = store.create_chat("Cooking")
    c = store.create_chat("Xyz")
    store.add_message(b.id, "user", "How long do I boil an EGG?\nSoft, please. 50% done_ish")
    store.add_message(a.id, "user", "什麼是溫度 temperature?")
    assert [m.chat.id for m in store.search("über")] == [a.id]
    assert [m.chat.id for m in store.search("ÜBER")] == [a.id]
    hits = store.search("egg")
    assert [(h.chat.id, h.message_id) for h in hits] == [(b.id, store.path(b.id)[0].id)]
    assert "EGG? Soft" in hits[0].snippet
    assert [m.chat.id for m in store.search("溫度")] == [a.id]
    assert [m.chat.id for m in store.search("50%")] == [b.id]  # no LIKE wildcards
    assert [m.chat.id for m in store.search("_ish")] == [b.id]
    assert store.search("nothing like this") == [] and store.search("  ") == []
    assert c.id not in [m.chat.id for m in store.search("e")]
    assert [m.chat.id for m in store.search("e")] == [a.id, b.id]  # most recently updated first


def test_reply_token_from_a_real_sampler_step(store: ChatStore):
    from desktop_app.core.engine.sampler import Sampler
    from desktop_app.core.engine.session import Step
    from desktop_app.core.engine.tokens import TokenView
    from desktop_app.core.sampler_settings import SamplerSettings

    logits = np.random.default_rng(1).normal(size=1000).astype(np.float32)
    sampler = Sampler(SamplerSettings(seed=4))
    d = sampler.distribution(logits, top_n=50)
    rolled = ReplyToken.from_step(Step(10, TokenView(d.chosen, b"ok"), "ok", d), top_n=20)
    assert rolled.token_id == d.chosen and rolled.u == d.u and not rolled.inserted
    assert rolled.p_raw == pytest.approx(d.chosen_p_raw) and rolled.p_final == pytest.approx(d.chosen_p_final)
    assert rolled.candidates is not None and 20 <= len(rolled.candidates) <= 21
    assert d.chosen in rolled.candidates.ids.tolist()
    forced = sampler.distribution(logits, top_n=50, forced=999)
    picked = ReplyToken.from_step(Step(11, TokenView(999, b"x"), "x", forced), top_n=5)
    assert picked.inserted and picked.token_id == 999 and picked.candidates.ids[-1] == 999  # type: ignore[union-attr]
    assert picked.picked and picked.u is None  # the roll was not used
    wait = ReplyToken.from_step(Step(12, TokenView(5, b" Wait"), " Wait", d, inserted=True, replaced=2))
    assert wait.inserted and wait.u is None and not wait.picked
    bare = ReplyToken.from_step(Step(13, TokenView(6, b"!"), "!", None, inserted=True))
    assert bare.inserted and bare.candidates is None and bare.p_raw is None

    chat = store.create_chat()
    r = store.save_reply(chat.id, "ok x", [rolled, picked, wait, bare])
    back = store.reply_tokens(r.id)
    assert [t.token_id for t in back] == [d.chosen, 999, 5, 6]
    flags = [(t.inserted, t.picked) for t in back]
    assert flags == [(False, False), (True, True), (True, False), (True, False)]


def test_a_reply_is_rewritten_in_place_one_token_more_or_less(store: ChatStore):
    chat = store.create_chat("steps")
    user = store.add_message(chat.id, "user", "Count:")
    tokens = [ReplyToken(1, b" one"), ReplyToken(2, b" two")]
    reply = store.save_reply(chat.id, " one two", tokens, parent_id=user.id, stop_reason="max_tokens")
    other = store.save_reply(
        chat.id, " one three", [tokens[0], ReplyToken(3, b" three", inserted=True, picked=True)],
        parent_id=user.id, branch_from=(reply.id, 1),
    )  # fmt: skip
    longer = [*tokens, ReplyToken(4, b" four", p_raw=0.5, p_final=0.6, u=0.3)]
    again = store.rewrite_reply(reply.id, " one two four", longer, stop_reason="max_tokens")
    assert again.id == reply.id and again.content == " one two four"
    assert [t.token_id for t in store.reply_tokens(reply.id)] == [1, 2, 4]
    assert store.reply_tokens(reply.id)[2].p_final == pytest.approx(0.6)
    assert len(store.branches(reply.id)) == 1  # the branch at position 1 still stands
    store.rewrite_reply(reply.id, " one", tokens[:1], stop_reason=None)  # back twice
    assert [t.token_id for t in store.reply_tokens(reply.id)] == [1]
    assert store.branches(reply.id) == []  # it left from a position that is gone
    assert store.get_message(other.id).content == " one three"  # the branch itself is kept
    with pytest.raises(ValueError):
        store.rewrite_reply(user.id, "x", [], stop_reason=None)
