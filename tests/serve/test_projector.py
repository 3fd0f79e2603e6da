"""The projector without a display: with serving's projector on, each request another program sends to the
served model is reported as it runs (``incoming``, its prompt, its steps, its end, under a negative id),
and a conversation shows it as a chat of its own, saved as the window's replies are, while the program
gets its answer as always. Over real HTTP, the real SmolLM2 and a real SQLite store."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx2
import pytest

from desktop_app.core.conversation.conversation import Conversation
from desktop_app.core.conversation.reports import Listener
from desktop_app.core.engine.backend import EngineService
from desktop_app.core.engine.engine import EngineConfig
from desktop_app.core.engine.messages import IncomingEvent, LoadRequest
from desktop_app.core.engine.session import STOP_CANCELLED, STOP_MAX_TOKENS
from desktop_app.core.serve.hosted import start_hosted
from desktop_app.core.serve.options import ServeOptions
from desktop_app.core.store.chats import ChatStore
from desktop_app.core.store.db import Database
from tests.model_servers import free_port
from tests.serve.serving import sse

T = TypeVar("T")
HISTORY = [
    {"role": "system", "content": "You are a terse tutor."},
    {"role": "user", "content": "What is 2+2?"},
    {"role": "assistant", "content": "4."},
    {"role": "user", "content": "And 3+3?"},
]


class Shown(Listener):
    """What the conversation reported of the requests shown."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.steps = 0
        self.done: list = []
        self.on_stream = None

    def prompt(self, event):
        self.prompts.append(event.prompt.rendered.text)

    def streamed(self, index, steps, latest):
        self.steps += len(steps)
        if self.on_stream is not None:
            self.on_stream(self.steps)

    def reply_done(self, done):
        self.done.append(done)


class Projected:
    """An engine service serving its model with the projector on, whose reports a conversation shows as
    the window's projector does (each request adopted as a chat of its own), on the test's thread as the
    window shows them on its own: the reports come from the serving threads, queued."""

    def __init__(self, path, tmp_path) -> None:
        self.events: list[tuple[str, tuple]] = []
        self.queue: queue.Queue[tuple[str, tuple]] = queue.Queue()
        self.listener = Shown()
        self.store = ChatStore(Database(tmp_path / "chats.db"))
        self.keep = True
        self.service = EngineService(
            lambda kind, *args: self.queue.put((kind, args)), serve_with=start_hosted
        )
        self.conversation = Conversation(self.store, self.service, self.listener)
        self.service.load(LoadRequest(path, EngineConfig(n_ctx=2048), "smollm2", "SmolLM2"))
        self.service.serve(ServeOptions("smollm2", port=free_port()))
        self.pump()
        self.url = self.address.removesuffix("/v1")

    def pump(self, until: Callable[[], bool] = lambda: True, timeout: float = 120) -> None:
        """Show the reports that came, as they come, until ``until()`` holds with none left."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                kind, args = self.queue.get(timeout=0.01)
            except queue.Empty:
                if until():
                    return
                assert time.monotonic() < deadline, "the reports came in time"
                continue
            self.events.append((kind, args))
            if kind == "loaded":
                self.conversation.model = args[0]
            elif kind == "serving":
                self.address = args[0]
            elif kind == "incoming":
                self.conversation.adopt(args[0], keep=self.keep)
            else:
                self.conversation.handle(kind, *args)

    def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` (a program's request) on a thread of its own, the reports shown meanwhile."""
        out: list = []
        thread = threading.Thread(target=lambda: out.append(fn()))
        thread.start()
        self.pump(lambda: not thread.is_alive() and not self.conversation.busy)
        thread.join()
        return out[0]

    def post(self, path: str, body: dict) -> dict:
        answer = self.call(lambda: httpx2.post(self.url + path, json=body, timeout=120))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]

    def close(self) -> None:
        self.service.close()
        self.store.db.close()


@pytest.fixture
def projected(smollm2_path, tmp_path):
    p = Projected(smollm2_path, tmp_path)
    p.service.project(True)
    yield p
    p.close()


def test_a_chat_request_is_shown_as_a_chat_of_its_own_and_saved_as_the_program_got_it(projected):
    p = projected
    answer = p.post(
        "/v1/chat/completions",
        {"messages": HISTORY, "max_tokens": 12, "temperature": 0.7, "seed": 5, "logprobs": True,
         "top_logprobs": 2},
    )  # fmt: skip
    [incoming] = [args[0] for kind, args in p.events if kind == "incoming"]
    assert isinstance(incoming, IncomingEvent) and incoming.request_id < 0
    assert incoming.source == "127.0.0.1" and not incoming.plain
    assert incoming.settings.seed == 5 and incoming.max_tokens == 12
    # Its events are a reply's, in a reply's order, under its own id.
    own = [k for k, a in p.events if k in ("incoming", "prompt_ready", "step", "finished")]
    assert own[:2] == ["incoming", "prompt_ready"] and own[-1] == "finished"
    ids = {a[0].request_id for k, a in p.events if k in ("prompt_ready", "step", "finished")}
    assert ids == {incoming.request_id}

    # The chat: the system prompt, the program's history (its answer marked as written by it), the reply.
    c = p.conversation
    chat = p.store.get_chat(c.chat_id)
    assert chat.settings["outside"] == "127.0.0.1" and "transient" not in chat.settings
    assert chat.system_prompt == "You are a terse tutor." and chat.title == "And 3+3?"
    roles = [(m.role, m.content) for m in c.messages]
    assert roles[:3] == [("user", "What is 2+2?"), ("assistant", "4."), ("user", "And 3+3?")]
    assert c.messages[1].written and all(m.outside == "127.0.0.1" for m in c.messages)
    reply = c.messages[3]
    content = answer["choices"][0]["message"]["content"]
    assert reply.role == "assistant" and not reply.written and reply.content.strip() == content.strip()
    saved = p.store.reply_tokens(reply.message_id)
    assert len(saved) == p.listener.steps
    # The same tokens as the program got; the window keeps the end token too (the end is one more token).
    ended = answer["choices"][0]["finish_reason"] == "stop"
    assert len(saved) == answer["usage"]["completion_tokens"] + ended
    logprobs = answer["choices"][0]["logprobs"]["content"]
    assert [bytes(e["bytes"]) for e in logprobs] == [t.piece for t in saved[: len(saved) - ended]]
    assert all(t.candidates is not None and len(t.candidates) >= 20 for t in saved)  # the chart's bars
    [done] = p.listener.done
    assert done.stop_reason == answer_stop(answer) and done.message is not None
    assert done.message.metadata["outside"] == "127.0.0.1"
    # The template inspector is shown the prompt the model read: the program's messages, templated.
    [prompt] = p.listener.prompts
    assert "You are a terse tutor." in prompt and "And 3+3?" in prompt and "<|im_start|>" in prompt
    assert not c.busy


def answer_stop(answer: dict) -> str:
    return STOP_MAX_TOKENS if answer["choices"][0]["finish_reason"] == "length" else "eog"


@pytest.mark.parametrize("path", ["/v1/completions", "/completion"])
def test_a_completion_is_shown_as_plain_text_continued(projected, path):
    p = projected
    p.keep = False
    body = {"prompt": "Once upon a time", "max_tokens": 8, "n_predict": 8, "temperature": 0}
    answer = p.post(path, body)
    text = answer["choices"][0]["text"] if "choices" in answer else answer["content"]
    c = p.conversation
    chat = p.store.get_chat(c.chat_id)
    assert chat.settings["plain"] is True and chat.settings["transient"] is True and c.plain
    assert [(m.role, m.content) for m in c.messages[:1]] == [("user", "Once upon a time")]
    assert c.messages[1].content == text and len(p.store.reply_tokens(c.messages[1].message_id)) == 8


def test_a_token_ids_prompt_is_shown_as_its_text_and_a_ban_pick_is_not_shown(projected):
    p = projected
    engine = p.service.engine
    assert engine is not None
    ids = engine.tokenize("The sky is", add_bos=engine.add_bos)
    p.post("/completion", {"prompt": ids, "n_predict": 3, "temperature": 0})
    assert p.conversation.messages[0].content.endswith("The sky is")
    before = len(p.store.list_chats())
    # The remote die's pick from the part a server did not report: one token, not a request to show.
    banned = {"prompt": ids, "n_predict": 1, "logit_bias": [[ids[-1], False]], "temperature": 1.0}
    answer = p.call(lambda: httpx2.post(p.url + "/completion", json=banned, timeout=60))
    assert answer.status_code == 200, answer.text
    assert len(p.store.list_chats()) == before and p.kinds().count("incoming") == 1


def test_nothing_is_shown_with_the_projector_off_and_the_program_is_answered_all_the_same(projected):
    p = projected
    p.service.project(False)
    answer = p.call(
        lambda: httpx2.post(
            p.url + "/v1/chat/completions", json={"messages": HISTORY, "max_tokens": 4, "ignore_eos": True}
        )
    )
    assert answer.status_code == 200 and answer.json()["usage"]["completion_tokens"] == 4
    assert "incoming" not in p.kinds() and "step" not in p.kinds() and p.store.list_chats() == []


def test_stop_in_the_window_stops_the_request_shown_and_its_program_gets_what_was_made(projected):
    p = projected
    p.listener.on_stream = lambda n: p.conversation.stop() if n >= 3 else None
    body = {"messages": [{"role": "user", "content": "Tell a long story."}], "max_tokens": 200,
            "stream": True, "ignore_eos": True}  # fmt: skip

    def stream() -> list[dict]:
        with httpx2.Client(timeout=120) as http, http.stream("POST", p.url + "/v1/chat/completions",
                                                           json=body) as r:  # fmt: skip
            return list(sse(r))

    chunks = p.call(stream)
    texts = [ch["choices"][0]["delta"].get("content") for ch in chunks if ch["choices"]]
    made = [t for t in texts if t]
    assert 3 <= len(made) < 10  # stopped within a token or two of the Stop, not at 200
    [done] = p.listener.done
    assert done.stop_reason == STOP_CANCELLED
    reply = p.conversation.messages[-1]
    assert reply.content == "".join(made) and not p.conversation.busy
