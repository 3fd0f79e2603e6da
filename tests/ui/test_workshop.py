"""Workshop features with the real bundled model: lessons in both languages, several answers side by side,
the tokenizer view and the model's facts card."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop_app.core.lessons import LESSONS
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow
from tests.ui.engine_helpers import engine_stats

LOAD_MS = 60_000
REPLY_MS = 120_000
#: The docks each lesson brings to the front: its point in view (the end lane under the chat, beside the
#: chart; the two date answers side by side, not the template).
FRONT = {
    "continuation": ("chart",),
    "distribution": ("die",),
    "temperature": ("waterfall",),
    "end-token": ("end", "chart"),
    "template": ("template",),
    "multi-turn": ("template",),
    "hallucination": ("compare",),
    "wait": ("end", "chart"),
    "every-answer": ("compare",),
    "tokens": ("tokens",),
}


def open_window(qtbot, services: Services) -> MainWindow:
    w = MainWindow(services, current=services.library.resolve("default"))
    qtbot.addWidget(w)
    with qtbot.waitSignal(w.model_loaded, timeout=LOAD_MS):
        w.show()
    return w


@pytest.fixture
def window(qtbot):
    services = Services.open()
    w = open_window(qtbot, services)
    yield w
    w.close()
    services.close()


@pytest.mark.parametrize("language", ["en", "zh_TW"])
def test_every_lesson_opens_in_both_languages(window, qtbot, language):
    workshop = window.workshop
    workshop.language = language
    for lesson in LESSONS:
        before = window.services.chats.list_chats()
        if lesson.send:
            with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS) as blocker:
                workshop.open_lesson(lesson)
            assert blocker.args[0].result.steps, lesson.id
            assert window.controller.messages[-1].role == "assistant"
        else:
            workshop.open_lesson(lesson)
            assert window.chat.input.toPlainText() == lesson.text("prompt", language)
            if lesson.side_by_side:  # its answers come side by side
                qtbot.waitUntil(workshop.compare.run_button.isEnabled, timeout=REPLY_MS)
        assert workshop.lesson is lesson
        views = {
            "chart": window.chart,
            "template": window.inspector,
            "die": workshop.die,
            "waterfall": workshop.waterfall,
            "end": workshop.end_lane,
            "compare": workshop.compare,
            "tokens": workshop.tokens,
        }
        for name in FRONT[lesson.id]:  # its view in front, not behind another dock's tab
            view = views[name]
            qtbot.waitUntil(lambda view=view: not view.visibleRegion().isEmpty(), timeout=3000)
        if lesson.send and lesson.show_step == "last":  # the end token's step, the die's one roll
            last = window.controller.messages[-1].tokens[-1]
            assert window.chart.step() is last.step.distribution, lesson.id
        shown = workshop.lesson_label.text()
        assert lesson.text("title", language) in shown
        assert lesson.text("explanation", language)[:20] in shown
        assert window.controller.plain == (lesson.mode == "plain")
        settings = window.sampling.settings()
        for key, value in lesson.sampler_settings().items():
            assert getattr(settings, key) == pytest.approx(value), (lesson.id, key)
        if lesson.system is not None:
            assert window.chat.system_prompt() == lesson.system_prompt(language)
        if lesson.history:
            roles = [m.role for m in window.controller.messages]
            assert roles[: len(lesson.history)] == [r for r, _ in lesson.history]
        if lesson.send:
            assert len(window.services.chats.list_chats()) == len(before) + 1
    assert len(workshop.lesson_actions) == len(LESSONS)
    assert set(FRONT) == {lesson.id for lesson in LESSONS}


def test_the_date_lesson_shows_the_answers_without_and_with_the_date_side_by_side(window, qtbot, tmp_path):
    """The date lesson opened with today's date already in the system prompt, so the made-up date never
    showed: the same question now goes twice, without and with the date, and the answers stand side by
    side, each labelled with its system prompt."""
    window.resize(1440, 900)
    sent, done = [], []
    window.engine.request_compare.connect(sent.append)
    window.engine.worker.compared.connect(lambda _id, result: done.append(result))
    workshop, compare = window.workshop, window.workshop.compare
    workshop.language = "en"
    workshop.open_lesson(_lesson("hallucination"))
    qtbot.waitUntil(lambda: len(done) == 2 and compare.run_button.isEnabled(), timeout=REPLY_MS)
    today = f"Today is {dt.date.today():%Y-%m-%d}."
    question = {"role": "user", "content": "What is today's date?"}
    assert [r.messages for r in sent] == [(question,), ({"role": "system", "content": today}, question)]
    assert sent[0].settings == sent[1].settings and sent[0].settings.seed == 8  # only the prompt differs
    assert window.chat.system_prompt() == "" and window.chat.input.toPlainText() == question["content"]
    qtbot.waitUntil(lambda: not compare.visibleRegion().isEmpty(), timeout=3000)  # the view in front
    assert len(compare.columns) == 2
    first, second = (h.text() for h in compare.headers)
    assert "Without the date" in first and "no system prompt" in first and today not in first
    assert "With today's date" in second and today in second
    at = [compare._grid.getItemPosition(compare._grid.indexOf(v))[:2] for v in compare.columns]
    assert at[0][0] == at[1][0] and at[0][1] != at[1][1]  # in one row: side by side
    answers = [r.answers[0].text for r in done]
    assert all(a.strip() for a in answers)
    shown = [t.replace(compare.tr("[END]"), "").strip() for t in compare.texts()]
    assert shown == [a.replace("\n", " ").strip() for a in answers]
    assert "only the system prompt differs" in compare.summary.text()
    assert window.services.chats.list_chats() == []  # nothing saved
    window.grab().save(str(tmp_path / "hallucination.png"))


def test_an_answer_the_lesson_wrote_is_marked_and_not_tinted(window, qtbot, tmp_path):
    """The multi-turn lesson writes the first answer into the history: it reads as written by the lesson,
    not generated by the model, with no tokens and no probability tints, also when the chat is opened
    again; the model's own reply has them."""
    from desktop_app.ui.widgets.chat_html import probability_colour

    _open(window, qtbot, "multi-turn")
    roles = [m.role for m in window.controller.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    tints = {probability_colour(p) for p in (None, 0.01, 0.1, 0.3, 0.9)}
    chat = window.chat

    def check() -> None:
        written, generated = chat.message_html(1), chat.message_html(3)
        assert "written by the lesson" in written and "written by the lesson" not in generated
        assert 'href="t:1:' not in written and not any(tint in written for tint in tints)
        assert 'href="t:3:' in generated and any(tint in generated for tint in tints)

    check()
    chat.render_now()
    window.grab().save(str(tmp_path / "multi-turn.png"))
    chat_id = window.controller.chat_id
    window.new_chat()
    window.open_chat(chat_id)  # read back from the database
    check()
    chat.show_tokens.setChecked(False)
    assert "written by the lesson" in chat.message_html(1)
    assert "written by the lesson" not in chat.message_html(3)


def test_the_temperature_lesson_shows_the_most_uncertain_early_step_not_the_last(window, qtbot, tmp_path):
    """The temperature lesson showed the reply's last step, where temperature barely matters: it now
    shows the step it names, the most uncertain of the first ones, in the sampler stages."""
    window.resize(1440, 900)
    _open(window, qtbot, "temperature")
    tokens = window.controller.messages[-1].tokens
    rolled = [k for k, t in enumerate(tokens) if not (t.end or t.inserted or t.forced)][:8]
    want = max(rolled, key=lambda k: tokens[k].step.distribution.entropy_bits)
    assert want != len(tokens) - 1
    d = tokens[want].step.distribution
    qtbot.waitUntil(lambda: window.chart.step() is d, timeout=3000)
    waterfall = window.workshop.waterfall
    qtbot.waitUntil(lambda: not waterfall.visibleRegion().isEmpty(), timeout=3000)
    waterfall.flush()
    assert window.workshop.die.step() is d
    assert window.workshop.end_lane.current() == want
    window.chat.render_now()  # the finished reply laid out, as the next frame would
    window.grab().save(str(tmp_path / "temperature.png"))


def test_several_answers_side_by_side_share_the_prompt(window, qtbot):
    window.chat.input.setPlainText("Give me a name for a cat.")
    s = window.sampling.settings().replace(seed=21, temperature=1.2)
    window.sampling.set_settings(s)
    window.controller.set_settings(s)
    window.controller.max_tokens = 10
    compare = window.workshop.compare
    before = engine_stats(window, qtbot)["evaluated_tokens"]
    with qtbot.waitSignal(window.engine.worker.compared, timeout=REPLY_MS) as blocker:
        compare.count.setValue(3)
        compare.run_button.click()
    result = blocker.args[1]
    assert len(result.answers) == 3 and len(compare.columns) == 3
    assert result.prompt_evaluated <= result.prompt_tokens + 2  # the prompt was read once
    after = engine_stats(window, qtbot)["evaluated_tokens"]
    assert after - before <= result.prompt_tokens + 2 + 3 * 10
    # The view finishes when the window has the result too (the worker's signal reaches this test first).
    qtbot.waitUntil(compare.run_button.isEnabled, timeout=5000)
    assert [t.strip() for t in compare.texts()] == [a.text.replace("\n", " ").strip() for a in result.answers]
    for i in range(3):
        split = compare.split_token(i)
        if split is not None:
            assert "border-bottom:3px" in compare.answer_html(i)
    assert "3 answers" in compare.summary.text()
    assert window.services.chats.list_chats() == []  # comparing saves nothing


def test_the_tokenizer_view_shows_chinese_bytes_and_the_facts_card(window, qtbot, smollm2_engine):
    tokens = window.workshop.tokens
    tokens.set_text("臺灣最高的山是玉山。")
    qtbot.waitUntil(lambda: bool(tokens.ids), timeout=10_000)
    assert tokens.ids == smollm2_engine.tokenize("臺灣最高的山是玉山。")
    assert b"".join(tokens.pieces).decode("utf-8") == "臺灣最高的山是玉山。"
    html = tokens.view.toHtml()
    assert "&lt;E8&gt;" in html or "<E8>" in tokens.view.toPlainText() or "&lt;E" in html
    assert "49,152" in tokens.count.text() and f"{len(tokens.ids)} tokens" in tokens.count.text()
    window.docks["tokens"].raise_()  # the facts card is laid out when its tab is chosen
    qtbot.waitUntil(lambda: "135M" in tokens.facts.text(), timeout=3000)
    facts = tokens.facts.text()
    assert "llama" in facts and "135M" in facts and "chosen by people" in facts


def test_presentation_mode_enlarges_and_restores(window, qtbot):
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    size = app.font().pointSizeF()
    assert window.docks["sampling"].isVisible()
    window.workshop.presentation_action.trigger()
    assert app.font().pointSizeF() == pytest.approx(size * 1.6)
    assert not window.docks["sampling"].isVisible() and window.docks["chart"].isVisible()
    assert app.palette().color(app.palette().ColorRole.Base).name() == "#ffffff"
    assert window.chart.font_scale() > 1.0
    window.workshop.presentation_action.trigger()
    assert app.font().pointSizeF() == pytest.approx(size)
    qtbot.waitUntil(lambda: window.docks["sampling"].isVisible(), timeout=3000)


def test_the_die_waterfall_and_end_lane_follow_the_chart(window, qtbot, tmp_path):
    s = window.sampling.settings().replace(seed=4, repeat_penalty=1.2, top_k=30, top_p=0.9, min_p=0.02)
    window.sampling.set_settings(s)
    window.controller.set_settings(s)
    window.controller.max_tokens = 6
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS) as blocker:
        window.controller.send("Name three fruits.")
    steps = blocker.args[0].result.steps
    workshop = window.workshop
    window.chat.token_clicked.emit(1, 2)  # the third token's step
    for name, view in (("chart", window.chart), ("die", workshop.die), ("waterfall", workshop.waterfall)):
        window.docks[name].raise_()  # a dock behind another tab does not draw
        qtbot.waitUntil(lambda view=view: not view.visibleRegion().isEmpty(), timeout=3000)
        view.flush()
    d = steps[2].distribution
    assert workshop.die.step() is d and workshop.die.landed_token() == d.chosen
    values = workshop.waterfall.values()
    for stage in d.stages:
        assert stage.name in values
    assert workshop.end_lane.points()[: len(steps)] and len(workshop.end_lane.points()) == len(steps)
    assert workshop.end_lane.current() == 2
    for kind in ("chart.png", "chart.svg", "waterfall.png", "distribution.csv"):
        path = tmp_path / f"out-{kind}"
        workshop.export(kind, path)
        assert path.stat().st_size > 100, kind


def test_wait_twice_inserts_exactly_two_and_continues(window, qtbot):
    s = window.sampling.settings().replace(seed=9, temperature=0.0, wait_count=2, wait_text=" Wait")
    window.sampling.set_settings(s)
    window.controller.set_settings(s)
    window.controller.max_tokens = 80
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS) as blocker:
        window.controller.send("Say OK.")
    result = blocker.args[0].result
    inserted = [st for st in result.steps if st.inserted and st.replaced is not None]
    assert len(inserted) == 2  # each " Wait" stands in for one end token the die picked
    assert all(st.replaced in window.loaded.eog_ids for st in inserted)
    after = result.steps.index(inserted[-1])
    assert any(not st.inserted for st in result.steps[after + 1 :])  # the model went on after it
    reply = window.controller.messages[-1]
    assert sum(1 for t in reply.tokens if t.inserted and t.text) >= 2
    html = window.chat.message_html(len(window.chat.messages) - 1)
    assert html.count("background:#e8dff5") >= 2  # the inserted words are marked in the reply
    lane = window.workshop.end_lane.points()
    assert sum(1 for _p, marker in lane if marker == "wait") == 2


def test_plots_behind_tabs_are_built_when_their_tab_is_first_opened(window, qtbot, tmp_path):
    workshop = window.workshop
    views = {
        "die": (workshop.die.strip_view, workshop.die.rolls_view),
        "waterfall": (workshop.waterfall,),
        "end": (workshop.end_lane,),
    }
    qtbot.wait(100)  # the window has settled: the docks behind other tabs stayed hidden
    for plots in views.values():
        assert not any(p.is_built() for p in plots)
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.controller.send("Say yes.")
    # A never-opened dock's plot still exports (it is built for it) and shows the step.
    path = tmp_path / "stages.png"
    workshop.export("waterfall.png", path)
    assert workshop.waterfall.is_built() and path.stat().st_size > 100
    for name in ("die", "end"):
        window.docks[name].raise_()
        qtbot.waitUntil(lambda name=name: all(p.is_built() for p in views[name]), timeout=3000)
        for plot in views[name]:
            shown = plot.stack if plot is workshop.die.rolls_view else plot.plot  # (rolls: plot or hint)
            assert shown.width() > 50 and shown.height() > 50  # laid out, not squeezed
    workshop.die.flush()
    assert workshop.die.step() is window.chart.step()
    assert workshop.die.landed_token() == window.chart.step().chosen
    assert len(workshop.end_lane.points()) == len(window.controller.messages[-1].tokens)


def _lesson(lesson_id: str):
    return next(lesson for lesson in LESSONS if lesson.id == lesson_id)


def _open(window, qtbot, lesson_id: str):
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS) as blocker:
        window.workshop.open_lesson(_lesson(lesson_id))
    return blocker.args[0].result


def test_a_lesson_uses_its_own_settings_and_leaving_gives_the_users_back(window, qtbot):
    """The Wait lesson's "Wait ×2" put Waits in the next lesson's answers, and a top-p set by hand stayed
    through five lessons: a lesson now sets every setting (its own over the defaults); a new chat
    leaves it and brings the user's own settings back."""
    mine = window.sampling.settings().replace(top_p=0.5, repeat_penalty=1.3, seed=4)
    window.sampling.set_settings(mine)
    window.controller.set_settings(mine)
    window.sampling.set_max_tokens(77)
    window.controller.max_tokens = 77

    wait = _open(window, qtbot, "wait")
    assert any(st.inserted for st in wait.steps)  # the Wait lesson inserts its Waits
    end = _open(window, qtbot, "end-token")
    assert not any(st.inserted for st in end.steps)
    defaults = SamplerSettings()
    expected = defaults.replace(**_lesson("end-token").sampler_settings())
    assert window.sampling.settings() == window.controller.settings == expected
    assert window.sampling.settings().top_p == defaults.top_p != mine.top_p

    window.new_chat()  # a plain chat: the lesson is left
    assert window.workshop.lesson is None and not window.workshop.lesson_label.isVisible()
    assert window.sampling.settings() == window.controller.settings == mine
    assert window.sampling.max_tokens() == window.controller.max_tokens == 77

    _open(window, qtbot, "temperature")  # leaving by the lesson's own link does the same
    window.workshop.lesson_label.linkActivated.emit("leave")
    assert window.workshop.lesson is None and window.sampling.settings() == mine


def test_a_lessons_settings_are_never_kept_as_the_users_across_a_restart(qtbot):
    services = Services.open()
    try:
        w = open_window(qtbot, services)
        mine = w.sampling.settings().replace(top_k=12, seed=8)
        w.sampling.set_settings(mine)
        w.controller.set_settings(mine)
        _open(w, qtbot, "wait")
        w.close()  # saves the window's state in a lesson
        again = open_window(qtbot, services)
        assert again.sampling.settings() == mine and again.sampling.settings().wait_count == 0
        end = _open(again, qtbot, "end-token")
        assert not any(st.inserted for st in end.steps)
        again.close()
    finally:
        services.close()


def test_save_dialogs_open_in_pictures_or_documents_then_where_the_last_went(
    window, qtbot, tmp_path, monkeypatch
):
    """The export dialog opened in the app's working folder: an image now starts in Pictures, a table in
    Documents (the home folder where there is none), then in the folder the last one was saved to."""
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QFileDialog

    def start(kind: str) -> Path:
        where = (
            QStandardPaths.PicturesLocation
            if kind != "distribution.csv"
            else QStandardPaths.DocumentsLocation
        )
        located = QStandardPaths.writableLocation(where)
        return Path(located) if located and Path(located).is_dir() else Path.home()

    workshop = window.workshop
    for kind in ("chart.png", "waterfall.svg", "distribution.csv"):
        assert workshop.export_start(kind) == start(kind) / f"tokendice-{kind}"
        assert workshop.export_start(kind).parent != Path.cwd() or start(kind) == Path.cwd()
    asked: list[str] = []

    def dialog(_parent, _title, directory, _filter):
        asked.append(directory)
        return str(tmp_path / "slide.png"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):  # a step to export
        window.controller.send("Say yes.")
    workshop.ask_export("chart.png")
    assert asked == [str(start("chart.png") / "tokendice-chart.png")] and (tmp_path / "slide.png").exists()
    assert workshop.export_start("waterfall.png") == tmp_path / "tokendice-waterfall.png"
    assert workshop.export_start("distribution.csv").parent == start("distribution.csv")


def test_answers_wrap_onto_rows_in_a_narrow_dock_instead_of_scrolling_sideways(window, qtbot):
    window.resize(1440, 900)
    window.chat.input.setPlainText("Give me a name for a dog.")
    window.controller.max_tokens = 6
    compare = window.workshop.compare
    window.docks["compare"].show()
    window.docks["compare"].raise_()
    with qtbot.waitSignal(window.engine.worker.compared, timeout=REPLY_MS):
        compare.count.setValue(3)
        compare.run_button.click()
    qtbot.waitUntil(compare.run_button.isEnabled, timeout=5000)
    scroll = compare._scroll

    def check(width: int) -> int:
        window.resizeDocks([window.docks["compare"]], [width], Qt.Horizontal)
        qtbot.wait(100)
        assert not scroll.horizontalScrollBar().isVisible()  # never sideways
        assert compare._grid_host.width() <= scroll.viewport().width()
        rows = {compare._grid.getItemPosition(compare._grid.indexOf(v))[0] for v in compare.columns}
        return len(rows)

    narrow, wide = check(420), check(800)
    assert narrow >= 2 and wide < narrow  # rows when narrow, side by side when there is room
    for view in compare.columns:
        assert view.width() >= 10 * view.fontMetrics().horizontalAdvance("M")


def test_the_template_pane_keeps_the_system_line_in_view(window, qtbot):
    window.resize(1440, 900)
    lesson = next(lesson for lesson in LESSONS if lesson.id == "multi-turn")
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.workshop.open_lesson(lesson)
    inspector = window.inspector
    qtbot.waitUntil(lambda: window.docks["template"].isVisible(), timeout=3000)
    assert window.docks["template"].height() >= 0.3 * window.height()  # not five lines
    view = inspector.prompt_view
    text = view.toPlainText()
    assert "system" in text
    cursor = view.textCursor()
    cursor.setPosition(text.index("system"))
    top = view.cursorRect(cursor)
    assert top.top() >= 0 and top.bottom() <= view.viewport().height()  # the system line is shown


def test_the_end_controls_sit_beside_the_end_lane_and_follow_the_sampling_panel(window, qtbot):
    """At 1366×768 the Sampling panel's end-of-reply controls are below its fold: the end lane has them
    too, one set of settings behind both."""
    controls = window.workshop.end_lane.controls
    sampling = window.sampling
    wait = next(lesson for lesson in LESSONS if lesson.id == "wait")
    with qtbot.waitSignal(window.controller.finished, timeout=REPLY_MS):
        window.workshop.open_lesson(wait)
    s = sampling.settings()
    assert s.wait_count > 0 and controls.count.value() == s.wait_count  # a lesson's settings shown
    assert controls.text.text() == s.wait_text and controls.text.isEnabled()
    qtbot.waitUntil(lambda: controls.isVisible(), timeout=3000)  # in view with the lane
    controls.ban.click()
    assert sampling.settings().ban_eos and sampling.ban_eos.isChecked()
    assert window.controller.settings.ban_eos  # what the next reply uses
    controls.count.setValue(0)
    assert sampling.settings().wait_count == 0 and not controls.text.isEnabled()
    sampling.ban_eos.click()  # and the other way
    assert not controls.ban.isChecked()
    controls.count.setValue(1)
    controls.text.setText(" Hmm")
    assert sampling.settings().wait_text == " Hmm" and sampling.wait_text.text() == " Hmm"
    window.workshop.close_lesson()  # the user's own settings come back, in both places
    assert controls.count.value() == sampling.settings().wait_count == 0
    assert controls.ban.isChecked() == sampling.settings().ban_eos
