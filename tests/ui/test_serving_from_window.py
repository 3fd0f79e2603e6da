"""Model → Serve this model: the window's own engine process serves the loaded model over the same API as
``tokendice serve``, while the window keeps chatting; the two take turns at the engine, the status bar
shows the address and what runs, and Stop serving (or a new model) ends it."""

from __future__ import annotations

import threading

import httpx2
import pytest

from desktop_app.core.engine.messages import IncomingEvent
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.serve.options import ServeOptions
from tests.model_servers import free_port
from tests.ui.test_main_window import LOAD_MS, REPLY_MS, Opened


@pytest.fixture
def opened(qtbot):
    o = Opened(qtbot)
    yield o
    o.close()


def _serve(o: Opened, qtbot, **kw) -> str:
    loaded = o.window.session.loaded
    assert loaded is not None
    with qtbot.waitSignal(o.window.engine.worker.serving, timeout=20_000) as serving:
        o.window.serving.serve(ServeOptions(loaded.model_id, port=free_port(), **kw))
    address = serving.args[0]
    assert isinstance(address, str) and address.startswith("http://127.0.0.1:")
    return address


def test_the_window_serves_its_model_and_keeps_chatting(opened, qtbot):
    o = opened
    address = _serve(o, qtbot)
    assert o.window.serving.label.isVisibleTo(o.window) and address in o.window.serving.label.text()
    assert "Stop serving" in o.window.serving.action.text()
    answers: list = []

    def ask() -> None:
        body = {"messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 40,
                "ignore_eos": True, "logprobs": True, "top_logprobs": 3}  # fmt: skip
        answers.append(httpx2.post(address + "/chat/completions", json=body, timeout=120))

    # A served request and the window's own reply at once: both are answered, taking turns at the engine.
    thread = threading.Thread(target=ask)
    thread.start()
    qtbot.waitUntil(lambda: "1 running" in o.window.serving.label.text() or bool(answers), timeout=20_000)
    event = o.reply("Say hello.", max_tokens=8, ban_eos=True)
    thread.join(60)
    assert event.result.generated == 8
    [answer] = answers
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["usage"]["completion_tokens"] == 40
    assert len(body["choices"][0]["logprobs"]["content"]) == 40
    health = httpx2.get(address.removesuffix("/v1") + "/health", timeout=10).json()
    assert health["status"] == "ok" and health["running"] == 0
    # Stop serving: the address answers no more, the status bar says nothing of it.
    with qtbot.waitSignal(o.window.engine.worker.serving, timeout=10_000) as stopped:
        o.window.serving.action.trigger()
    assert stopped.args[0] is None and not o.window.serving.label.isVisibleTo(o.window)
    with pytest.raises(httpx2.TransportError):
        httpx2.get(address.removesuffix("/v1") + "/health", timeout=5)


def test_a_key_is_needed_beyond_this_computer_and_a_new_model_ends_serving(opened, qtbot):
    o = opened
    loaded = o.window.session.loaded
    assert loaded is not None
    with qtbot.waitSignal(o.window.engine.worker.serve_failed, timeout=10_000) as failed:
        o.window.serving.serve(ServeOptions(loaded.model_id, host="0.0.0.0", port=free_port()))
    assert "API key" in failed.args[0]
    address = _serve(o, qtbot, api_key="room-key")
    assert httpx2.get(address + "/models", timeout=10).status_code == 401
    ok = httpx2.get(address + "/models", headers={"Authorization": "Bearer room-key"}, timeout=10)
    assert ok.status_code == 200
    # Loading the model again (a new engine process) ends serving, and the window says so.
    entry = o.services.library.resolve("default")
    with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS):
        o.window.load_model(entry)
    assert o.window.serving.address is None and "Serve this model" in o.window.serving.action.text()
    qtbot.waitUntil(lambda: _refused(address), timeout=REPLY_MS)


def _refused(address: str) -> bool:
    try:
        httpx2.get(address.removesuffix("/v1") + "/health", timeout=2)
    except httpx2.TransportError:
        return True
    return False


class Program:
    """Another program's requests to the served model, each on a thread of its own."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.threads: list[threading.Thread] = []
        self.answers: list[dict] = []

    def ask(self, text: str, max_tokens: int = 12, system: str | None = None, **extra) -> None:
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": text})
        body = {"messages": messages, "max_tokens": max_tokens, **extra}

        def run() -> None:
            answer = httpx2.post(self.address + "/chat/completions", json=body, timeout=120)
            assert answer.status_code == 200, answer.text
            self.answers.append(answer.json())

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()

    def answered(self, n: int, timeout: float = 60) -> dict:
        for thread in self.threads:
            thread.join(timeout)
        assert len(self.answers) == n
        return self.answers[-1]


def _shown(o: Opened, qtbot, program: Program, text: str, **kw) -> tuple[int, dict]:
    """``text`` asked by the program, drawn in the window as it runs, until saved: its chat id, its answer."""
    n = len(program.answers) + 1
    with qtbot.waitSignal(o.controller.finished, timeout=REPLY_MS):
        program.ask(text, **kw)
    answer = program.answered(n)
    chat_id = o.controller.chat_id
    assert chat_id is not None
    return chat_id, answer


def test_incoming_requests_are_drawn_in_the_window_and_kept_as_chats_or_not(opened, qtbot):
    o = opened
    window, controller, store = o.window, o.controller, o.services.chats
    assert not window.projector.showing  # off unless asked for
    window.projector.set_showing(True)
    address = _serve(o, qtbot)
    program = Program(address)

    # The window's own reply first: its steps' logits are kept at the positions the request's take.
    own = o.reply("Name a fruit.", max_tokens=40, ban_eos=True)
    assert own.result.generated == 40
    # A request streams into the chat and the chart as it runs, marked as the program's.
    program.ask("Name a fruit.", max_tokens=40, ignore_eos=True, system="You are a grocer.")
    qtbot.waitUntil(lambda: controller.busy and len(controller.messages[-1].tokens) >= 3, timeout=REPLY_MS)
    assert [m.outside for m in controller.messages] == ["127.0.0.1", "127.0.0.1"]
    # The request's system prompt is the chat's, and the inspector shows the prompt the model read.
    assert window.chat.system_prompt() == "You are a grocer."
    qtbot.waitUntil(
        lambda: "You are a grocer." in window.inspector.prompt_view.toPlainText(), timeout=REPLY_MS
    )
    assert window.chart.step() is not None and window.chart.where() is not None
    assert "sent by 127.0.0.1 to the served model" in window.chat.view.toPlainText()
    with qtbot.waitSignal(controller.finished, timeout=REPLY_MS):
        pass
    first = controller.chat_id
    answer = program.answered(1)
    reply = controller.messages[-1]
    assert reply.content == answer["choices"][0]["message"]["content"] and not controller.busy
    assert len(store.reply_tokens(reply.message_id)) == 40
    assert any("from 127.0.0.1" in item for item in _rows(window))
    # The sliders re-run the sampler on the window's own steps only: this step is the request's.
    window.steps.show_token(reply.tokens[5])
    before = window.chart.step()
    window.steps.on_settings(window.sampling.settings().replace(temperature=1.7))
    qtbot.wait(300)
    assert window.chart.step() is before

    # Not kept: a request's chat goes when the next one is shown, or another chat is opened.
    window.projector.keep_action.setChecked(False)
    second, _ = _shown(o, qtbot, program, "Name a tree.")
    assert store.get_chat(second).settings.get("transient") is True
    _shown(o, qtbot, program, "Name a bird.")
    assert _titles(store) == ["Name a bird.", "Name a fruit.", "Name a fruit."]
    window.history.open_chat(first)
    assert _titles(store) == ["Name a fruit.", "Name a fruit."] and controller.chat_id == first

    # Stop stops the request shown; the program gets what was made, the chat keeps it.
    window.projector.keep_action.setChecked(True)
    program.ask("Tell a long story.", max_tokens=300, ignore_eos=True)
    qtbot.waitUntil(lambda: controller.busy and len(controller.messages[-1].tokens) >= 3, timeout=REPLY_MS)
    with qtbot.waitSignal(controller.finished, timeout=REPLY_MS) as finished:
        window.chat.stop_button.click()
    answer = program.answered(4)
    assert finished.args[0].result.stop_reason == "cancelled"
    assert answer["usage"]["completion_tokens"] < 300
    assert controller.messages[-1].content == answer["choices"][0]["message"]["content"]

    # Off: a request is answered and the window stays as it is.
    window.projector.set_showing(False)
    shown = controller.chat_id
    program.ask("Name a colour.", max_tokens=4)
    program.answered(5)
    qtbot.wait(300)
    assert controller.chat_id == shown and not controller.busy


def _titles(store) -> list[str]:
    return [c.title for c in store.list_chats()]


def _rows(window) -> list[str]:
    chats = window.chats.list
    return [chats.item(i).text() for i in range(chats.count())]


def test_a_request_that_starts_while_the_window_s_own_reply_is_under_way_is_answered_not_shown(opened, qtbot):
    """The window's reply waits behind a served request that took the engine first: the request's
    report comes while the window's own reply is pending. (When exactly is a race between two threads,
    so the report is handed to the projector here while the window's reply streams.)"""
    o = opened
    window, controller = o.window, o.controller
    window.projector.set_showing(True)
    said: list[str] = []
    show_status = window.show_status
    window.show_status = lambda text, ms: (said.append(text), show_status(text, ms))  # type: ignore[method-assign]
    o.send("Say hello.", max_tokens=40, ban_eos=True)
    qtbot.waitUntil(lambda: controller.busy and len(controller.messages[-1].tokens) >= 2, timeout=REPLY_MS)
    shown = controller.chat_id
    event = IncomingEvent(-99, "10.0.0.7", ({"role": "user", "content": "Hi"},), False, SamplerSettings(), 5)
    window.projector.on_incoming(event)
    assert any("10.0.0.7 sent a request" in text and "not shown" in text for text in said)
    assert controller.chat_id == shown and controller.busy
    with qtbot.waitSignal(controller.finished, timeout=REPLY_MS) as finished:
        pass
    assert finished.args[0].result.generated == 40 and [c.title for c in o.services.chats.list_chats()] == [
        "Say hello."
    ]


def test_a_tokendice_window_stepping_on_the_served_model_is_drawn_as_one_growing_reply(opened, qtbot):
    """TokenDice's remote die asks for one token at a time, each prompt the last one with the token its
    die chose: the window draws one reply that grows, the client's choices in it, not a chat a token."""
    from desktop_app.core.remote.connection import Connection, ServerAddress
    from desktop_app.core.remote.remote_session import RemoteSession
    from desktop_app.core.remote.server_info import probe

    o = opened
    window, controller = o.window, o.controller
    window.projector.set_showing(True)
    url = _serve(o, qtbot).removesuffix("/v1")
    made: list = []

    def student() -> None:
        conn = Connection(ServerAddress(url))
        try:
            session = RemoteSession(conn, probe(conn))
            prompt = session.prompt("Once upon a time", chat=False)
            gen = session.generate(prompt.tokens, SamplerSettings(seed=3, temperature=1.0), max_tokens=8)
            for _step in gen:
                pass
            made.append(gen.result)
        finally:
            conn.close()

    thread = threading.Thread(target=student)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=REPLY_MS)
    qtbot.waitUntil(lambda: not controller.busy, timeout=REPLY_MS)
    [result] = made
    chosen = [s.token.id for s in result.steps]
    assert len(chosen) == 8
    assert [c.title for c in o.services.chats.list_chats()] == ["Once upon a time"]
    reply = controller.messages[-1]
    assert reply.outside == "127.0.0.1" and len(reply.tokens) == 8
    # The client's choices, then the last step as the server drew it (the client's die rolls after).
    assert [t.token_id for t in reply.tokens[:7]] == chosen[:7]
    saved = o.services.chats.reply_tokens(reply.message_id)
    assert [t.token_id for t in saved[:7]] == chosen[:7] and all(t.candidates is not None for t in saved)
