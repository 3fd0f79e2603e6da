"""Models on a server, in the window: a saved server on the Models page, checked and used like a local
model, against real servers started on loopback with the real SmolLM2 (llama.cpp's llama-server, and
llama-cpp-python's OpenAI-compatible server). The reply, the chart's labels, a slider re-run, the status
bar, the template inspector; a wrong key and a server killed mid-reply, each a sentence, with what came
kept."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop_app.core.remote.saved import SavedServer
from desktop_app.core.remote.service import NEEDS_DIE, STOP_SERVER_FAILED
from desktop_app.ui.widgets.models import SERVERS_TAB
from tests.model_servers import llama_cpp_server, llama_server
from tests.ui.test_main_window import LOAD_MS, REPLY_MS, Opened

KEY = "classroom-secret-key"


@pytest.fixture(scope="module")
def server(smollm2_path, tmp_path_factory):
    with llama_server(smollm2_path, tmp_path_factory.mktemp("llama_server"), api_key=KEY) as s:
        yield s


@pytest.fixture
def opened(qtbot):
    o = Opened(qtbot)
    yield o
    o.close()


def _panel(o: Opened):
    panel = o.window.models.servers
    assert panel is not None
    return panel


def _save(o: Opened, url: str, key: str | None, name: str = "Classroom") -> SavedServer:
    panel = _panel(o)
    saved = panel.servers.add(SavedServer(url, name), key)
    panel.reload(select=saved.base)
    return saved


def _use(o: Opened, qtbot, url: str, key: str | None):
    """Save the server, check it (its models fill the list) and press Use: the loaded model."""
    panel = _panel(o)
    saved = _save(o, url, key)
    panel.check()
    qtbot.waitUntil(lambda: saved.base in panel._infos, timeout=20_000)
    assert panel.model.count() >= 1
    with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS) as loaded:
        panel.use_button.click()
    return loaded.args[0]


def test_a_model_on_llama_server_runs_the_chat_chart_and_die(opened, qtbot, server):
    o = opened
    panel = _panel(o)
    assert o.window.models.tabs.widget(SERVERS_TAB) is panel
    model = _use(o, qtbot, server.url, KEY)
    assert model.server == server.url and model.path is None
    # The list says what the server is; the status bar where the model runs.
    item = panel.list.currentItem()
    assert "llama-server" in item.text(3) and item.text(2) == "yes"
    assert "on the server" in o.window.backend_label.text() and server.url in o.window.backend_label.text()
    assert o.window.model_label.text() == "Model: SmolLM2-135M-Instruct.Q4_1.gguf"
    assert o.window.engine.pid is None  # no engine process holds it: the server does
    # A reply, rolled by TokenDice's die token by token, streamed into the chat and saved.
    steps = []
    o.controller.step_selected.connect(steps.append)
    event = o.reply("Name one colour.", max_tokens=6, ban_eos=True)
    result = event.result
    assert result.generated == 6 and result.stop_reason == "max_tokens"
    saved = o.services.chats.path(o.controller.chat_id)[-1]
    assert saved.role == "assistant" and saved.content == result.text
    assert o.services.chats.token_count(saved.id) == 6
    # Every chosen token and the chart's candidates have their text (the pieces the server reported).
    for step in result.steps:
        assert o.window.engine.piece(step.token.id) == step.token.piece
        d = step.distribution
        assert d is not None and all(o.window.engine.piece(int(t)) for t in d.candidates[:5])
        assert d.rest_p_raw >= 0.0
    # The template inspector shows the prompt the server tokenized, token by token.
    assert "Name one colour." in o.window.inspector.prompt_view.toPlainText()
    # A slider move re-runs TokenDice's stages on the kept report: no request to the model.
    position = result.steps[-1].position
    with qtbot.waitSignal(o.window.engine.worker.redistributed, timeout=10_000) as redone:
        o.window.engine.request_redistribute.emit(
            position, o.controller.settings.replace(temperature=0.2), None
        )
    assert redone.args[0] == position and redone.args[1].settings.temperature == 0.2
    # The server's model is remembered for the next time; its key is in the key store, not the list.
    servers_file = o.services.paths.config_dir / "servers.json"
    assert KEY not in servers_file.read_text(encoding="utf-8")
    settings = o.services.paths.settings_path
    assert not settings.exists() or KEY not in settings.read_text(encoding="utf-8")
    assert json.loads(servers_file.read_text(encoding="utf-8"))
    remembered = panel.servers.find(server.url)
    assert remembered is not None and remembered.model and model.model_id.endswith("/" + remembered.model)
    # Restarting the engine connects again to the same model, by its full name on the server.
    with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS) as again:
        assert o.window.engine.restart()
    assert again.args[0].model_id == model.model_id


def test_a_wrong_key_is_a_sentence_and_the_local_model_stays(opened, qtbot, server):
    o = opened
    local = o.window.session.loaded
    _save(o, server.url, "not-the-key")
    with qtbot.waitSignal(o.window.model_failed, timeout=LOAD_MS) as failed:
        _panel(o).use_button.click()
    assert "key" in failed.args[0].lower()
    assert o.window.session.loaded is local
    assert (
        o.window.models.message.isVisibleTo(o.window)
        and "could not be used" in o.window.models.message.text()
    )
    event = o.reply("Say hello.", max_tokens=3, ban_eos=True)  # the local model still answers
    assert event.result.generated == 3


def test_a_server_killed_mid_reply_keeps_what_came(opened, qtbot, smollm2_path, tmp_path):
    o = opened
    with llama_server(smollm2_path, tmp_path) as doomed:
        _use(o, qtbot, doomed.url, None)
        seen = []

        def on_step(_shown) -> None:
            seen.append(1)
            if len(seen) == 4:
                doomed.kill()

        o.controller.step_selected.connect(on_step)
        event = o.reply("Write a long story about a dragon.", max_tokens=200, ban_eos=True)
        o.controller.step_selected.disconnect(on_step)
    result = event.result
    assert result.stop_reason == STOP_SERVER_FAILED and len(result.steps) >= 4
    saved = o.services.chats.path(o.controller.chat_id)[-1]
    assert saved.stop_reason == STOP_SERVER_FAILED and saved.content == result.text
    assert "the server stopped answering" in o.window.statusBar().currentMessage()
    assert o.window.chat.send_button.isEnabled() and not o.controller.busy


def test_an_openai_compatible_server_chats_with_what_it_reports(opened, qtbot, smollm2_path, tmp_path):
    o = opened
    with llama_cpp_server(smollm2_path, tmp_path) as openai:
        model = _use(o, qtbot, openai.url, None)
        panel = _panel(o)
        assert "OpenAI-compatible" in panel.list.currentItem().text(3)
        assert "Not available here" in panel.info.text()
        assert model.template_origin == "server"
        event = o.reply("Name one colour.", max_tokens=5, temperature=0.0)
        assert event.result.steps and event.result.text
        d = event.result.steps[0].distribution
        assert d is not None and d.candidates.size >= 1
        assert o.window.engine.piece(event.result.steps[0].token.id) == event.result.steps[0].token.piece
        # What needs token ids is refused with the reason.
        with qtbot.waitSignal(o.window.engine.worker.failed, timeout=REPLY_MS) as failed:
            o.send("Say hello.", max_tokens=3, ban_eos=True)
        assert NEEDS_DIE.split(":")[0] in failed.args[1]
        assert o.window.chat.send_button.isEnabled()
        # In the window those are greyed out, each with the reason: never offered to fail.
        window = o.window
        for widget in (window.chat.step_bar, window.workshop.compare, window.sampling.ban_eos):
            assert not widget.isEnabled() and "Not on this server" in widget.toolTip()
        assert "not their ids" in window.workshop.tokens.toolTip() and not window.workshop.tokens.isEnabled()
    # Back on the local model, all of it is there again.
    entry = o.services.library.resolve("default")
    with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS):
        o.window.load_model(entry)
    for widget in (o.window.chat.step_bar, o.window.workshop.compare, o.window.sampling.ban_eos):
        assert widget.isEnabled() and "Not on this server" not in widget.toolTip()


def test_the_servers_tab_adds_and_removes_a_server_with_its_key(opened, qtbot, monkeypatch):
    o = opened
    panel = _panel(o)
    saved = _save(o, "http://127.0.0.1:9/", KEY, name="Nowhere")
    assert panel.list.currentItem().text(0) == "Nowhere" and panel.list.currentItem().text(2) == "yes"
    # Checking a server where nothing listens says so in a sentence.
    panel.check()
    qtbot.waitUntil(
        lambda: "127.0.0.1:9" in panel.info.text() and "…" not in panel.info.text(), timeout=20_000
    )
    assert panel.info.styleSheet()  # shown as an error
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.remove_button.click()
    assert panel.list.topLevelItemCount() == 0
    assert panel.servers.api_key(saved.url) is None


def test_answers_are_compared_on_llama_server_with_the_die(opened, qtbot, server):
    o = opened
    _use(o, qtbot, server.url, KEY)
    window = o.window
    window.chat.input.setPlainText("Give me a name for a cat.")
    s = window.sampling.settings().replace(seed=21, temperature=1.2)
    window.sampling.set_settings(s)
    window.controller.set_settings(s)
    window.controller.max_tokens = 6
    compare = window.workshop.compare
    with qtbot.waitSignal(window.engine.worker.compared, timeout=REPLY_MS) as blocker:
        compare.count.setValue(3)
        compare.run_button.click()
    result = blocker.args[1]
    assert len(result.answers) == 3 and result.seeds == (21, 22, 23)
    assert all(a.steps and a.steps[0].distribution is not None for a in result.answers)
    qtbot.waitUntil(compare.run_button.isEnabled, timeout=5000)
    assert [t.strip() for t in compare.texts()] == [a.text.replace("\n", " ").strip() for a in result.answers]
    # The same seeds on the same server give the same answers: the die, not the server, picked them.
    with qtbot.waitSignal(window.engine.worker.compared, timeout=REPLY_MS) as again:
        compare.run_button.click()
    assert [a.text for a in again.args[1].answers] == [a.text for a in result.answers]
