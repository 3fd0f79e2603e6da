"""The next-token chart on real distributions: bars, the chosen token, the rest, end tokens, labels,
raw vs after sampling, and one redraw per frame however many steps arrive."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from desktop_app.core.engine.chat import build_messages, chat_prompt
from desktop_app.core.engine.sampler import Sampler
from desktop_app.core.engine.tokens import piece_label
from desktop_app.core.sampler_settings import SamplerSettings
from desktop_app.ui.widgets.chart_items import CANDIDATE, CHOSEN, REST
from desktop_app.ui.widgets.frames import FrameClock
from desktop_app.ui.widgets.prob_chart import FINAL, RAW, ProbChart
from desktop_app.ui.widgets.prob_chart_looks import CHOSEN_COLOR, bar_colour, format_percent


@pytest.fixture
def chart(qtbot) -> ProbChart:
    widget = ProbChart(top_n=10)
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def step(engine, text: str, settings: SamplerSettings, *, forced: int | None = None, chat: bool = False):
    engine.reset()
    tokens = (
        list(chat_prompt(engine, build_messages(text)).tokens)
        if chat
        else engine.tokenize(text, add_bos=engine.add_bos)
    )
    engine.sync(tokens)
    sampler = Sampler(settings, eog_ids=engine.eog_ids)
    return sampler.distribution(engine.logits(), tokens, top_n=50, forced=forced)


def label_of(engine):
    return lambda t: piece_label(engine.piece(t))


def tick_labels(chart: ProbChart) -> list[str]:
    return chart.bars.label_texts()


def test_bars_are_the_top_n_with_the_chosen_one_highlighted_and_the_rest(chart, smollm2_engine):
    d = step(smollm2_engine, "The capital of France is", SamplerSettings(seed=3, top_k=0, min_p=0.0))
    chart.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    chart.flush()
    rows = chart.rows()
    assert rows[:10] == [int(t) for t in d.candidates[:10]]
    widths = chart.bars.widths()
    assert np.allclose(widths[:10], d.p_final[:10])
    assert [r.y for r in chart.bars.of_kind(CHOSEN)] == [rows.index(d.chosen)]
    (rest_row,) = chart.bars.of_kind(REST)
    rest = rest_row.width
    assert rest == pytest.approx(1.0 - float(np.sum(d.p_final[: len(rows)])), abs=1e-6)
    labels = tick_labels(chart)
    assert labels[-1] == "everything else" and len(labels) == len(rows) + 1
    assert labels[0] == piece_label(smollm2_engine.piece(rows[0]))
    assert "·Paris" in labels  # the leading space made visible
    assert "the die: u =" in chart.roll_label.text()


def test_top_n_goes_from_5_to_50(chart, smollm2_engine):
    d = step(smollm2_engine, "Once upon a time", SamplerSettings(seed=1, top_k=0, top_p=1.0, min_p=0.0))
    chart.set_step(d, label_of(smollm2_engine))
    for n, shown in ((1, 5), (5, 5), (33, 33), (50, 50), (90, 50)):
        chart.set_top_n(n)
        chart.flush()
        assert chart.top_n() == shown
        assert len(chart.rows()) in (shown, shown + 1)  # + the chosen token when it is below the top


def test_raw_and_after_sampling_differ_and_removed_tokens_say_why(chart, smollm2_engine):
    d = step(smollm2_engine, "My favourite animal is the", SamplerSettings(seed=2, top_k=3, temperature=0.7))
    chart.set_step(d, label_of(smollm2_engine))
    chart.set_top_n(8)
    chart.set_mode(RAW)
    chart.flush()
    assert np.allclose(chart.bars.widths()[:8], d.p_raw[:8])
    chart.set_mode(FINAL)
    chart.flush()
    assert np.allclose(chart.bars.widths()[:8], d.p_final[:8])
    removed_rows = [i for i in range(8) if d.removed_by[i] is not None]
    assert removed_rows, "top-k 3 removes the 4th candidate on"
    assert all("top-k" in chart.bars.rows[i].text for i in removed_rows)
    assert all(chart.bars.rows[i].ghost == pytest.approx(d.p_raw[i]) for i in removed_rows)
    assert chart.raw_button.isChecked() is False and chart.final_button.isChecked()


def test_end_tokens_are_marked(chart, smollm2_engine):
    d = step(smollm2_engine, "Reply with one word: hello", SamplerSettings(temperature=0), chat=True)
    ends = [i for i, t in enumerate(d.candidates[:10]) if int(t) in smollm2_engine.eog_ids]
    chart.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    chart.flush()
    if not ends:  # make one appear: force the end token, which puts it among the rows
        end = min(smollm2_engine.eog_ids)
        greedy = SamplerSettings(temperature=0)
        d = step(smollm2_engine, "Reply with one word: hello", greedy, forced=end, chat=True)
        chart.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
        chart.flush()
    labels = tick_labels(chart)
    assert any(label.endswith("⏎ end") for label in labels)
    ends = [r for r in chart.bars.rows if r.end]
    assert ends and all(labels[r.y].endswith("⏎ end") for r in ends)
    assert "end" in chart.info_label.text()


def test_partial_utf8_pieces_are_shown_as_bytes(chart, smollm2_engine):
    d = step(smollm2_engine, "臺灣最高的山是", SamplerSettings(seed=4, top_k=0, min_p=0.0))
    chart.set_top_n(50)
    chart.set_step(d, label_of(smollm2_engine))
    chart.flush()
    labels = tick_labels(chart)
    pieces = [smollm2_engine.piece(t) for t in chart.rows()]
    for label, piece in zip(labels, pieces, strict=False):
        assert "\ufffd" not in label
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            assert "<" in label and ">" in label  # e.g. <E5><B1>


def test_many_steps_between_frames_cost_one_redraw(chart, smollm2_engine, qtbot):
    label = label_of(smollm2_engine)
    steps = [step(smollm2_engine, f"Number {i}:", SamplerSettings(seed=i)) for i in range(30)]
    chart.flush()
    before = chart.redraw_count
    for d in steps:
        chart.set_step(d, label)
    assert chart.redraw_count == before  # nothing drawn yet: only the latest is kept
    qtbot.waitUntil(lambda: chart.redraw_count > before, timeout=2000)
    qtbot.wait(200)
    # one frame for the latest step (a second one when the new labels change the axis width)
    assert chart.redraw_count - before <= 2 and chart.step() is steps[-1]


def test_clicking_a_bar_picks_that_token(chart, smollm2_engine, qtbot):
    d = step(smollm2_engine, "The sky is", SamplerSettings(seed=9, top_k=0, min_p=0.0))
    chart.set_step(d, label_of(smollm2_engine))
    chart.flush()
    target = chart.rows()[2]
    pos = chart.bar_pos(target)
    assert pos is not None
    with qtbot.waitSignal(chart.token_clicked, timeout=2000) as blocker:
        qtbot.mouseClick(chart.plot.viewport(), Qt.LeftButton, pos=pos)
    assert blocker.args == [target]
    assert "Click to pick" in chart.row_tooltip(2)


def test_a_forced_and_a_greedy_step_say_so(chart, smollm2_engine):
    forced = step(smollm2_engine, "Hi", SamplerSettings(seed=1), forced=42)
    chart.set_step(forced, label_of(smollm2_engine))
    chart.flush()
    assert "by hand" in chart.roll_label.text()
    greedy = step(smollm2_engine, "Hi", SamplerSettings(temperature=0))
    chart.set_step(greedy, label_of(smollm2_engine))
    chart.flush()
    assert "greedy" in chart.roll_label.text()


def test_format_percent():
    assert format_percent(0) == "0 %"
    assert format_percent(0.00001) == "<0.01 %"
    assert format_percent(0.0057) == "0.57 %"
    assert format_percent(0.768) == "76.8 %"


def test_the_plot_ignores_clicks_outside_the_bars(chart, smollm2_engine):
    d = step(smollm2_engine, "The sky is", SamplerSettings(seed=9))
    chart.set_step(d, label_of(smollm2_engine))
    chart.flush()
    assert chart.bar_at(-3.0) is None and chart.bar_at(len(chart.rows()) + 0.9) is None
    assert chart._row_under(QPointF(-1000, -1000)) is None


def _pixel(chart: ProbChart, image, x: float, row: float):
    """The colour drawn at plot coordinates (x, row) in ``image`` (a grab of the plot)."""
    at = chart.plot.mapFromScene(chart.view.mapViewToScene(QPointF(x, row)))
    ratio = image.devicePixelRatio()
    return image.pixelColor(int(at.x() * ratio), int(at.y() * ratio))


def test_the_painted_bars_have_the_colours_of_their_rows(chart, smollm2_engine):
    d = step(smollm2_engine, "The capital of France is", SamplerSettings(temperature=0))
    chart.set_mode(RAW)
    chart.set_step(d, label_of(smollm2_engine), smollm2_engine.eog_ids)
    chart.flush()
    image = chart.plot.grab().toImage()
    rows = chart.bars.rows
    chosen = next(r for r in rows if r.kind == CHOSEN)
    other = next(r for r in rows if r.kind == CANDIDATE and r.width > 0.02)
    assert _pixel(chart, image, chosen.width / 2, chosen.y) == CHOSEN_COLOR
    assert _pixel(chart, image, other.width / 2, other.y) == bar_colour(chart.palette())
    background = _pixel(chart, image, 0.99, other.y)  # beyond the bar (and its number)
    assert background == chart.palette().color(QPalette.Base)
    # Between two rows: the gap that tells one bar from the next.
    assert _pixel(chart, image, chosen.width / 2, chosen.y + 0.5) != CHOSEN_COLOR


def test_the_roll_line_is_one_line_high_and_elides_what_does_not_fit(chart, smollm2_engine, qtbot):
    d = step(smollm2_engine, "Hi", SamplerSettings(seed=1))
    chart.set_step(d, label_of(smollm2_engine))
    chart.flush()
    line = chart.roll_label
    height = line.height()
    clock = FrameClock.shared()
    qtbot.waitUntil(lambda: not clock.pending and not chart.dirty, timeout=2000)  # nothing left to draw
    line.setText(line.text() + " and a sentence too long for any dock: " + "ab " * 300)
    QApplication.processEvents()
    assert line.height() == height
    assert line.shown_text() != line.text() and line.shown_text().endswith("…")
    line.grab()  # painted: the elided line says so on hover
    assert line.toolTip() == line.text()
    chart.set_font_scale(2.0)  # for a projector: a taller line
    QApplication.processEvents()
    assert line.height() > height


def test_the_rest_keeps_its_row_when_the_chosen_token_is_below_the_top(chart, smollm2_engine):
    chart.set_top_n(5)
    greedy = step(smollm2_engine, "The sky is", SamplerSettings(temperature=0))
    far = int(greedy.candidates[20])
    picked = step(smollm2_engine, "The sky is", SamplerSettings(temperature=0), forced=far)
    ranges = []
    for d, chosen_row in ((greedy, 0), (picked, 5)):
        chart.set_step(d, label_of(smollm2_engine))
        chart.flush()
        (chosen,) = chart.bars.of_kind(CHOSEN)
        (rest,) = chart.bars.of_kind(REST)
        assert chosen.y == chosen_row and rest.y == 6
        assert chart.bars.labels[-1] == (6, "everything else")
        assert chart.bar_at(5.0) == (far if d is picked else None)
        ranges.append(tuple(chart.view.viewRange()[1]))
    assert ranges[0] == ranges[1]  # the same scale: nothing jumps between the two steps


def test_after_half_a_character_the_chart_says_what_a_byte_token_makes(chart, smollm2_engine):
    """SmolLM2 spells 臺 in bytes: after its first token the chart showed "<BA>" and nothing of the
    character; the candidate that completes it now reads "<BA> → 臺"."""
    from desktop_app.core.engine.tokens import continuation_label, split_chars

    engine = smollm2_engine
    ids = engine.tokenize("臺", add_bos=False)
    pieces = [engine.piece(t) for t in ids]
    (whole,) = split_chars(pieces)
    assert whole.char == "臺" and len(ids) >= 2
    engine.reset()
    prompt = engine.tokenize("In Chinese, Taiwan is written ", add_bos=engine.add_bos) + ids[:-1]
    engine.sync(prompt)
    d = Sampler(SamplerSettings(seed=1), eog_ids=engine.eog_ids).distribution(
        engine.logits(), prompt, top_n=50, forced=ids[-1]
    )
    pending = b"".join(pieces[:-1])
    chart.set_step(d, lambda t: continuation_label(pending, engine.piece(t)), engine.eog_ids)
    chart.flush()
    assert f"{piece_label(pieces[-1])} → 臺" in tick_labels(chart)
    assert "→ 臺" in chart.roll_label.text() and "\ufffd" not in "".join(tick_labels(chart))
