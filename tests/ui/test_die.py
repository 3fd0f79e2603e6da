"""The die on real SmolLM2 steps: the marked roll lands where the die order says and on the chosen
token, greedy and hand-picked steps say so, many rolls follow the probabilities, and a step shown after
a pause is seen rolled (the marker runs and settles on u) while what the die reports is the real roll."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop_app.core.engine import dice
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.core.services import Services
from desktop_app.ui.main_window import MainWindow
from desktop_app.ui.widgets.die import DieView
from desktop_app.ui.widgets.die_strip import ROLL_S
from tests.ui.real_steps import OPEN, label_of, step


@pytest.fixture
def die(qtbot) -> DieView:
    widget = DieView(seed=7)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def where_u_lands(d) -> tuple[int, float, float]:
    """The die's rule, from the distribution itself: the first token whose cumulative p reaches u."""
    ids, p = d.final_order()
    cum = np.cumsum(p)
    j = int(np.argmax(cum >= d.u))
    return int(ids[j]), (float(cum[j - 1]) if j else 0.0), float(cum[j])


def test_the_marker_stands_at_u_in_the_slice_of_the_chosen_token(die, smollm2_engine, qtbot):
    landed_beyond_first = 0
    for seed in range(1, 7):
        d = step(smollm2_engine, "The weather today is", OPEN.replace(seed=seed))
        die.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
        die.flush()
        assert die.marked_u() == d.u  # the real roll at once, rolled on screen or not
        qtbot.waitUntil(lambda: not die.rolling(), timeout=3000)
        token, lo, hi = where_u_lands(d)
        assert die.marked_u() == d.u
        assert list(die.strip_view.u_line.getData()[0]) == [d.u, d.u]  # the drawn line
        assert die.landed_token() == token == d.chosen
        assert die.landed_interval() == pytest.approx((lo, hi), abs=1e-12)
        assert lo < d.u <= hi
        text = die.roll_text()
        assert f"u = {d.u:.4f} landed in “{label_of(smollm2_engine)(d.chosen)}”" in text
        slices = die.strip().slices
        if d.chosen in [s.token for s in slices]:  # the chosen slice is the highlighted one
            i = [s.token for s in slices].index(d.chosen)
            assert list(die.strip_view.chosen_slice.opts["x0"]) == pytest.approx([slices[i].lo])
        landed_beyond_first += token != int(d.final_order()[0][0])
    assert landed_beyond_first >= 2, "the seeds should land beyond the top slice too"


def test_slices_follow_the_die_order_and_labels_are_readable(die, smollm2_engine):
    d = step(smollm2_engine, "臺灣最高的山是", OPEN)
    die.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    die.flush()
    ids, p = d.final_order()
    slices = die.strip().slices
    assert [s.token for s in slices] == [int(t) for t in ids[: len(slices)]]
    assert [s.p for s in slices] == pytest.approx(list(p[: len(slices)]))
    shown = [t.toPlainText() for t in die.strip_view.slice_texts if t.isVisible()]
    assert shown and all("\ufffd" not in t for t in shown)
    assert any("others" in t for t in shown)  # the grey tail is labelled


def test_a_greedy_step_always_takes_the_top_token(die, smollm2_engine):
    d = step(smollm2_engine, "The capital of France is", SamplerSettings(temperature=0))
    die.set_step(d, label_of(smollm2_engine))
    die.flush()
    assert not die.rolling()  # nothing is rolled, nothing rolls on screen
    assert die.marked_u() is None and not die.strip_view.u_arrow.isVisible()
    assert "always takes the top token" in die.roll_text()
    assert die.landed_token() == d.chosen == int(d.candidates[0])
    tally = die.roll(1000)
    assert tally.counts[0] == 1000
    die.flush()
    assert "only one token can come up" in die.rolls_text()


def test_a_token_picked_by_hand_says_so(die, smollm2_engine):
    d = step(smollm2_engine, "Hi", SamplerSettings(seed=1), forced=42)
    die.set_step(d, label_of(smollm2_engine))
    die.flush()
    assert not die.rolling()
    assert "picked by hand" in die.roll_text()
    assert die.marked_u() is None and die.landed_token() == 42


def test_roll_1000_matches_the_probabilities(die, smollm2_engine, qtbot):
    d = step(smollm2_engine, "My favourite animal is the", SamplerSettings(seed=5))
    die.set_step(d, label_of(smollm2_engine))
    die.flush()
    assert die.last_tally() is None and die.rolls_text() == ""
    with qtbot.waitSignal(die.rolled, timeout=2000) as blocker:
        qtbot.mouseClick(die.rolls_view.roll_buttons[1000], Qt.LeftButton)
    assert blocker.args == [1000, 7]
    die.flush()
    tally = die.last_tally()
    expected = dice.roll_many(d, 1000, 7)  # the same seed: the same rolls
    assert tally.n == 1000 and np.array_equal(tally.counts, expected.counts)
    assert int(tally.counts.sum()) + tally.other_count == 1000
    chi = dice.chi_square(tally)
    assert chi.dof >= 1 and chi.p_value > 0.01
    # said for a room, not as a statistic under columns of probabilities; the test's p on hover
    assert "as close to the probabilities as a fair die's usually are" in die.rolls_text()
    assert "p = " not in die.rolls_text() and f"p = {chi.p_value:.3g}" in die.rolls_view.chi_label.toolTip()
    labels, freq, prob = die.rolls_view.shown_values()
    k = len(labels) - (1 if labels[-1] == "other tokens" else 0)
    assert np.allclose(freq[:k], tally.counts[:k] / 1000)
    assert np.allclose(prob[:k], tally.probs[:k])
    assert np.isclose(freq.sum(), 1.0) and np.isclose(prob.sum(), 1.0, atol=1e-6)


def test_seeds_repeat_and_new_rolls_change(die, smollm2_engine):
    d = step(smollm2_engine, "The weather today is", OPEN)
    die.set_step(d, label_of(smollm2_engine))
    first = die.roll(100, seed=11)
    again = die.roll(100, seed=11)
    assert np.array_equal(first.counts, again.counts)
    other = die.new_rolls()
    assert die.seed() != 11 and other.n == 100
    assert not np.array_equal(other.counts, first.counts)


def test_rolls_follow_a_new_step(die, smollm2_engine):
    d1 = step(smollm2_engine, "The capital of France is", SamplerSettings(seed=2))
    d2 = step(smollm2_engine, "The capital of France is", SamplerSettings(seed=2, top_k=0, min_p=0.0))
    die.set_step(d1, label_of(smollm2_engine))
    die.roll(1000)
    die.set_step(d2, label_of(smollm2_engine))
    die.flush()
    tally = die.last_tally()
    assert np.array_equal(tally.ids, d2.final_order()[0]) and tally.n == 1000
    assert "1,000 rolls (seed 7)" in die.rolls_text()


def test_clicking_a_slice_picks_that_token(die, smollm2_engine, qtbot):
    d = step(smollm2_engine, "The capital of France is", OPEN.replace(temperature=1.5))
    die.set_step(d, label_of(smollm2_engine))
    die.flush()
    target = die.strip().slices[0].token
    pos = die.strip_view.slice_pos(target)
    assert pos is not None
    with qtbot.waitSignal(die.token_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(die.strip_view.plot.viewport(), Qt.LeftButton, pos=pos)
    assert blocker.args == [target]


def test_clear_shows_nothing(die, smollm2_engine):
    die.set_step(step(smollm2_engine, "Hi", OPEN), label_of(smollm2_engine))
    die.roll(100)
    die.clear()
    die.flush()
    assert die.step() is None and die.last_tally() is None and die.marked_u() is None
    assert "Nothing to roll yet" in die.roll_text()


# --- the roll seen -------------------------------------------------------------------------------------


def marker_x(die: DieView) -> float:
    """Where the marker's line is drawn."""
    xs = list(die.strip_view.u_line.getData()[0])
    assert len(xs) == 2 and xs[0] == xs[1]
    return float(xs[0])


def highlighted(die: DieView) -> list[float]:
    return [float(x) for x in die.strip_view.chosen_slice.opts["x0"]]


def pause() -> int:
    """A wait longer than a roll: the next step comes "after a pause"."""
    return round(ROLL_S * 1000) + 80


def test_a_step_after_a_pause_is_seen_rolled_and_settles_on_u(die, smollm2_engine, qtbot, tmp_path):
    d = step(smollm2_engine, "The weather today is", OPEN.replace(seed=3))
    token, lo, hi = where_u_lands(d)
    moves: list[float] = []
    die.strip_view.marker_moved.connect(moves.append)
    die.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    die.flush()
    assert die.rolling()
    # Everything the die reports is the real roll already; only the painting is on its way.
    assert die.marked_u() == d.u and die.landed_token() == token == d.chosen
    assert die.landed_interval() == pytest.approx((lo, hi), abs=1e-12)
    assert f"u = {d.u:.4f} landed in" in die.roll_text()
    assert highlighted(die) == []  # the landed slice is not given away before the marker stops
    qtbot.waitUntil(lambda: len(moves) >= 4, timeout=3000)
    assert die.rolling() and marker_x(die) == die.painted_u() == moves[-1]
    die.grab().save(str(tmp_path / "die-rolling.png"))
    qtbot.waitUntil(lambda: not die.rolling(), timeout=3000)
    assert len(moves) >= 6, "the marker moves over several frames"
    assert len({round(x, 3) for x in moves}) >= 5
    assert max(abs(x - d.u) for x in moves) > 0.15, "it runs elsewhere on the strip first"
    assert moves[-1] == d.u and marker_x(die) == d.u and die.painted_u() == d.u  # exactly u
    tail = [abs(b - a) for a, b in zip(moves[-4:], moves[-3:], strict=False)]
    assert tail[-1] <= tail[0] + 1e-12, "it slows down as it settles"
    slices = die.strip().slices
    if d.chosen in [s.token for s in slices]:
        assert highlighted(die) == pytest.approx([slices[[s.token for s in slices].index(d.chosen)].lo])
    assert die.strip_view.roll_label.styleSheet() == ""  # the sentence is shown
    die.grab().save(str(tmp_path / "die-landed.png"))
    n = len(moves)
    qtbot.wait(150)
    assert len(moves) == n, "no frames once the marker stopped"


def test_steps_faster_than_a_roll_are_shown_at_once(die, smollm2_engine, qtbot):
    steps = [step(smollm2_engine, "The weather today is", OPEN.replace(seed=s)) for s in (1, 2, 5)]
    moves: list[float] = []
    die.strip_view.marker_moved.connect(moves.append)
    die.set_step(steps[0], label_of(smollm2_engine))
    die.flush()
    assert die.rolling()
    qtbot.waitUntil(lambda: len(moves) >= 2, timeout=3000)  # a new step mid-roll …
    for d in steps[1:]:  # … and steps as a reply streams them
        die.set_step(d, label_of(smollm2_engine))
        die.flush()
        assert not die.rolling()
        assert marker_x(die) == die.painted_u() == die.marked_u() == d.u  # drawn at its u at once
        assert die.landed_token() == d.chosen
    n = len(moves)
    qtbot.wait(pause())
    assert len(moves) == n and marker_x(die) == steps[-1].u


def test_the_switch_turns_the_roll_off_and_on(die, smollm2_engine, qtbot):
    d1, d2 = (step(smollm2_engine, "My favourite animal is the", SamplerSettings(seed=s)) for s in (1, 2))
    die.set_animate(False)
    assert not die.animates()
    die.set_step(d1, label_of(smollm2_engine))
    die.flush()
    assert not die.rolling() and marker_x(die) == d1.u
    die.set_animate(True)
    qtbot.wait(pause())
    die.set_step(d2, label_of(smollm2_engine))
    die.flush()
    assert die.rolling() and die.marked_u() == d2.u
    die.set_animate(False)  # switched off mid-roll: the end at once
    assert not die.rolling()
    die.flush()
    assert marker_x(die) == d2.u


def test_a_hidden_or_cleared_die_jumps_to_the_end(die, smollm2_engine, qtbot):
    d = step(smollm2_engine, "The capital of France is", OPEN.replace(seed=4))
    die.set_step(d, label_of(smollm2_engine))
    die.flush()
    assert die.rolling()
    die.hide()
    assert not die.rolling()
    die.show()
    qtbot.waitExposed(die)
    die.flush()
    assert marker_x(die) == d.u and not die.rolling()
    # The same roll re-sampled after a pause (a slider moved): the die was not rolled again.
    qtbot.wait(pause())
    again = step(smollm2_engine, "The capital of France is", OPEN.replace(seed=4, temperature=1.4))
    assert again.u == d.u
    die.set_step(again, label_of(smollm2_engine))
    die.flush()
    assert not die.rolling() and marker_x(die) == d.u
    qtbot.wait(pause())
    die.set_step(step(smollm2_engine, "Hi", OPEN.replace(seed=8)), label_of(smollm2_engine))
    die.flush()
    assert die.rolling()
    die.clear()
    die.flush()
    assert not die.rolling() and die.marked_u() is None and die.painted_u() is None
    assert "Nothing to roll yet" in die.roll_text()


def test_the_switch_is_in_the_view_menu_and_remembered(qtbot):
    def open_window(services: Services) -> MainWindow:
        window = MainWindow(services, current=None)
        qtbot.addWidget(window)
        window.show()
        return window

    services = Services.open()
    try:
        window = open_window(services)
        action = window.workshop.animate_die_action
        assert action in window.view_menu.actions() and action.isCheckable()
        assert action.isChecked() and window.workshop.die.animates()  # on by default
        window.workshop.presentation_action.trigger()  # presenting keeps it
        assert action.isChecked() and window.workshop.die.animates()
        action.trigger()
        assert not window.workshop.die.animates()
        window.workshop.presentation_action.trigger()
        assert not action.isChecked() and not window.workshop.die.animates()
        window.close()
        window = open_window(services)  # a restart reads the saved choice
        action = window.workshop.animate_die_action
        assert not action.isChecked() and not window.workshop.die.animates()
        action.trigger()
        window.close()
        window = open_window(services)
        assert window.workshop.animate_die_action.isChecked() and window.workshop.die.animates()
        window.close()
    finally:
        services.close()
