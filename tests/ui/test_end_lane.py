"""The end lane on real SmolLM2 replies: one point per step with the end token's raw probability,
"Wait" and banned steps marked, the real end marked, drawn at display rate."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop_app.core.engine.chat import build_messages, chat_prompt
from desktop_app.core.engine.session import STOP_EOG, Session
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.widgets.end_lane import BANNED, END, PLAIN, WAIT, EndLane, point_of_step
from desktop_app.ui.widgets.prob_chart_looks import format_percent


@pytest.fixture
def lane(qtbot) -> EndLane:
    widget = EndLane()
    qtbot.addWidget(widget)
    widget.resize(900, 220)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def reply(engine, settings: SamplerSettings, max_tokens: int = 60):
    engine.reset()
    session = Session(engine)
    prompt = list(chat_prompt(engine, build_messages("Say hi in three words.")).tokens)
    generation = session.generate(prompt, settings, max_tokens=max_tokens)
    steps = list(generation)
    return steps, generation.result


def test_one_point_per_step_with_wait_and_the_end_marked(lane, smollm2_engine):
    steps, result = reply(smollm2_engine, SamplerSettings(seed=2, wait_count=2))
    assert result.stop_reason == STOP_EOG
    for s in steps:
        lane.append_step(s)
    lane.flush()
    rolled = [s for s in steps if s.distribution is not None]
    points = lane.points()
    assert len(points) == len(rolled)
    assert [p for p, _ in points] == [s.distribution.eos_p_raw for s in rolled]
    markers = [m for _, m in points]
    waits = [i for i, s in enumerate(rolled) if s.inserted]
    assert len(waits) == 2 and [i for i, m in enumerate(markers) if m == WAIT] == waits
    assert markers[-1] == END and markers.count(END) == 1
    # the model wanted to stop where "Wait" went in: the end token had the die's pick
    assert all(points[i][0] > 0.05 for i in waits)
    drawn = lane.drawn()
    for marker in (PLAIN, WAIT, END):
        x, y = drawn[marker]
        expect = [i for i, m in enumerate(markers) if m == marker]
        assert list(x) == [i + 1.0 for i in expect]
        assert np.array_equal(y, [points[i][0] for i in expect])
    assert len(lane.line.getData()[0]) == len(points)
    assert "Chance to end the reply" in lane.title_label.text()


def test_banned_steps_are_marked(lane, smollm2_engine):
    steps, _ = reply(smollm2_engine, SamplerSettings(seed=2, ban_eos=True), max_tokens=25)
    lane.set_steps(steps)
    lane.flush()
    assert {m for _, m in lane.points()} == {BANNED}
    x, _y = lane.drawn()[BANNED]
    assert list(x) == [float(i) for i in range(1, len(steps) + 1)]
    assert max(p for p, _ in lane.points()) > 0.05  # it wanted to end, and could not


def test_many_points_between_frames_cost_one_redraw(lane, qtbot):
    lane.flush()
    before = lane.redraw_count
    for i in range(200):
        lane.append_point(i / 400)
    assert lane.redraw_count == before
    qtbot.waitUntil(lambda: lane.redraw_count > before, timeout=2000)
    qtbot.wait(150)
    assert lane.redraw_count - before == 1
    assert len(lane.drawn()[PLAIN][0]) == 200


def test_clear_and_set_points(lane):
    lane.set_points([(0.1, PLAIN), (0.5, WAIT), (0.9, END)])
    lane.flush()
    assert lane.points() == [(0.1, PLAIN), (0.5, WAIT), (0.9, END)]
    lane.clear()
    lane.flush()
    assert (
        lane.points() == [] and len(lane.line.getData()[0] if lane.line.getData()[0] is not None else []) == 0
    )
    with pytest.raises(ValueError):
        lane.append_point(0.2, "maybe")


def test_clicking_a_point_selects_its_step(lane, qtbot):
    lane.set_points([(0.01, PLAIN)] * 5 + [(0.6, END)])
    lane.set_current(2)
    lane.flush()
    assert lane.current_line.isVisible() and lane.current_line.value() == 3
    with qtbot.waitSignal(lane.step_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(lane.plot.viewport(), Qt.LeftButton, pos=lane.point_pos(5))
    assert blocker.args == [5]
    assert "ended here" in lane.point_tooltip(5)


def test_a_step_without_a_roll_has_no_point(smollm2_engine):
    steps, _ = reply(smollm2_engine, SamplerSettings(seed=2, wait_count=1), max_tokens=20)
    assert all((point_of_step(s) is None) == (s.distribution is None) for s in steps)


def test_every_number_says_it_is_the_model_s_and_the_selected_token_has_its_own(lane):
    """The lane's headline, points and tooltips showed a chance to end with no word of whose it was (the
    model's own, not the one after sampling that the chart shows by default); a selected token's number
    was not in it at all. They say "model", and the headline gives the selected token's number."""
    points = [(0.012, PLAIN), (0.392, WAIT), (0.05, PLAIN), (0.666, PLAIN), (0.2, PLAIN)]
    lane.set_points(points)
    lane.flush()
    assert lane.title_label.text().replace("\u00a0", " ") == (
        "Chance to end the reply (model): now 20.0 % · highest 66.6 % at token 4"
    )
    lane.set_current(1)
    lane.flush()
    assert "39.2\u00a0%" in lane.title_label.text()  # a number and its % stay on one line
    assert lane.title_label.text().replace("\u00a0", " ") == (
        "Chance to end the reply (model): token 2: 39.2 % · now 20.0 % · highest 66.6 % at token 4"
    )
    assert lane.headline() == lane.title_label.text()
    assert lane.point_tooltip(1).startswith(
        f"Token 2: the model's chance to end here was {format_percent(0.392)}."
    )
    assert "the model's chance to end" in lane.legend_label.text()
    lane.clear()
    lane.flush()
    assert lane.title_label.text() == "Chance to end the reply (model): no tokens yet."
