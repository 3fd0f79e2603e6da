"""The engine in its own process, faulted for real: signals sent to it mid-reply, a model that makes
llama.cpp abort, an engine that stops answering. The window survives each, keeps what was streamed and
carries on after a restart."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from desktop_app.core.models.bundled import BUNDLED_ID
from tests.helpers import asserting_gguf
from tests.ui.test_main_window import LOAD_MS, REPLY_MS, Opened

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].startswith("Z")  # a zombie has ended too
    except FileNotFoundError:
        return True


def _crash_mid_reply(o: Opened, qtbot, sig: int, after_steps: int = 4):
    """Send a long reply, deliver ``sig`` to the engine after ``after_steps`` tokens; return the finished
    event and the death."""
    pid = o.window.engine.pid
    assert pid is not None and pid != os.getpid()
    seen = []

    def on_step(_shown) -> None:
        seen.append(1)
        if len(seen) == after_steps:
            os.kill(pid, sig)

    o.controller.step_selected.connect(on_step)
    with (
        qtbot.waitSignal(o.window.engine.worker.died, timeout=REPLY_MS) as died,
        qtbot.waitSignal(o.controller.finished, timeout=REPLY_MS) as finished,
    ):
        o.send("Write a very long story about a dragon and a mountain.", max_tokens=400, ban_eos=True)
    o.controller.step_selected.disconnect(on_step)
    return pid, finished.args[0], died.args[0]


def test_a_segfault_mid_reply_keeps_the_window_the_tokens_and_restarts(qtbot):
    o = Opened(qtbot)
    try:
        pid, finished, death = _crash_mid_reply(o, qtbot, signal.SIGSEGV)
        assert death.signal_name == "SIGSEGV"
        assert _gone(pid)
        # The window says what happened, in one sentence, with the details behind a button.
        banner = o.window.engine_banner
        assert banner.isVisibleTo(o.window)
        assert "crashed (SIGSEGV)" in banner.label.text() and "restart" in banner.label.text().lower()
        assert "SIGSEGV" in banner.details() and str(death.log_path) in banner.details()
        assert banner.restart_button.isVisibleTo(o.window)
        assert "SIGSEGV" in o.window.statusBar().currentMessage()
        # Every streamed token is kept and saved, with the reason.
        result = finished.result
        assert result.stop_reason == "engine_crashed" and len(result.steps) >= 4
        saved = o.services.chats.path(o.controller.chat_id)[-1]
        assert saved.role == "assistant" and saved.stop_reason == "engine_crashed"
        assert o.services.chats.token_count(saved.id) == len(result.steps)
        assert saved.content == result.text and result.text
        assert o.window.chat.send_button.isEnabled() and not o.controller.busy
        # Restart the engine: the same model again, in a new process, and the next reply streams.
        with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS):
            banner.restart_button.click()
        assert not banner.isVisibleTo(o.window)
        assert o.window.engine.pid not in (None, pid)
        event = o.reply("Say hello.", max_tokens=3, ban_eos=True)
        assert event.result.generated == 3 and event.result.stop_reason == "max_tokens"
    finally:
        o.close()


def test_a_killed_engine_is_restarted_by_the_next_message(qtbot):
    o = Opened(qtbot)
    try:
        pid, finished, death = _crash_mid_reply(o, qtbot, signal.SIGKILL)
        assert death.signal_name == "SIGKILL" and "memory" in death.sentence()
        assert finished.result.stop_reason == "engine_crashed" and len(finished.result.steps) >= 4
        # No Restart click: sending restarts the engine with the same model first.
        event = o.reply("Say hello.", max_tokens=3, ban_eos=True)
        assert event.result.generated == 3
        assert o.window.engine.pid not in (None, pid)
        assert not o.window.engine_banner.isVisibleTo(o.window)
        assert o.window.loaded is not None and o.window.loaded.pid == o.window.engine.pid
    finally:
        o.close()


def test_an_engine_that_does_not_answer_stop_is_ended_within_the_grace(qtbot):
    """SIGSTOP freezes the engine process: it can answer nothing. Stop ends it after about 2 s; the
    reply is kept as stopped, and the engine comes back without a crash banner."""
    o = Opened(qtbot)
    try:
        pid = o.window.engine.pid
        seen = []

        def on_step(_shown) -> None:
            seen.append(1)
            if len(seen) == 3:
                os.kill(pid, signal.SIGSTOP)
                stopped.append(time.perf_counter())
                o.window.chat.stop_button.click()

        stopped: list[float] = []
        o.controller.step_selected.connect(on_step)
        with qtbot.waitSignal(o.controller.finished, timeout=REPLY_MS) as blocker:
            o.send("Write a very long story about a dragon.", max_tokens=400, ban_eos=True)
        elapsed = time.perf_counter() - stopped[0]
        result = blocker.args[0].result
        assert result.stop_reason == "cancelled" and len(result.steps) >= 3
        assert 1.5 < elapsed < 8  # the grace (2 s), then the end: not forever, not at once
        assert _gone(pid)
        with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS):
            pass  # started again by itself
        assert not o.window.engine_banner.isVisibleTo(o.window)
        assert o.reply("Say hello.", max_tokens=2, ban_eos=True).result.generated == 2
    finally:
        o.close()


def test_a_model_that_makes_llama_cpp_abort_is_reported_with_its_reason(qtbot, tmp_path: Path):
    o = Opened(qtbot)
    try:
        path = asserting_gguf(tmp_path)
        entry = o.services.library.add(path, source="referenced")
        with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS):
            o.window.load_model(entry)
        with (
            qtbot.waitSignal(o.window.engine.worker.died, timeout=REPLY_MS) as died,
            qtbot.waitSignal(o.controller.finished, timeout=REPLY_MS) as done,
        ):
            o.send("Hi", max_tokens=4)
        finished, death = done.args[0], died.args[0]
        assert death.signal_name == "SIGABRT"
        assert "GGML_ASSERT" in death.sentence() and "eps" in death.sentence()
        assert "GGML_ASSERT" in death.log_path.read_text(errors="replace")
        assert finished.result.stop_reason == "engine_crashed"
        assert o.window.engine_banner.isVisibleTo(o.window)
        # The window goes on: the bundled model loads and answers.
        with qtbot.waitSignal(o.window.model_loaded, timeout=LOAD_MS):
            o.window.load_model(o.services.library.resolve("default"))
        assert o.reply("Say hello.", max_tokens=2, ban_eos=True).result.generated == 2
    finally:
        o.close()


RUNAWAY = (
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    "{{ messages[-1]['content'] }}"
)


def test_a_runaway_template_fails_in_bounded_time_and_closing_during_it_is_quick(qtbot):
    o = Opened(qtbot)
    try:
        o.window.engine.request_template_override.emit(RUNAWAY)
        t0 = time.perf_counter()
        with qtbot.waitSignal(o.window.engine.worker.failed, timeout=REPLY_MS) as failed:
            o.send("Hi", max_tokens=4)
        assert time.perf_counter() - t0 < 10
        assert "did not finish within" in failed.args[1]
        qtbot.waitUntil(lambda: not o.controller.busy, timeout=5000)
        assert o.window.chat.send_button.isEnabled()
        # Closing while the engine is stuck in the template again: the window goes at once.
        o.send("Hi again", max_tokens=4)
        t1 = time.perf_counter()
        o.window.close()
        assert time.perf_counter() - t1 < 3.0
        assert o.window.engine.pid is None
    finally:
        o.services.close()


def test_an_engine_killed_while_loading_a_new_model_leaves_the_current_one(qtbot, tmp_path: Path):
    """The new model loads in a new engine process; when that one dies, the window says so and the model
    already loaded, in its own process, goes on answering."""
    o = Opened(qtbot)
    try:
        current_pid = o.window.engine.pid
        entry = o.services.library.add(asserting_gguf(tmp_path), source="referenced")
        with qtbot.waitSignal(o.window.model_failed, timeout=LOAD_MS) as failed:
            o.window.load_model(entry)
            loading_pid = o.window.engine.pid
            assert loading_pid not in (None, current_pid)
            os.kill(loading_pid, signal.SIGKILL)
        assert "killed (SIGKILL) while loading" in failed.args[0] and "engine.log" in failed.args[0]
        assert "SIGKILL" in o.window.models.message.text()
        assert o.window.engine.pid == current_pid and o.window.loaded.model_id == BUNDLED_ID
        assert not o.window.engine_banner.isVisibleTo(o.window)
        assert o.reply("Say hello.", max_tokens=2, ban_eos=True).result.generated == 2
    finally:
        o.close()
