"""The "Wait" lesson (test-time scaling) in the window: made for a thinking model, it recommends the
smallest curated one; without it the lesson's box offers it (size, fit, a link) and the lesson runs on the
loaded model meanwhile, saying what it does instead; the link downloads it the Models page's way (against
the loopback hub), then loads it. On a thinking model (SmolLM2 with a template that opens <think>) it
replaces the close of the thinking instead of the end of the reply."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from desktop_app.core.lessons import BY_ID
from desktop_app.ui.widgets.models import HUB_TAB
from tests.core.engine.test_thinking import THINKING_TEMPLATE
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)
from tests.ui.test_main_window import Opened, workshop_on_hub

LOAD_MS = 60_000
REPLY_MS = 120_000
DOWNLOAD_MS = 120_000
LESSON = BY_ID["wait"]


def test_without_its_thinking_model_the_lesson_offers_it_runs_on_smollm2_and_the_link_downloads_it(
    qtbot,
    hub: HubServer,  # noqa: F811
    smollm2_path: Path,
):
    pick = LESSON.recommends
    assert pick is not None and pick.repo_id == "Qwen/Qwen3-0.6B-GGUF"
    # A stand-in under the curated name: the real SmolLM2 file, so that the library takes it and it loads.
    hub.add_repo(pick.repo_id, {pick.filename: smollm2_path, "README.md": b"# Qwen3-0.6B\n"})
    with workshop_on_hub(qtbot, hub) as w:
        window, workshop, browser = w.window, w.window.workshop, w.window.models.browser
        with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS) as blocker:
            workshop.open_lesson(LESSON)
            assert QApplication.activeModalWidget() is None  # nothing waits for an answer
        # SmolLM2 does not think: " Wait" takes the place of its end token, as the lesson says.
        assert any(
            st.inserted and st.replaced in window.loaded.eog_ids for st in blocker.args[0].result.steps
        )
        settings = window.sampling.settings()
        assert settings.wait_count == 2 and settings.think_wait == 0
        assert window.controller.max_tokens == LESSON.max_tokens
        label = workshop.lesson_label
        shown = label.text()
        assert LESSON.text("explanation", "en")[:40] in shown
        assert "SmolLM2" in shown and "does not think" in shown and "end token" in shown
        assert "Qwen3-0.6B" in shown and "639 MB" in shown and 'href="download"' in shown
        # The fit, as the curated list judges it, once the free memory is measured.
        qtbot.waitUntil(
            lambda: any(v in label.text() for v in ("fits:", "tight:", "won't fit:")), timeout=20_000
        )

        label.linkActivated.emit("download")  # the offer's link
        assert (
            window.models.tabs.currentIndex() == HUB_TAB and browser.stack.currentWidget() is browser.curated
        )
        qtbot.waitUntil(
            lambda: browser.downloads.find(pick.repo_id, pick.filename) is not None, timeout=20_000
        )
        assert browser.listing is not None and browser.listing.repo_id == pick.repo_id
        assert browser.selected_file().filename == pick.filename  # the Models page's own download
        qtbot.waitUntil(lambda: "is downloading" in label.text() or "in the library" in label.text())
        qtbot.waitUntil(lambda: 'href="load"' in label.text(), timeout=DOWNLOAD_MS)
        entry = next(e for e in w.services.library.entries() if e.repo_id == pick.repo_id)
        assert entry.filename == pick.filename and entry.usable
        assert "is in the library" in label.text() and workshop.lesson is LESSON

        # Load it: the lesson starts again on it (the reply comes once it is loaded).
        with qtbot.waitSignal(window.controller.finished, timeout=LOAD_MS + REPLY_MS):
            label.linkActivated.emit("load")
        assert window.loaded.model_id == entry.id and workshop.lesson is LESSON
        assert window.controller.messages[-1].role == "assistant"


def test_on_a_thinking_model_the_lesson_replaces_the_close_of_the_thinking(qtbot):
    w = Opened(qtbot)
    try:
        window, workshop = w.window, w.window.workshop
        window.session.set_template_override(THINKING_TEMPLATE)  # its assistant turn opens <think>
        assert workshop.lesson_model.thinks()
        workshop.language = "zh_TW"
        # The lesson with a short thinking: its settings are what this test is about.
        short = replace(LESSON, thinking=replace(LESSON.thinking, max_tokens=24))
        with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
            workshop.open_lesson(short)
        settings = window.controller.settings
        assert settings == window.sampling.settings()
        assert settings.think_wait == 2 and settings.wait_count == 0 and settings.wait_text == " Wait"
        assert window.controller.max_tokens == short.reply_length(thinks=True) == 24
        assert window.controller.messages[-1].thinking_opened  # the reply began inside the thinking
        shown = workshop.lesson_label.text()
        assert LESSON.text("explanation", "zh_TW")[:20] in shown and "&lt;think&gt;" in shown
        assert 'href="download"' not in shown and "不會思考" not in shown
        window.session.set_template_override(None)  # back to SmolLM2's own: the fallback again
        qtbot.waitUntil(lambda: not workshop.lesson_model.thinks(), timeout=10_000)
        with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
            workshop.open_lesson(short)
        assert window.controller.settings.wait_count == 2 and window.controller.settings.think_wait == 0
        assert "does not think" not in workshop.lesson_label.text()  # (the window speaks Chinese here)
        assert "不會思考" in workshop.lesson_label.text()
    finally:
        w.close()
