"""Steps a server reported only in part, as the window shows them: the chart, the die, the waterfall, the
end lane and the CSV say "not reported" where a number is unknown (the rest of the vocabulary, the
entropy, a token picked among the tokens the server did not report) and never "nan".

The steps are real: ``judge()`` over a ``Reported`` with a rest mass, then ``Judged.distribution``.
"""

from __future__ import annotations

import csv
import math
import pickle
import re

import numpy as np
import pytest

from desktop_app.core.engine.session import Step
from desktop_app.core.engine.tokens import TokenView
from desktop_app.core.remote.reported import REST, Reported, judge
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.widgets.chart_items import CHOSEN
from desktop_app.ui.widgets.chart_items import REST as REST_ROW
from desktop_app.ui.widgets.die import DieView
from desktop_app.ui.widgets.end_lane import PLAIN, EndLane, point_of_step
from desktop_app.ui.widgets.export import distribution_rows, export_csv
from desktop_app.ui.widgets.prob_chart import RAW, ProbChart
from desktop_app.ui.widgets.prob_chart_looks import format_percent
from desktop_app.ui.widgets.waterfall import WaterfallView

WORDS = ("·Taipei", "·Taiwan", "·the", "·a", "·Tainan", "·Kaohsiung", "·one", "·Yushan", "·mountain",
         "·this", "·it", "·an", "·Taichung", "·Hsinchu", "·my")  # fmt: skip
P = np.array([0.30, 0.18, 0.09, 0.06, 0.05, 0.04, 0.03, 0.025, 0.02, 0.015, 0.012, 0.01, 0.008, 0.006, 0.005])
IDS = np.arange(100, 100 + P.size, dtype=np.int64)
UNREPORTED = 777  # a token the server did not report
END_TOKEN = 2
VOCAB = 49_152
OPEN = SamplerSettings(top_k=0, top_p=1.0, min_p=0.0, temperature=1.0)
NAMES = {**dict(zip(IDS.tolist(), WORDS, strict=True)), UNREPORTED: "·Hualien", END_TOKEN: "</s>"}


def label_of(token: int) -> str:
    return NAMES.get(int(token), f"#{token}")


def piece_of(token: int) -> bytes:
    return label_of(token).replace("·", " ").encode()


def reported(end: bool = False) -> Reported:
    """The top 15 candidates of a step (the end token among them when ``end``): 14.9 % is not reported."""
    ids, p = IDS.copy(), P.copy()
    if end:
        ids[-1] = END_TOKEN
    return Reported(ids, np.log(p), tuple(piece_of(int(t)) for t in ids))


def in_the_rest(n_vocab: int = VOCAB, settings: SamplerSettings = OPEN, u: float = 0.93):
    """A roll past every reported candidate: the server picked a token it had not reported."""
    judged = judge(reported(), settings, eog_ids=(END_TOKEN,), n_vocab=n_vocab)
    assert judged.roll(u) == REST
    return judged.distribution(UNREPORTED, settings=settings, u=u, n_vocab=n_vocab)


def forced_unreported(n_vocab: int = VOCAB, settings: SamplerSettings = OPEN):
    judged = judge(reported(), settings, eog_ids=(END_TOKEN,), n_vocab=n_vocab)
    return judged.distribution(UNREPORTED, settings=settings, u=None, forced=True, n_vocab=n_vocab)


def no_nan(*texts: str) -> None:
    for text in texts:
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), text


@pytest.fixture
def chart(qtbot) -> ProbChart:
    widget = ProbChart(top_n=10)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def die(qtbot) -> DieView:
    widget = DieView(seed=7)
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.set_animate(False)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def chart_texts(chart: ProbChart) -> list[str]:
    rows = [r.text for r in chart.bars.rows]
    tips = [chart.row_tooltip(i) for i in range(len(chart.rows()))]
    return [chart.roll_label.text(), chart.info_label.text(), *rows, *chart.bars.label_texts(), *tips]


def test_a_step_keeps_its_flag_across_processes():
    d = in_the_rest()
    assert d.reported and math.isnan(d.chosen_p_final) and math.isnan(d.entropy_bits)
    back = pickle.loads(pickle.dumps(d))
    assert back.reported and back.chosen == UNREPORTED
    local = judge(reported(), OPEN).distribution(int(IDS[0]), settings=OPEN, u=0.1)
    assert local.reported  # every step built from a server's report says so


def test_the_chart_shows_the_rest_and_a_roll_that_fell_in_it(chart):
    d = in_the_rest()
    chart.set_step(d, label_of, frozenset({END_TOKEN}))
    chart.flush()
    rest = d.rest_p_final
    assert rest == pytest.approx(1 - P.sum())
    (row,) = chart.bars.of_kind(REST_ROW)
    assert row.hatch == pytest.approx(rest)  # the unreported part is hatched, after the 5 others
    assert row.width == pytest.approx(rest + P[10:].sum())
    assert row.text == (
        f"{format_percent(row.width)}   5 other tokens + the rest, not reported (49,137 tokens): "
        f"{format_percent(rest)}"
    )
    (chosen,) = chart.bars.of_kind(CHOSEN)
    assert chosen.token == UNREPORTED and chosen.unknown and chosen.width == 0.0
    assert chosen.text == "?  not reported"
    assert chart.rows()[-1] == UNREPORTED
    assert chart.roll_label.text().endswith(
        "the die: u = 0.9300 fell in the rest, not reported → the server picked “·Hualien”"
    )
    assert chart.info_label.text() == (
        "uncertainty unknown (not reported) · end token (after sampling) not reported"
    )
    tip = chart.row_tooltip(chart.rows().index(UNREPORTED))
    assert "The server did not report this token" in tip
    assert "Model (raw): not reported" in tip and "After sampling: not reported" in tip
    no_nan(*chart_texts(chart))

    chart.set_mode(RAW)
    chart.flush()
    (row,) = chart.bars.of_kind(REST_ROW)
    assert row.hatch == pytest.approx(d.rest_p_raw)
    assert "the rest, not reported (49,137 tokens)" in row.text
    assert chart.info_label.text().endswith("end token (model) not reported")
    no_nan(*chart_texts(chart))


def test_without_the_vocabulary_size_no_count_is_made_up(chart, die, qtbot):
    d = in_the_rest(n_vocab=0)
    chart.set_top_n(20)  # every reported candidate is a bar: the last row is the rest alone
    chart.set_step(d, label_of)
    chart.flush()
    (row,) = chart.bars.of_kind(REST_ROW)
    assert row.text == f"{format_percent(d.rest_p_final)}   the rest, not reported"
    no_nan(*chart_texts(chart))

    die.set_step(d, label_of)
    die.flush()
    shown = [t.toPlainText() for t in die.strip_view.slice_texts if t.isVisible()]
    assert not any("other" in text for text in shown)  # the rest is not "1 other"
    assert f"not reported\n{format_percent(d.rest_p_final)}" in shown

    waterfall = WaterfallView()
    qtbot.addWidget(waterfall)
    waterfall.resize(900, 600)
    waterfall.set_animation_ms(0)
    waterfall.show()
    qtbot.waitExposed(waterfall)
    waterfall.set_step(d, label_of)
    waterfall.flush()
    assert waterfall.header("raw") == "model (raw)\nvocabulary not reported"


def test_the_die_says_where_the_roll_fell_and_what_the_server_picked(die):
    d = in_the_rest()
    die.set_step(d, label_of, frozenset({END_TOKEN}))
    tally = die.roll(1000, seed=7)
    die.flush()
    total = float(P.sum())
    assert die.marked_u() == pytest.approx(0.93)
    assert die.landed_token() == UNREPORTED
    assert die.landed_interval() == pytest.approx((total, 1.0))
    assert die.roll_text() == (
        f"u = 0.9300 fell in the rest, not reported (cumulative {total:.4f}–1): the server picked "
        "“·Hualien” among the tokens it did not report."
    )
    # The histogram's last row: the 3 reported tokens past its 12 rows, and the rest.
    labels, _freq, probs = die.rolls_view.shown_values()
    assert labels[-1] == "3 others + not reported"
    assert probs[-1] == pytest.approx(P[12:].sum() + d.rest_p_final)
    assert tally is not None and tally.other_p == pytest.approx(d.rest_p_final)
    shown = [t.toPlainText() for t in die.strip_view.slice_texts if t.isVisible()]
    no_nan(die.roll_text(), die.rolls_text(), *labels, *shown)


def test_a_forced_token_the_server_did_not_report(chart, die, tmp_path):
    d = forced_unreported()
    chart.set_step(d, label_of)
    chart.flush()
    (chosen,) = chart.bars.of_kind(CHOSEN)
    assert chosen.unknown and chosen.text == "?  not reported"
    assert "you picked “·Hualien” by hand (forced, not rolled)" in chart.roll_label.text()
    no_nan(*chart_texts(chart))

    die.set_step(d, label_of)
    die.flush()
    assert die.roll_text() == (
        "“·Hualien” was picked by hand: the die was not rolled for this step. "
        "The server did not report it, so its chance is not known."
    )

    path = tmp_path / "step.csv"
    assert export_csv(d, path, piece_of) == P.size + 2  # the candidates, the pick, the rest
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    pick, rest = rows[-2], rows[-1]
    assert pick["token_id"] == str(UNREPORTED) and pick["chosen"] == "1"
    assert pick["rank"] == pick["p_raw"] == pick["p_temperature"] == pick["p_final"] == "not reported"
    assert rest["label"] == "the rest, not reported" and rest["chosen"] == "0"
    assert float(rest["p_raw"]) == pytest.approx(1 - P.sum())
    assert float(rest["p_final"]) == pytest.approx(d.rest_p_final)
    assert rest["removed_by"] == ""
    no_nan(path.read_text(encoding="utf-8-sig"))


def test_a_stage_that_cuts_the_rest_off_says_so(chart, die):
    top_k = SamplerSettings(top_k=5, top_p=1.0, min_p=0.0, temperature=1.0)
    judged = judge(reported(), top_k, eog_ids=(END_TOKEN,), n_vocab=VOCAB)
    assert judged.rest_final == 0.0
    d = judged.distribution(int(IDS[judged.roll(0.5)]), settings=top_k, u=0.5, n_vocab=VOCAB)
    chart.set_step(d, label_of)
    chart.flush()
    (row,) = chart.bars.of_kind(REST_ROW)
    assert row.hatch == 0.0 and row.text == "0 %   sampling removed the rest, not reported"
    assert "the die: u = 0.5000 → “·Taiwan”" in chart.roll_label.text()
    # Every end token lies in the rest the stage removed: after sampling its chance is known to be 0.
    assert chart.info_label.text().endswith("end token (after sampling) 0 %")
    rows = distribution_rows(d, piece_of)
    assert rows[-1]["label"] == "the rest, not reported" and rows[-1]["removed_by"] == "top_k"
    assert rows[-1]["p_top_k"] == 0.0 and rows[-1]["p_raw"] == pytest.approx(d.rest_p_raw)
    die.set_step(d, label_of)
    die.flush()
    assert die.roll_text().startswith("u = 0.5000 landed in “·Taiwan”")
    assert not die.strip_view.unreported_text.isVisible()


def test_an_end_token_among_the_reported_ones_is_a_lower_bound(chart):
    judged = judge(reported(end=True), OPEN, eog_ids=(END_TOKEN, 3), n_vocab=VOCAB)
    d = judged.distribution(int(IDS[0]), settings=OPEN, u=0.1, n_vocab=VOCAB)
    chart.set_step(d, label_of, frozenset({END_TOKEN, 3}))
    chart.flush()
    assert chart.info_label.text().endswith(f"end token (after sampling) at least {format_percent(P[-1])}")
    chart.set_step(d, label_of, frozenset({END_TOKEN}))  # the only end token was reported: exact
    chart.flush()
    assert chart.info_label.text().endswith(f"end token (after sampling) {format_percent(P[-1])}")


def test_a_token_the_server_rolled_itself(chart, die):
    judged = judge(reported(), OPEN, eog_ids=(END_TOKEN,), n_vocab=VOCAB)
    d = judged.distribution(int(IDS[2]), settings=OPEN, u=None, n_vocab=VOCAB)  # as a streamed reply
    chart.set_step(d, label_of)
    chart.flush()
    assert chart.roll_label.text().endswith("the server rolled its own die → “·the”")
    die.set_step(d, label_of)
    die.flush()
    assert die.marked_u() is None
    assert die.roll_text() == (
        "The server rolled its own die for this step and picked “·the”: its roll is not known."
    )


def test_the_waterfall_shows_every_stage_and_what_was_not_reported(qtbot):
    settings = SamplerSettings(top_k=0, top_p=1.0, min_p=0.01, temperature=0.7)
    d = in_the_rest(settings=settings, u=0.99)
    view = WaterfallView(top_n=12)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.set_animation_ms(0)
    view.show()
    qtbot.waitExposed(view)
    view.set_step(d, label_of)
    view.flush()
    assert view.columns() == ["raw", "min_p", "temperature"]
    assert view.rows()[-1] == UNREPORTED
    cell = view.cell(UNREPORTED, "temperature")
    assert cell.text == "not reported" and math.isnan(cell.p)
    # min-p 0.01 × 30 % = 0.3 %: below the smallest reported (0.5 %), so it keeps every reported candidate
    # and the rest whole.
    assert view.header("min_p") == "min-p 0.01\nkept 15 + the rest"
    assert view.header("raw") == "model (raw)\n49,152 tokens"
    assert np.isfinite(view.bar_values()["raw"][:-1]).all()
    # The row labels are laid out again once the plot, built at the first show, has its size.
    qtbot.waitUntil(lambda: view.canvas.left_axis._tickLevels[0][-1][1] == "3 others + not reported")
    texts = [view.cell(t, c).text for t in view.rows() for c in view.columns()]
    no_nan(*texts, *(view.header(c) for c in view.columns()))


def test_the_end_lane_says_not_reported(qtbot):
    lane = EndLane()
    qtbot.addWidget(lane)
    lane.resize(900, 220)
    lane.show()
    known = judge(reported(end=True), OPEN, eog_ids=(END_TOKEN,), n_vocab=VOCAB)
    steps = [
        Step(0, TokenView(int(IDS[0]), b" Taipei"), " Taipei", in_the_rest()),
        Step(1, TokenView(int(IDS[0]), b" Taipei"), " Taipei",
             known.distribution(int(IDS[0]), settings=OPEN, u=0.1, n_vocab=VOCAB)),
    ]  # fmt: skip
    assert math.isnan(point_of_step(steps[0])[0])
    assert point_of_step(steps[1]) == (pytest.approx(P[-1]), PLAIN)
    for step in steps:
        lane.append_step(step)
    lane.flush()
    x, y = lane.drawn()[PLAIN]
    assert list(x) == [2.0] and y[0] == pytest.approx(P[-1])
    assert lane.point_tooltip(0) == "Token 1: the server did not report the model's chance to end here."
    lane.set_current(0)
    lane.flush()
    assert lane.headline() == (
        "Chance to end the reply (model): token 1: not\u00a0reported · now 0.50\u00a0% · "
        "highest 0.50\u00a0% at token 2"
    )
    no_nan(lane.headline(), lane.point_tooltip(0), lane.point_tooltip(1))


def test_a_token_with_an_unreported_probability_is_coloured_as_one_without_any():
    from desktop_app.ui.widgets.chat_html import probability_colour

    assert probability_colour(float("nan")) == probability_colour(None) != probability_colour(0.9)
