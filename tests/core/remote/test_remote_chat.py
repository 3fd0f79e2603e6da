"""The conversation on a model on llama-server, as on a local one: send, step, step back, branch at a
token with a picked candidate, regenerate, a slider re-run, and a reply cut by the server kept; the
terminal chat over the same; started on loopback with the real SmolLM2."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from desktop_app.core.conversation.local import LoadFailed
from desktop_app.core.conversation.remote_chat import RemoteChat
from desktop_app.core.conversation.reports import STOP_STEP, Listener
from desktop_app.core.remote.connection import ServerAddress
from desktop_app.core.remote.load_request import ServerLoadRequest
from desktop_app.core.remote.service import STOP_SERVER_FAILED
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from tests.helpers import run_cli
from tests.model_servers import free_port, llama_cpp_server, llama_server


class Events(Listener):
    def __init__(self) -> None:
        self.done: list = []
        self.failed: list[str] = []
        self.prompts: list[str] = []
        self.on_stream = None

    def prompt(self, event):
        self.prompts.append(event.prompt.rendered.text)

    def streamed(self, index, steps, latest):
        if self.on_stream is not None:
            self.on_stream()

    def reply_done(self, done):
        self.done.append(done)

    def reply_failed(self, index, message):
        self.failed.append(message)


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    with llama_server(smollm2_path, tmp_path_factory.mktemp("llama_server")) as s:
        yield s


@pytest.fixture
def store(tmp_path: Path):
    db = Database(tmp_path / "chats.sqlite3")
    yield ChatStore(db)
    db.close()


@pytest.fixture
def chat(server, store):
    events = Events()
    remote = RemoteChat(store, events)
    remote.load(ServerLoadRequest(ServerAddress(server.url)))
    remote.conversation.settings = SamplerSettings(seed=7)
    remote.conversation.max_tokens = 10
    remote.events = events
    yield remote
    remote.close()


def test_a_conversation_on_the_server_is_sent_saved_and_read_as_the_template_says(chat, store, server):
    model = chat.model
    assert model.server == server.url and model.report is None and model.path is None
    assert model.model_id.startswith("server:") and model.n_vocab == 49152 and model.eog_ids
    conv = chat.conversation
    assert conv.send("What is the capital of France?") is None
    [done] = chat.events.done
    _, reply = conv.path
    saved = store.reply_tokens(reply.id)
    assert [t.token_id for t in saved] == [t.token_id for t in done.tokens] and saved
    assert all(t.candidates is not None and t.u is not None for t in saved)
    assert reply.content == "".join(t.text for t in done.tokens)
    assert "<|im_start|>user\nWhat is the capital of France?<|im_end|>" in chat.events.prompts[0]
    assert store.get_chat(conv.chat_id).model_id == model.model_id


def test_step_branch_and_regenerate_work_on_the_server(chat, store):
    conv = chat.conversation
    assert conv.step_next("Count: one, two,") is None
    _, reply = conv.path
    assert reply.stop_reason == STOP_STEP and len(store.reply_tokens(reply.id)) == 1
    conv.step_next()
    conv.step_next()
    assert len(store.reply_tokens(reply.id)) == 3
    conv.step_back()
    assert len(store.reply_tokens(reply.id)) == 2

    conv.send("And then?")
    _, _, _, answer = conv.path
    old = store.reply_tokens(answer.id)
    picked = next(int(t) for t in old[1].candidates.ids if int(t) != old[1].token_id)
    assert conv.pick_token(3, 1, picked) is None
    new = store.reply_tokens(conv.path[-1].id)
    assert new[0].token_id == old[0].token_id and new[1].token_id == picked and new[1].picked

    assert conv.regenerate() is None
    assert len(store.tree(conv.chat_id).siblings(conv.path[-1].id)) == 3


def test_a_slider_re_runs_a_step_from_what_the_server_reported(chat):
    conv = chat.conversation
    conv.send("Name a colour.")
    step = conv.messages[1].tokens[0].step
    assert step is not None
    got = []
    chat.service.emit = lambda kind, *args: got.append((kind, args))  # the window listens the same way
    chat.service.redistribute(step.position, SamplerSettings(temperature=0.0, seed=7))
    [(kind, (position, d))] = got
    assert kind == "redistributed" and position == step.position
    assert d.p_final[d.chosen_index] == 1.0  # greedy now: the top candidate alone survives
    assert d.chosen == int(d.candidates[0])


def test_a_server_killed_mid_reply_keeps_what_came(smollm2_path, store, tmp_path):
    with llama_server(smollm2_path, tmp_path) as server:
        events = Events()
        remote = RemoteChat(store, events)
        remote.load(ServerLoadRequest(ServerAddress(server.url)))
        conv = remote.conversation
        conv.settings, conv.max_tokens = SamplerSettings(seed=1, ban_eos=True), 300
        count = [0]

        def kill_at_the_fourth() -> None:
            count[0] += 1
            if count[0] == 4:
                server.kill()

        events.on_stream = kill_at_the_fourth
        conv.send("Tell me a long story.")
        remote.close()
    [done] = events.done
    assert done.stop_reason == STOP_SERVER_FAILED and len(done.tokens) == 4
    assert len(store.reply_tokens(conv.path[-1].id)) == 4  # saved with what streamed


def test_nothing_listening_is_refused_and_an_openai_server_chats_with_what_it_reports(
    smollm2_path, store, tmp_path
):
    events = Events()
    remote = RemoteChat(store, events)
    with pytest.raises(LoadFailed, match="is the server running"):
        remote.load(ServerLoadRequest(ServerAddress(f"http://127.0.0.1:{free_port()}")))
    with llama_cpp_server(smollm2_path, tmp_path) as server:
        remote.load(ServerLoadRequest(ServerAddress(server.url)))
        conv = remote.conversation
        # The server samples and formats the chat itself; each token comes with what it reports.
        conv.settings, conv.max_tokens = SamplerSettings(temperature=0.0), 6
        conv.send("Name one colour.")
        [done] = events.done
        assert done.tokens and done.event.result.text and not done.unsaved
        assert len(store.reply_tokens(conv.path[-1].id)) == len(done.tokens)
        # What needs TokenDice's die on token ids is refused with the reason, and nothing is lost.
        conv.settings = SamplerSettings(ban_eos=True)
        conv.send("Say hello.")
        assert events.failed and "llama-server's native API" in events.failed[-1]
        remote.close()


def test_the_terminal_chat_on_a_server(server):
    done = run_cli(
        ["chat", "--server", server.url, "--json", "--seed", "3", "--max-tokens", "8"],
        input="What is the capital of France?\n/probs 1\n/branch 1 2\n",
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "model" and kinds.count("reply") == 2 and "probs" in kinds
    probs = next(e for e in events if e["event"] == "probs")
    assert probs["candidates"] and all(c["label"] for c in probs["candidates"])
    assert not math.isnan(probs["chosen"]["p_raw"])
    listed = run_cli(["chats", "list", "--json"])
    assert json.loads(listed.stdout)[0]["model_id"].startswith("server:")
