"""What a room reads off one step, with the real bundled model: the token whose step the chart shows is
marked in the reply (and the mark goes when the reply changes), and the chance to end the reply is one
number, said to be the model's, in the reply's end marker, the end lane and the chart's figure line."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl

from desktop_app.ui.widgets.chat_html import STREAM_MARK
from desktop_app.ui.widgets.prob_chart import RAW
from desktop_app.ui.widgets.prob_chart_looks import format_percent
from tests.ui.test_chat_pane import mark_pixels
from tests.ui.test_main_window import REPLY_MS, Opened


def seeded(qtbot) -> Opened:
    o = Opened(qtbot)
    settings = o.window.sampling.settings().replace(seed=3)
    o.window.sampling.set_settings(settings)
    o.controller.set_settings(settings)
    return o


@pytest.fixture
def opened(qtbot):
    o = seeded(qtbot)
    yield o
    o.close()


def drawn(opened, qtbot) -> None:
    """The chat laid out as it is now (the frame clock's next frame, taken now)."""
    pane = opened.window.chat
    qtbot.waitUntil(lambda: STREAM_MARK not in pane.view.toPlainText(), timeout=2000)
    pane._render_if_dirty()


def test_a_chosen_token_is_marked_in_the_reply_until_the_reply_changes(opened, qtbot):
    window, pane, controller = opened.window, opened.window.chat, opened.controller
    opened.reply("Name three colours.", max_tokens=8, ban_eos=True)
    drawn(opened, qtbot)
    mi = len(pane.messages) - 1
    tokens = pane.messages[mi].tokens
    assert pane.selected() is None and mark_pixels(pane.view) == 0  # the chart followed the stream
    counts = (pane.renders, pane.tail_renders, pane.appends)

    pane.view.anchorClicked.emit(QUrl(f"t:{mi}:2"))  # a click on the third token
    window.chart.flush()
    assert window.chart.step() is tokens[2].step.distribution
    assert pane.selected() == (mi, 2) and pane.marked_text() == tokens[2].text
    assert mark_pixels(pane.view) > 20
    window.workshop.end_lane.step_clicked.emit(5)  # a point of the end lane: the mark moves to its token
    assert window.chart.step() is tokens[5].step.distribution
    assert pane.selected() == (mi, 5) and pane.marked_text() == tokens[5].text
    assert (pane.renders, pane.tail_renders, pane.appends) == counts  # nothing was laid out again
    window.workshop.presentation.set_on(True)  # large print, high contrast: still marked
    try:
        assert pane.marked_text() == tokens[5].text and mark_pixels(pane.view) > 20
    finally:
        window.workshop.presentation.set_on(False)

    window.step_back()  # Back: the reply lost its last token, and the mark
    drawn(opened, qtbot)
    assert pane.selected() is None and mark_pixels(pane.view) == 0

    pane.token_clicked.emit(mi, 1)
    assert pane.selected() == (mi, 1)
    while_streaming = []
    controller.step_selected.connect(lambda _shown: while_streaming.append(pane.selected()))
    with qtbot.waitSignal(controller.finished, timeout=REPLY_MS):
        pane.regen_button.click()  # a new reply: nothing is marked while it streams, nor after
    drawn(opened, qtbot)
    assert while_streaming and set(while_streaming) == {None}
    assert pane.selected() is None and mark_pixels(pane.view) == 0

    mi = len(pane.messages) - 1
    pane.token_clicked.emit(mi, 3)
    assert pane.selected() == (mi, 3)
    window.chart.flush()
    d = window.chart.step()
    other = next(int(t) for t in d.candidates if int(t) != d.chosen)
    with qtbot.waitSignal(controller.finished, timeout=REPLY_MS):
        window.chart.token_clicked.emit(other)  # a bar picks another token there: a branch
    drawn(opened, qtbot)
    assert pane.selected() is None and mark_pixels(pane.view) == 0


def end_figures(opened, qtbot, mi: int, k: int) -> tuple[str, str, str]:
    """Select token ``k`` of message ``mi``: the chart's figure line, the end lane's headline and the
    chat's text, once drawn."""
    window = opened.window
    chart, lane = window.chart, window.workshop.end_lane
    opened.controller.select_token(mi, k)
    qtbot.waitUntil(lambda: not chart.dirty and not lane.dirty and lane.current() is not None, timeout=3000)
    texts = chart.info_label.text(), lane.title_label.text(), window.chat.view.toPlainText()
    return tuple(t.replace("\u00a0", " ") for t in texts)  # (a number is kept whole with no-break spaces)


def lane_in_view(window) -> None:
    window.docks["end"].show()
    window.docks["end"].raise_()  # in view: the lane draws its title
    window.chart.set_mode(RAW)


def test_the_chance_to_end_is_one_number_said_to_be_the_model_s(qtbot):
    """One step showed the end token at 63 % on the bar, 39.2 % in the headline, [END 63%] in the reply and
    66.6 % in the end lane. For the same step the reply's end marker, the end lane and the chart's
    figure line (in its "Model (raw)" view) show the same number, in the same words: "(model)"; a reply
    read back from the database after a restart too."""
    opened = seeded(qtbot)
    try:
        event = opened.reply("Say hi in three words.", max_tokens=40, ban_eos=False)
        assert event.result.stop_reason == "eog"  # the model ended it (seed 3)
        window, pane, chart = opened.window, opened.window.chat, opened.window.chart
        lane = window.workshop.end_lane
        lane_in_view(window)
        drawn(opened, qtbot)
        mi = len(pane.messages) - 1
        end = len(pane.messages[mi].tokens) - 1
        assert pane.messages[mi].tokens[end].end
        figures, headline, reply = end_figures(opened, qtbot, mi, end)
        p = format_percent(chart.step().eos_p_raw)
        assert figures.endswith(f"end token (model) {p}")
        assert f"[END (model) {p}]" in reply
        assert headline.startswith("Chance to end the reply (model): ") and f"now {p}" in headline
        assert lane.points()[lane.current()][0] == chart.step().eos_p_raw
        assert f"the model's chance to end here was {p}." in lane.point_tooltip(lane.current())
        assert "END" in pane.marked_text()  # the end marker is the token selected

        figures, headline, _ = end_figures(opened, qtbot, mi, 2)  # a step before: the lane names it
        p2 = format_percent(chart.step().eos_p_raw)
        assert figures.endswith(f"end token (model) {p2}") and f"token 3: {p2} · now {p}" in headline
        chat_id = opened.controller.chat_id
    finally:
        opened.close()

    again = seeded(qtbot)  # read back: the steps rebuilt from their saved candidates
    try:
        lane_in_view(again.window)
        again.window.open_chat(chat_id)
        drawn(again, qtbot)
        figures, headline, reply = end_figures(again, qtbot, mi, end)
        d = again.window.chart.step()
        saved = format_percent(d.eos_p_raw)
        assert d.is_saved and figures.endswith(f"end token (model) {saved}")
        assert f"[END (model) {saved}]" in reply and f"now {saved}" in headline
    finally:
        again.close()
