"""Model → Serve this model: the window's own engine process serves the loaded model over the same API as
``tokendice serve``, while the window keeps chatting; the two take turns at the engine, the status bar
shows the address and what runs, and Stop serving (or a new model) ends it."""

from __future__ import annotations

import threading

import httpx2
import pytest

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
