"""The conversation without a display: send, edit, regenerate, branch at a token, switch versions, step and
step back, over the real SmolLM2 in this process and a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.conversation.conversation import Conversation
from desktop_app.core.conversation.local import LoadFailed, LocalChat
from desktop_app.core.conversation.reports import (
    REFUSED_BUSY,
    REFUSED_NO_MODEL,
    REFUSED_NOTHING,
    REFUSED_STORE,
    STOP_STEP,
    Listener,
    ReplyDone,
)
from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.messages import LoadRequest
from desktop_app.core.engine.session import STOP_CANCELLED
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from desktop_app.core.store.db_errors import DatabaseError


class Recorder(Listener):
    """Every report, in order; optionally acts from inside one (as a user clicking mid-reply would)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.done: list[ReplyDone] = []
        self.on_stream = None  # called with the number of steps streamed so far

    def shown(self, messages):
        self.events.append(("shown", [m.content for m in messages]))

    def reply_started(self, index, kept):
        self.events.append(("reply_started", (index, len(kept))))

    def prompt(self, event):
        self.events.append(("prompt", event.prompt.rendered.text))

    def streamed(self, index, steps, latest):
        self.events.append(("streamed", (index, len(steps), latest is not None)))
        if self.on_stream is not None:
            self.on_stream(sum(1 for kind, _ in self.events if kind == "streamed"))

    def reply_done(self, done):
        self.done.append(done)
        self.events.append(("reply_done", done.stop_reason))

    def reply_failed(self, index, message):
        self.events.append(("reply_failed", message))

    def store_failed(self, sentence):
        self.events.append(("store_failed", sentence))

    def chat_opened(self, chat_id):
        self.events.append(("chat_opened", chat_id))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


@pytest.fixture
def store(tmp_path: Path):
    db = Database(tmp_path / "chats.sqlite3")
    yield ChatStore(db)
    db.close()


@pytest.fixture
def local(store, smollm2_path):
    recorder = Recorder()
    chat = LocalChat(store, recorder)
    chat.load(LoadRequest(smollm2_path, EngineConfig(n_ctx=2048, seed=1), "smollm2", "SmolLM2"))
    chat.conversation.settings = SamplerSettings(seed=7)
    chat.conversation.max_tokens = 12
    chat.recorder = recorder
    yield chat
    chat.close()


def test_send_streams_a_reply_and_saves_it_with_every_step(local, store):
    conv = local.conversation
    assert conv.send("What is the capital of France?") is None
    r = local.recorder
    assert r.kinds()[:3] == ["chat_opened", "shown", "reply_started"]  # the chat, the question, the reply
    assert "reply_started" in r.kinds() and "prompt" in r.kinds()
    streamed = [e for kind, e in r.events if kind == "streamed"]
    assert len(streamed) == len(r.done[0].tokens) > 0
    assert all(latest for _, _, latest in streamed)  # every token was rolled: each one is shown
    assert r.kinds()[-1] == "reply_done" and not conv.busy

    [user, reply] = conv.path
    assert (user.role, user.content, reply.role) == ("user", "What is the capital of France?", "assistant")
    saved = store.reply_tokens(reply.id)
    done = r.done[0]
    assert [t.token_id for t in saved] == [t.token_id for t in done.tokens]
    assert all(t.candidates is not None and len(t.candidates) > 0 for t in saved)
    assert reply.content == conv.messages[1].content == "".join(t.text for t in done.tokens)
    # the live tokens keep their whole steps (the chart's stages), the saved ones their candidates
    assert all(t.step is not None and t.step.distribution is not None for t in conv.messages[1].tokens)
    assert done.context_used == done.event.prompt_tokens + len(saved)
    assert store.get_chat(conv.chat_id).title == "What is the capital of France?"
    # the prompt the model read is the chat template's rendering of the question
    prompt = next(e for kind, e in r.events if kind == "prompt")
    assert "<|im_start|>user\nWhat is the capital of France?<|im_end|>" in prompt


def test_the_system_prompt_is_saved_and_read_by_the_model(local, store):
    conv = local.conversation
    conv.set_system_prompt("You are a pirate.")
    conv.send("Hello")
    assert store.get_chat(conv.chat_id).system_prompt == "You are a pirate."
    prompt = next(e for kind, e in local.recorder.events if kind == "prompt")
    assert "<|im_start|>system\nYou are a pirate.<|im_end|>" in prompt
    assert conv.conversation()[0] == {"role": "system", "content": "You are a pirate."}


def test_edit_makes_a_new_version_of_the_question_and_keeps_the_old_one(local, store):
    conv = local.conversation
    conv.send("Name a colour.")
    first_user, first_reply = conv.path
    conv.begin_edit(0)
    assert conv.editing
    conv.send("Name a fruit.")
    assert not conv.editing
    user, reply = conv.path
    assert user.content == "Name a fruit." and user.id != first_user.id
    assert reply.parent_id == user.id  # the new version is answered
    assert [m.id for m in store.tree(conv.chat_id).siblings(user.id)] == [first_user.id, user.id]
    assert conv.messages[0].sibling_index == 1 and conv.messages[0].sibling_count == 2
    # the old question and its reply are one click away
    assert conv.switch_sibling(0, -1) is None
    assert [m.id for m in conv.path] == [first_user.id, first_reply.id]


def test_regenerate_adds_a_sibling_reply_and_switching_goes_back(local, store):
    conv = local.conversation
    conv.send("Tell me a word.")
    user, first = conv.path
    conv.settings = SamplerSettings(seed=99)  # another roll of the die
    assert conv.regenerate() is None
    _, second = conv.path
    assert second.id != first.id and second.parent_id == user.id
    assert [m.id for m in store.tree(conv.chat_id).siblings(second.id)] == [first.id, second.id]
    assert conv.messages[1].sibling_index == 1
    conv.switch_sibling(1, +1)  # wraps round to the first version
    assert conv.path[-1].id == first.id
    assert conv.messages[1].content == first.content


def test_branch_at_a_token_keeps_the_prefix_and_takes_the_picked_token(local, store):
    conv = local.conversation
    conv.max_tokens = 8
    conv.send("Count: one, two,")
    _, reply = conv.path
    old = store.reply_tokens(reply.id)
    assert len(old) >= 3
    # the second candidate the model ranked at token 2, not the one the die chose
    candidates = old[2].candidates
    picked = next(int(t) for t in candidates.ids if int(t) != old[2].token_id)
    assert conv.pick_token(1, 2, picked) is None
    _, branch = conv.path
    new = store.reply_tokens(branch.id)
    assert branch.id != reply.id and branch.parent_id == reply.parent_id
    assert [t.token_id for t in new[:2]] == [t.token_id for t in old[:2]]
    assert new[2].token_id == picked and new[2].picked
    [b] = store.branches(reply.id)
    assert (b.position, b.child_message_id) == (2, branch.id)
    # the old reply is kept, as the other version
    assert [m.id for m in store.tree(conv.chat_id).siblings(branch.id)] == [reply.id, branch.id]


def test_branch_with_no_token_rolls_the_die_again_there(local, store):
    conv = local.conversation
    conv.send("Say something.")
    _, reply = conv.path
    old = store.reply_tokens(reply.id)
    conv.settings = SamplerSettings(seed=12345)
    assert conv.pick_token(1, 1, None) is None
    new = store.reply_tokens(conv.path[-1].id)
    assert new[0].token_id == old[0].token_id and not new[1].picked
    assert conv.pick_token(1, 99, None) == REFUSED_NOTHING  # beyond the reply: nothing happens
    assert conv.pick_token(0, 0, None) == REFUSED_NOTHING  # a question has no tokens to branch at


def test_step_and_step_back_grow_and_shrink_one_reply(local, store):
    conv = local.conversation
    assert conv.step_next("Hi") is None
    _, reply = conv.path
    assert reply.stop_reason == STOP_STEP and len(store.reply_tokens(reply.id)) == 1
    assert local.recorder.done[-1].one_step
    assert conv.can_step()
    assert conv.step_next() is None
    assert conv.step_next() is None
    _, grown = conv.path
    assert grown.id == reply.id  # the same reply grew: no new version
    tokens = store.reply_tokens(reply.id)
    assert len(tokens) == 3
    assert len(conv.messages[1].tokens) == 3 and all(t.step is not None for t in conv.messages[1].tokens)

    assert conv.step_back() is None
    assert [t.token_id for t in store.reply_tokens(reply.id)] == [t.token_id for t in tokens[:2]]
    assert len(conv.messages[1].tokens) == 2 and conv.messages[1].tokens[0].step is not None
    conv.step_back()
    conv.step_back()  # the last token: the empty reply is deleted
    assert [m.role for m in conv.path] == ["user"]
    assert len(store.tree(conv.chat_id)) == 1
    assert conv.step_back() == REFUSED_NOTHING
    # stepping again from the question starts a reply anew
    assert conv.step_next() is None and conv.path[-1].role == "assistant"


def test_step_stops_at_the_length_limit(local, store):
    conv = local.conversation
    conv.max_tokens = 2
    conv.step_next("Hi")
    conv.step_next()
    assert conv.at_length_limit() and not conv.can_step()
    assert conv.step_next() == REFUSED_NOTHING


def test_a_reply_stopped_mid_way_is_saved_with_what_streamed(local, store):
    conv = local.conversation
    conv.max_tokens = 40
    conv.settings = SamplerSettings(seed=3, ban_eos=True)  # it would go on to the limit
    local.recorder.on_stream = lambda n: conv.stop() if n == 3 else None
    conv.send("Write a long story.")
    done = local.recorder.done[-1]
    assert done.stop_reason == STOP_CANCELLED
    assert 3 <= len(done.tokens) < 40
    saved = store.reply_tokens(conv.path[-1].id)
    assert len(saved) == len(done.tokens)


def test_busy_refuses_another_operation_until_the_reply_ends(local):
    conv = local.conversation
    answers = []

    def meanwhile(n: int) -> None:
        if n == 1:
            answers.extend([conv.send("again"), conv.regenerate(), conv.step_next(), conv.new_chat()])

    local.recorder.on_stream = meanwhile
    conv.send("Hello")
    assert answers == [REFUSED_BUSY] * 4
    assert [m.content for m in conv.path][:1] == ["Hello"] and len(conv.path) == 2


def test_without_a_model_nothing_is_asked_or_saved(store):
    conv = Conversation(store, backend=None)  # no backend is ever reached
    assert conv.send("Hello") == REFUSED_NO_MODEL
    assert conv.regenerate() == REFUSED_NO_MODEL
    assert conv.chat_id is None and store.list_chats() == []


def test_a_backend_failure_ends_the_reply_and_keeps_the_question(local, store):
    model = local.model
    local.service.unload()  # the backend has no model, but the conversation still believes it has
    conv = local.conversation
    conv.model = model
    conv.send("Hello")
    failed = [e for kind, e in local.recorder.events if kind == "reply_failed"]
    assert failed and "no model" in failed[0]
    assert not conv.busy and conv.messages[-1].failed.startswith("No reply:")
    assert [m.role for m in store.path(conv.chat_id)] == ["user"]


def test_a_reply_the_store_cannot_save_stays_shown_and_is_reported(local, store, monkeypatch):
    conv = local.conversation

    def full_disk(*args, **kwargs):
        raise DatabaseError("the disk is full: free some space, then try again")

    monkeypatch.setattr(store, "save_reply", full_disk)
    conv.send("Hello")
    done = local.recorder.done[-1]
    assert done.unsaved == "the disk is full: free some space, then try again"
    assert ("store_failed", done.unsaved) in local.recorder.events
    assert conv.messages[-1].content and conv.messages[-1].failed.startswith("not saved:")
    assert not conv.busy


def test_a_question_the_store_cannot_save_is_not_sent(local, store, monkeypatch):
    conv = local.conversation

    def broken(*args, **kwargs):
        raise DatabaseError("the database is damaged")

    monkeypatch.setattr(store, "add_message", broken)
    assert conv.send("Hello") == REFUSED_STORE
    assert "reply_started" not in local.recorder.kinds()


def test_a_chat_reopened_elsewhere_shows_the_same_tree(local, store):
    conv = local.conversation
    conv.send("One")
    conv.regenerate()
    conv.send("Two")
    shown = [(m.role, m.content, m.sibling_index, m.sibling_count) for m in conv.messages]
    tokens = [[t.token_id for t in m.tokens] for m in conv.messages]
    other = Conversation(store, backend=None)
    other.model = local.model
    assert other.open_chat(conv.chat_id) is None
    assert [(m.role, m.content, m.sibling_index, m.sibling_count) for m in other.messages] == shown
    assert [[t.token_id for t in m.tokens] for m in other.messages] == tokens
    # saved tokens carry their candidates: the chart can show a stored step
    step = other.messages[1].tokens[0].distribution(local.model.n_vocab, local.model.eog_ids)
    assert step is not None and step.chosen == other.messages[1].tokens[0].token_id


def test_a_lesson_history_is_marked_as_written(local, store):
    conv = local.conversation
    conv.start_with_history("A lesson", [("user", "Q?"), ("assistant", "A.")])
    assert [m.written for m in conv.messages] == [False, True]
    conv.send("And then?")
    assert [m.role for m in conv.path] == ["user", "assistant", "user", "assistant"]


def test_a_model_that_cannot_load_is_one_sentence(store, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    with LocalChat(store) as chat, pytest.raises(LoadFailed) as failed:
        chat.load(LoadRequest(broken, EngineConfig(), "broken", "broken"))
    assert "\n" not in str(failed.value) and str(failed.value)
