"""The die on real SmolLM2 steps: the marked roll lands where the die order says and on the chosen
token, greedy and hand-picked steps say so, and many rolls follow the probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop_app.core.engine import dice
from desktop_app.core.engine.sampler import SamplerSettings
from desktop_app.ui.widgets.die import DieView
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


def test_the_marker_stands_at_u_in_the_slice_of_the_chosen_token(die, smollm2_engine):
    landed_beyond_first = 0
    for seed in range(1, 7):
        d = step(smollm2_engine, "The weather today is", OPEN.replace(seed=seed))
        die.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
        die.flush()
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
